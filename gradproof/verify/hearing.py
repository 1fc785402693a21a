"""What a few loss values near the point can and cannot tell about the loss's rounding.

Two questions the noise probe (:func:`~gradproof.verify.directional.measure_noise`) asks of the
values it heard, each answered so that a wrong answer cannot make a correct gradient FAILED nor
let a wrong one pass unstated:

* *on which grid do the values lie?*  A float32 loss handed back as a Python float
  (``loss.item()``, ``float(np.float32(...))``) says "float64" by its type, but its values are
  float32 numbers: two distinct nonzero values both exactly representable in float32 happen to a
  float64 computation with probability about 2⁻⁵⁸.  :func:`result_grid` names the coarsest such
  dtype, whose roundoff then sizes the noise floor.
* *does a fourth difference grow with the step?*  Rounding noise does not (its fourth
  differences have the same spread at every step); a kink through the point grows linearly with
  the step, curvature as its fourth power.  :func:`grows_with_step` compares the mean squares of
  ``m`` independent fourth differences at two steps ``GROWTH_RATIO`` apart: under pure noise their
  ratio is F(m, m)-distributed, and growth is declared only beyond its ``1 − KINK_ALPHA``
  quantile — a stated false-positive rate, where one ratio of two single differences (the test
  this replaces) read white noise as a kink in a quarter of the probes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from gradproof.verify.options import DTYPE_EPS
from gradproof.verify.stats import f_quantile

__all__ = ["GROWTH_RATIO", "KINK_ALPHA", "STENCILS", "grows_with_step", "lone_float32", "result_grid"]

STENCILS = 4  # independent fourth differences per step in the growth test
GROWTH_RATIO = 32.0  # the two steps compared: a kink through the point multiplies its d4 by this
KINK_ALPHA = 1e-4  # probability that pure rounding noise is read as growth (a kink)
LONE_BITS = 22  # significant bits a lone loss value needs to be read as a float32 result (see lone_float32)
DISTINCT_AT_LEAST = 2  # distinct nonzero values a grid is inferred from (2: chance 2⁻⁵⁸ for float64 results)


def _on_bfloat16(v: float) -> bool:
    w = np.float32(v)
    return bool(float(w) == v) and (int(w.view(np.uint32)) & 0xFFFF) == 0


def _on_float16(v: float) -> bool:
    with np.errstate(over="ignore"):
        return bool(float(np.float16(v)) == v)


def _on_float32(v: float) -> bool:
    with np.errstate(over="ignore"):
        return bool(float(np.float32(v)) == v)


_GRIDS = (("bfloat16", _on_bfloat16), ("float16", _on_float16), ("float32", _on_float32))


def result_grid(values: Iterable[float]) -> tuple[str, float]:
    """(dtype, unit roundoff) of the coarsest dtype on whose grid all ``values`` lie, from
    bfloat16, float16 and float32; ``("float64", ε₆₄)`` when fewer than
    :data:`DISTINCT_AT_LEAST` distinct nonzero finite values were seen, or when they fit none."""
    distinct = {float(v) for v in values if math.isfinite(v) and v != 0.0}
    if len(distinct) >= DISTINCT_AT_LEAST:
        for name, on_grid in _GRIDS:
            if all(on_grid(v) for v in distinct):
                return name, DTYPE_EPS[name]
    return "float64", DTYPE_EPS["float64"]


def lone_float32(value: float) -> bool:
    """A single loss value that a float32 result would give and a float64 one almost never: on
    float32's grid but not float16's (not a round number such as 1.0 or 0.75), using at least
    :data:`LONE_BITS` of float32's 24 significant bits, and not an integer below 2²⁴ (a count such
    as 1,000,001 or 4097 lies on float32's grid too: a float64 loss constant at one, judged as
    float32, let a wrong gradient pass).  A float32 result of a long computation fills its
    mantissa: it uses fewer than 22 bits with probability 2⁻²."""
    if value == 0.0 or not math.isfinite(value) or not _on_float32(value) or _on_float16(value):
        return False
    if abs(value) < 2.0**24 and value == int(value):
        return False
    mantissa = int(math.frexp(abs(value))[0] * 2.0**53)
    return (mantissa >> ((mantissa & -mantissa).bit_length() - 1)).bit_length() >= LONE_BITS


def growth_threshold(m: int = STENCILS, alpha: float = KINK_ALPHA) -> float:
    """The F(m, m) quantile that pure noise exceeds with probability ``alpha``."""
    return f_quantile(alpha, m, m)


def grows_with_step(small: list[float], large: list[float], alpha: float = KINK_ALPHA) -> bool:
    """Whether the fourth differences ``large`` (at the longer step) are significantly larger than
    ``small`` (same count, independent points): mean-square ratio beyond F(m, m)'s upper
    ``alpha`` quantile.  All zero at the short step and not at the long one is growth."""
    m = len(small)
    assert m == len(large) and m > 0
    short = float(np.mean(np.square(small)))
    long_ = float(np.mean(np.square(large)))
    if short == 0.0:
        return long_ > 0.0
    return long_ / short > growth_threshold(m, alpha)
