"""Quantiles for tolerances derived from a stated false-alarm probability (standard library only).

A noise level estimated from ν residual degrees of freedom turns a residual into a Student-t
variable; its two-sided quantile at probability α is the multiplier that keeps the chance of a
false alarm at α.  The t distribution's CDF is the regularised incomplete beta function, computed
here by its continued fraction (Lentz), so no SciPy is needed.

>>> round(t_quantile(1e-3, 10), 3)  # SciPy: stats.t.ppf(1 - 5e-4, 10) = 4.587
4.587
"""

from __future__ import annotations

import math
from statistics import NormalDist


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b) for 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_two_sided_tail(t: float, dof: float) -> float:
    """P(|T| > t) for Student's t with ``dof`` degrees of freedom."""
    t = abs(t)
    return betainc(0.5 * dof, 0.5, dof / (dof + t * t))


def t_quantile(alpha: float, dof: float) -> float:
    """The t with P(|T| > t) = ``alpha`` (two-sided), by bisection on the tail."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if math.isinf(dof):
        return NormalDist().inv_cdf(1.0 - alpha / 2.0)
    return _invert_tail(lambda t: t_two_sided_tail(t, dof), alpha)


def _invert_tail(tail, alpha: float) -> float:
    """The x ≥ 0 with ``tail(x)`` = ``alpha``, for a tail probability that falls from 1 at 0:
    doubling until it is below, then bisection to 12 significant digits."""
    lo, hi = 0.0, 1.0
    while tail(hi) > alpha:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if tail(mid) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return hi


def f_upper_tail(x: float, d1: float, d2: float) -> float:
    """P(F > x) for Fisher's F with (``d1``, ``d2``) degrees of freedom."""
    if x <= 0.0:
        return 1.0
    return betainc(0.5 * d2, 0.5 * d1, d2 / (d2 + d1 * x))


def f_quantile(alpha: float, d1: float, d2: float) -> float:
    """The x with P(F > x) = ``alpha`` for Fisher's F(``d1``, ``d2``), by bisection on the tail.

    >>> round(f_quantile(1e-3, 4, 4), 2)  # SciPy: stats.f.ppf(1 - 1e-3, 4, 4) = 53.44
    53.44
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return _invert_tail(lambda x: f_upper_tail(x, d1, d2), alpha)
