"""The first failing row: counterexample and diagnosis of each kind, and later rows."""

from __future__ import annotations

import sympy as sp

from gradproof.steps.check import check_steps
from tests.steps_helpers import tex

CE = (
    "index i, j = 1..n",
    r"define s_i = \frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}}",
    r"assume \sum_{i=1}^{n} y_i = 1",
)


def ce_chain(row3: str = r"-\sum_{i=1}^{n} y_i (\delta_{ij} - s_j)", last: str = "s_j - y_j", declarations=CE):
    body = ("L &= -\\sum_{i=1}^{n} y_i \\log s_i \\\\\n"
            "\\frac{\\partial L}{\\partial z_j} &= -\\sum_{i=1}^{n} y_i \\frac{\\partial \\log s_i}{\\partial z_j} \\\\\n"
            f"&= {row3} \\\\\n&= s_j \\sum_{{i=1}}^{{n}} y_i - y_j \\\\\n&= {last}")  # fmt: skip
    return check_steps(tex(body, *declarations))


def test_correct_chain():
    r = ce_chain()
    assert r.ok and r.first_failure is None


def test_sign():
    r = ce_chain(row3=r"\sum_{i=1}^{n} y_i (\delta_{ij} - s_j)")
    f = r.first_failure
    assert f.line == 7 and f.diagnosis["kind"] == "sign"
    # the counterexample: both sides at the reported point, exact inputs as strings
    ce = f.counterexample
    assert sp.nsimplify(ce["lhs"]) != sp.nsimplify(ce["rhs"])
    assert abs(float(sp.sympify(ce["lhs"])) + float(sp.sympify(ce["rhs"]))) < 1e-12
    assert all("/" in v or v.lstrip("-").isdigit() for v in ce["values"].values())


def test_factor():
    r = ce_chain(row3=r"-2\sum_{i=1}^{n} y_i (\delta_{ij} - s_j)")
    assert r.first_failure.diagnosis["kind"] == "factor" and "factor 2" in r.first_failure.diagnosis["text"]


def test_factor_of_a_size():
    body = r"\frac{\partial}{\partial w} \frac{1}{N} \sum_{a=1}^{N} (w x_a - y_a)^2 &= 2 \sum_{a=1}^{N} (w x_a - y_a) x_a"
    r = check_steps(tex(body, "index a = 1..N"))
    d = r.first_failure.diagnosis
    assert d["kind"] == "factor" and "N" in d["text"]


def test_swapped_indices():
    r = ce_chain(row3=r"-\sum_{i=1}^{n} y_i (\delta_{ij} - s_i)")
    d = r.first_failure.diagnosis
    assert d["kind"] == "indices" and "s}_{i}" in d["text"]
    body = r"\frac{\partial}{\partial W_{ij}} \sum_{k=1}^{n} W_{ik} x_k &= x_i"
    r = check_steps(tex(body, "index i, j = 1..n"))
    assert r.first_failure.diagnosis["kind"] == "indices"


def test_undeclared_assumption():
    r = ce_chain(declarations=CE[:2])
    f = r.first_failure
    assert f.line == 8 and f.diagnosis["kind"] == "assumption"
    assert r"add `% gradproof: assume \sum_{i=1}^{n} y_i = 1`" in f.diagnosis["text"]


def test_positivity_assumption():
    r = check_steps(tex(r"\log(x^2) &= 2 \log x"))
    d = r.first_failure.diagnosis
    assert d["kind"] == "assumption" and "assume x > 0" in d["text"]


def test_missing_term():
    r = ce_chain(last="s_j - y_j + s_j")
    d = r.first_failure.diagnosis
    assert d["kind"] == "term" and "s}_{j}" in d["text"]
    body = r"\frac{d}{dx} (x^3 + x^2) &= 3x^2"
    d = check_steps(tex(body)).first_failure.diagnosis
    assert d["kind"] == "term" and "misses the term $2 x$" in d["text"]


def test_undefined_quantity():
    r = check_steps(tex(r"\frac{\partial L}{\partial z_j} &= z_j", "index j = 1..n"))
    d = r.first_failure.diagnosis
    assert d["kind"] == "other" and "L has no definition" in d["text"]


def test_later_rows_say_whether_they_follow_from_the_last_correct_one():
    # row 7 wrong (sign); row 8 repairs it (follows from row 6); row 9 is right from row 8
    body = ("a &= (x+1)^2 \\\\\n&= x^2 - 2x + 1 \\\\\n&= x^2 + 2x + 1 \\\\\n&= (x + 1)(x + 1)")
    r = check_steps(tex(body))
    assert [s.status for s in r.steps] == ["defined", "failed", "failed", "proved"]
    assert r.steps[2].follows_from_last_correct is True
    assert r.steps[3].follows_from_last_correct is True
    # a slip carried on: later rows follow from the slip, not from the last correct row
    body = ("a &= (x+1)^2 \\\\\n&= x^2 - 2x + 1 \\\\\n&= 1 - 2x + x^2")
    r = check_steps(tex(body))
    assert [s.status for s in r.steps] == ["defined", "failed", "proved"]
    assert r.steps[2].follows_from_last_correct is False


def test_unestablished_step_has_no_counterexample():
    r = check_steps(tex(r"x &\approx x + 10^{-9}"))
    f = r.first_failure
    assert f.status == "unestablished" and f.counterexample is None


def _diagnosis_at(body: str, point: dict, *declarations: str) -> dict | None:
    """The diagnosis of the single relation in ``body`` if its sides differed at ``point`` (input
    name -> exact value; free indices from ``indices``): a candidate that fits only there must be
    refused by its confirming check at exact points."""
    from gradproof.derivations.proof import FAILED, Counterexample, StepRecord
    from gradproof.steps.check import analyse
    from gradproof.steps.explain import _at_point, diagnose
    from gradproof.steps.source import read_source

    analysis = analyse(read_source(tex(body, *declarations)))
    (b,) = [x for x in analysis.built if x.op != "defined"]
    atoms = (b.lhs.free_symbols | b.rhs.free_symbols | b.lhs.atoms(sp.Indexed) | b.rhs.atoms(sp.Indexed))
    sizes = {s: 3 for s in analysis.derivation.sizes}
    indices = {i: sp.Integer(v) for i, v in point.pop("indices", {}).items() for i in [
        next(x for x in analysis.derivation.index_ranges if str(x) == i)]}
    values = {}
    for name, v in point.items():  # "x" or "x_2"
        base, _, idx = name.partition("_")
        if idx:
            label = next(a.base for a in atoms if isinstance(a, sp.Indexed) and str(a.base.label) == base)
            atom = label[int(idx)]
        else:
            atom = next(a for a in atoms if isinstance(a, sp.Symbol) and a.name == base)
        values[atom] = sp.Rational(v)
    ce0 = Counterexample(sizes, indices, values, 0, 0)
    lhs, rhs = _at_point(analysis, b.lhs, ce0), _at_point(analysis, b.rhs, ce0)
    assert lhs != rhs, "the chosen point must be one where the sides differ"
    record = StepRecord(1, "", FAILED, "", Counterexample(sizes, indices, values, lhs, rhs))
    return diagnose(analysis, b, record)


def test_a_diagnosis_that_fits_only_at_the_failing_point_is_not_given():
    # x = 1: x^2 = 1 and -(x - 2) = 1, so the sides differ "only in sign" there, nowhere else
    d = _diagnosis_at("x^2 &= x - 2", {"x": "1"})
    assert d is None or d["kind"] != "sign", d
    # x = 1: (x + 1) / x = 2, a "factor 2" there only
    d = _diagnosis_at("x + 1 &= x", {"x": "1"})
    assert d is None or d["kind"] != "factor", d
    # x_1 = 1, x_2 = 5 at i = 2, j = 1: x_j^2 = 1 = x_j, a "swap" there only
    d = _diagnosis_at("x_j^2 &= x_i", {"indices": {"i": 2, "j": 1}, "x_1": "1", "x_2": "5"}, "index i, j = 1..n")
    assert d is None or d["kind"] != "indices", d
    # x = 1: x^2 = x = x^3, so "an extra term x^3" (or x) fits there only
    d = _diagnosis_at("x^2 &= x + x^3", {"x": "1"})
    assert d is None or "extra term" not in d["text"], d
    # the same slips where they do hold everywhere are found (the helper is not blind)
    assert _diagnosis_at("x - 2 &= 2 - x", {"x": "1"})["kind"] == "sign"
    assert _diagnosis_at("2 x &= x", {"x": "1"})["kind"] == "factor"
    assert _diagnosis_at("x_j &= x_i", {"indices": {"i": 2, "j": 1}, "x_1": "1", "x_2": "5"}, "index i, j = 1..n")["kind"] == "indices"
    assert "extra term" in _diagnosis_at("x^2 &= x^2 + x^3", {"x": "1"})["text"]


def test_an_assumption_is_offered_only_when_it_makes_the_step_hold():
    # positivity of x would be a candidate, but x^2 = x + 1 is false for positive x too
    r = check_steps(tex(r"\log(x^2) &= 2 \log x + 1"))
    d = r.first_failure.diagnosis
    assert d is None or d["kind"] != "assumption", d
