"""Check a hand-written gradient: :func:`check_gradient` and :func:`assert_gradient`.

The whole flow, per parameter (one perturbed at a time, so a failure is attributed to it):

1. normalise the parameters and call the user's code on copies, in float64 where it allows
   (:mod:`~gradproof.verify.params`); refuse input that cannot be checked (``InputError``);
2. measure the loss's rounding noise and test ⟨g, v⟩ against Richardson central differences
   along seeded signed directions (:mod:`~gradproof.verify.directional`), accepting one-sided
   derivatives at kinks (:mod:`~gradproof.verify.kinks`);
3. on failure, difference a bounded set of entries (:mod:`~gradproof.verify.localize`) and
   name the likely bug (:mod:`~gradproof.verify.diagnose`).

>>> import numpy as np, gradproof
>>> X = np.arange(6.0).reshape(3, 2)
>>> loss = lambda p: 0.5 * np.sum((X @ p["w"]) ** 2)
>>> grad = lambda p: {"w": X.T @ (X @ p["w"])}
>>> bool(gradproof.check_gradient(loss, grad, {"w": np.array([1.0, -2.0])}))
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradproof.errors import InputError
from gradproof.verify.batching import Prefetching
from gradproof.verify.diagnose import diagnose, input_dims
from gradproof.verify.directional import GAUSSIAN_UP_TO, Directions, check_directions, measure_noise
from gradproof.verify.kinks import settle_on_ladder
from gradproof.verify.localize import Entries, candidates, entry_differences
from gradproof.verify.options import DTYPE_EPS, CheckOptions, merge_options
from gradproof.verify.params import Param, Problem, grad_to_numpy, normalize_params, shape_str
from gradproof.verify.result import EntryMismatch, GradientCheck, ParameterCheck

__all__ = ["CheckOptions", "GradientCheck", "ParameterCheck", "assert_gradient", "check_gradient"]

NONDETERMINISM = 1e-8  # relative change between two identical calls that we call nondeterminism


def check_gradient(
    loss: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    params: Any,
    options: CheckOptions | None = None,
    **overrides: Any,
) -> GradientCheck:
    """Check ``grad`` against finite differences of ``loss`` at ``params``.

    ``params`` is a dict name → array (NumPy or PyTorch) or a single array; ``loss(params)``
    returns a scalar and ``grad(params)`` a dict with the same keys (or one array).  Options
    (see :class:`~gradproof.verify.options.CheckOptions`) come as ``options=`` or keywords, e.g.
    ``seed=1, directions=16``.  Raises :class:`~gradproof.InputError` for input that cannot be
    checked; a wrong gradient is a failed result, never an exception.
    """
    opts = merge_options(options, overrides)
    plist, single = normalize_params(params, opts)
    problem = Problem(loss, grad, plist, single)
    f0, raw = problem.start(opts.float64)
    again = problem.evaluate(problem.base)
    spread = abs(again - f0)
    if spread > NONDETERMINISM * max(abs(f0), abs(again), 1e-300):
        raise InputError(
            f"loss(params) is nondeterministic: two calls at the same parameters returned {f0!r} and "
            f"{again!r} (e.g. unseeded dropout or random sampling inside the loss); seed it or switch "
            "it off, then check the gradient"
        )
    grads, extra = _split_grad(raw, problem)
    _refuse_overflowing(f0, grads)
    dims = _LazyDims(loss, grad, plist)
    records = []
    notes: set[str] = {f"{p.name!r} was {p.converted_from}, checked as float64" for p in plist if p.converted_from}
    for i, p in enumerate(plist):
        rng = np.random.default_rng(np.random.SeedSequence([int(opts.seed) % 2**63, i]))
        records.append(_check_parameter(problem, p, grads.get(p.name), f0, spread, opts, rng, dims, notes))
    for name, shape in extra:
        records.append(
            ParameterCheck(
                name=name,
                shape=shape,
                ok=False,
                grad_shape=shape,
                problem=f"grad returned an entry {name!r} (shape {shape_str(shape)}) that is not a parameter",
                stray=True,
            )
        )
    mode = "evaluated in float64" if problem.mode == "float64" else "evaluated in the parameters' own dtype"
    precision = "; ".join([mode, *sorted(notes)])
    return GradientCheck(tuple(records), opts, precision, problem.calls + 2)


def assert_gradient(
    loss: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    params: Any,
    options: CheckOptions | None = None,
    **overrides: Any,
) -> GradientCheck:
    """Like :func:`check_gradient`, but raise ``AssertionError`` with the report on failure."""
    __tracebackhide__ = True
    result = check_gradient(loss, grad, params, options, **overrides)
    if not result.ok:
        raise AssertionError(str(result))
    return result


# -- helpers ----------------------------------------------------------------------------------
def _direction_count(opts: CheckOptions, size: int) -> int:
    if opts.directions is not None:
        return int(opts.directions)
    return 8 if size <= GAUSSIAN_UP_TO else 5


class _LazyDims(set):
    """Input dimensions, introspected only when a diagnosis asks (the common case passes)."""

    def __init__(self, loss: Any, grad: Any, plist: list[Param]):
        super().__init__()
        self._args: tuple | None = (loss, grad, plist)

    def _fill(self) -> None:
        if self._args is not None:
            loss, grad, plist = self._args
            self._args = None
            self.update(input_dims([loss, grad], [p.shape for p in plist]))

    def __contains__(self, item: object) -> bool:
        self._fill()
        return super().__contains__(item)


def _split_grad(
    raw: Any, problem: Problem
) -> tuple[dict[str, tuple[np.ndarray | None, float, str | None]], list[tuple[str, tuple[int, ...]]]]:
    """grad's output as name -> (array, roundoff, problem), plus extra (name, shape) entries."""
    names = [p.name for p in problem.params]
    if problem.single and not isinstance(raw, Mapping):
        return {names[0]: grad_to_numpy(raw)}, []
    if not isinstance(raw, Mapping):
        # one array for a one-entry dict is unambiguous; a list or tuple is not (a list of one
        # gradient, or the gradient's rows?), so it is refused whatever the number of entries
        if len(names) == 1 and not isinstance(raw, (list, tuple)):
            return {names[0]: grad_to_numpy(raw)}, []
        keys = ", ".join(map(repr, names))
        raise InputError(f"grad(params) returned {type(raw).__name__}; expected a dict with keys {keys}")
    if problem.single and len(raw) == 1:  # a single array checked as {name: grad}
        return {names[0]: grad_to_numpy(next(iter(raw.values())))}, []
    out = {str(k): grad_to_numpy(v) for k, v in raw.items() if str(k) in names}
    extra = []
    for k, v in raw.items():
        if str(k) not in names:
            arr = grad_to_numpy(v)[0]
            extra.append((str(k), tuple(arr.shape) if arr is not None else ()))
    return out, extra


# beyond this, squared norms and tolerances overflow float64 (1e155² = inf), and an infinite
# tolerance would pass anything: refuse instead of answering wrongly
LARGEST_CHECKABLE = 1e150


def _refuse_overflowing(f0: float, grads: Mapping[str, Any]) -> None:
    if abs(f0) > LARGEST_CHECKABLE:
        raise InputError(
            f"loss(params) = {f0:.3g} is too large to check without overflow (limit {LARGEST_CHECKABLE:.0e}); "
            "rescale the loss (and its gradient) and check again"
        )
    for name, (g, _, _) in grads.items():
        if g is not None and g.size and np.isfinite(g).all() and np.max(np.abs(g)) > LARGEST_CHECKABLE:
            raise InputError(
                f"grad(params)[{name!r}] has entries of {np.max(np.abs(g)):.3g}, too large to check without "
                f"overflow (limit {LARGEST_CHECKABLE:.0e}); rescale the loss and its gradient"
            )


def _problem_record(p: Param, text: str, grad_shape=None, diagnosis=None) -> ParameterCheck:
    return ParameterCheck(
        name=p.name, shape=p.shape, ok=False, grad_shape=grad_shape, problem=text, diagnosis=diagnosis
    )


def _settle_kinks(measured: Directions, f: Any, q: Any, x: np.ndarray, sigma: float) -> None:
    """Accept failing vectors that a ladder of shorter steps explains by a kink (low precision).

    The ladder starts one rung above the step used (4×), where the difference is most precise,
    so that a kink between that step and the next shorter ones shows as a jump above the noise.
    """
    for k, ok in enumerate(measured.ok):
        if ok:
            continue
        settled = settle_on_ladder(f, q, x, measured.vectors[k], measured.user[k], 4 * measured.step, sigma)
        if settled is not None:
            residual, tolerance = settled
            measured.ok[k], measured.kink[k] = True, "near"
            measured.residual[k], measured.tolerance[k] = residual, tolerance
            measured.fd[k] = measured.user[k] + residual


def _apply_floor(measured: Directions, opts: CheckOptions) -> None:
    """Accept failing directions within the caller's explicit floor (only ever more lenient)."""
    if not (opts.floor_atol or opts.floor_rtol):
        return
    for k, ok in enumerate(measured.ok):
        if ok:
            continue
        floor = opts.floor_atol * float(np.linalg.norm(measured.vectors[k])) + opts.floor_rtol * abs(measured.fd[k])
        if abs(measured.residual[k]) <= floor:
            measured.ok[k], measured.tolerance[k] = True, floor


def _check_parameter(
    problem: Problem,
    p: Param,
    entry: tuple[np.ndarray | None, float, str | None] | None,
    f0: float,
    spread: float,
    opts: CheckOptions,
    rng: np.random.Generator,
    dims: set[int],
    notes: set[str],
) -> ParameterCheck:
    if entry is None:
        return _problem_record(p, f"grad returned no entry for it (expected shape {shape_str(p.shape)})")
    g, grad_eps, trouble = entry
    if g is None:
        return _problem_record(p, trouble or "grad returned nothing usable")
    x = p.value

    where = f"loss(params) with {p.name!r} perturbed"

    def f_one(arr: np.ndarray) -> float:
        return problem.evaluate_with(p.name, arr, where)

    def f_many(arrays: list[np.ndarray]) -> list[float] | None:
        return problem.evaluate_many_with(p.name, arrays, where)

    f = Prefetching(f_one, f_many if problem.batchable else None)

    q_native = (lambda a: a) if problem.mode == "float64" else (lambda a: problem.quantize(p.name, a))  # noqa: E731
    scale = max(1.0, float(np.sqrt(np.mean(x**2)))) if x.size else 1.0
    noise = measure_noise(f, q_native, x, f0, scale, rng, problem.output_eps)
    if spread > 0:
        noise = type(noise)(
            max(noise.sigma, spread),
            max(noise.relative, spread / max(abs(f0), 1e-300)),
            noise.low_precision,
            noise.nonsmooth,
        )
    q, step_eps = q_native, 0.0
    if noise.low_precision:
        grad_eps = max(grad_eps, DTYPE_EPS["float32"])
        notes.add(
            f"the loss computes in low precision: steps and tolerance sized to its measured noise "
            f"{noise.relative:.1e}"
        )
        if problem.mode == "float64":
            if p.native_np_dtype == np.float32:
                q = lambda a: a.astype(np.float32).astype(np.float64)  # noqa: E731
            else:
                step_eps = DTYPE_EPS["float32"]

    def run(gv: np.ndarray, vectors: list[np.ndarray] | None = None) -> Directions:
        return check_directions(
            f,
            q,
            x,
            gv,
            f0,
            noise,
            count=_direction_count(opts, x.size),
            rng=rng,
            grad_eps=grad_eps,
            step_eps=step_eps,
            scale=scale,
            rtol=opts.rtol,
            atol=opts.atol,
            vectors=vectors,
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
        return _problem_record(p, text, tuple(g.shape), diagnosis)
    bad = ~np.isfinite(g)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        what = "NaN" if np.isnan(g[idx]) else "infinity"
        return _problem_record(p, f"grad returned {what} at {p.name}{list(idx) if idx else ''}", g.shape)

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
                _settle_kinks(measured, f, q, x, noise.sigma)
    shown = dirs if dirs.n_bad or basis is None or basis.n_bad == 0 else basis
    err, tol = shown.worst()
    if dirs.n_bad == 0 and (basis is None or basis.n_bad == 0):
        return ParameterCheck(p.name, p.shape, True, err, tol, dirs.n, 0, dirs.n_kink, grad_shape=g.shape)
    entries = None
    worst: tuple[EntryMismatch, ...] = ()
    if basis is not None:
        entries = Entries(
            np.arange(x.size),
            np.asarray(basis.fd),
            np.asarray(basis.user),
            np.asarray(basis.tolerance),
            complete=True,
        )
    elif opts.localize and x.size:
        index, complete = candidates(f, q, x, g, dirs.step, rng, int(opts.max_entries))
        entries = entry_differences(
            f,
            q,
            x,
            g,
            index,
            rel_noise=noise.relative,
            sigma=noise.sigma,
            grad_eps=grad_eps,
            complete=complete,
        )
    if entries is not None:
        gap = np.abs(entries.got - entries.expected)
        order = [k for k in np.argsort(-gap, kind="stable") if entries.bad[k]][: int(opts.worst)]
        worst = tuple(
            EntryMismatch(
                tuple(int(i) for i in np.unravel_index(int(entries.index[k]), x.shape)),
                float(entries.expected[k]),
                float(entries.got[k]),
            )
            for k in order
        )
    text = diagnose(p.name, x, g, dirs, entries, dims)
    return ParameterCheck(
        p.name, p.shape, False, err, tol, shown.n, shown.n_bad, shown.n_kink, text, worst, g.shape
    )
