"""Passes that say little: a check whose own resolution (the relative gradient error that could
pass unseen, :attr:`~gradproof.verify.result.ParameterCheck.resolution`) is coarser than
:data:`COARSE_RESOLUTION`.  Front doors that answer with a bare pass (``gradcheck``'s ``True``,
``assert_gradient`` returning quietly) warn with :class:`~gradproof.CoarseCheckWarning`, so that a
pass at bfloat16's resolution never claims more than was shown.  A check run with a tolerance of
the caller's own (``rtol``, ``atol``, ``floor_atol``, ``floor_rtol``; gradcheck's ``atol``/``rtol``/
``nondet_tol``) does not warn: the caller chose that resolution."""

from __future__ import annotations

import math
import warnings

from gradproof.errors import CoarseCheckWarning
from gradproof.verify.result import GradientCheck

#: a pass that could not have resolved a gradient error of this size (relative to the gradient's
#: norm) warns
COARSE_RESOLUTION = 0.1


def warn_if_coarse(result: GradientCheck, subject: str, precision: str | None, *, stacklevel: int) -> None:
    """Warn when ``result`` passed only coarsely.  ``subject``: what passed ("the backward of
    func(*inputs)"); ``precision``: the low precision that makes it coarse, in words ("its outputs
    are bfloat16"), None where no low-precision dtype is known (then the rounding of the values
    against the gradient is named); ``stacklevel``: counted from the caller of this function."""
    o = result.options
    if o.rtol is not None or o.atol is not None or o.floor_atol or o.floor_rtol:
        return  # a tolerance the caller chose: its coarseness is theirs (gradcheck's atol/rtol map here)
    # an infinite resolution is a gradient that is exactly 0: no relative error to speak of
    coarse = [p for p in result.parameters if p.ok and COARSE_RESOLUTION < p.resolution < math.inf]
    if not coarse:
        return
    worst = max(coarse, key=lambda p: p.resolution)
    names = ", ".join(repr(p.name) for p in coarse)
    if precision is not None:
        why = f"{precision}, and at that precision"
        advice = "Compute in float32 or float64 for a check that means more."
    else:
        why = "the values' rounding at the steps finite differences need is large against the gradient (a gradient tiny beside the values, or code below float64 inside), and so"
        advice = "A point where the gradient is not tiny against the values, or float64 throughout, makes a check that means more."
    warnings.warn(
        f"{subject} passed for {names}, but only coarsely: {why} a gradient wrong by up to about "
        f"{_size(worst.resolution)} could pass unseen. {advice}",
        CoarseCheckWarning,
        stacklevel=stacklevel + 1,
    )


def _size(resolution: float) -> str:
    """A relative error in words: 69 % of its norm, or 1e+162 times its norm."""
    return f"{resolution:.0%} of its norm" if resolution < 10 else f"{resolution:.0e} times its norm"
