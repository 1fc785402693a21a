"""The round trip: every catalog derivation's LaTeX fragment, printed with its declarations by
``gradproof show NAME --latex --directives``, passes ``gradproof check-steps``."""

from __future__ import annotations

import pytest

from gradproof.derivations.directives import directive_lines, with_directives
from gradproof.derivations.registry import catalog, names
from gradproof.steps.check import check_steps


#: issue 14's derivations whose fragments use what the step checker cannot read yet.  strict:
#: each must start passing once the notation covers it, and then leave this list.
#: - minibatch-gradient-variance: E_{with}/E_{without}, expectations over how a minibatch is drawn
#:   (the counts K_a of sampling with and without replacement): no declaration says what K_a is.
_NOT_YET_READ = {
    "minibatch-gradient-variance",
}
_WHY = "check-steps cannot read this fragment's notation yet (see _NOT_YET_READ)"


def _names():
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=_WHY))
        if n in _NOT_YET_READ else n
        for n in names()
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", _names())
def test_catalog_fragment_passes_check_steps(name):
    d = next(x for x in catalog() if x.name == name)
    report = check_steps(with_directives(d, d.latex()))
    assert report.error is None, str(report.error)
    assert report.ok, str(report)
    # every step of the derivation is a row of the report, in order (none lost to a misread row)
    assert len(report.steps) == len(d.steps), [s.latex for s in report.steps]
    # never stronger than the catalog's own prover: a step it only checks at points is not proved
    from gradproof.derivations.prove import CHECKED, prove

    for record, row in zip(prove(d).steps, report.steps):
        if record.method == CHECKED:
            assert row.status != "proved", f"line {row.line}: {row.latex} proved, the catalog only checks it"


def test_show_directives_cli(capsys):
    from gradproof.cli import main

    assert main(["show", "cross-entropy-softmax-gradient", "--latex", "--directives"]) == 0
    out = capsys.readouterr().out
    assert "% gradproof: index i, j, k, l = 1..n" in out
    assert r"% gradproof: assume \sum_{i=1}^{n} {y}_{i} = 1" in out
    assert out.index("% gradproof: define") < out.index("\\begin{align*}")
    assert main(["show", "softmax-jacobian", "--directives"]) == 2


def test_directives_are_computed_from_the_derivation():
    d = next(x for x in catalog() if x.name == "softmax-normalization")
    lines = directive_lines(d)
    assert "assume n \\ge 2" in lines  # min_sizes
    assert any(line.startswith("define {s}_{i} = ") for line in lines)
