"""Least-squares polynomial fits in a Legendre basis, for many datasets at once.

Private helper of :mod:`gradproof.experiments.bias_variance`; it may change.

Why Legendre: on [-1, 1] the Legendre polynomials are orthogonal, so the design matrix of a
degree-20 fit on 30 equispaced points has a condition number near 10², where the monomial
basis x, x², …, x²⁰ has one near 5·10⁷ (and 2·10¹³ at degree 29, against 4·10⁶ for Legendre).  Why an SVD
pseudo-inverse: it is backward stable, and for an underdetermined or rank-deficient fit
(degree + 1 > points) it gives the minimum-norm least-squares solution instead of garbage.
"""

from __future__ import annotations

from typing import Any


def legendre_basis(x: Any, degree: int) -> Any:
    """Columns P_0(x), …, P_degree(x) for x in [-1, 1] (shape ``x.shape + (degree + 1,)``).

    Bonnet's recurrence (k + 1) P_{k+1} = (2k + 1) x P_k − k P_{k−1} is stable on [-1, 1]:
    every |P_k| ≤ 1 there, so no column can overflow.
    """
    import torch

    columns = [torch.ones_like(x)]
    if degree >= 1:
        columns.append(x)
    for k in range(1, degree):
        columns.append(((2 * k + 1) * x * columns[k] - k * columns[k - 1]) / (k + 1))
    return torch.stack(columns, dim=-1)


def least_squares_operator(design: Any) -> tuple[Any, int]:
    """The pseudo-inverse A⁺ of one design matrix ``A`` (points × coefficients) and its rank.

    Every dataset that shares the design has coefficients ``A⁺ y``, so all fits together are one
    matrix product.  Singular values below ``eps · max(shape) · σ_max`` (NumPy's ``lstsq``
    cut-off) are dropped, which makes the solution the minimum-norm one when A is rank deficient.
    """
    import torch

    u, s, vh = torch.linalg.svd(design, full_matrices=False)
    cutoff = torch.finfo(design.dtype).eps * max(design.shape) * s[0]
    keep = s > cutoff
    inv_s = torch.where(keep, 1.0 / torch.where(keep, s, torch.ones_like(s)), torch.zeros_like(s))
    return (vh.mT * inv_s) @ u.mT, int(keep.sum())
