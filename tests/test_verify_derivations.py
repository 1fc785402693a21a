"""Three witnesses per derivation; each must disagree when fed a wrong claim."""

import dataclasses

import pytest
import sympy as sp

import gradproof
from gradproof.derivations.common import i, j, s, y, z
from gradproof.derivations.model import GradientClaim, IdentityClaim
from gradproof.errors import DeviceError
from gradproof.verify.derivation_check import verify_derivation

delta = sp.KroneckerDelta
FIRST = [
    "softmax-normalization", "softmax-shift-invariance", "softmax-jacobian", "log-softmax-gradient",
    "cross-entropy-softmax-gradient", "cross-entropy-logsumexp", "cross-entropy-kl",
    "sigmoid-as-two-class-softmax",
]
GRADIENTS = ["softmax-jacobian", "log-softmax-gradient", "cross-entropy-softmax-gradient", "cross-entropy-logsumexp"]


@pytest.mark.parametrize("name", FIRST)
def test_verifies_on_cpu(name):
    result = verify_derivation(name, device="cpu")
    assert result.ok, str(result)
    assert result.device == "cpu"


@pytest.mark.parametrize("name", GRADIENTS)
def test_gradient_derivations_use_fd_and_autograd(name):
    result = verify_derivation(name, device="cpu")
    assert {"SymPy proof", "finite differences", "autograd"} <= set(result.methods)
    assert result.witness("finite differences").max_error < 1e-6
    assert result.witness("autograd").max_error < 1e-12


def _with_claims(name, claims):
    return dataclasses.replace(gradproof.derivation(name), claims=claims)


def test_fd_and_autograd_reject_a_wrong_gradient_claim():
    wrong = GradientClaim(s[i], z, s[i] * (delta(i, j) + s[j]), (i,), (j,), "wrong sign")
    result = verify_derivation(_with_claims("softmax-jacobian", (wrong,)), device="cpu")
    assert not result.ok
    assert not result.witness("finite differences").ok
    assert not result.witness("autograd").ok
    assert result.witness("SymPy proof").ok  # the steps themselves are still right
    assert "mismatch" in result.witness("autograd").detail


def test_fd_and_autograd_reject_the_dropped_term_bug():
    L = sp.Symbol("L", real=True)
    wrong = GradientClaim(L, z, (s[j] - y[j]) * s[j] * (1 - s[j]), (), (j,))
    result = verify_derivation(_with_claims("cross-entropy-softmax-gradient", (wrong,)), device="cpu")
    assert not result.witness("finite differences").ok and not result.witness("autograd").ok


def test_fd_rejects_a_small_relative_error():
    wrong = GradientClaim(s[i], z, (1 + sp.Rational(1, 10**5)) * s[i] * (delta(i, j) - s[j]), (i,), (j,))
    result = verify_derivation(_with_claims("softmax-jacobian", (wrong,)), device="cpu")
    assert not result.witness("finite differences").ok


def test_evaluation_rejects_a_wrong_identity():
    wrong = IdentityClaim(sp.Sum(s[i], (i, 1, sp.Symbol("n", integer=True, positive=True))), sp.Rational(99, 100))
    result = verify_derivation(_with_claims("softmax-normalization", (wrong,)), device="cpu")
    assert not result.witness("evaluation").ok


def test_evaluation_rejects_a_wrong_inequality():
    wrong = IdentityClaim(s[i], sp.Rational(1, 2), (i,), "<")
    result = verify_derivation(_with_claims("softmax-normalization", (wrong,)), device="cpu")
    assert not result.witness("evaluation").ok


def test_auto_device_is_cpu_without_cuda():
    torch = pytest.importorskip("torch")
    result = verify_derivation("softmax-jacobian", device="auto")
    assert result.device.startswith("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_without_cuda_is_an_error_not_a_fallback():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="CUDA is not available"):
        verify_derivation("softmax-jacobian", device="cuda")


def test_unknown_device_is_an_error():
    with pytest.raises(DeviceError):
        verify_derivation("softmax-jacobian", device="tpu")


@pytest.mark.gpu
def test_verifies_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    result = verify_derivation("cross-entropy-softmax-gradient", device="cuda")
    assert result.ok and result.device.startswith("cuda")


def test_result_reports_and_serialises():
    result = verify_derivation("softmax-jacobian", device="cpu")
    text = str(result)
    assert "verified" in text and "finite differences" in text
    d = result.to_dict()
    assert d["ok"] and d["device"] == "cpu" and d["proof"]["ok"]
