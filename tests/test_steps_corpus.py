"""The step checker on a corpus of hand-written derivations (tests/steps_corpus: lectures,
standard texts, public-notes style): every correct chain holds, and every mutation in
tests/steps_mutations.py (a sign, a factor, an index, a dropped term, a dropped assumption, a wrong
range, a claim true only for small sizes) fails at the row it was made on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradproof.steps.check import check_steps
from tests.steps_mutations import MUTATIONS

CORPUS = Path(__file__).parent / "steps_corpus"
FILES = sorted(CORPUS.glob("*.tex")) + sorted(CORPUS.glob("*.md"))


def test_corpus_size():
    assert len(FILES) >= 30
    assert len(MUTATIONS) >= 60
    assert {m[3] for m in MUTATIONS} == {"sign", "factor", "index", "term", "assumption", "range", "small sizes"}


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_correct_chain_holds(path):
    report = check_steps(path)
    assert report.error is None, str(report.error)
    assert report.ok, str(report)


def _ids() -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for f, _old, _new, kind, *_ in MUTATIONS:
        key = f"{Path(f).stem}-{kind.replace(' ', '-')}"
        seen[key] = seen.get(key, 0) + 1
        out.append(f"{key}-{seen[key]}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("file, old, new, kind, line, diagnosis", MUTATIONS, ids=_ids())
def test_mutation_fails_at_the_mutated_row(file, old, new, kind, line, diagnosis):
    text = (CORPUS / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, "the mutation must name one place"
    expected = line if line is not None else text[: text.index(old)].count("\n") + 1
    report = check_steps(text.replace(old, new), format="md" if file.endswith(".md") else "tex")
    assert report.error is None, str(report.error)
    first = report.first_failure
    assert first is not None, f"{kind} mutation not caught:\n{report}"
    assert first.line == expected, f"first failure on line {first.line}, expected {expected}:\n{report}"
    assert first.status in ("failed", "unestablished")
    if first.status == "failed":
        assert first.counterexample is not None
    if diagnosis is not None:
        assert first.diagnosis is not None and first.diagnosis["kind"] == diagnosis, str(report)
