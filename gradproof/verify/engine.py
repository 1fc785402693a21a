"""The checking engine: is ``g`` the gradient of a scalar function ``f`` of one array at ``x``?

Every front door (``check_gradient``, and any adapter that turns its input into "a scalar function
of one array and the gradient claimed for it", e.g. ⟨u, F(x)⟩ with ``Jᵀu``) calls
:func:`check_array`; the error model, the tolerance, the confirmation of failures, localisation and
diagnosis live behind it, in one copy:

1. measure the function's rounding noise and screen ⟨g, v⟩ against Richardson central
   differences along seeded signed directions (:mod:`~gradproof.verify.directional`), accepting
   one-sided derivatives at kinks (:mod:`~gradproof.verify.kinks`);
2. re-measure every screen failure with a careful noise estimate and fresh differences
   (:mod:`~gradproof.verify.confirm`): FAILED only when that confirms it beyond the bound set by
   the stated false-alarm probability, with a margin;
3. on a confirmed failure, difference a bounded set of entries (:mod:`~gradproof.verify.localize`)
   and name the likely bug (:mod:`~gradproof.verify.diagnose`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gradproof.verify.capture import Captured
from gradproof.verify.confirm import Confirmation, confirm
from gradproof.verify.diagnose import Context, diagnose
from gradproof.verify.directional import (
    GAUSSIAN_UP_TO,
    RESOLUTION_TARGET,
    Directions,
    Noise,
    check_directions,
    measure_noise,
)
from gradproof.verify.kinks import settle_on_ladder
from gradproof.verify.localize import Entries, candidates, entry_differences
from gradproof.verify.options import DTYPE_EPS, GRID64, CheckOptions, relative_noise
from gradproof.verify.params import shape_str
from gradproof.verify.result import EntryMismatch, ParameterCheck

__all__ = ["Target", "check_array"]

TINY = GRID64  # guards ratios; see GRID64


@dataclass(frozen=True)
class Target:
    """One array input of a scalar function, and the gradient claimed for it.

    * ``f(arr)`` — the function with this input set to ``arr`` (float64), everything else fixed;
      ``f0 = f(x)``.
    * ``quantize(arr)`` — ``arr`` rounded to what the code receives (identity when it takes float64).
    * ``grad_eps`` / ``output_eps`` — unit roundoff of the gradient's and of ``f``'s output dtype.
    * ``native_dtype`` — the input's own dtype; when the code turns out to compute in low precision
      while given float64, steps are rounded to it (float32 inputs) or budgeted for (others).
    * ``spread(required)`` — the largest change seen between two calls at the same point
      (nondeterminism); the re-run that measures it (and refuses nondeterministic code with an
      ``InputError``) is made only when ``required`` — when the noise probe's fresh calls could not
      vouch for the code, or before a failure is confirmed — and 0.0 is returned while it is not.
    * ``arrays`` — the arrays the user's code holds when run at the point (see
      :func:`~gradproof.verify.capture.capture_arrays`), fetched only to explain a failure.
    """

    name: str
    x: np.ndarray
    f: Callable[[np.ndarray], float]
    f0: float
    quantize: Callable[[np.ndarray], np.ndarray] = lambda a: a  # noqa: E731
    grad_eps: float = DTYPE_EPS["float64"]
    output_eps: float = DTYPE_EPS["float64"]
    native_dtype: Any = np.float64
    float64_mode: bool = True
    spread: Callable[[bool], float] = lambda required: 0.0  # noqa: E731
    arrays: Callable[[], list[Captured]] = lambda: []  # noqa: E731


def direction_count(opts: CheckOptions, size: int) -> int:
    if opts.directions is not None:
        return int(opts.directions)
    return 8 if size <= GAUSSIAN_UP_TO else 5


def _problem(target: Target, text: str, grad_shape=None, diagnosis=None) -> ParameterCheck:
    return ParameterCheck(
        name=target.name, shape=target.x.shape, ok=False, grad_shape=grad_shape, problem=text, diagnosis=diagnosis
    )


def _settle_kinks(measured: Directions, f: Any, q: Any, x: np.ndarray, sigma: float, own: bool) -> None:
    """Accept failing vectors that a ladder of shorter steps explains by a kink (low precision).

    The ladder starts one rung above the step used (4×), where the difference is most precise,
    so that a kink between that step and the next shorter ones shows as a jump above the noise.
    """
    for k, ok in enumerate(measured.ok):
        if ok:
            continue
        limit = RESOLUTION_TARGET * measured.resolution[k] if own else float("inf")
        settled = settle_on_ladder(f, q, x, measured.vectors[k], measured.user[k], 4 * measured.step, sigma, limit)
        if settled is not None:
            residual, tolerance = settled
            measured.ok[k], measured.kink[k] = True, "near"
            measured.residual[k], measured.tolerance[k] = residual, tolerance
            measured.fd[k] = measured.user[k] + residual


def _apply_floor(measured: Directions | None, opts: CheckOptions) -> None:
    """Accept failing screen directions within the caller's explicit floor (only ever more lenient)."""
    if measured is None or not (opts.floor_atol or opts.floor_rtol):
        return
    for k, ok in enumerate(measured.ok):
        if not ok and abs(measured.residual[k]) <= _floor(opts, measured.vectors[k], measured.fd[k]):
            measured.ok[k] = True
            measured.tolerance[k] = _floor(opts, measured.vectors[k], measured.fd[k])


def _floor(opts: CheckOptions, v: np.ndarray, reference: float) -> float:
    """``floor_atol·‖v‖ + floor_rtol·|reference|``: what an error must also exceed to fail."""
    return opts.floor_atol * float(np.linalg.norm(v)) + opts.floor_rtol * abs(reference)


def _within_floor(confirmation: Confirmation, screens: list[Directions | None], opts: CheckOptions) -> bool:
    """Every confirmed failure is within the caller's floor (then the check passes)."""
    if not (opts.floor_atol or opts.floor_rtol):
        return False
    for d in confirmation.directions:
        if not d.confirmed:
            continue
        screen = screens[d.screen]
        assert screen is not None
        reference = screen.user[d.index] + d.residual  # the confirmation's finite difference
        if abs(d.residual) > _floor(opts, screen.vectors[d.index], reference):
            return False
    return True


def _with_spread(noise: Noise, spread: float, f0: float) -> Noise:
    if spread <= 0:
        return noise
    return replace(noise, sigma=max(noise.sigma, spread), relative=max(noise.relative, relative_noise(spread, f0)))


def check_array(
    target: Target,
    g: np.ndarray,
    opts: CheckOptions,
    rng: np.random.Generator,
    dims: set[int],
) -> ParameterCheck:
    """The verdict on ``g`` (float64, any shape) as the gradient of ``target.f`` at ``target.x``."""
    x, f, f0 = target.x, target.f, target.f0
    grad_eps = target.grad_eps
    scale = max(1.0, float(np.sqrt(np.mean(x**2)))) if x.size else 1.0
    noise = measure_noise(f, target.quantize, x, f0, scale, rng, target.output_eps)
    noise = _with_spread(noise, target.spread(not noise.quiet), f0)
    q, step_eps = target.quantize, 0.0
    if noise.low_precision:
        grad_eps = max(grad_eps, DTYPE_EPS["float32"])
        if target.float64_mode:
            if np.dtype(target.native_dtype) == np.float32:
                q = lambda a: a.astype(np.float32).astype(np.float64)  # noqa: E731
            else:
                step_eps = DTYPE_EPS["float32"]

    def run(gv: np.ndarray, vectors: list[np.ndarray] | None = None) -> Directions:
        return check_directions(
            f, q, x, gv, f0, noise, count=direction_count(opts, x.size), rng=rng, grad_eps=grad_eps,
            step_eps=step_eps, scale=scale, rtol=opts.rtol, atol=opts.atol, vectors=vectors,
        )

    if g.shape != x.shape:
        text = f"grad returned shape {shape_str(g.shape)} for a parameter of shape {shape_str(x.shape)}"
        diagnosis = None
        if g.size == x.size and g.size:
            candidate = g.T if (g.ndim == 2 and g.shape == x.shape[::-1]) else g.reshape(x.shape)
            if np.isfinite(candidate).all() and all(run(candidate.reshape(x.shape)).ok):
                diagnosis = (
                    "the gradient is transposed: its transpose matches the finite differences"
                    if g.ndim == 2 and g.shape == x.shape[::-1]
                    else "the values are right but laid out in the wrong shape (reshape it)"
                )
        return _problem(target, text, tuple(g.shape), diagnosis)
    bad = ~np.isfinite(g)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        what = "NaN" if np.isnan(g[idx]) else "infinity"
        return _problem(target, f"grad returned {what} at {target.name}{list(idx) if idx else ''}", g.shape)

    dirs = run(g)
    _apply_floor(dirs, opts)
    # Low-precision code: a directional difference drowns a single wrong entry in the noise
    # of the whole loss, so small parameters are also differenced entry by entry (6 calls each).
    basis = None
    if noise.low_precision and 0 < x.size <= int(opts.max_entries) and opts.rtol is None and opts.atol is None:
        basis = run(g, list(np.eye(x.size).reshape((x.size, *x.shape))))
        _apply_floor(basis, opts)
    if noise.low_precision:
        for measured in (dirs, basis):
            if measured is not None and measured.n_bad:
                _settle_kinks(measured, f, q, x, noise.sigma, opts.rtol is None and opts.atol is None)
    shown = dirs if dirs.n_bad or basis is None or basis.n_bad == 0 else basis

    def record(ok: bool, err: float, tol: float, confirmation: Confirmation | None = None, **more) -> ParameterCheck:
        remeasured = confirmation.directions if confirmation is not None else ()
        return ParameterCheck(
            target.name, x.shape, ok, err, tol, shown.n, 0 if ok else shown.n_bad,
            shown.n_kink + sum(bool(d.kink) for d in remeasured if d.screen == 0 and ok), grad_shape=g.shape,
            remeasured=len(remeasured), low_precision=noise.low_precision, noise=noise.relative,
            resolution=_resolution(dirs, remeasured), rounded_to=noise.grid, silent=noise.silent, **more,
        )

    if dirs.n_bad == 0 and (basis is None or basis.n_bad == 0):
        return record(True, *shown.worst())

    target.spread(True)  # a failure of nondeterministic code is refused, not reported (InputError)
    confirmation = None
    if opts.rtol is None and opts.atol is None:  # an explicit tolerance is the user's, unconfirmed
        screens = [dirs, basis]  # position 0: the random directions (see _resolution)
        confirmation = _confirm(target, q, x, g, f, f0, screens, noise, grad_eps, step_eps, rng)
        if not confirmation.confirmed or _within_floor(confirmation, screens, opts):
            return record(True, *_closest(shown, confirmation, screens, opts), confirmation)
        worst = confirmation.worst()
        err, tol = abs(worst.residual) / max(worst.scale, TINY), worst.threshold / max(worst.scale, TINY)
    else:
        err, tol = shown.worst()

    entries = None
    worst_entries: tuple[EntryMismatch, ...] = ()
    if basis is not None:
        entries = Entries(
            np.arange(x.size), np.asarray(basis.fd), np.asarray(basis.user), np.asarray(basis.tolerance),
            complete=True,
        )
    elif opts.localize and x.size:
        index, complete = candidates(f, q, x, g, dirs.step, rng, int(opts.max_entries))
        entries = entry_differences(
            f, q, x, g, index, rel_noise=noise.relative, sigma=noise.sigma, grad_eps=grad_eps, complete=complete
        )
    if entries is not None:
        gap = np.abs(entries.got - entries.expected)
        order = [k for k in np.argsort(-gap, kind="stable") if entries.bad[k]][: int(opts.worst)]
        worst_entries = tuple(
            EntryMismatch(
                tuple(int(i) for i in np.unravel_index(int(entries.index[k]), x.shape)),
                float(entries.expected[k]),
                float(entries.got[k]),
            )
            for k in order
        )
    context = Context(target.arrays, err, tol, grad_eps)
    text = diagnose(target.name, x, g, dirs, entries, dims, context)
    return record(
        False, err, tol, confirmation, diagnosis=text, worst=worst_entries, confirmed=confirmation is not None
    )


def _confirm(target, q, x, g, f, f0, screens, noise, grad_eps, step_eps, rng) -> Confirmation:
    scale = max(1.0, float(np.sqrt(np.mean(x**2))))
    output_eps = max(target.output_eps, noise.output_eps)  # declared, or the coarser grid the values lie on
    return confirm(
        f, q, x, g, f0, screens,
        grad_eps=grad_eps,
        step_eps=step_eps,
        sigma_floor=max(output_eps * abs(f0) / np.sqrt(12.0), noise.floor, GRID64),
        output_eps=output_eps,
        tau=max(1e-6, 16.0 * step_eps, 16.0 * DTYPE_EPS["float32"] if noise.low_precision else 0.0) * scale,
        rng=rng,
    )


def _closest(
    shown: Directions, confirmation: Confirmation, screens: list[Directions | None], opts: CheckOptions
) -> tuple[float, float]:
    """(error, tolerance), relative, of the direction closest to its threshold after a confirmation
    that did not bear out the screen's failures (or found them within the caller's floor): the
    screen's own tolerance for directions that passed it, the confirmation's threshold for the
    re-measured ones, the floor for a confirmed error within it."""
    rows = [(abs(shown.residual[k]), shown.tolerance[k], shown.scale[k]) for k in range(shown.n) if shown.ok[k]]
    for d in confirmation.directions:
        tol = d.threshold
        if d.confirmed:
            screen = screens[d.screen]
            assert screen is not None
            tol = _floor(opts, screen.vectors[d.index], screen.user[d.index] + d.residual)
        rows.append((abs(d.residual), tol, d.scale))
    err, tol, s = max(rows, key=lambda r: r[0] / max(r[1], TINY))
    s = max(s, TINY)
    with np.errstate(over="ignore"):  # a gradient of exactly 0: the ratios are inf, no warning to the user
        return err / s, tol / s


def _resolution(dirs: Directions, remeasured) -> float:
    """About the smallest relative error ‖Δg‖/‖g‖ the random directions resolve: the median of
    their tolerances over a typical |⟨g, v⟩| (a gradient off by ρ·‖g‖ in a random way moves
    ⟨g, v⟩ by about ρ times that)."""
    with np.errstate(over="ignore"):  # a gradient of exactly 0: inf, no warning to the user
        ratios = [dirs.tolerance[k] / max(dirs.resolution[k], TINY) for k in range(dirs.n) if dirs.ok[k]]
        ratios += [d.threshold / max(d.typical, TINY) for d in remeasured if d.screen == 0]
    return float(statistics.median(ratios)) if ratios else 0.0
