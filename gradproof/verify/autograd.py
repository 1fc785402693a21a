"""PyTorch autograd as a witness: the Jacobian of a compiled forward, in float64."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def autograd_jacobian(
    forward: Callable[[Mapping[str, Any]], Any],
    values: Mapping[str, np.ndarray],
    wrt: str,
    device: Any,
) -> np.ndarray:
    """Jacobian of ``forward(values)`` with respect to ``values[wrt]`` by reverse-mode autograd.

    ``forward`` takes a mapping of name → float64 tensor (on ``device``) and returns a tensor.
    The result has shape ``output.shape + values[wrt].shape`` and comes back as a NumPy array.
    """
    import torch

    tensors = {k: torch.as_tensor(np.asarray(v), dtype=torch.float64, device=device) for k, v in values.items()}

    def f(w: Any) -> Any:
        return forward({**tensors, wrt: w})

    jac = torch.autograd.functional.jacobian(f, tensors[wrt], vectorize=False)
    return jac.detach().cpu().numpy()


def autograd_gradients(
    loss: Callable[[Mapping[str, Any]], Any],
    point: Mapping[str, np.ndarray],
    device: Any,
) -> dict[str, np.ndarray]:
    """Gradient of the scalar ``loss(point)`` with respect to every entry of ``point``, by one
    reverse pass in float64 on ``device``; NumPy arrays of each parameter's shape."""
    import torch

    tensors = {
        k: torch.tensor(np.asarray(v), dtype=torch.float64, device=device, requires_grad=True) for k, v in point.items()
    }
    grads = torch.autograd.grad(loss(tensors), list(tensors.values()))
    return {k: g.detach().cpu().numpy() for k, g in zip(tensors, grads)}
