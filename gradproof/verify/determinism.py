"""Is the loss a function? Two calls at the same point must agree.

Finite differences read every change in the loss as the effect of the step. Code that is random
on some calls only (dropout drawn anew, sampling, a cache that misbehaves) adds changes that
look like rounding noise; measured as noise they widen the tolerance until a wrong gradient
passes.  So wherever a noise estimate rests on a few calls, those points are evaluated again:
a change beyond :data:`NONDETERMINISM` — or, for code whose result is rounded coarser than
float64, beyond :data:`ORDER_ULPS` of its unit roundoff — refuses the check (an ``InputError``);
a smaller one (batched versus single evaluation, a float32 sum whose order varies as with GPU
atomics) is returned to be counted as noise.
"""

from __future__ import annotations

import math

from gradproof.errors import InputError
from gradproof.verify.options import GRID64

__all__ = ["NONDETERMINISM", "repeat_change"]

NONDETERMINISM = 1e-8  # relative change between two identical calls that we call nondeterminism
# a sum taken in a varying order (GPU atomics) changes by a few units of roundoff of the result's
# dtype: that much is rounding, in float32 (1.9e-6) as in float64 (where 1e-8 is the larger)
ORDER_ULPS = 16.0


def repeat_change(first: float, again: float, output_eps: float = 2.0**-52) -> float:
    """``|again − first|`` for two calls at the same point; raises ``InputError`` beyond
    ``max(NONDETERMINISM, ORDER_ULPS·output_eps)`` relative to the larger of the two, where
    ``output_eps`` is the unit roundoff of the loss's dtype (NaN twice, or the same infinity, is
    the same answer)."""
    if first == again or (math.isnan(first) and math.isnan(again)):
        return 0.0
    change = abs(again - first)
    allowed = max(NONDETERMINISM, ORDER_ULPS * output_eps)
    if not change <= allowed * max(abs(first), abs(again), GRID64):  # NaN against a number too
        raise InputError(
            f"loss(params) is nondeterministic: two calls at the same parameters returned {first!r} and "
            f"{again!r} (e.g. unseeded dropout or random sampling inside the loss); seed it or switch "
            "it off, then check the gradient"
        )
    return change
