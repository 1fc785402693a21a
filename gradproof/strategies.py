"""Hypothesis strategies for property-based gradient tests: NumPy float64 arrays of the inputs a
deep-learning gradient meets, extreme but legal values included.

Needs hypothesis (``pip install 'gradproof[hypothesis]'``); ``import gradproof`` does not import
it.  Each strategy states what every draw guarantees, and tests/test_strategies.py checks it:

* :func:`logits` — finite, ``|z| <= LOGIT_BOUND`` (1000: ``exp(z)`` of a naive softmax
  overflows or underflows, a stable one must not); ties, all-equal rows, large common offsets and one dominant
  entry included when ``extreme`` (the default);
* :func:`probability_vectors` — every entry in ``(0, 1]``, the smallest down to ``1e-100 / n``,
  summing to 1 within rounding (``|sum - 1| <= n * 2**-52``);
* :func:`one_hot_labels` — one exact ``1.0`` per row, zeros elsewhere;
* :func:`soft_labels` — rows of non-negative entries summing to 1 within rounding: smoothed
  labels, exact one-hot rows and rows with tiny entries;
* :func:`weight_matrices` — condition number (``np.linalg.cond``) at most ``max_condition``,
  entries of scales from 1e-3 to 1e3.

>>> from hypothesis import given, settings
>>> import numpy as np, gradproof
>>> from gradproof.strategies import logits, one_hot_labels
>>> @settings(deadline=None, max_examples=20, derandomize=True)
... @given(logits((4, 3)), one_hot_labels(4, 3))
... def test_softmax_cross_entropy(z, y):
...     def loss(z):
...         m = z.max(axis=1, keepdims=True)
...         return -np.sum(y * (z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))))
...     def grad(z):
...         e = np.exp(z - z.max(axis=1, keepdims=True))
...         return e / e.sum(axis=1, keepdims=True) - y
...     gradproof.assert_gradient(loss, grad, z, floor_atol=1e-12)
>>> test_softmax_cross_entropy()

(``floor_atol``: where the correct class dominates by hundreds, the loss rounds to exactly 0 and
the true gradient is ~1e-109; differences that small are not judged.)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from gradproof.errors import InputError

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "gradproof.strategies needs hypothesis, which is not installed: "
        "pip install 'gradproof[hypothesis]' (or pip install hypothesis)"
    ) from exc

__all__ = ["logits", "one_hot_labels", "probability_vectors", "soft_labels", "weight_matrices"]

#: the largest |logit| drawn with ``extreme=True``: exp(±1000) overflows to inf or underflows to
#: 0 in float64, so a naive softmax breaks; one that subtracts the maximum must stay finite
LOGIT_BOUND = 1000.0
#: the largest |logit| drawn with ``extreme=False``
MODERATE_LOGIT_BOUND = 10.0
#: log of the smallest unnormalized weight of a probability vector (e^-230 ≈ 1.3e-100)
_LOG_TINY = -230.0
#: relative margin kept below ``max_condition`` so that rounding in building the matrix never
#: pushes its measured condition number above the bound
_CONDITION_MARGIN = 1e-9


def _count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        return (_count(shape, "shape"),)
    try:
        dims = tuple(shape)
    except TypeError:
        raise InputError(f"shape must be an integer or a tuple of integers, got {shape!r}") from None
    if not dims:
        raise InputError("shape must have at least one dimension (logits of a scalar have no softmax)")
    return tuple(_count(d, f"shape[{i}]") for i, d in enumerate(dims))


def _floats(bound: float) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


@st.composite
def _offset_rows(draw: st.DrawFn, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """Moderate logits plus a large offset per row (the last axis is the class axis): a softmax
    that does not subtract its maximum overflows, or underflows to 0/0."""
    spread = min(10.0, bound / 2)
    z = draw(hnp.arrays(np.float64, shape, elements=_floats(spread)))
    offsets = draw(hnp.arrays(np.float64, shape[:-1] + (1,), elements=_floats(bound - spread)))
    return z + offsets


@st.composite
def _dominant_entry(draw: st.DrawFn, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """One entry per row far above the others: the softmax is one-hot to rounding."""
    z = draw(hnp.arrays(np.float64, shape, elements=_floats(1.0)))
    rows = z.reshape(-1, shape[-1])
    winners = draw(hnp.arrays(np.intp, rows.shape[0], elements=st.integers(0, shape[-1] - 1)))
    height = draw(st.floats(bound / 4, bound - 1.0))
    rows[np.arange(rows.shape[0]), winners] += height
    return rows.reshape(shape)


def logits(shape: int | tuple[int, ...], *, extreme: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Float64 logits of ``shape`` (the last axis is the class axis).

    Every draw is finite with ``|z| <= LOGIT_BOUND`` (1000) when ``extreme``, else
    ``|z| <= MODERATE_LOGIT_BOUND`` (10).  With ``extreme``, draws also include rows with a large
    common offset (±hundreds: a softmax must subtract its maximum), one dominant entry per row
    (a one-hot softmax) and any values in the range (ties, zeros, subnormals)."""
    dims = _shape(shape)
    if not extreme:
        return hnp.arrays(np.float64, dims, elements=_floats(MODERATE_LOGIT_BOUND))
    return st.one_of(
        hnp.arrays(np.float64, dims, elements=_floats(LOGIT_BOUND)),
        _offset_rows(dims, LOGIT_BOUND),
        _dominant_entry(dims, LOGIT_BOUND),
    )


def _normalize_rows(log_weights: np.ndarray) -> np.ndarray:
    w = np.exp(log_weights - log_weights.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def probability_vectors(n: int) -> st.SearchStrategy[np.ndarray]:
    """Float64 probability vectors of length ``n``: every entry in ``(0, 1]`` — the smallest as
    small as ``1e-100 / n`` (the log of each stays finite) — summing to 1 within rounding
    (``|sum - 1| <= n * 2**-52``).  Uniform and near-one-hot vectors included.  For exact
    zeros use :func:`one_hot_labels` or :func:`soft_labels`."""
    n = _count(n, "n")
    log_weights = hnp.arrays(np.float64, n, elements=st.floats(_LOG_TINY, 0.0))
    return log_weights.map(_normalize_rows)


def one_hot_labels(batch: int, classes: int) -> st.SearchStrategy[np.ndarray]:
    """Float64 one-hot labels of shape ``(batch, classes)``: one exact 1.0 per row, 0.0 elsewhere."""
    batch, classes = _count(batch, "batch"), _count(classes, "classes")
    labels = hnp.arrays(np.intp, batch, elements=st.integers(0, classes - 1))
    return labels.map(lambda y: np.eye(classes, dtype=np.float64)[y])


@st.composite
def _smoothed(draw: st.DrawFn, batch: int, classes: int) -> np.ndarray:
    """Label smoothing: (1 - ε)·one-hot + ε/classes, ε in [0, 1] (ε = 0: exact one-hot rows)."""
    y = draw(one_hot_labels(batch, classes))
    eps = draw(st.floats(0.0, 1.0))
    smoothed = (1.0 - eps) * y + eps / classes
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def soft_labels(batch: int, classes: int) -> st.SearchStrategy[np.ndarray]:
    """Float64 soft labels of shape ``(batch, classes)``: each row non-negative and summing to 1
    within rounding (``|sum - 1| <= classes * 2**-52``).  Draws include smoothed labels, exact
    one-hot rows (zeros) and rows with entries as small as ``1e-100 / classes``."""
    batch, classes = _count(batch, "batch"), _count(classes, "classes")
    tiny = hnp.arrays(np.float64, (batch, classes), elements=st.floats(_LOG_TINY, 0.0)).map(_normalize_rows)
    return st.one_of(_smoothed(batch, classes), tiny)


@st.composite
def _conditioned(draw: st.DrawFn, rows: int, cols: int, max_condition: float) -> np.ndarray:
    k = min(rows, cols)
    # orthonormal factors from QR: Householder QR returns an orthonormal Q for any input,
    # even a zero matrix, so shrinking towards zeros still draws a legal matrix
    a = draw(hnp.arrays(np.float64, (rows, k), elements=st.floats(-1.0, 1.0)))
    b = draw(hnp.arrays(np.float64, (cols, k), elements=st.floats(-1.0, 1.0)))
    u, v = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
    top = math.log10(max_condition / (1.0 + _CONDITION_MARGIN))
    exponents = draw(hnp.arrays(np.float64, k, elements=st.floats(0.0, max(top, 0.0))))
    singular = 10.0 ** (exponents - exponents.max())  # largest exactly 1
    scale = 10.0 ** draw(st.floats(-3.0, 3.0))
    return scale * (u * singular) @ v.T


def weight_matrices(rows: int, cols: int, *, max_condition: float = 1e3) -> st.SearchStrategy[np.ndarray]:
    """Float64 weight matrices of shape ``(rows, cols)`` whose condition number — the ratio of
    the largest to the smallest of its ``min(rows, cols)`` singular values, as ``np.linalg.cond``
    measures it — is at most ``max_condition``; largest singular value between 1e-3 and 1e3.
    ``max_condition`` must be at least ``1 + 1e-6`` (in float64 even an orthogonal matrix
    measures ``1 + a few ε``)."""
    rows, cols = _count(rows, "rows"), _count(cols, "cols")
    if isinstance(max_condition, bool) or not isinstance(max_condition, numbers.Real):
        raise InputError(f"max_condition must be a number, got {max_condition!r}")
    max_condition = float(max_condition)
    if not (math.isfinite(max_condition) and max_condition >= 1.0 + 1e-6):
        raise InputError(
            f"max_condition must be finite and at least 1 + 1e-6, got {max_condition!r} "
            "(in float64 even an orthogonal matrix has condition number 1 + a few ε)"
        )
    # the construction keeps a margin; the filter is a last guard that rounding never breaks
    return _conditioned(rows, cols, max_condition).filter(lambda w: np.linalg.cond(w) <= max_condition)
