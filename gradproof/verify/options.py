"""Options of :func:`gradproof.check_gradient`, in one frozen dataclass, and the dtype table.

Keyword overrides given to ``check_gradient`` are merged into a :class:`CheckOptions` with
:func:`dataclasses.replace`; an unknown keyword is an :class:`~gradproof.InputError` that lists
the valid ones.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from gradproof.errors import InputError

# dtype -> unit roundoff used to size steps and tolerances when a function computes in it.
DTYPE_EPS: dict[str, float] = {
    "float64": float(np.finfo(np.float64).eps),
    "float32": float(np.finfo(np.float32).eps),
    "float16": float(np.finfo(np.float16).eps),
    "bfloat16": 2.0**-7,
}


#: float64's smallest positive number, and its spacing below 2**-1022: the least rounding a loss
#: value carries, and the guard of every ratio.  A fixed 1e-300 in its place made losses under
#: 1e-300 look up to 1,000 times quieter than they are and let their wrong gradients pass.
GRID64 = 2.0**-1074


def relative_noise(sigma: float, f0: float, fmax: float = 0.0) -> float:
    """``sigma`` relative to the loss's magnitude: ``|f0|``, or ``fmax`` (the largest value seen
    nearby) where the loss is exactly 0 at the point; 0.0 when both are 0 (a loss that is 0 all
    around the point shows no noise to size steps by: callers then assume float64's roundoff)."""
    reference = abs(f0) or fmax
    return sigma / reference if reference else 0.0


def dtype_eps(dtype: Any) -> float:
    """Unit roundoff of a NumPy or PyTorch floating dtype (float64's for anything unknown)."""
    name = str(dtype).replace("torch.", "")
    return DTYPE_EPS.get(name, DTYPE_EPS["float64"])


@dataclass(frozen=True)
class CheckOptions:
    """How :func:`gradproof.check_gradient` checks a hand-written gradient.

    * ``seed`` — seeds the random directions: the same call gives the same verdict.
    * ``directions`` — signed random directions tested per parameter; ``None`` picks 8 for
      parameters up to 2,048 entries (Gaussian) and 5 above (random signs: every entry is
      seen at full weight in each, so fewer suffice).
    * ``rtol`` / ``atol`` — override the tolerance derived from the finite-difference error
      estimate: the directional error may be ``rtol·‖g‖·‖v‖ + atol·‖v‖``.
    * ``device`` — for PyTorch parameters: ``None`` keeps their device, else ``"auto"``,
      ``"cpu"``, ``"cuda"``.
    * ``float64`` — evaluate the user's functions in float64 when they accept it.
    * ``localize`` — spend per-entry differences to find the worst entries of a failure.
    * ``max_entries`` — parameters up to this size are localised entry by entry in full.
    * ``worst`` — how many worst entries a failure report lists.
    * ``floor_atol`` / ``floor_rtol`` — can only make the check more lenient: a direction fails
      only when its error exceeds the measured tolerance *and* ``floor_atol·‖v‖ +
      floor_rtol·|reference|`` (the reference is the finite-difference directional derivative).
      ``gradproof.gradcheck`` maps an explicit ``atol``/``rtol`` here.
    """

    seed: int = 0
    directions: int | None = None
    rtol: float | None = None
    atol: float | None = None
    device: str | None = None
    float64: bool = True
    localize: bool = True
    max_entries: int = 2000
    worst: int = 5
    floor_atol: float = 0.0
    floor_rtol: float = 0.0

    def __post_init__(self) -> None:
        for name in ("seed", "directions", "max_entries", "worst"):
            value = getattr(self, name)
            if value is None and name == "directions":
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise InputError(f"{name} must be an integer, got {value!r}")
        if self.directions is not None and int(self.directions) < 1:
            raise InputError(f"directions must be at least 1, got {self.directions!r}")
        for name in ("max_entries", "worst"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be non-negative, got {getattr(self, name)!r}")
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if value is None:
                continue
            # an infinite tolerance would pass anything, NaN would fail everything: both refused
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
                raise InputError(f"{name} must be a finite non-negative number, got {value!r}")
        for name in ("floor_atol", "floor_rtol"):  # an infinite floor would pass every bug
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < float("inf"):
                raise InputError(f"{name} must be a finite non-negative number, got {value!r}")


def merge_options(options: CheckOptions | None, overrides: dict[str, Any]) -> CheckOptions:
    """``options`` (or the defaults) with keyword ``overrides`` applied."""
    base = CheckOptions() if options is None else options
    if not isinstance(base, CheckOptions):
        raise InputError(f"options must be a gradproof CheckOptions, got {type(base).__name__}")
    valid = {f.name for f in fields(CheckOptions)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(valid))}")
    return replace(base, **overrides) if overrides else base
