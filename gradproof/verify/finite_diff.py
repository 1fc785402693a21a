"""Central finite differences with an error estimate.

A finite-difference derivative is only a witness if we know how far to trust it.  Every
function here returns the estimate *and* an error bound built from two sources:

* truncation — the central difference is O(h²); comparing steps h and h/2 measures it, and
  Richardson extrapolation ``(4·D(h/2) − D(h))/3`` removes its leading term;
* rounding — measured, not assumed: ``eps·|f|`` underestimates the noise of a function whose
  intermediate terms are larger than its value (``log(1 + e^z)`` near 0, ``16³ − 16³``), so the
  noise is probed by a second difference at a tiny step, ``|f(x+2δ) − 2f(x+δ) + f(x)|`` (the
  curvature term is ~δ² and negligible), and the rounding bound is that noise over ``h``.

The step is sized per entry for the dtype, ``h = eps^(1/3)·max(1, |x|)``, which balances the two
for a central difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from gradproof.verify.options import GRID64


@dataclass(frozen=True)
class FiniteDifference:
    """A finite-difference derivative and a bound on its error (same shape)."""

    value: np.ndarray
    error: np.ndarray


def default_step(x: np.ndarray, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Per-entry central-difference step for ``dtype``: ``eps^(1/3)·max(1, |x|)``."""
    eps = np.finfo(dtype).eps
    return np.cbrt(eps) * np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))


def jacobian(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    *,
    step: np.ndarray | float | None = None,
) -> FiniteDifference:
    """Jacobian of ``f`` at ``x`` by Richardson-extrapolated central differences.

    ``f`` maps an array of ``x.shape`` to an array (or scalar) of any shape; the result has shape
    ``f(x).shape + x.shape``.  Costs six evaluations of ``f`` per entry of ``x`` — meant for the
    small problems of derivation checks; large user problems use directional checks instead.
    """
    x = np.array(x, dtype=np.float64)
    f0 = np.asarray(f(x.copy()), dtype=np.float64)
    h_all = default_step(x) if step is None else np.broadcast_to(np.asarray(step, float), x.shape)
    eps = np.finfo(np.float64).eps
    value = np.empty(f0.shape + x.shape)
    error = np.empty(f0.shape + x.shape)
    noise = np.maximum(eps * np.abs(f0), GRID64)
    for idx in np.ndindex(*x.shape):
        tiny = 1e-9 * max(1.0, abs(float(x[idx])))
        x1, x2 = x.copy(), x.copy()
        x1[idx] += tiny
        x2[idx] += 2 * tiny
        probe = np.abs(np.asarray(f(x2), float) - 2 * np.asarray(f(x1), float) + f0)
        noise = np.maximum(noise, probe)
    for idx in np.ndindex(*x.shape):
        h = float(h_all[idx])

        def diff(step_: float, idx: tuple = idx) -> np.ndarray:
            xp, xm = x.copy(), x.copy()
            xp[idx] += step_
            xm[idx] -= step_
            # divide by the step actually taken (x ± h is rounded)
            return (np.asarray(f(xp), float) - np.asarray(f(xm), float)) / (xp[idx] - xm[idx])

        d_h, d_h2 = diff(h), diff(h / 2)
        richardson = (4.0 * d_h2 - d_h) / 3.0
        rounding = 4.0 * noise / h
        value[(...,) + idx] = richardson
        error[(...,) + idx] = np.abs(d_h - d_h2) + rounding
    return FiniteDifference(value=value, error=error)
