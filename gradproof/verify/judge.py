"""Judging a derived quantity against a witness, in float64: one set of tolerances and one set
of rules for every claim and numeric experiment of a derivation.

Errors are relative to the scale of the compared quantity.  Finite differences are judged by
their own error estimate (never tighter than :data:`FD_FLOOR_RTOL`); autograd and plain
evaluation by a fixed relative tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradproof.verify.verification import Witness

# float64 tolerances, relative to the scale of the quantity compared
AUTOGRAD_RTOL = 1e-9
EVALUATION_RTOL = 1e-9
FD_FLOOR_RTOL = 1e-7  # finite differences are judged by their own error estimate, but never tighter
# Gradients are compared relative to their own scale, but a gradient that underflows at an adversarial
# point (every entry ~1e-44 when one logit dominates) is compared on this scale instead, so that a
# 2e-44 vs 0 difference is not a "100% error"; random points still catch errors in such gradients.
SCALE_FLOOR = 1e-12
# a Monte Carlo mean agrees with a derived expectation when within this many standard errors
# (two-sided: a correct formula fails one comparison in about 16,000)
MONTE_CARLO_SIGMAS = 4.0
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Verdict:
    """One comparison: the error relative to the scale, the tolerance it was held to (same
    scale), and the worst offending entry (``None`` when every entry is within tolerance)."""

    error: float
    tolerance: float
    bad: tuple | None

    @property
    def ok(self) -> bool:
        return self.bad is None


def _worst(excess: np.ndarray) -> tuple | None:
    excess = np.asarray(excess)
    if not np.any(excess > 0):
        return None
    return np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()


def judge_fd(derived: np.ndarray, fd_value: np.ndarray, fd_error: np.ndarray) -> Verdict:
    """The derived gradient against a finite-difference estimate with error bound ``fd_error``
    (all of one shape): allowed is ten times the bound, but never below ``FD_FLOOR_RTOL``."""
    scale = max(float(np.max(np.abs(derived), initial=0.0)), float(np.max(fd_error, initial=0.0)), SCALE_FLOOR)
    diff = np.abs(fd_value - derived)
    allowed = np.maximum(10.0 * fd_error, FD_FLOOR_RTOL * scale)
    return Verdict(
        float(np.max(diff, initial=0.0)) / scale,
        max(FD_FLOOR_RTOL, float(np.max(allowed, initial=0.0)) / scale),
        _worst(diff - allowed),
    )


def judge_autograd(derived: np.ndarray, autograd: np.ndarray, function_value: np.ndarray | float) -> Verdict:
    """The derived gradient against autograd's.  Two float64 formulas for the same gradient differ
    by rounding of their terms, which can be far larger than the result when saturated terms
    cancel (a batch sum of ±1 residuals): a few hundred ulps of the function's own size are
    allowed on top of the relative tolerance."""
    scale = max(float(np.max(np.abs(derived), initial=0.0)), float(np.max(np.abs(autograd), initial=0.0)), SCALE_FLOOR)
    diff = np.abs(autograd - derived)
    atol = 256 * EPS * max(1.0, float(np.max(np.abs(function_value), initial=0.0)))
    return Verdict(float(np.max(diff, initial=0.0)) / scale, AUTOGRAD_RTOL, _worst(diff - (AUTOGRAD_RTOL * scale + atol)))


def judge_values(a: np.ndarray, b: np.ndarray, relation: str = "=") -> Verdict:
    """``a ⋈ b`` entry by entry, up to float64 rounding relative to ``max(1, |a|, |b|)`` (strict
    inequalities too: two floats that round equal cannot be ordered).  ``error`` is the largest
    relative difference for ``=``, 0 otherwise.  Callers check finiteness first."""
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    tol = EVALUATION_RTOL * scale
    error = 0.0
    if relation == "=":
        excess = np.abs(a - b) - tol
        error = float(np.max(np.abs(a - b) / scale, initial=0.0))
    elif relation in (">=", ">"):
        excess = (b - a) - tol
    elif relation in ("<=", "<"):
        excess = (a - b) - tol
    elif relation == "!=":
        excess = tol - np.abs(a - b)  # two values equal to rounding are not shown different
    else:
        raise ValueError(f"judge_values: cannot judge the relation {relation!r} numerically")
    return Verdict(error, EVALUATION_RTOL, _worst(excess))


class Tally:
    """The worst verdict of one method over many comparisons, and where the first failure was."""

    def __init__(self, method: str, tolerance: float) -> None:
        self.method, self.error, self.tolerance = method, 0.0, tolerance
        self.failure = ""

    def add(self, verdict: Verdict, where: str) -> None:
        if verdict.error > self.error:
            self.error, self.tolerance = verdict.error, verdict.tolerance
        if not verdict.ok:
            self.fail(where)

    def fail(self, where: str) -> None:
        if not self.failure:
            self.failure = where

    def witness(self, what: str, *, failed: str | None = None) -> Witness:
        """The verdict: ``what`` was checked; on a failure ``failed`` (default ``what``) names it."""
        if not self.failure:
            return Witness(self.method, True, self.error, self.tolerance, what)
        return Witness(self.method, False, self.error, self.tolerance, f"{failed or what}: mismatch {self.failure}")


def judge_monte_carlo(derived: np.ndarray, samples: np.ndarray) -> Verdict:
    """A derived expectation against the mean of independent draws: the gap in standard errors
    of that mean (entry by entry), allowed up to :data:`MONTE_CARLO_SIGMAS`."""
    derived = np.atleast_1d(np.asarray(derived, dtype=np.float64))
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    mean = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    stderr = np.maximum(stderr, EPS * np.maximum(1.0, np.abs(mean)))  # constant draws: rounding only
    gaps = np.abs(mean - derived.reshape(mean.shape)) / stderr
    return Verdict(float(np.max(gaps, initial=0.0)), MONTE_CARLO_SIGMAS, _worst(gaps - MONTE_CARLO_SIGMAS))
