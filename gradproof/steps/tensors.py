"""Vectors and matrices in a row, read componentwise.

A declared vector ``w`` (``% gradproof: vector w : n``) written bare stands for its components
w_k, k = 1..n; products follow linear algebra (``w^T x`` is Σ_k w_k x_k, ``W x`` has components
Σ_k W_ik x_k, ``⊙`` is elementwise).  A row whose sides are vectors states one equation per
component, checked for every component like a free index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp


@dataclass(frozen=True)
class Tensor:
    """``component(*indices)`` for indices in ``ranges`` (one (lo, hi) per axis).  ``row``: a
    transposed vector, which multiplies a column vector to a number."""

    ranges: tuple[tuple[Any, Any], ...]
    component: Callable[..., Any]
    row: bool = False

    def at(self, *indices: Any) -> Any:
        return self.component(*indices)

    def map(self, f: Callable[[Any], Any]) -> Tensor:
        return Tensor(self.ranges, lambda *idx: f(self.component(*idx)), self.row)

    def transpose(self) -> Tensor:
        if len(self.ranges) == 1:
            return Tensor(self.ranges, self.component, not self.row)
        return Tensor(self.ranges[::-1], lambda a, b: self.component(b, a))

    @staticmethod
    def combine(a: Any, b: Any, sign: int) -> Tensor:
        if not (is_tensor(a) and is_tensor(b)):
            raise ValueError("a vector plus a number: both sides of + and - must be vectors, or both numbers")
        _same_ranges(a.ranges, b.ranges, "+")
        if a.row != b.row:
            raise ValueError("a row vector plus a column vector")
        return Tensor(a.ranges, lambda *idx: a.component(*idx) + sign * b.component(*idx), a.row)

    @staticmethod
    def multiply(a: Any, b: Any, *, elementwise: bool, fresh: Callable[[str, Any], Any]) -> Any:
        if not is_tensor(a):
            return b.map(lambda e: a * e)
        if not is_tensor(b):
            return a.map(lambda e: e * b)
        if elementwise:
            _same_ranges(a.ranges, b.ranges, "⊙")
            return Tensor(a.ranges, lambda *idx: a.component(*idx) * b.component(*idx), a.row)
        va, vb = len(a.ranges) == 1, len(b.ranges) == 1
        if va and vb:
            if a.row and not b.row:  # w^T x
                _same_ranges(a.ranges, b.ranges, "w^T x")
                lo, hi = a.ranges[0]
                k = fresh("k", lo)
                return sp.Sum(a.component(k) * b.component(k), (k, lo, hi))
            if not a.row and b.row:  # x y^T
                return Tensor((a.ranges[0], b.ranges[0]), lambda i, j: a.component(i) * b.component(j))
            raise ValueError("two vectors side by side: write w^T x (a number) or w \\odot x (elementwise)")
        if not va and vb and not b.row:  # W x
            _same_ranges(a.ranges[1:], b.ranges, "W x")
            lo, hi = b.ranges[0]

            def matvec(i: Any) -> Any:
                k = fresh("k", lo)
                return sp.Sum(a.component(i, k) * b.component(k), (k, lo, hi))

            return Tensor(a.ranges[:1], matvec)
        if va and a.row and not vb:  # x^T W
            _same_ranges(a.ranges, b.ranges[:1], "x^T W")
            lo, hi = a.ranges[0]

            def vecmat(j: Any) -> Any:
                k = fresh("k", lo)
                return sp.Sum(a.component(k) * b.component(k, j), (k, lo, hi))

            return Tensor(b.ranges[1:], vecmat, True)
        if not va and not vb:  # W V
            _same_ranges(a.ranges[1:], b.ranges[:1], "W V")
            lo, hi = a.ranges[1]

            def matmat(i: Any, j: Any) -> Any:
                k = fresh("k", lo)
                return sp.Sum(a.component(i, k) * b.component(k, j), (k, lo, hi))

            return Tensor((a.ranges[0], b.ranges[1]), matmat)
        raise ValueError("these shapes do not multiply (a column vector times a matrix)")


def _same_ranges(a: tuple, b: tuple, what: str) -> None:
    if len(a) != len(b) or any(sp.simplify(x[0] - y[0]) != 0 or sp.simplify(x[1] - y[1]) != 0 for x, y in zip(a, b)):
        raise ValueError(f"{what}: the lengths differ ({_fmt(a)} vs {_fmt(b)})")


def _fmt(ranges: tuple) -> str:
    return " × ".join(f"{lo}..{hi}" for lo, hi in ranges)


def is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor)


def as_component(value: Any, indices: tuple) -> Any:
    """A row side: a number as it is, a vector or matrix at the row's component indices."""
    return value.at(*indices[: len(value.ranges)]) if is_tensor(value) else value
