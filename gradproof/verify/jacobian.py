"""``check_jacobian``: a NumPy function's hand-written VJP and/or JVP, on the one engine.

``f(x)`` returns an array (or a dict of arrays); ``vjp(x, u)`` returns Jᵀu shaped like ``x`` and
``jvp(x, v)`` returns J v shaped like ``f(x)``.  ``x`` is an array or a dict of arrays; u, v and
the results follow the same structure.  A seeded cotangent u reduces ``f`` to the scalar
⟨u, f(x)⟩, whose gradient is Jᵀu (see :mod:`gradproof.verify.vector`):

* the VJP is that gradient directly (one call);
* the JVP gives it entry by entry, (Jᵀu)ᵢ = ⟨u, J eᵢ⟩ — one call per entry of ``x``, so a
  JVP-only check costs as many calls as ``x`` has entries (plus the engine's evaluations of f).

>>> import numpy as np, gradproof
>>> W = np.arange(6.0).reshape(2, 3) / 7
>>> f = lambda x: np.tanh(W @ x)
>>> vjp = lambda x, u: W.T @ (u * (1 - np.tanh(W @ x) ** 2))
>>> bool(gradproof.check_jacobian(f, np.array([0.1, -0.2, 0.3]), vjp=vjp))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradproof.errors import InputError
from gradproof.verify.options import CheckOptions, merge_options
from gradproof.verify.outputs import localize_outputs
from gradproof.verify.params import SINGLE, _user_frame
from gradproof.verify.result import GradientCheck
from gradproof.verify.vector import check_reduced, cotangent, cotangent_rng

__all__ = ["check_jacobian"]


def check_jacobian(
    f: Callable[[Any], Any],
    x: Any,
    *,
    vjp: Callable[[Any, Any], Any] | None = None,
    jvp: Callable[[Any, Any], Any] | None = None,
    seed: int = 0,
    options: CheckOptions | None = None,
    **overrides: Any,
) -> GradientCheck:
    """Check ``vjp`` and/or ``jvp`` of the NumPy function ``f`` at ``x`` by finite differences.

    Returns a :class:`~gradproof.verify.result.GradientCheck` (truthy when every check passed);
    with both ``vjp`` and ``jvp`` the records are named ``"x (vjp)"`` and ``"x (jvp)"``.  Other
    options as for :func:`gradproof.check_gradient` (``directions=``, ``rtol=``, ...).  Raises
    :class:`~gradproof.InputError` for input that cannot be checked.
    """
    if vjp is None and jvp is None:
        raise InputError("check_jacobian needs vjp=, jvp= or both: there is no derivative to check")
    for name, fn in (("f", f), ("vjp", vjp), ("jvp", jvp)):
        if fn is not None and not callable(fn):
            raise InputError(f"{name} must be callable, got {type(fn).__name__}")
    opts = merge_options(options, {**overrides, "seed": seed})
    single = not isinstance(x, Mapping)
    names = [SINGLE] if single else [str(k) for k in x]
    if not single and any(not isinstance(k, str) for k in x):
        raise InputError("the keys of x must be strings, e.g. {'W': ..., 'b': ...}")
    values = {SINGLE: x} if single else dict(x)
    for name, value in values.items():
        arr = np.asarray(value)
        if arr.dtype.kind == "c":
            raise InputError(f"x[{name!r}] is complex; only real inputs can be checked" if not single else
                             "x is complex; only real inputs can be checked")
    fn = _Function(f)
    base_out = fn.outputs(_wrap(values, single))
    rng = cotangent_rng(opts.seed)
    u = {k: cotangent(rng, v.shape) for k, v in base_out.items()}
    def loss(p: Any) -> float:
        outs = fn.outputs(p)
        return float(sum(np.vdot(u[k], outs[k]) for k in u))

    results = []
    if vjp is not None:

        def grad_vjp(p: Any) -> Any:
            return _call(vjp, "vjp(x, u)", p, fn.structure(u))

        results.append(("vjp", _engine(loss, grad_vjp, values, opts, single)))
    if jvp is not None:

        def grad_jvp(p: Any) -> Any:
            return _forward_gradient(jvp, p, u, fn, single, names)

        results.append(("jvp", _engine(loss, grad_jvp, values, opts, single)))
    located = []
    for kind, result in results:
        if not result.ok:
            result = _with_outputs(result, kind, vjp if kind == "vjp" else jvp, fn, values, single, opts)
        located.append((kind, result))
    return _combine(located)


# -- calling user code -----------------------------------------------------------------------
def _call(fn: Callable, what: str, *args: Any) -> Any:
    try:
        return fn(*(_copy(a) for a in args))
    except InputError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported with the user's frame
        raise InputError(f"{what} raised {type(exc).__name__}: {exc}{_user_frame(exc)}") from exc


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: np.array(v, dtype=np.float64) for k, v in value.items()}
    return np.array(value, dtype=np.float64)


def _wrap(values: Mapping[str, Any], single: bool) -> Any:
    return values[SINGLE] if single else dict(values)


class _Function:
    """``f`` with its output structure (one array, or a dict of arrays) fixed by the first call."""

    def __init__(self, f: Callable):
        self.f = f
        self.out_keys: list[str] | None = None
        self.out_single = True
        self.shapes: dict[str, tuple[int, ...]] = {}

    def outputs(self, p: Any) -> dict[str, np.ndarray]:
        out = _call(self.f, "f(x)", p)
        if isinstance(out, Mapping):
            arrays = {str(k): self._array(v, f"f(x)[{k!r}]") for k, v in out.items()}
            single = False
        else:
            arrays = {"output": self._array(out, "f(x)")}
            single = True
        if self.out_keys is None:
            self.out_keys, self.out_single = list(arrays), single
            self.shapes = {k: a.shape for k, a in arrays.items()}
            if not arrays or not sum(a.size for a in arrays.values()):
                raise InputError("f(x) returned no entries: there is no Jacobian to check")
        elif list(arrays) != self.out_keys or any(arrays[k].shape != self.shapes[k] for k in arrays):
            raise InputError("f(x) changed the structure or shape of its output between calls")
        return arrays

    @staticmethod
    def _array(value: Any, where: str) -> np.ndarray:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"{where} is not an array ({type(value).__name__}): {exc}") from None
        if arr.dtype.kind == "c":
            raise InputError(f"{where} is complex; only real outputs can be checked")
        if arr.dtype.kind not in "fiub":
            raise InputError(f"{where} has dtype {arr.dtype}, expected real numbers")
        arr = np.asarray(arr, dtype=np.float64)
        if not np.isfinite(arr).all():
            idx = [int(i) for i in np.argwhere(~np.isfinite(arr))[0]]
            raise InputError(f"{where} is {arr[tuple(idx)]} at index {idx}: outputs must be finite")
        return arr

    def structure(self, per_key: Mapping[str, np.ndarray]) -> Any:
        """A per-output value in the structure ``f`` returns (one array or a dict)."""
        return per_key["output"] if self.out_single else dict(per_key)


def _forward_gradient(jvp: Callable, p: Any, u: Mapping[str, np.ndarray], fn: _Function, single: bool, names):
    """Jᵀu from the JVP, entry by entry: (Jᵀu)ᵢ = ⟨u, jvp(x, eᵢ)⟩."""
    values = {SINGLE: p} if single else p
    out = {}
    for name in names:
        x = np.asarray(values[name], dtype=np.float64)
        g = np.empty(x.size)
        for i in range(x.size):
            v = {n: np.zeros(np.shape(values[n])) for n in names}
            v[name].reshape(-1)[i] = 1.0
            jv = _call(jvp, "jvp(x, v)", p, v[SINGLE] if single else v)
            jv_arrays = _jv_arrays(jv, fn)
            g[i] = sum(float(np.vdot(u[k], jv_arrays[k])) for k in u)
        out[name] = g.reshape(x.shape)
    return out[SINGLE] if single else out


def _jv_arrays(jv: Any, fn: _Function) -> dict[str, np.ndarray]:
    if fn.out_single:
        if isinstance(jv, Mapping):
            raise InputError("jvp(x, v) returned a dict but f(x) returns one array")
        arrays = {"output": np.asarray(jv, dtype=np.float64)}
    else:
        if not isinstance(jv, Mapping) or set(map(str, jv)) != set(fn.out_keys or []):
            raise InputError(f"jvp(x, v) must return a dict with the keys of f(x): {', '.join(fn.out_keys or [])}")
        arrays = {str(k): np.asarray(v, dtype=np.float64) for k, v in jv.items()}
    for k, a in arrays.items():
        if a.shape != fn.shapes[k]:
            where = "jvp(x, v)" if fn.out_single else f"jvp(x, v)[{k!r}]"
            raise InputError(f"{where} has shape {a.shape}; f(x) has shape {fn.shapes[k]} there")
    return arrays


def _engine(loss: Callable, grad: Callable, values: dict[str, Any], opts: CheckOptions, single: bool):
    if single:  # the engine sees {"x": array}; the user's functions see the array itself
        user_loss, user_grad = loss, grad

        def loss(p: Mapping[str, Any]) -> float:
            return user_loss(p[SINGLE])

        def grad(p: Mapping[str, Any]) -> Any:
            g = user_grad(p[SINGLE])
            return g if isinstance(g, Mapping) else {SINGLE: g}

    try:
        return check_reduced(loss, grad, values, opts, noun="input")
    except InputError as exc:
        raise InputError(
            str(exc).replace("loss(params)", "⟨u, f(x)⟩").replace("grad(params)", "the VJP/JVP")
        ) from exc.__cause__


def _with_outputs(result, kind, derivative, fn: _Function, values, single, opts) -> GradientCheck:
    rng = cotangent_rng(opts.seed, stream=1)
    records = []
    out_names = list(fn.shapes)
    shapes = [fn.shapes[k] for k in out_names]
    for rec in result.parameters:
        if rec.ok or not rec.worst or len(records) >= 4:
            records.append(rec)
            continue
        name, index = rec.name, rec.worst[0].index
        x = np.array(values[name], dtype=np.float64)
        flat = int(np.ravel_multi_index(index, x.shape)) if index else 0

        def at(t: np.ndarray, name=name, x=x, flat=flat) -> Any:
            moved = {k: np.array(v, dtype=np.float64) for k, v in values.items()}
            y = x.copy().reshape(-1)
            y[flat] = t[0]
            moved[name] = y.reshape(x.shape)
            return _wrap(moved, single)

        def evaluate(t: np.ndarray, at=at) -> np.ndarray:
            outs = fn.outputs(at(t))
            return np.concatenate([outs[k].reshape(-1) for k in out_names])

        if kind == "vjp":

            def column(w: np.ndarray, name=name, flat=flat) -> float:
                per, start = {}, 0
                for k, shape in zip(out_names, shapes):
                    size = int(np.prod(shape, dtype=np.int64))
                    per[k] = w[start : start + size].reshape(shape)
                    start += size
                g = _call(derivative, "vjp(x, u)", _wrap(values, single), fn.structure(per))
                g = g if not single else {SINGLE: g}
                return float(np.asarray(g[name], dtype=np.float64).reshape(-1)[flat])

        else:
            v = {k: np.zeros(np.shape(val)) for k, val in values.items()}
            v[name].reshape(-1)[flat] = 1.0
            jv = _jv_arrays(_call(derivative, "jvp(x, v)", _wrap(values, single), _wrap(v, single)), fn)
            jcol = np.concatenate([jv[k].reshape(-1) for k in out_names])

            def column(w: np.ndarray, jcol=jcol) -> float:
                return float(np.dot(w, jcol))

        try:
            entries = localize_outputs(
                evaluate, column, float(x.reshape(-1)[flat]), index,
                ["f(x)" if fn.out_single else f"f(x)[{k!r}]" for k in out_names], shapes,
                backward_eps=float(np.finfo(np.float64).eps), rng=rng,
            )
        except InputError:
            entries = ()
        records.append(dataclasses.replace(rec, jacobian=entries))
    return dataclasses.replace(result, parameters=tuple(records))


def _combine(located: list[tuple[str, GradientCheck]]) -> GradientCheck:
    if len(located) == 1:
        return located[0][1]
    records, evaluations, precision = [], 0, []
    for kind, result in located:
        records.extend(dataclasses.replace(p, name=f"{p.name} ({kind})") for p in result.parameters)
        evaluations += result.evaluations
        precision.append(result.precision)
    return GradientCheck(tuple(records), located[0][1].options, precision[0], evaluations, noun="input")
