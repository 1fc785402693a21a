"""The corpus registry: a layer is set-up + NumPy forward + hand-written backward + a torch twin.

Every layer computes in the dtype of the arrays it is given (``float64`` or ``float32``): the
``float32`` variant is code that computes in float32 whatever it is given, because the case's
``loss``/``grad`` cast their arguments before calling the layer.  Bugs are named variants of the
backward (``backward(P, C, bug)``); ``bug=None`` is the correct backward.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SIZES = ("small", "large")  # a library's unit-test size, and about ten times more inputs
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Layer:
    """One corpus layer.

    ``setup(rng, size)`` returns float64 ``(params, consts)``; ``forward(P, C)`` the scalar loss
    computed in the arrays' dtype; ``backward(P, C, bug)`` the hand-written gradient (a dict like
    ``P``); ``torch_forward(P, C)`` the same loss from torch's own layers, for autograd.
    ``bugs`` maps a bug's name to what it is.
    """

    name: str
    setup: Callable[[np.random.Generator, str], tuple[dict[str, np.ndarray], dict[str, Any]]]
    forward: Callable[[dict[str, np.ndarray], dict[str, Any]], Any]
    backward: Callable[[dict[str, np.ndarray], dict[str, Any], str | None], dict[str, np.ndarray]]
    torch_forward: Callable[[dict[str, Any], dict[str, Any]], Any]
    bugs: Mapping[str, str] = field(default_factory=dict)
    kinks: bool = False  # the loss has non-differentiable points (ReLU, max, hinge)


LAYERS: dict[str, Layer] = {}


def register(layer: Layer) -> Layer:
    if layer.name in LAYERS:
        raise ValueError(f"corpus layer {layer.name!r} registered twice")
    LAYERS[layer.name] = layer
    return layer


@dataclass(frozen=True)
class Case:
    """A ready-to-check instance: ``check_gradient(case.loss, case.grad, case.params)``."""

    layer: str
    size: str
    dtype: str
    seed: int
    bug: str | None
    loss: Callable[[Mapping[str, Any]], Any]
    grad: Callable[[Mapping[str, Any]], dict[str, np.ndarray]]
    params: dict[str, np.ndarray]
    consts: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.layer}/{self.size}/{self.dtype}/seed{self.seed}" + (f"/{self.bug}" if self.bug else "")


def _rng(name: str, size: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(name.encode()), SIZES.index(size)]))


def _cast_consts(consts: Mapping[str, Any], dt: np.dtype) -> dict[str, Any]:
    out = {}
    for k, v in consts.items():
        arr = np.asarray(v)
        out[k] = arr.astype(dt) if arr.dtype.kind == "f" else v
    return out


def build(name: str, size: str = "small", dtype: str = "float64", seed: int = 0, bug: str | None = None) -> Case:
    """The case for corpus layer ``name`` at ``size``, computing in ``dtype``, with optional ``bug``."""
    layer = LAYERS[name]
    if bug is not None and bug not in layer.bugs:
        raise KeyError(f"layer {name!r} has no bug {bug!r}; it has {sorted(layer.bugs)}")
    params64, consts64 = layer.setup(_rng(name, size, seed), size)
    dt = np.dtype(dtype)
    consts = _cast_consts(consts64, dt)
    names = list(params64)

    def cast(p: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {k: np.asarray(p[k], dtype=dt) for k in names}

    def loss(p: Mapping[str, Any]) -> Any:
        return dt.type(layer.forward(cast(p), consts))

    def grad(p: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=dt) for k, v in layer.backward(cast(p), consts, bug).items()}

    params = {k: v.astype(dt) for k, v in params64.items()}
    return Case(name, size, dtype, int(seed), bug, loss, grad, params, consts64)


def float64_reference(name: str, size: str, seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The float64 (params, consts) a case is built from (for torch validation)."""
    return LAYERS[name].setup(_rng(name, size, seed), size)


def bug_size(case: Case) -> float:
    """The bug's relative size: max over parameters of ‖g_bug − g‖ / ‖g‖ (float64, at the case's point)."""
    if case.bug is None:
        return 0.0
    layer = LAYERS[case.layer]
    p64, c64 = float64_reference(case.layer, case.size, case.seed)
    good = layer.backward(p64, c64, None)
    bad = layer.backward(p64, c64, case.bug)
    sizes = []
    for k in good:
        gn = float(np.linalg.norm(good[k]))
        sizes.append(float(np.linalg.norm(np.asarray(bad[k]) - good[k])) / max(gn, 1e-300))
    return max(sizes)
