"""One noisy training set from the bias–variance experiment's polynomial, fitted at several
degrees: the lecture's picture of underfitting (degree 1), a good fit (4) and overfitting (20).

The data, the fit (least squares in the Legendre basis through an SVD pseudo-inverse) and the
test points are those of :func:`gradproof.experiments.bias_variance.bias_variance_experiment`;
here one dataset is kept whole so its curves can be drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradproof.experiments.bias_variance import true_function

__all__ = ["PolynomialFits", "polynomial_fits"]


@dataclass(frozen=True)
class PolynomialFits:
    x_train: np.ndarray
    y_train: np.ndarray
    grid: np.ndarray  #: where the curves are drawn
    truth: np.ndarray  #: f on the grid
    curves: dict  #: degree -> fitted polynomial on the grid
    train_error: dict  #: degree -> mean squared error on the training points
    test_error: dict  #: degree -> mean squared error against fresh noisy targets
    noise_std: float
    seed: int


def polynomial_fits(
    degrees: tuple[int, ...] = (1, 4, 20),
    *,
    n_train: int = 30,
    noise_std: float = 0.3,
    seed: int = 0,
    n_grid: int = 241,
    n_test: int = 200,
) -> PolynomialFits:
    """Fit one seeded training set of ``n_train`` equispaced points on [−1, 1] at each degree."""
    import torch

    from gradproof.experiments._polyfit import least_squares_operator, legendre_basis

    gen = torch.Generator().manual_seed(seed)
    dtype = torch.float64
    x_train = torch.linspace(-1.0, 1.0, n_train, dtype=dtype)
    y_train = true_function(x_train) + noise_std * torch.randn(n_train, generator=gen, dtype=dtype)
    x_test = -1.0 + (torch.arange(n_test, dtype=dtype) + 0.5) * (2.0 / n_test)
    y_test = true_function(x_test) + noise_std * torch.randn(n_test, generator=gen, dtype=dtype)
    grid = torch.linspace(-1.0, 1.0, n_grid, dtype=dtype)
    top = max(degrees)
    basis = {name: legendre_basis(x, top) for name, x in (("train", x_train), ("test", x_test), ("grid", grid))}
    curves, train_error, test_error = {}, {}, {}
    for degree in degrees:
        pinv, _ = least_squares_operator(basis["train"][:, : degree + 1])
        coef = pinv @ y_train
        curves[degree] = (basis["grid"][:, : degree + 1] @ coef).numpy()
        train_error[degree] = float(((basis["train"][:, : degree + 1] @ coef - y_train) ** 2).mean())
        test_error[degree] = float(((basis["test"][:, : degree + 1] @ coef - y_test) ** 2).mean())
    return PolynomialFits(
        x_train.numpy(), y_train.numpy(), grid.numpy(), true_function(grid).numpy(), curves,
        train_error, test_error, noise_std, seed,
    )  # fmt: skip
