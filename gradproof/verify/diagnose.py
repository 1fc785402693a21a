"""Diagnosis: name the bug when the wrong gradient is a recognisable transform of the right one.

Hypotheses are fitted to what the check already measured — the user's ⟨g, v⟩ and the finite
differences along each direction, plus the per-entry differences where they were taken — so a
diagnosis costs no extra loss evaluations.  In order: zero, a constant factor (flipped sign,
a factor 2, the batch size, √d or 1/√d of an input dimension d), a transpose, an error
proportional to the parameter itself (weight decay scaled wrong), an activation derivative left
out, doubled or taken at the wrong tensor (:mod:`~gradproof.verify.elementwise`), a mismatch
confined to the border of a spatial tensor, to repeated indices or to a sign region
(:mod:`~gradproof.verify.patterns`), to some entries.  A cause is named only when its test
passes; otherwise the sentence states what is known — the size of the error against the
tolerance and where it lies — and calls an error at the rounding level just that.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradproof.verify.capture import Captured
from gradproof.verify.directional import Directions
from gradproof.verify.elementwise import computed_elsewhere, explain_elementwise
from gradproof.verify.localize import Entries
from gradproof.verify.options import GRID64
from gradproof.verify.patterns import border, repeated_indices, sign_region

FIT = 1e-3  # relative misfit under which a hypothesis is accepted


def _shape_of(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    if shape is None or isinstance(value, type):
        return None
    try:
        return tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        return None


def _referenced_values(fn: Any, depth: int = 0) -> Iterable[Any]:
    """Objects a function can see: closure cells, globals it names, partial args, its self."""
    if depth > 2 or fn is None:
        return
    if isinstance(fn, functools.partial):
        yield from fn.args
        yield from fn.keywords.values()
        yield from _referenced_values(fn.func, depth + 1)
        return
    owner = getattr(fn, "__self__", None)
    if owner is not None and not isinstance(owner, type):
        yield from getattr(owner, "__dict__", {}).values()
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # empty cell
            continue
    if code is not None:
        glb = getattr(fn, "__globals__", {})
        for name in code.co_names:
            if name in glb:
                yield glb[name]
    yield from getattr(fn, "__defaults__", None) or ()


class Dims(set):
    """Input dimensions (≥ 2), with ``leading``: the first-axis sizes of ≥ 2-D arrays (batch sizes)."""

    def __init__(self, dims: Iterable[int] = (), leading: Iterable[int] = ()):
        super().__init__(d for d in dims if d >= 2)
        self._leading = {d for d in leading if d >= 2}

    @property
    def leading(self) -> set[int]:
        return self._leading


def input_dims(functions: Iterable[Callable], shapes: Iterable[tuple[int, ...]]) -> Dims:
    """Sizes of the dimensions of the arrays the user's functions can see, and of the parameters."""
    shapes = list(shapes)
    for fn in functions:
        try:
            for value in _referenced_values(fn):
                values = value.values() if isinstance(value, dict) else [value]
                for item in values:
                    shape = _shape_of(item)
                    if shape is not None:
                        shapes.append(shape)
        except Exception:  # noqa: BLE001 - introspection is best effort
            continue
    return Dims((d for shape in shapes for d in shape), (shape[0] for shape in shapes if len(shape) >= 2))


def _fraction(c: float) -> str:
    return f"{c:.4g}"


def describe_factor(c: float, dims: set[int]) -> str:
    """Plain words for ``user = c × true``."""
    if abs(c + 1.0) < FIT:
        return "the gradient is −1 × the true gradient (flipped sign)"
    sign = "−" if c < 0 else ""
    mag = abs(c)
    for n, text in ((mag, f"{sign}{round(mag)}"), (1.0 / mag, f"{sign}1/{round(1.0 / mag)}")):
        k = round(n)
        if k >= 2 and abs(n - k) < FIT * n:
            bigger = n is mag
            if k in dims and k != 2:
                how = "a sum where a mean was meant" if bigger else "a mean where a sum was meant"
                what = f"the batch size {k}" if k in getattr(dims, "leading", ()) else f"{k}, an input dimension"
                return (
                    f"the gradient is {text} × the true gradient: off by {what} "
                    f"({how}){', and its sign is flipped' if sign else ''}"
                )
            if k == 2:
                return (
                    f"the gradient is {text} × the true gradient: a missing or extra factor 2 "
                    "(e.g. the ½ of a squared loss, or λ versus λ/2 in weight decay)"
                )
            return (
                f"the gradient is {text} × the true gradient (a constant factor {k}"
                f"{'; a sum where a mean was meant?' if bigger else '; a mean where a sum was meant?'})"
            )
    for d in sorted(dims):
        root = math.sqrt(d)
        if abs(root - round(root)) < 1e-9:
            continue  # an integer root is named as the integer above
        if abs(mag - root) < FIT * mag:
            return (
                f"the gradient is {sign}√{d} = {sign}{root:.4g} × the true gradient, {d} being an input "
                f"dimension: a 1/√{d} scale (such as attention's 1/√d) left out of the backward"
            )
        if abs(1.0 / mag - root) < FIT / mag:
            return (
                f"the gradient is {sign}1/√{d} = {sign}{1.0 / root:.4g} × the true gradient, {d} being an input "
                f"dimension: a 1/√{d} scale (such as attention's 1/√d) applied once too often in the backward"
            )
    return f"the gradient is {_fraction(c)} × the true gradient (a constant factor)"


def _fit_scalar(target: np.ndarray, basis: np.ndarray, mismatch: np.ndarray) -> float | None:
    """c with ``target ≈ c·basis`` explaining the ``mismatch`` (user − finite differences), else None.

    The fit must leave at most 5% of the mismatch unexplained (beyond the tolerance), so a
    single wrong entry is never mistaken for a scaled gradient.
    """
    denom = float(np.dot(basis, basis))
    if denom <= 0.0 or not np.all(np.isfinite(basis)):
        return None
    c = float(np.dot(target, basis)) / denom
    misfit = float(np.linalg.norm(target - c * basis))
    if misfit <= 0.05 * min(float(np.linalg.norm(mismatch)), float(np.linalg.norm(target))):
        return c
    return None


@dataclass(frozen=True)
class Context:
    """What a diagnosis may use beyond the measurements: the arrays the user's code held (fetched
    only when needed), the confirmed error and tolerance (relative), the gradient dtype's roundoff."""

    arrays: Callable[[], list[Captured]] = field(default=lambda: [])
    error: float = 0.0
    tolerance: float = 0.0
    grad_eps: float = 2.0**-52


ROUNDING_LEVEL = 1e3  # errors below this many units of roundoff (relative) are called rounding-level


def diagnose(
    name: str,
    x: np.ndarray,
    g: np.ndarray,
    dirs: Directions,
    entries: Entries | None,
    dims: set[int],
    context: Context | None = None,
) -> str:
    """One sentence on the most likely cause of a failed check."""
    context = context or Context()
    text = _cause(name, x, g, dirs, entries, dims, context)
    if not text.startswith("the gradient is zero"):
        held = computed_elsewhere(x, g, dirs, entries, _arrays(context))
        if held:
            text += f"; {held}"
    return text


def _cause(
    name: str,
    x: np.ndarray,
    g: np.ndarray,
    dirs: Directions,
    entries: Entries | None,
    dims: set[int],
    context: Context,
) -> str:
    user = np.asarray(dirs.user)
    fd = np.asarray(dirs.fd)
    tol = np.asarray(dirs.tolerance)
    if not np.any(g):
        return "the gradient is zero everywhere (left at its initial value, or never written)"
    c = _fit_scalar(user, fd, user - fd)
    if c is not None and abs(c - 1.0) > FIT:
        if abs(c) < FIT:
            return "the gradient is almost zero compared with the true one (a factor ≈ 0)"
        return describe_factor(c, dims)
    if x.ndim == 2 and x.shape[0] == x.shape[1] and x.shape[0] > 1:
        user_t = np.array([float(np.vdot(g.T, v)) for v in dirs.vectors])
        if np.all(np.abs(user_t - fd) <= 3.0 * tol + FIT * np.abs(fd)):
            return f"the gradient is transposed: {name}ᵀ of what was returned matches the finite differences"
    if np.any(x):
        along_x = np.array([float(np.vdot(x, v)) for v in dirs.vectors])
        c = _fit_scalar(user - fd, along_x, user - fd)
        if c is not None and abs(c) > 0:
            return (
                f"the error is {_fraction(c)} × the parameter {name!r} itself: an L2 / weight-decay "
                "term with the wrong coefficient (e.g. λ versus λ/2)"
            )
    arrays = _arrays(context)
    text = explain_elementwise(name, x, g, dirs, entries, arrays)
    if text:
        return text
    if entries is not None and entries.bad.any():
        for text in (
            border(x.shape, entries),
            repeated_indices(x.shape, entries, arrays),
            sign_region(name, x, entries, arrays),
        ):
            if text:
                return text
        bad = entries.index[entries.bad]
        share = len(bad) / x.size if entries.complete else None
        if share is not None and share <= 0.5:
            where = ""
            if x.ndim == 2:
                rows, cols = np.unravel_index(bad, x.shape)
                if len(set(rows.tolist())) == 1 and len(bad) > 1:
                    where = f", all in row {int(rows[0])}"
                elif len(set(cols.tolist())) == 1 and len(bad) > 1:
                    where = f", all in column {int(cols[0])}"
            return f"the mismatch is confined to {len(bad)} of {x.size} entries{where}"
        if share is None and len(bad) <= max(1, len(entries.index) // 4):
            return (
                f"the mismatch is confined to a few entries ({len(bad)} found among "
                f"{len(entries.index)} differenced of {x.size})"
            )
    return _unexplained(x, user, fd, entries, context)


def _arrays(context: Context) -> list[Captured]:
    try:
        return list(context.arrays())
    except Exception:  # noqa: BLE001 - the user's code may fail when called again; explain without it
        return []


def _unexplained(x: np.ndarray, user: np.ndarray, fd: np.ndarray, entries: Entries | None, context: Context) -> str:
    """What is known when no cause can be named: the size of the error and where it lies."""
    typical = float(np.sqrt(np.mean(fd**2))) if fd.size else 0.0
    rel = float(np.sqrt(np.mean((user - fd) ** 2))) / typical if typical > 0 else math.inf
    times = context.error / context.tolerance if context.tolerance > 0 else math.inf
    size = f"{rel:.1e} of the gradient's norm, {times:.3g}× the tolerance"
    where = ""
    if entries is not None and entries.index.size:
        k, n = int(entries.bad.sum()), len(entries.index)
        where = f", in {k} of the {n} entries differenced" + ("" if entries.complete else f" (of {x.size})")
    if rel < ROUNDING_LEVEL * context.grad_eps:
        return (
            f"an error at the level of rounding ({size}{where}): not a missing term — look for a part of the "
            "backward computed in lower precision, or a constant rounded differently than in the forward"
        )
    if rel < 1e-3:
        return (
            f"no simple transform of the true gradient explains it; the error is small ({size}{where}): a "
            "constant or an approximation that differs between forward and backward (an ε, a clipping bound, "
            "an approximate derivative) is the usual cause"
        )
    return (
        f"no simple transform of the true gradient explains it ({size}{where}): look for a missing or extra "
        "term, or an intermediate computed from the wrong tensor"
    )


def relative_gap(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), GRID64) if math.isfinite(a) and math.isfinite(b) else math.inf
