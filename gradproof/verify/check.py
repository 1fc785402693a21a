"""Check a hand-written gradient: :func:`check_gradient` and :func:`assert_gradient`.

The whole flow, per parameter (one perturbed at a time, so a failure is attributed to it):

1. normalise the parameters and call the user's code on copies, in float64 where it allows
   (:mod:`~gradproof.verify.params`); refuse input that cannot be checked (``InputError``);
2. hand each parameter, as "a scalar function of one array and the gradient claimed for it",
   to the checking engine (:func:`gradproof.verify.engine.check_array`): screen along seeded
   signed directions, confirm any failure with a careful re-measurement, localise and diagnose.

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
from gradproof.verify.capture import Captured, capture_arrays
from gradproof.verify.coarse import warn_if_coarse
from gradproof.verify.diagnose import Dims, input_dims
from gradproof.verify.determinism import repeat_change
from gradproof.verify.engine import Target, check_array
from gradproof.verify.options import CheckOptions, merge_options
from gradproof.verify.params import Param, Problem, grad_to_numpy, normalize_params, shape_str
from gradproof.verify.result import GradientCheck, ParameterCheck

__all__ = ["CheckOptions", "GradientCheck", "ParameterCheck", "assert_gradient", "check_gradient"]


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
    grads, extra = _split_grad(raw, problem)
    _refuse_overflowing(f0, grads)
    spread = _Rerun(problem, f0)
    dims = _LazyDims(loss, grad, plist)
    arrays = _lazy_arrays(problem)
    records = []
    converted = sorted(f"{p.name!r} was {p.converted_from}, checked as float64" for p in plist if p.converted_from)
    for i, p in enumerate(plist):
        rng = np.random.default_rng(np.random.SeedSequence([int(opts.seed) % 2**63, i]))
        records.append(_check_parameter(problem, p, grads.get(p.name), f0, spread, opts, rng, dims, arrays))
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
    noisy = [r.noise for r in records if r.low_precision]
    notes = list(converted)
    grids = sorted({r.rounded_to for r in records if r.rounded_to})
    if grids:
        notes.append(f"the loss's values lie on the {'/'.join(grids)} grid (a {grids[0]} result returned as a "
                     "Python float?): its rounding assumed accordingly")
    if noisy:
        notes.append(
            f"the loss computes in low precision (relative noise up to {max(noisy):.1e} measured): "
            "steps and tolerance sized to it"
        )
    precision = "; ".join([mode, *notes])
    return GradientCheck(tuple(records), opts, precision, problem.calls + 2)


def assert_gradient(
    loss: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    params: Any,
    options: CheckOptions | None = None,
    **overrides: Any,
) -> GradientCheck:
    """Like :func:`check_gradient`, but raise ``AssertionError`` with the report on failure; a
    pass too coarse to resolve a 10 % gradient error (a bfloat16 loss) warns with
    :class:`~gradproof.CoarseCheckWarning`."""
    __tracebackhide__ = True
    result = check_gradient(loss, grad, params, options, **overrides)
    if not result.ok:
        raise AssertionError(str(result))
    low = any(p.low_precision for p in result.parameters)
    warn_if_coarse(result, "assert_gradient", "the loss computes in low precision" if low else None, stacklevel=2)
    return result


# -- helpers ----------------------------------------------------------------------------------
class _Rerun:
    """The loss called again at the point: its change from the first call (nondeterminism).

    Made once, when first required: a change beyond what
    :func:`~gradproof.verify.determinism.repeat_change` allows refuses the check.
    A noise probe whose fresh calls agree with the first to within float64 rounding already
    shows the code deterministic there, so on the common path the re-run is skipped.
    """

    def __init__(self, problem: Problem, f0: float):
        self.problem, self.f0 = problem, f0
        self.value: float | None = None

    def __call__(self, required: bool) -> float:
        if self.value is None:
            if not required:
                return 0.0
            self.value = repeat_change(self.f0, self.problem.evaluate(self.problem.base), self.problem.output_eps)
        return self.value


def _lazy_arrays(problem: Problem) -> Callable[[], list[Captured]]:
    """The arrays loss and grad hold at the point, captured once, on the first diagnosis that asks."""
    cache: list[list[Captured]] = []

    def arrays() -> list[Captured]:
        if not cache:
            found = capture_arrays(problem.grad, problem.user_args(problem.base))
            found += capture_arrays(problem.loss, problem.user_args(problem.base))
            cache.append(found)
        return cache[0]

    return arrays


class _LazyDims(Dims):
    """Input dimensions, introspected only when a diagnosis asks (the common case passes)."""

    def __init__(self, loss: Any, grad: Any, plist: list[Param]):
        super().__init__()
        self._args: tuple | None = (loss, grad, plist)

    def _fill(self) -> None:
        if self._args is not None:
            loss, grad, plist = self._args
            self._args = None
            found = input_dims([loss, grad], [p.shape for p in plist])
            self.update(found)
            self._leading = found.leading

    @property
    def leading(self) -> set[int]:
        self._fill()
        return self._leading

    def __contains__(self, item: object) -> bool:
        self._fill()
        return super().__contains__(item)

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __len__(self) -> int:
        self._fill()
        return super().__len__()


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


def _check_parameter(
    problem: Problem,
    p: Param,
    entry: tuple[np.ndarray | None, float, str | None] | None,
    f0: float,
    spread: Callable[[bool], float],
    opts: CheckOptions,
    rng: np.random.Generator,
    dims: set[int],
    arrays: Callable[[], list[Captured]],
) -> ParameterCheck:
    if entry is None:
        return ParameterCheck(
            p.name, p.shape, False, problem=f"grad returned no entry for it (expected shape {shape_str(p.shape)})"
        )
    g, grad_eps, trouble = entry
    if g is None:
        return ParameterCheck(p.name, p.shape, False, problem=trouble or "grad returned nothing usable")
    where = f"loss(params) with {p.name!r} perturbed"

    def f_one(arr: np.ndarray) -> float:
        return problem.evaluate_with(p.name, arr, where)

    def f_many(arrays: list[np.ndarray]) -> list[float] | None:
        return problem.evaluate_many_with(p.name, arrays, where)

    f = Prefetching(f_one, f_many) if problem.batchable else f_one  # a plain function: nothing to prefetch

    target = Target(
        name=p.name,
        x=p.value,
        f=f,
        f0=f0,
        quantize=(lambda a: a) if problem.mode == "float64" else (lambda a: problem.quantize(p.name, a)),
        grad_eps=grad_eps,
        output_eps=problem.output_eps,
        native_dtype=p.native_np_dtype,
        float64_mode=problem.mode == "float64",
        spread=spread,
        arrays=arrays,
    )
    return check_array(target, g, opts, rng, dims)
