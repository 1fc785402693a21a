"""Passes that say little: a check whose own resolution (the relative gradient error that could
pass unseen, :attr:`~gradproof.verify.result.ParameterCheck.resolution`) is coarser than
:data:`COARSE_RESOLUTION`.  Front doors that answer with a bare pass (``gradcheck``'s ``True``,
``assert_gradient`` returning quietly) warn with :class:`~gradproof.CoarseCheckWarning`, so that a
pass at bfloat16's resolution never claims more than was shown."""

from __future__ import annotations

import warnings

from gradproof.errors import CoarseCheckWarning
from gradproof.verify.result import GradientCheck

#: a pass that could not have resolved a gradient error of this size (relative to the gradient's
#: norm) warns
COARSE_RESOLUTION = 0.1


def warn_if_coarse(result: GradientCheck, subject: str, precision: str, *, stacklevel: int) -> None:
    """Warn when ``result`` passed only coarsely.  ``subject``: what passed ("the backward of
    func(*inputs)"); ``precision``: why it is coarse, in words ("its outputs are bfloat16");
    ``stacklevel``: counted from the caller of this function (1 = that caller)."""
    coarse = [p for p in result.parameters if p.ok and p.low_precision and p.resolution > COARSE_RESOLUTION]
    if not coarse:
        return
    worst = max(coarse, key=lambda p: p.resolution)
    names = ", ".join(repr(p.name) for p in coarse)
    warnings.warn(
        f"{subject} passed for {names}, but only coarsely: {precision}, and at that precision a gradient "
        f"wrong by up to about {worst.resolution:.0%} of its norm could pass unseen. Compute in float32 or "
        "float64 for a check that means more.",
        CoarseCheckWarning,
        stacklevel=stacklevel + 1,
    )
