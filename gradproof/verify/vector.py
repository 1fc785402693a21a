"""Functions with array outputs, reduced to the one engine of :func:`check_gradient`.

The front doors for vector-valued code — ``gradcheck``, ``gradgradcheck``, ``check_module`` and
``check_jacobian`` — ask one question: along a direction v, does the finite-difference derivative
of ⟨u, F(x)⟩ agree with ⟨Jᵀu, v⟩ from the user's backward (or ⟨u, J v⟩ from forward mode)?  For
a fixed cotangent u, ⟨u, F(x)⟩ is a scalar loss whose gradient is Jᵀu, so the check *is*
``check_gradient``: the same directions, differences, error model, kinks, localisation and
diagnosis.  This module adds only what a vector function needs on top:

* seeded cotangents: random signs times magnitudes in [0.5, 1.5], so no output is weighted near
  zero (a Gaussian weight would hide a wrong row behind a small u_i), and u ≠ ±1, so a backward
  that ignores its grad_output is wrong even for a scalar output;
* a joint first screen: all checked tensors concatenated into one parameter and checked along a
  few signed directions at once — one noise probe and one set of directions instead of one per
  tensor.  Only when the screen fails (or the code computes in low precision, where a joint
  tolerance would hide a small tensor's error) does each tensor get its own check, which then
  attributes, localises and diagnoses the failure.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradproof.errors import InputError
from gradproof.verify.batching import compose
from gradproof.verify.check import check_gradient
from gradproof.verify.options import CheckOptions
from gradproof.verify.params import is_torch
from gradproof.verify.result import GradientCheck, ParameterCheck

__all__ = ["check_reduced", "cotangent", "cotangent_rng", "cotangents"]

# Directions of the screen.  A wrong gradient e shows along a Gaussian or random-sign v as
# ⟨e, v⟩ ~ ‖e‖·N(0, 1); it hides only where |N(0, 1)| is below tolerance/‖e‖: for a float64 bug
# of relative size 1e-6 in 10,000 entries, a chance of about 1e-5 per direction, so two
# directions leave ~1e-10.  A failure is then re-checked per tensor with the full count.
SCREEN_DIRECTIONS = 2


def cotangent_rng(seed: int, stream: int = 0) -> np.random.Generator:
    """The generator of the cotangents for ``seed`` (independent of the directions' streams)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) % 2**63, 0xC07A, int(stream)]))


def cotangent(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A seeded cotangent: random signs × magnitudes uniform in [0.5, 1.5]."""
    size = int(np.prod(shape, dtype=np.int64))
    signs = rng.integers(0, 2, size) * 2.0 - 1.0
    return (signs * rng.uniform(0.5, 1.5, size)).reshape(shape)


#: outputs with more entries than this in all are drawn afresh each check, not cached: the cache
#: exists for small checks, where seeding costs more than the arithmetic, and must not keep
#: megabytes alive for the life of the process
CACHED_COTANGENT_ENTRIES = 65_536


def cotangents(seed: int, shapes: tuple[tuple[int, ...], ...], stream: int = 0) -> tuple[np.ndarray, ...]:
    """The seeded cotangents for outputs of ``shapes``, drawn in order from one generator
    (read-only; cached for small outputs, since seeding a generator costs more than a small
    check's arithmetic)."""
    entries = sum(int(np.prod(shape, dtype=np.int64)) for shape in shapes)
    if entries > CACHED_COTANGENT_ENTRIES:
        return _draw_cotangents(seed, shapes, stream)
    return _cached_cotangents(seed, shapes, stream)


def _draw_cotangents(seed: int, shapes: tuple[tuple[int, ...], ...], stream: int) -> tuple[np.ndarray, ...]:
    rng = cotangent_rng(seed, stream)
    drawn = tuple(cotangent(rng, shape) for shape in shapes)
    for u in drawn:
        u.setflags(write=False)
    return drawn


_cached_cotangents = functools.lru_cache(maxsize=64)(_draw_cotangents)


def check_reduced(
    loss: Callable[[dict[str, Any]], Any],
    grad: Callable[[dict[str, Any]], dict[str, Any]],
    params: Mapping[str, Any],
    options: CheckOptions,
    *,
    noun: str = "input",
    joint: bool = True,
) -> GradientCheck:
    """``check_gradient(loss, grad, params)``, screened jointly first when there are several tensors.

    ``loss`` maps a dict name → tensor/array to ⟨u, F⟩; ``grad`` returns the dict of claimed
    gradients (``None`` entries mean zero).  The records are named by ``noun`` in reports.
    """
    params = dict(params)
    zero_filled = _zeros_for_none(grad, params)
    screen_options = dataclasses.replace(options, localize=False, directions=options.directions or SCREEN_DIRECTIONS)
    screen = None
    if joint and len(params) > 1 and _joinable(params):
        flat, split = _concatenate(params)
        try:  # the screen only decides; a failure is localised by the per-tensor checks below
            screen = check_gradient(
                compose(loss, split), lambda f: _flatten(zero_filled(split(f)), params), flat, screen_options
            )
        except InputError as exc:  # a backward that does not concatenate: each tensor on its own
            if not isinstance(exc.__cause__, _NotJoinable):
                raise
    elif len(params) == 1 and screen_options != options:
        screen = check_gradient(loss, zero_filled, params, screen_options)
    if screen is not None and screen.ok and "low precision" not in screen.precision:
        return _spread(screen, params, noun)
    evaluations = screen.evaluations if screen is not None else 0
    result = check_gradient(loss, zero_filled, params, options)
    records = tuple(dataclasses.replace(p, noun=noun) for p in result.parameters)
    return dataclasses.replace(result, parameters=records, noun=noun, evaluations=result.evaluations + evaluations)


# -- helpers ----------------------------------------------------------------------------------
def _zeros_for_none(grad: Callable, params: Mapping[str, Any]) -> Callable:
    """``grad`` with ``None`` entries (an input the backward leaves unused) read as zeros."""

    def filled(values: dict[str, Any]) -> Any:
        out = grad(values)
        if not isinstance(out, Mapping):
            return out
        return {k: (_zeros_like(values[k]) if v is None and k in values else v) for k, v in out.items()}

    return filled


def _zeros_like(value: Any) -> Any:
    if is_torch(value):
        import torch

        return torch.zeros_like(value)
    return np.zeros_like(np.asarray(value, dtype=np.float64))


def _joinable(params: Mapping[str, Any]) -> bool:
    """Whether the tensors can share one concatenated parameter (one kind, dtype and device)."""
    values = list(params.values())
    if all(is_torch(v) for v in values):
        return len({(v.dtype, v.device) for v in values}) == 1 and all(v.is_floating_point() for v in values)
    if any(is_torch(v) for v in values):
        return False
    arrays = [np.asarray(v) for v in values]
    return len({a.dtype for a in arrays}) == 1 and arrays[0].dtype.kind == "f"


def _concatenate(params: Mapping[str, Any]) -> tuple[Any, Callable[[Any], dict[str, Any]]]:
    """(one flat tensor/array of every entry, the function that splits such a vector back)."""
    names = list(params)
    shapes = [tuple(params[n].shape) for n in names]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    first = params[names[0]]
    if is_torch(first):
        import torch

        flat = torch.cat([params[n].detach().reshape(-1) for n in names])
        bounds = [int(b) for b in np.cumsum([0, *sizes])]

        def split(vector: Any) -> dict[str, Any]:
            if type(vector) is torch.Tensor and vector.is_cpu and not vector.requires_grad:
                try:  # views through NumPy: a few microseconds a piece against torch's split + reshape
                    arr = vector.numpy()
                except (RuntimeError, TypeError):  # a dtype NumPy lacks (bfloat16), a conjugate view
                    pass
                else:
                    return {
                        n: torch.from_numpy(arr[a:b].reshape(s))
                        for n, s, a, b in zip(names, shapes, bounds[:-1], bounds[1:])
                    }
            return {n: piece.reshape(s) for n, s, piece in zip(names, shapes, torch.split(vector, sizes))}

        return flat, split
    flat = np.concatenate([np.asarray(params[n]).reshape(-1) for n in names])
    bounds = np.cumsum(sizes)[:-1]

    def split_np(vector: Any) -> dict[str, Any]:
        return {n: piece.reshape(s) for n, s, piece in zip(names, shapes, np.split(np.asarray(vector), bounds))}

    return flat, split_np


class _NotJoinable(Exception):
    """The backward's output cannot be concatenated (wrong shape, not a dict): check per tensor."""


def _flatten(grads: Any, params: Mapping[str, Any]) -> Any:
    """The claimed gradients concatenated like the parameters (lowest precision of the pieces)."""
    if not isinstance(grads, Mapping) or set(grads) != set(params):
        raise _NotJoinable
    pieces = [grads[n] for n in params]
    if all(is_torch(p) for p in pieces):
        import torch

        if any(tuple(p.shape) != tuple(params[n].shape) for p, n in zip(pieces, params)):
            raise _NotJoinable
        dtype = max((p.dtype for p in pieces), key=lambda d: torch.finfo(d).eps if d.is_floating_point else 0.0)
        return torch.cat([p.detach().to(dtype).reshape(-1) for p in pieces])
    arrays = [np.asarray(p.detach().cpu().numpy() if is_torch(p) else p) for p in pieces]
    if any(a.shape != tuple(params[n].shape) for a, n in zip(arrays, params)):
        raise _NotJoinable
    dtype = max((a.dtype for a in arrays), key=lambda d: np.finfo(d).eps if d.kind == "f" else 0.0)
    return np.concatenate([a.astype(dtype).reshape(-1) for a in arrays])


def _spread(screen: GradientCheck, params: Mapping[str, Any], noun: str) -> GradientCheck:
    """One passing record per tensor from a passing screen."""
    rec = screen.parameters[0]
    if len(params) == 1:
        records = (dataclasses.replace(rec, noun=noun),)
        return dataclasses.replace(screen, parameters=records, noun=noun)
    records = tuple(
        ParameterCheck(
            name=name,
            shape=tuple(value.shape),
            ok=True,
            error=rec.error,
            tolerance=rec.tolerance,
            directions=rec.directions,
            kinks=rec.kinks,
            grad_shape=tuple(value.shape),
            noun=noun,
        )
        for name, value in params.items()
    )
    precision = f"{screen.precision}; all {len(records)} {noun}s checked jointly along the same directions"
    return GradientCheck(records, screen.options, precision, screen.evaluations, noun=noun)
