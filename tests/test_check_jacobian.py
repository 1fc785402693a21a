"""check_jacobian: NumPy VJPs and JVPs on the engine of check_gradient."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradproof
from gradproof import InputError

RNG = np.random.default_rng(3)
X = RNG.normal(size=(6, 4))
W = RNG.normal(size=(5, 4))
B = RNG.normal(size=5)


def layer(p):
    return np.tanh(p["x"] @ p["W"].T + p["b"])


def layer_vjp(p, u):
    d = u * (1 - layer(p) ** 2)
    return {"x": d @ p["W"], "W": d.T @ p["x"], "b": d.sum(0)}


def layer_vjp_no_act(p, u):  # the dropped activation derivative
    return {"x": u @ p["W"], "W": u.T @ p["x"], "b": u.sum(0)}


def layer_jvp(p, v):
    return (1 - layer(p) ** 2) * (v["x"] @ p["W"].T + p["x"] @ v["W"].T + v["b"])


def layer_jvp_bug(p, v):  # forgets the bias tangent
    return (1 - layer(p) ** 2) * (v["x"] @ p["W"].T + p["x"] @ v["W"].T)


def params():
    return {"x": X.copy(), "W": W.copy(), "b": B.copy()}


def test_correct_vjp_and_jvp_pass():
    result = gradproof.check_jacobian(layer, params(), vjp=layer_vjp, jvp=layer_jvp)
    assert result.ok, str(result)
    assert {p.name for p in result.parameters} == {f"{n} ({k})" for n in "xWb" for k in ("vjp", "jvp")}


def test_dropped_activation_derivative_in_a_vjp_is_caught():
    result = gradproof.check_jacobian(layer, params(), vjp=layer_vjp_no_act)
    assert not result.ok
    assert {p.name for p in result.failures} == {"x", "W", "b"}
    text = str(result)
    assert "Worst entries" in text and "Worst Jacobian entries: ∂f(x)[" in text


def test_jvp_bug_is_named_by_input():
    result = gradproof.check_jacobian(layer, params(), jvp=layer_jvp_bug)
    assert not result.ok
    assert [p.name for p in result.failures] == ["b"]
    assert result["x"].ok and result["W"].ok


def test_single_array_and_dict_outputs():
    x = np.linspace(-1, 1, 7)
    assert gradproof.check_jacobian(np.sin, x, vjp=lambda z, u: np.cos(z) * u, jvp=lambda z, v: np.cos(z) * v)
    bad = gradproof.check_jacobian(np.sin, x, vjp=lambda z, u: np.cos(z) * u * 1.001)
    assert not bad and "1.001 × the true gradient" in str(bad)

    def two(z):
        return {"s": np.sin(z), "p": np.array(np.prod(z[:3]))}

    def two_vjp(z, u):
        g = np.cos(z) * u["s"]
        g[:3] += u["p"] * np.prod(z[:3]) / z[:3]
        return g

    def two_vjp_bug(z, u):
        return np.cos(z) * u["s"]

    assert gradproof.check_jacobian(two, x + 2.0, vjp=two_vjp)
    wrong = gradproof.check_jacobian(two, x + 2.0, vjp=two_vjp_bug)
    assert not wrong and "∂f(x)['p']/∂x[" in str(wrong)


def test_user_functions_receive_copies():
    def vandal_vjp(z, u):
        g = np.cos(z) * u
        z[:] = 0.0
        u[:] = 0.0
        return g

    x = np.linspace(-1, 1, 5)
    kept = x.copy()
    assert gradproof.check_jacobian(np.sin, x, vjp=vandal_vjp)
    assert np.array_equal(x, kept)


def test_seed_changes_directions_not_verdict():
    for seed in range(4):
        assert gradproof.check_jacobian(layer, params(), vjp=layer_vjp, seed=seed)
        assert not gradproof.check_jacobian(layer, params(), vjp=layer_vjp_no_act, seed=seed)


def test_bad_input_is_an_input_error():
    x = np.ones(3)
    with pytest.raises(InputError, match="vjp=, jvp="):
        gradproof.check_jacobian(np.sin, x)
    with pytest.raises(InputError, match="callable"):
        gradproof.check_jacobian(np.sin, x, vjp=3)
    with pytest.raises(InputError, match="complex"):
        gradproof.check_jacobian(np.sin, x + 1j, vjp=lambda z, u: u)
    with pytest.raises(InputError, match="finite"):
        gradproof.check_jacobian(lambda z: z * np.inf, x, vjp=lambda z, u: u)
    with pytest.raises(InputError, match="shape"):
        gradproof.check_jacobian(np.sin, x, jvp=lambda z, v: np.ones(4))
    with pytest.raises(InputError, match="raised ZeroDivisionError"):
        gradproof.check_jacobian(np.sin, x, vjp=lambda z, u: 1 / 0)
    with pytest.raises(InputError, match="unknown option"):
        gradproof.check_jacobian(np.sin, x, vjp=lambda z, u: u, bogus=1)
    with pytest.raises(InputError, match="strings"):
        gradproof.check_jacobian(lambda p: p[0], {0: x}, vjp=lambda p, u: {0: u})


def test_wrong_shape_from_vjp_is_a_failed_check_naming_both_shapes():
    result = gradproof.check_jacobian(np.sin, np.ones((2, 3)), vjp=lambda z, u: (np.cos(z) * u).T)
    assert not result.ok
    assert "3×2" in str(result) and "transposed" in str(result)


def test_check_jacobian_does_not_import_torch():
    code = (
        "import numpy as np, gradproof, sys\n"
        "assert gradproof.check_jacobian(np.sin, np.ones(3), vjp=lambda z, u: np.cos(z) * u)\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 6),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_linear_maps_pass_and_one_wrong_entry_is_caught(n, m, seed, scale):
    """A random linear map A: the VJP Aᵀu passes; with one entry of A 1e-4 off, it fails there."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, n)) * scale
    x = rng.normal(size=n)
    assert gradproof.check_jacobian(lambda z: A @ z, x, vjp=lambda z, u: A.T @ u, jvp=lambda z, v: A @ v)
    i, j = rng.integers(m), rng.integers(n)
    A_bad = A.copy()
    A_bad[i, j] += 1e-4 * scale * max(1.0, abs(A[i, j]) / scale)
    result = gradproof.check_jacobian(lambda z: A @ z, x, vjp=lambda z, u: A_bad.T @ u)
    assert not result.ok
    assert any(e.index == (int(j),) for e in result["x"].worst)
