"""Normalising parameters and calling the user's ``loss`` and ``grad`` safely.

Parameters arrive as a dict ``name -> array`` or as a single array, NumPy or PyTorch.  We keep a
float64 NumPy master copy of each and hand the user's functions *fresh copies* in the user's own
container type, so a function that modifies its argument in place cannot corrupt the check.

float32 parameters are evaluated in float64 when the code accepts it (a better reference);
when it does not, perturbed points are rounded to the parameter's dtype and every difference is
taken over the step actually taken.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradproof.errors import InputError
from gradproof.verify.options import CheckOptions, dtype_eps

SINGLE = "x"  # name used in reports when params is a single array
_EPS64 = dtype_eps("float64")
_TORCH_EPS: dict[Any, float] = {}  # torch dtype -> roundoff, filled on first use


def _torch():
    return sys.modules.get("torch")


def is_torch(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def shape_str(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape) if shape else "scalar"


@dataclass
class Param:
    """One parameter: its float64 master value and how to hand it to user code."""

    name: str
    value: np.ndarray  # float64 master copy
    dtype: Any  # original dtype (NumPy or torch)
    torch_device: Any = None  # None for NumPy parameters
    converted_from: str | None = None  # an integer or boolean dtype checked as float64

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def size(self) -> int:
        return int(self.value.size)

    @property
    def is_torch(self) -> bool:
        return self.torch_device is not None

    @property
    def native_np_dtype(self) -> np.dtype:
        name = str(self.dtype).replace("torch.", "")
        try:
            return np.dtype(name)
        except TypeError:  # bfloat16 has no NumPy twin: round through float32
            return np.dtype(np.float32)


def _to_float64(value: Any, where: str) -> tuple[np.ndarray, Any, Any]:
    """(float64 copy, original dtype, torch device or None) of an array-like."""
    if is_torch(value):
        torch = _torch()
        if value.is_meta:
            raise InputError(f"{where} is a tensor on the 'meta' device: it has a shape but no values to check")
        if value.layout != torch.strided:
            raise InputError(
                f"{where} is a sparse tensor ({str(value.layout).replace('torch.', '')}); pass a dense one "
                "(tensor.to_dense())"
            )
        if value.is_complex():
            raise InputError(f"{where} is complex; only real parameters can be checked")
        dtype = value.dtype if value.is_floating_point() else torch.float64
        # resolve_neg: a negative view (torch._neg_view) has no NumPy form until its sign is applied
        array = value.detach().resolve_neg().resolve_conj().to("cpu", torch.float64).numpy().copy()
        return array, dtype, value.device
    try:
        array = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any object numpy cannot read
        raise InputError(f"{where} is not an array ({type(value).__name__}): {exc}") from None
    if array.dtype.kind == "c":
        raise InputError(f"{where} is complex; only real parameters can be checked")
    if array.dtype.kind not in "fiub":
        raise InputError(f"{where} has dtype {array.dtype}, expected a real floating-point array")
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    return np.array(array, dtype=np.float64), dtype, None


def normalize_params(params: Any, options: CheckOptions) -> tuple[list[Param], bool]:
    """The parameters as a list of :class:`Param` and whether ``params`` was a single array."""
    single = not isinstance(params, Mapping)
    items = [(SINGLE, params)] if single else list(params.items())
    if not items:
        raise InputError("params is empty: pass a dict name -> array, or a single array")
    if not single:
        bad_keys = [k for k in params if not isinstance(k, str)]
        if bad_keys:
            raise InputError(
                f"parameter names must be strings: key {bad_keys[0]!r} ({type(bad_keys[0]).__name__}); "
                "use a dict such as {'w': ..., 'b': ...}"
            )
    out = []
    device = None
    if options.device is not None:  # a bad or unavailable device is an error for any parameters,
        from gradproof.verify.device import resolve_device  # never silently ignored

        device = resolve_device(options.device)
    for name, value in items:
        where = "params" if single else f"parameter {name!r}"
        array, dtype, tdev = _to_float64(value, where)
        original = str(getattr(value, "dtype", "")).replace("torch.", "")
        converted = original if original and original != str(dtype).replace("torch.", "") else None
        if tdev is not None and device is not None:
            tdev = device
        if array.size == 0:
            raise InputError(
                f"{where} has no entries (shape {shape_str(array.shape)}): there is no gradient to check; "
                "leave it out of params"
            )
        bad = ~np.isfinite(array)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            what = "NaN" if np.isnan(array[idx]) else "infinity"
            at = f" at index {list(idx)}" if idx else ""
            raise InputError(f"{where} contains {what}{at}: parameters must be finite")
        out.append(Param(str(name), array, dtype, tdev, converted))
    return out, single


def to_scalar(out: Any, where: str) -> tuple[float, float]:
    """(value, unit roundoff of its dtype) of what a loss returned; InputError unless a finite scalar."""
    if type(out) is float or type(out) is np.float64:  # the common case, kept fast
        if not math.isfinite(out):
            raise InputError(f"{where} returned {out}, expected a finite scalar")
        return float(out), _EPS64
    eps = _EPS64
    if is_torch(out):
        if out.numel() != 1:
            raise InputError(f"{where} returned a tensor of shape {tuple(out.shape)}, expected a scalar")
        if out.is_complex():
            raise InputError(f"{where} returned a complex value, expected a real scalar")
        if out.dtype == _torch().bool:
            raise InputError(f"{where} returned a boolean, expected a finite real scalar")
        eps = _TORCH_EPS.get(out.dtype)
        if eps is None:
            eps = _TORCH_EPS[out.dtype] = dtype_eps(out.dtype) if out.is_floating_point() else _EPS64
        value = float(out.detach())
    else:
        try:
            arr = np.asarray(out)
        except Exception:  # noqa: BLE001
            arr = np.asarray(None, dtype=object)
        if arr.dtype.kind == "b":
            raise InputError(f"{where} returned a boolean ({out!r}), expected a finite real scalar")
        if arr.dtype.kind not in "fiu" or arr.size != 1:
            kind = f"an array of shape {arr.shape}" if arr.dtype.kind in "fiubc" else type(out).__name__
            raise InputError(f"{where} returned {kind}, expected a finite real scalar")
        if arr.dtype.kind == "f":
            eps = dtype_eps(arr.dtype)
        value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise InputError(f"{where} returned {value}, expected a finite scalar")
    return value, eps


_PACKAGE_DIR = str(__import__("pathlib").Path(__file__).resolve().parents[1])


def _user_frame(exc: BaseException) -> str:
    """' (at file.py:LINE in func)' for the innermost frame of the user's own code in ``exc``'s
    traceback (library frames such as NumPy's are skipped), or '' when there is none."""
    import os
    import traceback

    user = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith((_PACKAGE_DIR, "<frozen"))
        and "site-packages" not in f.filename
        and "dist-packages" not in f.filename
        and not f.filename.startswith(os.path.dirname(os.__file__))
    ]
    if not user:
        return ""
    f = user[-1]
    return f" (at {os.path.basename(f.filename)}:{f.lineno} in {f.name})"


def _raised(where: str, exc: BaseException) -> InputError:
    return InputError(f"{where} raised {type(exc).__name__}: {exc}{_user_frame(exc)}")


class Problem:
    """The user's ``loss`` and ``grad`` bound to normalised parameters.

    ``evaluate(values)`` calls the loss on copies built from float64 arrays; ``mode`` is
    ``"float64"`` (the default when the code accepts it) or ``"native"`` (each parameter in its
    own dtype).  ``quantize(name, array)`` rounds a perturbed array to what the code receives.
    """

    def __init__(self, loss: Callable, grad: Callable, params: list[Param], single: bool):
        if not callable(loss):
            raise InputError(f"loss must be callable, got {type(loss).__name__}")
        if not callable(grad):
            raise InputError(f"grad must be callable, got {type(grad).__name__}")
        self.loss = loss
        self.grad = grad
        self.params = params
        self.single = single
        self.mode = "float64"
        self.output_eps = dtype_eps("float64")
        self.calls = 0
        self._by_name = {p.name: p for p in params}
        self._base = {p.name: p.value for p in params}

    # -- building user arguments ------------------------------------------------------------
    def _user_array(self, p: Param, array: np.ndarray) -> Any:
        if p.torch_device is not None:
            torch = _torch()
            # from_numpy on a private copy: torch.tensor(ndarray) is ~20× slower
            tensor = torch.from_numpy(np.array(array, dtype=np.float64))
            if self.mode == "float64" and p.torch_device.type == "cpu":
                return tensor
            dtype = torch.float64 if self.mode == "float64" else p.dtype
            return tensor.to(device=p.torch_device, dtype=dtype)
        dtype = np.float64 if self.mode == "float64" else p.native_np_dtype
        return np.array(array, dtype=dtype)  # always a fresh copy

    def user_args(self, values: Mapping[str, np.ndarray]) -> Any:
        if self.single:
            p = self.params[0]
            return self._user_array(p, values[p.name])
        return {p.name: self._user_array(p, values[p.name]) for p in self.params}

    def quantize(self, name: str, array: np.ndarray) -> np.ndarray:
        """``array`` rounded to the dtype the code receives for parameter ``name``."""
        if self.mode == "float64":
            return array
        p = self._by_name[name]
        return array.astype(p.native_np_dtype).astype(np.float64)

    @property
    def base(self) -> dict[str, np.ndarray]:
        return self._base

    # -- calling user code --------------------------------------------------------------------
    def evaluate(self, values: Mapping[str, np.ndarray], where: str = "loss(params)") -> float:
        self.calls += 1
        try:
            out = self.loss(self.user_args(values))
        except InputError:
            raise
        except (Exception, SystemExit) as exc:  # sys.exit() in user code must not end the check
            raise _raised(where, exc) from exc
        value, _ = to_scalar(out, where)
        return value

    def evaluate_with(self, name: str, array: np.ndarray, where: str) -> float:
        if self.single:
            return self.evaluate({name: array}, where)
        values = dict(self._base)
        values[name] = array
        return self.evaluate(values, where)

    @property
    def batchable(self) -> bool:
        """Whether the loss has a batched twin (see :mod:`~gradproof.verify.batching`)."""
        return getattr(self.loss, "batched", None) is not None

    def evaluate_many_with(self, name: str, arrays: list[np.ndarray], where: str) -> list[float] | None:
        """The loss at each of ``arrays`` for parameter ``name``, in one batched call; ``None``
        when the code cannot be batched (the caller then evaluates them one by one)."""
        batched = getattr(self.loss, "batched", None)
        if batched is None:
            return None
        points = [self.user_args({name: a} if self.single else {**self._base, name: a}) for a in arrays]
        outs = batched(points)
        if outs is None:
            return None
        self.calls += len(arrays)
        return [to_scalar(out, where)[0] for out in outs]

    def start(self, use_float64: bool) -> tuple[float, Any]:
        """First calls: choose the mode, return (loss at the point, raw grad output)."""
        modes = ["float64", "native"] if use_float64 else ["native"]
        if all(np.dtype(p.native_np_dtype) == np.float64 for p in self.params):
            modes = ["float64"]
        for i, mode in enumerate(modes):
            self.mode = mode
            final = i == len(modes) - 1
            try:
                out = self.loss(self.user_args(self.base))
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - code that rejects float64: use its dtype
                if final:
                    raise _raised("loss(params)", exc) from exc
                continue
            try:
                value, self.output_eps = to_scalar(out, "loss(params)")
            except InputError:
                if final:
                    raise
                continue
            try:
                g = self.grad(self.user_args(self.base))
            except (Exception, SystemExit) as exc:  # noqa: BLE001
                if final:
                    raise _raised("grad(params)", exc) from exc
                continue
            return value, g
        raise AssertionError("unreachable")  # pragma: no cover


def grad_to_numpy(value: Any) -> tuple[np.ndarray | None, float, str | None]:
    """(float64 array, unit roundoff of its dtype, problem) of one entry of what grad returned."""
    if value is None:
        return None, dtype_eps("float64"), "grad returned None"
    if is_torch(value):
        if value.is_meta:
            return None, dtype_eps("float64"), "grad returned a tensor on the 'meta' device (no values)"
        if value.layout != _torch().strided:  # a sparse gradient (embeddings): its values, densely
            value = value.to_dense()
        eps = dtype_eps(value.dtype) if value.is_floating_point() else dtype_eps("float64")
        return value.detach().to("cpu").double().numpy().copy(), eps, None
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001
        return None, dtype_eps("float64"), f"grad returned {type(value).__name__}: {exc}"
    if arr.dtype.kind not in "fiub":
        return None, dtype_eps("float64"), f"grad returned {type(value).__name__} of dtype {arr.dtype}"
    eps = dtype_eps(arr.dtype) if arr.dtype.kind == "f" else dtype_eps("float64")
    return np.array(arr, dtype=np.float64), eps, None
