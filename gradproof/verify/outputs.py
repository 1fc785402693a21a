"""Localising a mismatch to *output* entries: which ∂output[k]/∂input[j] is wrong.

The engine localises a failure to entries j of an input (the worst entries of Jᵀu).  For a
function with many outputs the next question is which outputs k carry the error.  For the worst
input entry j this module takes the finite-difference column J[:, j] (Richardson, with its error
bound, from :func:`gradproof.verify.finite_diff.jacobian`: a handful of calls) and compares it with
the user's backward column by group testing: a cotangent w supported on a block of outputs gives
(Jᵀw)_j from one backward call against ⟨w, J[:, j]⟩; blocks that disagree are halved until single
outputs remain.  About 2·width·log₂(m) backward calls for m outputs, spent only after a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gradproof.verify.finite_diff import jacobian
from gradproof.verify.result import JacobianEntry
from gradproof.verify.options import GRID64

__all__ = ["localize_outputs"]

EACH_UP_TO = 32  # outputs tested one by one below this many
LEAF = 4
WIDTH = 3
BACKWARD_EPS = 16.0  # units of the backward dtype's roundoff allowed per |w_k c_k|


def localize_outputs(
    evaluate: Callable[[np.ndarray], np.ndarray],
    column: Callable[[np.ndarray], float],
    x0: float,
    index: tuple[int, ...],
    out_names: Sequence[str],
    out_shapes: Sequence[tuple[int, ...]],
    *,
    backward_eps: float,
    rng: np.random.Generator,
    worst: int = 3,
) -> tuple[JacobianEntry, ...]:
    """The output entries k where the user's ∂F_k/∂x_j disagrees with finite differences.

    ``evaluate(t)`` returns all outputs, flattened and concatenated, with the input entry set to
    ``t`` (a 1-element array); ``column(w)`` returns (Jᵀw)_j from the user's backward for a flat
    cotangent ``w``; ``x0`` is the entry's value.
    """
    fd = jacobian(evaluate, np.array([x0], dtype=np.float64))
    c = fd.value[:, 0]
    err = fd.error[:, 0]
    m = c.size
    if m == 0:
        return ()

    def test(block: np.ndarray, signed: bool) -> tuple[float, float, float]:
        w = np.zeros(m)
        w[block] = rng.choice([-1.0, 1.0], size=len(block)) if signed else 1.0
        got = column(w)
        expected = float(np.dot(w[block], c[block]))
        tol = float(np.dot(np.abs(w[block]), err[block])) + BACKWARD_EPS * backward_eps * float(
            np.dot(np.abs(w[block]), np.abs(c[block])) + abs(got)
        )
        return got, expected, tol

    if m <= EACH_UP_TO:
        leaves = [np.arange(m)]
    else:
        blocks = [rng.permutation(m)]
        while max(len(b) for b in blocks) > LEAF:
            scored = []
            for block in blocks:
                if len(block) <= LEAF:
                    scored.append((np.inf, block))
                    continue
                half = len(block) // 2
                for child in (block[:half], block[half:]):
                    got, expected, tol = test(child, signed=True)
                    scored.append((abs(got - expected) / max(tol, GRID64), child))
            scored = [s for s in scored if s[0] > 1.0]
            if not scored:
                return ()
            scored.sort(key=lambda s: -s[0])
            blocks = [b for _, b in scored[:WIDTH]]
        leaves = blocks
    found = []
    for k in np.unique(np.concatenate(leaves)):
        got, expected, tol = test(np.array([k]), signed=False)
        if abs(got - expected) > tol:
            found.append((abs(got - expected), int(k), expected, got))
    found.sort(reverse=True)
    sizes = [int(np.prod(s, dtype=np.int64)) for s in out_shapes]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    entries = []
    for _, k, expected, got in found[:worst]:
        o = int(np.searchsorted(starts, k, side="right") - 1)
        shape = out_shapes[o]
        out_index = tuple(int(i) for i in np.unravel_index(k - int(starts[o]), shape)) if shape else ()
        entries.append(JacobianEntry(out_names[o], out_index, index, expected, got))
    return tuple(entries)
