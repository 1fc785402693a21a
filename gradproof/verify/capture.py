"""The arrays a user's function had: its local variables (and those of the functions it called).

A diagnosis may name "the derivative evaluated at another tensor the code had" only if it can
see those tensors.  :func:`capture_arrays` calls a function once under :func:`sys.setprofile` and
copies, as each frame of the user's own code returns, the NumPy arrays and PyTorch tensors among
its local variables (one level into dicts, lists and tuples).  Frames of NumPy, PyTorch, the
standard library and gradproof itself are skipped.  Used only to explain a confirmed failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB = os.path.dirname(os.__file__)
MAX_ARRAYS = 400  # captured arrays kept, at most
MAX_ENTRIES = 10_000_000  # entries per array, at most (larger ones are skipped)


@dataclass(frozen=True)
class Captured:
    """An array the code held: the variable's name, the function it was local to, the value."""

    name: str
    function: str
    value: np.ndarray


def _user_file(filename: str) -> bool:
    return not (
        filename.startswith((_PACKAGE, _STDLIB, "<frozen"))
        or "site-packages" in filename
        or "dist-packages" in filename
    )


def as_array(value: Any) -> np.ndarray | None:
    """A float64 or integer copy of an array or tensor, else None."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_complex() or value.numel() > MAX_ENTRIES or value.is_sparse:
            return None
        try:
            value = value.detach().to("cpu").numpy()
        except Exception:  # noqa: BLE001 - meta tensors and the like
            return None
    if not isinstance(value, np.ndarray) or value.size > MAX_ENTRIES or value.dtype.kind not in "fiub":
        return None
    return value.astype(np.float64) if value.dtype.kind == "f" else value.copy()


def _arrays_in(name: str, value: Any):
    arr = as_array(value)
    if arr is not None:
        yield name, arr
        return
    if isinstance(value, dict):
        for k, v in list(value.items())[:64]:
            arr = as_array(v)
            if arr is not None:
                yield f"{name}[{k!r}]", arr
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value[:64]):
            arr = as_array(v)
            if arr is not None:
                yield f"{name}[{i}]", arr


def capture_arrays(fn: Callable[..., Any], *args: Any) -> list[Captured]:
    """Call ``fn(*args)`` and return the arrays its frames (and their callees in user code) held.

    Exceptions from ``fn`` propagate; the previous profiler is restored in any case.
    """
    found: list[Captured] = []

    def profiler(frame, event, arg):  # noqa: ARG001 - the signature sys.setprofile requires
        if event != "return" or len(found) >= MAX_ARRAYS or not _user_file(frame.f_code.co_filename):
            return
        for name, value in list(frame.f_locals.items()):
            for label, arr in _arrays_in(name, value):
                found.append(Captured(label, frame.f_code.co_name, arr))
        if arg is not None:
            for label, arr in _arrays_in(f"what {frame.f_code.co_name} returned", arg):
                found.append(Captured(label, frame.f_code.co_name, arr))

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        fn(*args)
    finally:
        sys.setprofile(previous)
    return found[:MAX_ARRAYS]
