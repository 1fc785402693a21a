"""check_gradient / assert_gradient on hand-written backward passes, correct and buggy."""

from __future__ import annotations

import numpy as np
import pytest

import gradproof
from gradproof import InputError
from gradproof.verify.check import assert_gradient, check_gradient
from gradproof.verify.options import CheckOptions

from . import models as m

torch = pytest.importorskip("torch")

# --------------------------------------------------------------------------- NumPy, correct code
CORRECT = {
    "mse": (m.mse_loss, m.mse_grad, m.linear_params),
    "weight-decay": (m.wd_loss, m.wd_grad, m.linear_params),
    "square-weight": (m.sq_loss, m.sq_grad, m.sq_params),
    "softmax-ce": (m.ce_loss, m.ce_grad, m.logits),
    "softmax-ce-logits-50": (m.ce_loss_stable, m.ce_grad, lambda: np.clip(m.logits() * 25, -50, 50)),
    "mlp": (m.mlp_loss, m.mlp_grad, m.mlp_params),
    "mlp-saturated": (m.mlp_loss, m.mlp_grad, lambda: {k: v * 12 for k, v in m.mlp_params().items()}),
    "mse-float32-params": (m.mse_loss, m.mse_grad, lambda: m.linear_params(np.float32)),
    "mlp-float32-params": (m.mlp_loss, m.mlp_grad, lambda: m.mlp_params(np.float32)),
}


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_numpy_passes(case):
    loss, grad, params = CORRECT[case]
    result = check_gradient(loss, grad, params())
    assert result.ok, str(result)
    assert bool(result) and "passed" in str(result)


# ----------------------------------------------------------------------------- NumPy, buggy code
BUGGY = {
    "sign": (m.mse_loss, m.mse_grad_sign, m.linear_params, "W", ["flipped sign"]),
    "sum-vs-mean": (m.mse_loss, m.mse_grad_sum, m.linear_params, "W", ["batch size 16", "sum"]),
    "missing-half": (m.mse_loss, m.mse_grad_half, m.linear_params, "W", ["factor 2"]),
    "weight-decay-half": (m.wd_loss, m.wd_grad_half, m.linear_params, "W", ["weight-decay", "λ/2"]),
    "transposed": (m.sq_loss, m.sq_grad_t, m.sq_params, "W", ["transposed"]),
    "zero": (m.mse_loss, m.mse_grad_zero_b, m.linear_params, "b", ["zero"]),
    "softmax-ssb": (m.ce_loss, m.ce_grad_ssb, m.logits, "x", []),
    "missing-activation-derivative": (m.mlp_loss, m.mlp_grad_no_act, m.mlp_params, "W2", []),
    "derivative-at-wrong-tensor": (m.mlp_loss, m.mlp_grad_wrong_tensor, m.mlp_params, "W1", []),
}


@pytest.mark.parametrize("case", sorted(BUGGY))
def test_buggy_numpy_fails_and_names_parameter(case):
    loss, grad, params, name, phrases = BUGGY[case]
    result = check_gradient(loss, grad, params())
    text = str(result)
    assert not result.ok and not bool(result)
    assert not result[name].ok
    assert f"FAILED for parameter {name!r}" in text
    for phrase in phrases:
        assert phrase in text
    with pytest.raises(AssertionError, match=f"'{name}'"):
        assert_gradient(loss, grad, params())


def test_only_the_wrong_parameter_fails():
    result = check_gradient(m.mse_loss, m.mse_grad_zero_b, m.linear_params())
    assert result["W"].ok and not result["b"].ok
    assert [p.name for p in result.failures] == ["b"]


def test_report_lists_worst_entries_with_expected_and_got():
    result = check_gradient(m.mse_loss, m.mse_grad_sign, m.linear_params())
    worst = result["W"].worst
    assert worst and all(np.isclose(w.got, -w.expected, rtol=1e-6) for w in worst)
    assert "Worst entries: W[" in str(result) and "expected" in str(result) and "got" in str(result)


def _one_entry_off(grad, name, index, factor):
    def wrong(p):
        g = {k: np.array(v, copy=True) for k, v in grad(p).items()}
        g[name][index] *= factor
        return g

    return wrong


def test_one_entry_off_by_0_1_percent_float64_is_located():
    result = check_gradient(m.mlp_loss, _one_entry_off(m.mlp_grad, "W1", (2, 1), 1.001), m.mlp_params())
    assert not result.ok and result["W2"].ok
    assert result["W1"].worst[0].index == (2, 1)
    assert "confined to 1 of 20 entries" in str(result)


def test_one_entry_off_by_1_percent_float32_code():
    def loss32(p):
        q = {k: np.asarray(v, np.float32) for k, v in p.items()}
        R = m.X.astype(np.float32) @ q["W"] + q["b"] - m.Y.astype(np.float32)
        return np.float32(0.5) * np.sum(R * R) / np.float32(m.B)

    def grad32(p):
        q = {k: np.asarray(v, np.float32) for k, v in p.items()}
        R = m.X.astype(np.float32) @ q["W"] + q["b"] - m.Y.astype(np.float32)
        return {"W": m.X.astype(np.float32).T @ R / np.float32(m.B), "b": R.sum(0) / np.float32(m.B)}

    params = m.linear_params(np.float32)
    ok = check_gradient(loss32, grad32, params)
    assert ok.ok, str(ok)
    assert "low precision" in str(ok)
    for seed in range(3):
        bad = check_gradient(loss32, _one_entry_off(grad32, "W", (1, 2), 1.01), params, seed=seed)
        assert not bad.ok and bad["b"].ok
        assert bad["W"].worst[0].index == (1, 2)


def test_constant_factor_names_batch_size_of_closed_over_data():
    result = check_gradient(m.ce_loss, lambda z: m.ce_grad(z) * m.B, m.logits())
    assert "batch size 16" in str(result)
    result = check_gradient(m.ce_loss, lambda z: m.ce_grad(z) / 7, m.logits())
    assert "1/7" in str(result)


# ----------------------------------------------------------------------------------------- kinks
def _relu_case(offset):
    rng = np.random.default_rng(2)
    Xr = rng.normal(size=(8, 3))
    W = rng.normal(size=(3, 4))
    Z = Xr @ W
    b = -Z[0] + 0.5
    b[0] = -Z[0, 0] + offset  # unit 0 of row 0 within `offset` of the kink
    w2 = rng.normal(size=4)

    def loss(p):
        A = np.maximum(Xr @ W + p["b"], 0.0)
        return 0.5 * np.mean((A @ p["w2"]) ** 2)

    def grad(p):
        Zp = Xr @ W + p["b"]
        A = np.maximum(Zp, 0.0)
        out = A @ p["w2"]
        dA = np.outer(out, p["w2"]) / len(Xr)
        return {"b": (dA * (Zp > 0)).sum(0), "w2": A.T @ out / len(Xr)}

    return loss, grad, {"b": b, "w2": w2}


@pytest.mark.parametrize("offset", [0.0, 1e-7, -1e-7, 2e-6, -2e-6], ids=lambda o: f"offset{o:g}")
def test_relu_near_kink_passes_and_says_kink(offset):
    loss, grad, params = _relu_case(offset)
    result = check_gradient(loss, grad, params)
    assert result.ok, str(result)
    assert result["b"].kink and "kink" in str(result)


def test_relu_near_kink_still_catches_a_real_bug():
    loss, grad, params = _relu_case(1e-7)

    def wrong(p):
        g = grad(p)
        return {"b": -g["b"], "w2": g["w2"]}

    assert not check_gradient(loss, wrong, params).ok


@pytest.mark.parametrize("kind", ["abs", "max", "hinge"])
def test_abs_max_hinge_at_kink(kind):
    a = np.array([1e-8, -0.7, 1.3, 0.0])
    if kind == "abs":
        loss, grad = (lambda x: np.sum(np.abs(x))), (lambda x: np.sign(x))
    elif kind == "max":
        b = np.array([3e-8, 0.2, 1.0, -1.0])
        loss = lambda x: np.sum(np.maximum(x, b))  # noqa: E731
        grad = lambda x: (x > b).astype(float)  # noqa: E731
    else:
        y = np.array([1.0, -1.0, 1.0, -1.0])
        a = np.array([1.0 + 1e-8, 0.2, 2.0, 0.0]) * y  # first margin within a step of 1
        loss = lambda x: np.sum(np.maximum(0.0, 1.0 - y * x))  # noqa: E731
        grad = lambda x: -y * (1.0 - y * x > 0)  # noqa: E731
    result = check_gradient(loss, grad, a)
    assert result.ok, str(result)
    assert "kink" in str(result)


# ----------------------------------------------------------------------------------- input errors
def test_nondeterministic_loss_is_an_input_error():
    rng = np.random.default_rng()

    def dropout_loss(p):
        mask = rng.random(p["W"].shape) > 0.5
        return m.mse_loss({"W": p["W"] * mask / 0.5, "b": p["b"]})

    with pytest.raises(InputError, match="nondeterministic.*dropout"):
        check_gradient(dropout_loss, m.mse_grad, m.linear_params())


@pytest.mark.parametrize("deterministic_calls", [0, 1, 3, 6, 12])
def test_nondeterminism_that_starts_late_is_still_an_input_error(deterministic_calls):
    # the re-run at the point is skipped when the noise probe's fresh calls agree; a loss that
    # turns random only after them must still be refused (before its failure is confirmed),
    # never reported as a wrong gradient
    rng = np.random.default_rng(5)
    calls = [0]

    def drifting_loss(p):  # one parameter, so that no second noise probe re-runs it first
        calls[0] += 1
        jitter = 1e-3 * rng.standard_normal() if calls[0] > deterministic_calls else 0.0
        return m.mse_loss({**m.linear_params(), **p}) + jitter

    grad = lambda p: {"W": m.mse_grad({**m.linear_params(), **p})["W"]}  # noqa: E731
    with pytest.raises(InputError, match="nondeterministic"):
        check_gradient(drifting_loss, grad, {"W": m.linear_params()["W"]})


def test_deterministic_loss_skips_the_rerun_only_when_the_probe_vouches():
    calls = {"quiet": 0, "noisy": 0}

    def quiet(p):
        calls["quiet"] += 1
        return m.mse_loss(p)

    def noisy(p):  # rough at the probe's scale: the probe cannot vouch, so the point is evaluated twice
        calls["noisy"] += 1
        rough = np.random.default_rng(list(np.asarray(p["W"]).view(np.uint32).ravel())).random()
        return m.mse_loss(p) + 1e-9 * rough  # deterministic, but with no smooth structure at 1e-9

    params = {"W": m.linear_params()["W"]}
    grad = lambda p: {"W": m.mse_grad({**m.linear_params(), **p})["W"]}  # noqa: E731
    loss = lambda f: lambda p: f({**m.linear_params(), **p})  # noqa: E731
    assert check_gradient(loss(quiet), grad, params).ok
    at_point = {k: 0 for k in calls}

    def counting(name, f):
        def g(p):
            if all(np.array_equal(p[k], v) for k, v in params.items()):
                at_point[name] += 1
            return f(p)

        return g

    check_gradient(counting("quiet", loss(quiet)), grad, params)
    check_gradient(counting("noisy", loss(noisy)), grad, params)
    assert at_point == {"quiet": 1, "noisy": 2}


def test_loss_must_return_a_finite_scalar():
    with pytest.raises(InputError, match="expected a finite real scalar"):
        check_gradient(lambda p: np.ones(3), m.mse_grad, m.linear_params())
    with pytest.raises(InputError, match="nan"):
        check_gradient(lambda p: float("nan"), m.mse_grad, m.linear_params())


def test_non_finite_parameters_are_an_input_error():
    params = m.linear_params()
    params["b"][1] = np.inf
    with pytest.raises(InputError, match=r"parameter 'b' contains infinity at index \[1\]"):
        check_gradient(m.mse_loss, m.mse_grad, params)
    assert issubclass(InputError, ValueError)


def test_unknown_option_is_an_input_error():
    with pytest.raises(InputError, match="unknown option"):
        check_gradient(m.mse_loss, m.mse_grad, m.linear_params(), sede=1)


@pytest.mark.parametrize(
    "make, phrase",
    [
        (lambda g: {"W": g["W"]}, "grad returned no entry for it (expected shape 3)"),
        (lambda g: {**g, "c": np.zeros(2)}, "'c' (shape 2) that is not a parameter"),
        (lambda g: {"W": g["W"].ravel(), "b": g["b"]}, "grad returned shape 15 for a parameter of shape 5×3"),
        (lambda g: {"W": g["W"].T, "b": g["b"]}, "shape 3×5 for a parameter of shape 5×3"),
    ],
    ids=["missing", "extra", "flat", "transposed-shape"],
)
def test_shape_and_key_problems_are_failed_checks(make, phrase):
    result = check_gradient(m.mse_loss, lambda p: make(m.mse_grad(p)), m.linear_params())
    assert not result.ok
    assert phrase in str(result)


def test_transposed_shape_is_diagnosed():
    result = check_gradient(
        m.mse_loss, lambda p: {**m.mse_grad(p), "W": m.mse_grad(p)["W"].T}, m.linear_params()
    )
    assert "transposed" in str(result["W"])


@pytest.mark.parametrize("layout", [lambda w: (2.0 * w).T, lambda w: (w + 1.0).ravel()], ids=["transposed", "flat"])
def test_a_wrong_gradient_in_the_wrong_layout_is_not_said_to_be_right_but_misshaped(layout):
    """The layout diagnosis needs the re-laid-out values to match the finite differences."""
    result = check_gradient(m.mse_loss, lambda p: {**m.mse_grad(p), "W": layout(m.mse_grad(p)["W"])}, m.linear_params())
    assert not result.ok
    assert result["W"].diagnosis is None
    assert "transposed" not in str(result["W"]) and "reshape" not in str(result["W"])


# ------------------------------------------------------------------------- robustness, options
def test_in_place_modifying_functions_cannot_corrupt_the_check():
    def loss(p):
        p["W"] *= 2.0  # vandalism, then an honest loss of the modified value
        p["W"] /= 2.0
        value = m.mse_loss(p)
        p["b"][:] = 1e6
        return value

    def grad(p):
        g = m.mse_grad(p)
        p["W"][:] = 0.0
        return g

    params = m.linear_params()
    before = {k: v.copy() for k, v in params.items()}
    assert check_gradient(loss, grad, params).ok
    assert all(np.array_equal(params[k], before[k]) for k in params)


def test_same_call_gives_same_verdict_and_report():
    a = check_gradient(m.mlp_loss, m.mlp_grad_no_act, m.mlp_params(), seed=3)
    b = check_gradient(m.mlp_loss, m.mlp_grad_no_act, m.mlp_params(), seed=3)
    assert a.ok == b.ok and str(a) == str(b)


def test_options_dataclass_and_overrides():
    opts = CheckOptions(seed=5, directions=4)
    result = check_gradient(m.mse_loss, m.mse_grad, m.linear_params(), opts, directions=3)
    assert result.options.directions == 3 and result.options.seed == 5
    assert result["W"].directions == 3
    loose = check_gradient(m.mse_loss, m.mse_grad_half, m.linear_params(), rtol=10.0)
    assert loose.ok


def test_single_array_params():
    assert check_gradient(m.ce_loss, m.ce_grad, m.logits()).ok
    assert "parameter 'x'" in str(check_gradient(m.ce_loss, lambda z: -m.ce_grad(z), m.logits()))


def test_public_names():
    assert gradproof.check_gradient is check_gradient
    assert gradproof.assert_gradient is assert_gradient
    assert gradproof.InputError is InputError


# ---------------------------------------------------------------------------------------- PyTorch
def _t(a, dtype=torch.float64):
    return torch.tensor(a, dtype=dtype)


XT, LT = _t(m.X), _t(m.LABELS)


def t_ce_loss(p):
    logits = XT @ p["W"] + p["b"]
    return -(LT * torch.log_softmax(logits, dim=1)).sum() / m.B


def t_ce_grad(p):
    s = torch.softmax(XT @ p["W"] + p["b"], dim=1)
    d = (s - LT) / m.B
    return {"W": XT.T @ d, "b": d.sum(0)}


def t_ce_grad_ssb(p):
    s = torch.softmax(XT @ p["W"] + p["b"], dim=1)
    d = (s - LT) * s * (1 - s) / m.B
    return {"W": XT.T @ d, "b": d.sum(0)}


def t_ce_grad_sign(p):
    g = t_ce_grad(p)
    return {"W": g["W"], "b": -g["b"]}


def t_params(dtype=torch.float64):
    gen = torch.Generator().manual_seed(0)
    return {
        "W": torch.randn(m.D, m.K, generator=gen, dtype=dtype),
        "b": torch.randn(m.K, generator=gen, dtype=dtype),
    }


def test_torch_correct_and_float32_params():
    assert check_gradient(t_ce_loss, t_ce_grad, t_params()).ok
    result = check_gradient(t_ce_loss, t_ce_grad, t_params(torch.float32))
    assert result.ok and "evaluated in float64" in str(result)


def test_torch_float32_only_code_uses_native_dtype():
    X32, L32 = XT.float(), LT.float()  # float32 buffers: float64 input raises in matmul

    def loss(p):
        return -(L32 * torch.log_softmax(X32 @ p["W"] + p["b"], dim=1)).sum() / m.B

    def grad(p):
        d = (torch.softmax(X32 @ p["W"] + p["b"], dim=1) - L32) / m.B
        return {"W": X32.T @ d, "b": d.sum(0)}

    def wrong(p):
        g = grad(p)
        return {"W": g["W"] * 2, "b": g["b"]}

    params = t_params(torch.float32)
    ok = check_gradient(loss, grad, params)
    assert ok.ok, str(ok)
    assert "own dtype" in str(ok)
    bad = check_gradient(loss, wrong, params)
    assert not bad.ok and "factor 2" in str(bad["W"])


@pytest.mark.parametrize("grad, name", [(t_ce_grad_ssb, "W"), (t_ce_grad_sign, "b")], ids=["ssb", "sign"])
def test_torch_bugs_caught(grad, name):
    result = check_gradient(t_ce_loss, grad, t_params())
    assert not result[name].ok
    assert f"parameter {name!r}" in str(result)


def test_torch_params_are_not_modified_and_grad_may_be_tensor():
    params = t_params()
    before = {k: v.clone() for k, v in params.items()}

    def loss(p):
        value = t_ce_loss(p)
        p["W"].zero_()
        return value

    assert check_gradient(loss, t_ce_grad, params).ok
    assert all(torch.equal(params[k], before[k]) for k in params)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_torch_on_cuda():
    params = {k: v.cuda() for k, v in t_params().items()}
    xt, lt = XT.cuda(), LT.cuda()

    def loss(p):
        return -(lt * torch.log_softmax(xt @ p["W"] + p["b"], dim=1)).sum() / m.B

    def grad(p):
        d = (torch.softmax(xt @ p["W"] + p["b"], dim=1) - lt) / m.B
        return {"W": xt.T @ d, "b": d.sum(0)}

    assert check_gradient(loss, grad, params, device="cuda").ok
    assert not check_gradient(loss, lambda p: {k: -v for k, v in grad(p).items()}, params).ok
