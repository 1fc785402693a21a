"""The first family: proofs for symbolic n, worked examples, evaluate, and wrong claims failing."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

import gradproof
from gradproof.derivations.common import i, j, s, y, z
from gradproof.derivations.model import Step
from gradproof.derivations.prove import CHECKED, FAILED, SHOWN
from gradproof.errors import InputError

D = sp.Derivative
delta = sp.KroneckerDelta
FIRST = [
    "softmax-normalization", "softmax-shift-invariance", "softmax-jacobian", "log-softmax-gradient",
    "cross-entropy-softmax-gradient", "cross-entropy-logsumexp", "cross-entropy-kl",
    "sigmoid-as-two-class-softmax",
]


def softmax(v):
    e = np.exp(v - np.max(v))
    return e / e.sum()


@pytest.mark.parametrize("name", FIRST)
def test_proves(name):
    result = gradproof.derivation(name).prove()
    assert result.ok, str(result)
    assert result.statement_is_last_step


def test_jacobian_is_shown_for_symbolic_n_not_only_checked():
    d = gradproof.derivation("softmax-jacobian")
    n = sp.Symbol("n", integer=True, positive=True)
    assert any(step.rhs.has(sp.Sum) and n in step.rhs.free_symbols for step in d.steps)  # generic n
    result = d.prove()
    assert all(step.method == SHOWN for step in result.steps)


def test_cross_entropy_gradient_shown_symbolically():
    result = gradproof.derivation("cross-entropy-softmax-gradient").prove()
    assert [s.method for s in result.steps] == [SHOWN] * 4


def test_lecture_softmax_numbers_are_computed():
    d = gradproof.derivation("softmax-jacobian")
    ex = d.examples[0]
    np.testing.assert_allclose(ex.values["s"], [0.673, 0.243, 0.084], atol=5e-4)
    np.testing.assert_allclose(ex.values["first row ∂s_1/∂z_j"], [0.220, -0.163, -0.057], atol=5e-4)


def test_softmax_jacobian_evaluate_matches_numpy(rng):
    d = gradproof.derivation("softmax-jacobian")
    for n in (2, 3, 5):
        v = rng.normal(size=n) * 3
        sv = softmax(v)
        np.testing.assert_allclose(d.evaluate(z=v), np.diag(sv) - np.outer(sv, sv), atol=1e-14)


def test_evaluate_is_stable_at_large_logits():
    d = gradproof.derivation("softmax-jacobian")
    out = d.evaluate(z=[1000.0, 999.0, -1000.0])
    assert np.all(np.isfinite(out))
    sv = softmax(np.array([1000.0, 999.0, -1000.0]))
    np.testing.assert_allclose(out, np.diag(sv) - np.outer(sv, sv), atol=1e-15)


def test_cross_entropy_lecture_tables():
    ex1, ex2 = gradproof.derivation("cross-entropy-softmax-gradient").examples
    assert round(float(ex1.values["L"]), 2) == 2.30
    assert round(float(ex2.values["L"]), 2) == 0.22
    np.testing.assert_allclose(ex1.values["∂L/∂z_j"], [0.2, 0.3, -0.9, 0.15, 0.25], atol=1e-12)


def test_kl_example_and_bits_per_nat():
    ex = gradproof.derivation("cross-entropy-kl").examples[0]
    assert abs(float(ex.values["bits per nat"]) - 1 / np.log(2)) < 1e-12
    assert round(float(ex.values["bits per nat"]), 2) == 1.44
    np.testing.assert_allclose(ex.values["H(p, q) [nats]"], ex.values["H(p) [nats]"] + ex.values["KL(p‖q) [nats]"])


def test_evaluate_rejects_bad_input():
    d = gradproof.derivation("softmax-jacobian")
    with pytest.raises(InputError, match="unknown input"):
        d.evaluate(x=[1.0, 2.0])
    with pytest.raises(InputError, match="NaN"):
        d.evaluate(z=[1.0, float("nan")])
    with pytest.raises(InputError, match="dimension"):
        d.evaluate(z=[[1.0, 2.0]])
    with pytest.raises(InputError, match="inconsistent sizes"):
        gradproof.derivation("cross-entropy-softmax-gradient").evaluate(z=[1.0, 2.0, 3.0], y=[1.0, 0.0])


def _replace_last(d, lhs, rhs):
    bad = Step(lhs, rhs, "a plausible but wrong step")
    return dataclasses.replace(d, steps=d.steps[:-1] + (bad,), statement=sp.Eq(lhs, rhs))


def test_wrong_jacobian_sign_fails_the_proof():
    d = gradproof.derivation("softmax-jacobian")
    bad = _replace_last(d, D(s[i], z[j]), s[i] * (delta(i, j) + s[j]))
    result = bad.prove()
    assert not result.ok
    assert result.steps[-1].method == FAILED
    assert "fails at" in result.steps[-1].detail


def test_dropped_jacobian_term_fails_the_proof():
    # the (s - y) s (1 - s) mistake for softmax + cross-entropy
    d = gradproof.derivation("cross-entropy-softmax-gradient")
    L = sp.Symbol("L", real=True)
    bad = _replace_last(d, D(L, z[j]), (s[j] - y[j]) * s[j] * (1 - s[j]))
    assert not bad.prove().ok


def test_statement_must_be_the_last_step():
    d = gradproof.derivation("softmax-jacobian")
    bad = dataclasses.replace(d, steps=d.steps[:-1])
    result = bad.prove()
    assert not result.ok and not result.statement_is_last_step


def test_undecided_true_step_is_checked_not_failed():
    # SymPy cannot show the Jensen step symbolically; it must be checked at exact points and say so
    result = gradproof.derivation("cross-entropy-kl").prove()
    methods = {r.reason: r.method for r in result.steps}
    assert methods["Jensen's inequality: log is concave and $p$ is a probability vector"] == CHECKED


def test_latex_fragment_has_reasons_and_is_paste_ready():
    tex = gradproof.derivation("softmax-jacobian").latex()
    assert tex.count(r"\begin{align*}") == 1 and tex.rstrip().endswith(r"\end{align*}")
    assert r"\text{(" in tex and r"\delta_{ij}" in tex
    assert "amsmath" in tex.splitlines()[0]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, 4, elements=st.floats(-50, 50)), arrays(np.float64, 4, elements=st.floats(0.01, 1)))
def test_cross_entropy_gradient_evaluate_is_softmax_minus_labels(v, w):
    labels = w / w.sum()
    got = gradproof.derivation("cross-entropy-softmax-gradient").evaluate(z=v, y=labels)
    np.testing.assert_allclose(got, softmax(v) - labels, atol=1e-14)
