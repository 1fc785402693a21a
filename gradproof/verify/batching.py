"""Perturbed evaluations known in advance, evaluated in one batch where the code allows it.

The engine asks for the loss at points one at a time, but many are known before the first is
needed: the four points of a noise probe, the ± pair of a central difference, the six points of
every direction once the step is settled.  :func:`prefetch` hands such a list to the evaluator;
:class:`Prefetching` evaluates it in one batched call (``torch.func.vmap`` for PyTorch code, see
:meth:`~gradproof.verify.torch_function.TorchReduction.loss_batch`) and answers the later
single calls from what it holds.  Where batching is unavailable (NumPy code, old-style autograd
Functions, C++ extensions, a CPU where the loop measured faster) a prefetch does nothing and the
points are evaluated one by one, exactly as before: the values, and so the verdict, never depend
on whether a batch ran, beyond rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["BatchedLoss", "Prefetching", "compose", "prefetch"]


def _key(array: np.ndarray) -> tuple[tuple[int, ...], bytes]:
    return tuple(array.shape), np.ascontiguousarray(array, dtype=np.float64).tobytes()


class Prefetching:
    """``f(array) -> value``, with ``prefetch(arrays)`` evaluating a list of points in one batch.

    ``one(array)`` evaluates one point; ``many(arrays)`` a list (or returns ``None`` when it
    cannot batch, after which only ``one`` is used).  A prefetched value is handed out once.
    """

    def __init__(self, one: Callable[[np.ndarray], Any], many: Callable[[list[np.ndarray]], Any] | None):
        self.one = one
        self.many = many
        self._held: dict[tuple, Any] = {}

    def __call__(self, array: np.ndarray) -> Any:
        if self._held:
            hit = self._held.pop(_key(array), None)
            if hit is not None:
                return hit
        return self.one(array)

    def prefetch(self, arrays: Sequence[np.ndarray]) -> None:
        if self.many is None:
            return
        keys = [_key(a) for a in arrays]
        todo = [(k, a) for k, a in dict(zip(keys, arrays)).items() if k not in self._held]
        if len(todo) < 2:
            return
        values = self.many([a for _, a in todo])
        if values is None:  # the code cannot be batched: one at a time from now on
            self.many = None
            return
        self._held.update((k, v) for (k, _), v in zip(todo, values, strict=True))


def prefetch(
    f: Callable[[np.ndarray], Any], arrays: Sequence[np.ndarray] | Callable[[], Sequence[np.ndarray]]
) -> None:
    """Tell ``f`` the points it is about to be asked for (a no-op for a plain function).

    ``arrays`` may be a function that builds the list, so that nothing is built for nothing.
    """
    fetch = getattr(f, "prefetch", None)
    if fetch is not None and getattr(f, "many", None) is not None:
        fetch(arrays() if callable(arrays) else arrays)


class BatchedLoss:
    """A loss with a batched twin: ``loss(values)``, and ``loss.batched([values, …])`` returning a
    list of results, or ``None`` when this code cannot be batched."""

    def __init__(self, one: Callable[[Any], Any], batched: Callable[[list[Any]], list[Any] | None]):
        self.one = one
        self.batched = batched

    def __call__(self, values: Any) -> Any:
        return self.one(values)


def compose(loss: Callable[[Any], Any], fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``lambda v: loss(fn(v))``, keeping ``loss``'s batched twin if it has one."""
    batched = getattr(loss, "batched", None)
    if batched is None:
        return lambda v: loss(fn(v))
    return BatchedLoss(lambda v: loss(fn(v)), lambda vs: batched([fn(v) for v in vs]))
