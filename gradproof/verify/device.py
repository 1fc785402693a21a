"""Choosing the PyTorch device at run time: CUDA when present, else the CPU."""

from __future__ import annotations

from typing import Any

from gradproof.errors import DeviceError


def resolve_device(device: Any = "auto") -> Any:
    """Return a ``torch.device`` for ``"auto"``, ``"cpu"``, ``"cuda"``/``"cuda:N"`` or a device.

    ``"auto"`` picks CUDA when it is available and the CPU otherwise.  Asking for CUDA on a
    machine without it is an error, never a silent fallback to the CPU.
    """
    import torch

    if isinstance(device, torch.device):
        spec = device
    else:
        text = "auto" if device is None else str(device).strip().lower()
        if text == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            spec = torch.device(text)
        except RuntimeError:
            raise DeviceError(
                f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda' (optionally 'cuda:N')"
            ) from None
    if spec.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {str(spec)!r} was requested but CUDA is not available on this machine "
                "(use device='auto' to fall back to the CPU)"
            )
        if spec.index is not None and spec.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {str(spec)!r} was requested but only {torch.cuda.device_count()} "
                "CUDA device(s) exist"
            )
    elif spec.type != "cpu":
        raise DeviceError(f"device type {spec.type!r} is not supported: use 'auto', 'cpu' or 'cuda'")
    return spec


def describe_device(device: Any) -> str:
    """A human-readable name, e.g. ``'cpu'`` or ``'cuda:0 (NVIDIA H100)'``."""
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return "cpu"
