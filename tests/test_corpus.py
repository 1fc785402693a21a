"""The calibration corpus is right: NumPy forward = torch's layer, hand-written backward = torch autograd.

An independent witness for every layer at both sizes: torch's own layers (F.conv2d, F.max_pool2d,
F.batch_norm, torch.lstm_cell, F.scaled_dot_product_attention, F.cross_entropy, ...) and autograd.
Every injected bug must change the gradient, and the float32 variant must really compute in float32.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.corpus import LAYERS, SIZES, bug_size, build, float64_reference

torch = pytest.importorskip("torch")


def _torch_value_and_grad(name, size, seed):
    params, consts = float64_reference(name, size, seed)
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    C = {
        k: torch.tensor(np.asarray(v), dtype=torch.float64 if np.asarray(v).dtype.kind == "f" else torch.long)
        for k, v in consts.items()
    }
    value = LAYERS[name].torch_forward(P, C)
    value.backward()
    return float(value.detach()), {k: t.grad.numpy() for k, t in P.items()}


CASES = [(name, size) for name in sorted(LAYERS) for size in SIZES]


@pytest.mark.parametrize("name,size", CASES, ids=[f"{n}-{s}" for n, s in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_layer_matches_torch_autograd(name, size, seed):
    case = build(name, size, "float64", seed)
    value, expected = _torch_value_and_grad(name, size, seed)
    assert float(case.loss(case.params)) == pytest.approx(value, rel=1e-12, abs=1e-12)
    got = case.grad(case.params)
    assert set(got) == set(expected)
    for k in expected:
        scale = max(float(np.max(np.abs(expected[k]))), 1e-12)
        assert np.max(np.abs(got[k] - expected[k])) <= 1e-11 * scale, (name, size, k)


BUGS = [(name, bug) for name in sorted(LAYERS) for bug in sorted(LAYERS[name].bugs)]


@pytest.mark.parametrize("name,bug", BUGS, ids=[f"{n}-{b}" for n, b in BUGS])
@pytest.mark.parametrize("size", SIZES)
def test_every_injected_bug_changes_the_gradient(name, bug, size):
    for seed in range(3):
        assert bug_size(build(name, size, "float64", seed, bug)) > 1e-7, (name, bug, size, seed)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_float32_variant_computes_in_float32(name):
    case = build(name, "small", "float32", 0)
    p64 = {k: v.astype(np.float64) for k, v in case.params.items()}
    assert np.asarray(case.loss(p64)).dtype == np.float32  # whatever it is given
    assert all(np.asarray(g).dtype == np.float32 for g in case.grad(p64).values())
    ref = build(name, "small", "float64", 0)
    assert float(case.loss(case.params)) == pytest.approx(float(ref.loss(ref.params)), rel=1e-4, abs=1e-4)


def test_layernorm_dropped_eps_is_a_one_in_a_million_error():
    sizes = [bug_size(build("layernorm", s, "float64", seed, "dropped-eps")) for s in SIZES for seed in range(5)]
    assert 3e-7 < min(sizes) and max(sizes) < 1e-5 and np.median(sizes) < 3e-6
