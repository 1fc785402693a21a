"""kl-zero-iff-equal, cross-entropy-nonnegative, cross-entropy-asymmetry: proofs (both directions
of the equivalence, the witness of the existential claim), worked numbers recomputed with NumPy,
wrong variants that must fail, numeric verification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations import information as I
from gradproof.derivations.logic import At, Exists, Iff
from gradproof.derivations.model import Step
from gradproof.derivations.prove import CHECKED, FAILED, SHOWN
from gradproof.verify.derivation_check import verify_derivation

NAMES = ["kl-zero-iff-equal", "cross-entropy-nonnegative", "cross-entropy-asymmetry"]


def _with_step(d, index, **changes):
    steps = list(d.steps)
    steps[index] = dataclasses.replace(steps[index], **changes)
    return dataclasses.replace(d, steps=tuple(steps))


@pytest.mark.parametrize("name", NAMES)
def test_verifies(name):
    result = verify_derivation(name, device="cpu")
    assert result.ok, str(result)


def test_kl_iff_both_directions_are_shown_not_sampled():
    d = gradproof.derivation("kl-zero-iff-equal")
    assert isinstance(d.statement, Iff)
    result = d.prove()
    assert result.ok, str(result)
    assert [s.method for s in result.steps] == [SHOWN] * len(d.steps), str(result)
    implications = [(st.lhs, st.rhs) for st in d.steps if st.relation == "=>"]
    assert (d.statement.lhs, d.statement.rhs) in implications  # only if
    assert (d.statement.rhs, d.statement.lhs) in implications  # if


def test_kl_iff_needs_both_directions():
    d = gradproof.derivation("kl-zero-iff-equal")
    only_if = dataclasses.replace(d, steps=d.steps[:-1])
    result = only_if.prove()
    assert all(s.ok for s in result.steps) and not result.ok  # the 'if' is missing
    assert not result.statement_is_last_step


def test_kl_wrong_variants_fail():
    d = gradproof.derivation("kl-zero-iff-equal")
    x, p, q, i = I.x, I.p, I.q, I.i
    # log x ≤ x − 1 turned around
    assert d.steps[0].relation == ">="
    assert _with_step(d, 0, relation="<=").prove().steps[0].method == FAILED
    # the equality case at the wrong point
    assert _with_step(d, 1, rhs=sp.Eq(x, 2)).prove().steps[1].method == FAILED
    # dividing by p_i turned into "dividing" by (q_i - p_i), which may be 0
    bad = _with_step(d, 6, lhs=sp.Eq((q[i] - p[i]) * I.phi(q[i] / p[i]), 0))
    assert bad.prove().steps[6].method == FAILED
    # the 'only if' chain with a link dropped does not close
    broken = _with_step(d, 7, rhs=sp.Eq(q[i] / p[i], 2))
    result = broken.prove()
    assert result.steps[7].method == FAILED and result.steps[9].method == FAILED


def test_kl_examples_are_computed():
    ex, equal, close = gradproof.derivation("kl-zero-iff-equal").examples
    p, q = np.array([0.5, 0.5]), np.array([0.8, 0.2])
    assert float(ex.values["KL(p‖q)"]) == pytest.approx(np.sum(p * np.log(p / q)), rel=1e-12)
    assert float(ex.values["KL(p‖q)"]) == pytest.approx(0.2231, abs=5e-5)
    np.testing.assert_allclose(ex.values["terms p_i φ(q_i/p_i)"], p * (q / p - 1 - np.log(q / p)), rtol=1e-12)
    assert float(equal.values["KL(p‖q)"]) == 0.0 and float(equal.values["φ(1)"]) == 0.0
    assert 0 < float(close.values["KL(p‖q)"]) < 1e-3


def test_cross_entropy_nonnegative_proof_labels_the_checked_step():
    result = gradproof.derivation("cross-entropy-nonnegative").prove()
    assert result.ok, str(result)
    methods = [s.method for s in result.steps]
    # ŷ_i ≤ 1 is not expressible in SymPy's assumptions: checked at points, and so are the steps
    # that rest on it; the equivalence for a one-hot label is shown
    assert methods[:4] == [CHECKED, SHOWN, CHECKED, CHECKED], str(result)
    assert methods[4:] == [SHOWN, SHOWN, SHOWN], str(result)
    assert "relies on step(s) 1" in result.steps[2].detail


def test_cross_entropy_nonnegative_examples():
    poor, good, certain, soft = gradproof.derivation("cross-entropy-nonnegative").examples
    assert round(float(poor.values["L"]), 2) == 2.30 and round(float(good.values["L"]), 2) == 0.22
    assert float(certain.values["one-hot loss L_3 = −log ŷ_3"]) == 0.0
    y = np.array([0.1, 0.2, 0.7])
    assert float(soft.values["L"]) == pytest.approx(-np.sum(y * np.log(y)), rel=1e-12)


def test_cross_entropy_nonnegative_wrong_variants_fail():
    d = gradproof.derivation("cross-entropy-nonnegative")
    # a strict inequality for soft labels is false for a one-hot y and ŷ = y... and 'L ≤ 0' fails outright
    assert not _with_step(d, 3, relation="<=").prove().ok
    # the equality case at the wrong value: L_c = 0 does not force ŷ_c = 1/2
    assert _with_step(d, 5, rhs=sp.Eq(I.yh[I.c], sp.Rational(1, 2))).prove().steps[5].method == FAILED


def test_asymmetry_is_an_existential_claim_shown_at_the_coin():
    d = gradproof.derivation("cross-entropy-asymmetry")
    assert isinstance(d.statement, Exists)
    result = d.prove()
    assert result.ok, str(result)
    assert all(s.method == SHOWN for s in result.steps)
    witness = d.steps[3]
    assert isinstance(witness.lhs, At) and witness.relation == "!="
    assert "log(5/4)" in result.steps[3].detail


def test_coin_values_are_0916_and_0693_nats():
    ex = gradproof.derivation("cross-entropy-asymmetry").examples[0]
    assert round(float(ex.values["H(p, q) [nats]"]), 3) == 0.916
    assert round(float(ex.values["H(q, p) [nats]"]), 3) == 0.693
    p, q = np.array([0.5, 0.5]), np.array([0.8, 0.2])
    assert float(ex.values["H(p, q) [nats]"]) == pytest.approx(-np.sum(p * np.log(q)), rel=1e-14)
    assert float(ex.values["H(q, p) [nats]"]) == pytest.approx(np.log(2), rel=1e-14)


def test_a_witness_where_the_two_agree_does_not_prove_the_claim():
    d = gradproof.derivation("cross-entropy-asymmetry")
    p, q, n = I.p, I.q, I.n
    half = (sp.Rational(1, 2), sp.Rational(1, 2))
    same = ((p, half), (q, half), (n, 2))
    Hpq, Hqp = I.H(p, q), I.H(q, p)
    bad = _with_step(d, 3, lhs=At.make(Hpq, same), rhs=At.make(Hqp, same))
    result = bad.prove()
    assert result.steps[3].method == FAILED and not result.ok


def test_the_universal_unequal_is_not_the_existential_claim():
    # 'H(p, q) ≠ H(q, p) for all p, q' is false (q = p), and a universal '!=' step does not state
    # the existential statement
    d = gradproof.derivation("cross-entropy-asymmetry")
    p, q = I.p, I.q
    universal = Step(I.H(p, q), I.H(q, p), "claimed for every p, q", "!=")
    bad = dataclasses.replace(d, steps=d.steps[:3] + (universal,) + d.steps[4:])
    result = bad.prove()
    assert not result.statement_is_last_step and not result.ok


def test_witness_values_must_be_exact():
    with pytest.raises(ValueError, match="exact"):
        At.make(I.H(I.p, I.q), ((I.p, (0.5, 0.5)), (I.q, (0.8, 0.2)), (I.n, 2)))
