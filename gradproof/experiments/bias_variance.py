"""The bias–variance decomposition, measured: polynomial fits to many noisy datasets.

The lecture (``y = f(x) + ε``, ``E[ε] = 0``, ``Var ε = σ²``, ε independent of the training set D)
states ``E_D,ε[(y − M(x; D))²] = (E_D[M] − f)² + E_D[(M − E_D[M])²] + σ²``.  This module fits
polynomials of several degrees to ``n_datasets`` independent noisy training sets and measures
every term, the left-hand side *directly* against fresh noisy targets, so a reader sees the
identity hold within Monte Carlo error and sees the lecture's picture: degree 1 underfits (high
bias²), degree 4 fits well, degree 20 overfits (high variance).

>>> r = bias_variance_experiment(n_datasets=200, device="cpu")
>>> [row.degree for row in r.rows]
[1, 4, 20]
>>> r.rows[1].expected_error < min(r.rows[0].expected_error, r.rows[2].expected_error)
True
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from gradproof.errors import GradproofError, InputError

__all__ = ["BiasVarianceResult", "BiasVarianceRow", "bias_variance_experiment", "true_function"]

#: The true function, written out for tables and JSON.
TRUE_FUNCTION = "f(x) = 4x^4 - 4x^2 + x on [-1, 1]"

#: The highest polynomial degree accepted (the basis is built column by column: ~0.1 ms each).
MAX_DEGREE = 10_000

# How many standard errors the measured gap may be before `.ok` says the identity failed.
_Z_LIMIT = 4.0


def true_function(x: Any) -> Any:
    """f(x) = 4x⁴ − 4x² + x on [−1, 1]: the polynomial every dataset is drawn from.

    Why this one: the lecture models the data as a polynomial of unknown order M plus noise, and
    shows fits of degree 1, 4 and 20.  A quartic makes degree 4 the right model (bias² = 0), its
    W shape leaves a straight line a large bias² (≈ 0.12, more than σ² = 0.09 at the default
    noise), and its values stay in [−1, 1], the same scale as the noise.
    """
    return 4 * x**4 - 4 * x**2 + x


@dataclass(frozen=True)
class BiasVarianceRow:
    """The measured terms for one polynomial degree (all are means over the test points)."""

    degree: int
    bias2: float  #: mean over test x of (mean over datasets of M(x) − f(x))²
    variance: float  #: mean over test x and datasets of (M(x) − mean over datasets of M(x))²
    noise: float  #: σ², the known noise variance of the experiment (not estimated)
    expected_error: float  #: mean of (y − M(x))² with fresh y = f(x) + ε, measured directly
    stderr: float  #: Monte Carlo standard error of `gap`
    train_error: float  #: mean squared error on the training sets themselves

    @property
    def gap(self) -> float:
        """expected_error − (bias2 + variance + noise): zero up to Monte Carlo error."""
        return self.expected_error - (self.bias2 + self.variance + self.noise)

    @property
    def ok(self) -> bool:
        """Whether |gap| is within 4 standard errors (plus float64 round-off)."""
        return abs(self.gap) <= _Z_LIMIT * self.stderr + 1e-12 * max(1.0, self.expected_error)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gap": self.gap, "ok": self.ok}


@dataclass(frozen=True)
class BiasVarianceResult:
    """Rows (one per degree) and the settings that produced them; ``str()`` is a table."""

    rows: tuple[BiasVarianceRow, ...]
    n_datasets: int
    n_train: int
    n_test: int
    noise_std: float
    seed: int
    device: str
    true_function: str = TRUE_FUNCTION
    seconds: float = field(default=0.0, compare=False)

    @property
    def degrees(self) -> tuple[int, ...]:
        return tuple(row.degree for row in self.rows)

    @property
    def ok(self) -> bool:
        """Whether every row's measured error matches bias² + variance + σ² within 4 stderr."""
        return all(row.ok for row in self.rows)

    def row(self, degree: int) -> BiasVarianceRow:
        for row in self.rows:
            if row.degree == degree:
                return row
        raise InputError(f"degree {degree!r} is not in this result (degrees: {list(self.degrees)})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "true_function": self.true_function,
            "n_datasets": self.n_datasets,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "noise_std": self.noise_std,
            "seed": self.seed,
            "device": self.device,
            "seconds": self.seconds,
            "ok": self.ok,
            "rows": [row.to_dict() for row in self.rows],
        }

    def __str__(self) -> str:
        head = (
            f"Bias-variance experiment: {self.true_function}, noise sigma = {self.noise_std:g}\n"
            f"{self.n_datasets} datasets x {self.n_train} equispaced training points, "
            f"{self.n_test} test points, seed {self.seed}, {self.device}, {self.seconds:.2f} s\n"
        )
        columns = ("degree", "bias^2", "variance", "sigma^2", "sum", "measured", "gap", "stderr", "train")
        lines = ["  ".join(f"{c:>10}" for c in columns)]
        for r in self.rows:
            values = (r.bias2, r.variance, r.noise, r.bias2 + r.variance + r.noise, r.expected_error)
            cells = [f"{r.degree:>10d}", *(_num(v) for v in values)]
            gap = f"{r.gap:>+10.5f}" if abs(r.gap) < 1e4 else f"{r.gap:>+10.3e}"
            cells += [gap, _num(r.stderr), _num(r.train_error)]
            lines.append("  ".join(cells))
        foot = (
            "sum = bias^2 + variance + sigma^2; measured = MSE against fresh noisy targets; "
            f"gap = measured - sum ({'within' if self.ok else 'NOT within'} {_Z_LIMIT:g} stderr)"
        )
        return head + "\n".join(lines) + "\n" + foot


    # -- notebooks: the verdict first, then one row per degree ------------------------------------

    _HEADERS = ("degree", "bias²", "variance", "σ²", "sum", "measured", "gap", "stderr", "train error", "within 4 stderr")

    def _verdict(self) -> str:
        state = "holds" if self.ok else "does NOT hold"
        return (
            f"bias² + variance + σ² = measured error {state} within {_Z_LIMIT:g} standard errors for every degree "
            f"({self.n_datasets} datasets × {self.n_train} points, σ = {self.noise_std:g}, seed {self.seed}, "
            f"{self.device})"
            if self.ok
            else f"bias² + variance + σ² = measured error does NOT hold within {_Z_LIMIT:g} standard errors for "
            f"degree(s) {', '.join(str(r.degree) for r in self.rows if not r.ok)} ({self.n_datasets} datasets, "
            f"seed {self.seed}, {self.device})"
        )

    def _table_rows(self) -> list[list[str]]:
        return [
            [str(r.degree), *(f"{v:.5g}" for v in (r.bias2, r.variance, r.noise, r.bias2 + r.variance + r.noise,
                                                   r.expected_error)),
             f"{r.gap:+.2g}", f"{r.stderr:.2g}", f"{r.train_error:.5g}", "yes" if r.ok else "NO"]
            for r in self.rows
        ]

    def _repr_markdown_(self) -> str:
        from gradproof.display import markdown_table, md_escape

        return (f"**{md_escape(self._verdict())}**\n\n" + markdown_table(self._HEADERS, self._table_rows())
                + f"\n\nTrue function {md_escape(self.true_function)}.\n")

    def _repr_html_(self) -> str:
        from gradproof.display import html_table

        return html_table(self._HEADERS, self._table_rows(), verdict=self._verdict(), ok=self.ok,
                          numeric=tuple(range(9)))


def _num(value: float) -> str:
    """Fixed point while it fits a column, scientific beyond (degree 25+ variances are huge)."""
    return f"{value:>10.5f}" if abs(value) < 1e4 else f"{value:>10.3e}"


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"bias_variance_experiment: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"bias_variance_experiment: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def _check_degrees(degrees: Any) -> tuple[int, ...]:
    if isinstance(degrees, numbers.Integral) and not isinstance(degrees, bool):
        degrees = (degrees,)
    if isinstance(degrees, (str, bytes)) or not isinstance(degrees, Iterable):
        raise InputError(f"bias_variance_experiment: degrees must be a sequence of integers, got {degrees!r}")
    checked = tuple(_check_int(f"degrees[{i}]", d, 0) for i, d in enumerate(degrees))
    too_high = [d for d in checked if d > MAX_DEGREE]
    if too_high:
        raise InputError(
            f"bias_variance_experiment: degree {too_high[0]} is above the limit {MAX_DEGREE:,} (its Legendre basis "
            f"alone would be {too_high[0] + 1:,} columns built one by one: seconds to minutes and about "
            f"{memory_needed(2, 30, 200, too_high[0]) / 2**30:.1f} GiB); use degrees up to {MAX_DEGREE:,}"
        )
    if not checked:
        raise InputError("bias_variance_experiment: degrees is empty; give at least one degree")
    if len(set(checked)) != len(checked):
        raise InputError(f"bias_variance_experiment: degrees has duplicates: {list(checked)}")
    return checked


def _check_noise(noise_std: Any) -> float:
    if isinstance(noise_std, bool) or not isinstance(noise_std, numbers.Real):
        raise InputError(f"bias_variance_experiment: noise_std must be a number, got {noise_std!r}")
    if not math.isfinite(noise_std) or noise_std < 0:
        raise InputError(f"bias_variance_experiment: noise_std must be finite and >= 0, got {noise_std!r}")
    return float(noise_std)


def _available_bytes(dev: Any) -> int | None:
    """Free memory on ``dev`` (CUDA: free device memory; CPU: MemAvailable), None if unknown."""
    try:
        if dev.type == "cuda":
            import torch

            return int(torch.cuda.mem_get_info(dev)[0])
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, RuntimeError):
        pass
    return None


def memory_needed(n_datasets: int, n_train: int, n_test: int, top_degree: int) -> int:
    """Bytes the experiment holds at its peak, estimated from its arrays (all float64)."""
    columns = top_degree + 1
    # per dataset: train noise, targets and fit (3 × n_train); test noise, targets, predictions,
    # squared errors and a temporary (5 × n_test); coefficients; a CPU copy of the noise
    data = 8 * n_datasets * (3 * n_train + 5 * n_test + columns)
    # the Legendre bases at the training and test points: a list of columns and the stacked matrix
    # (twice the values) plus each column tensor's own overhead (~0.5 kB)
    basis = 2 * 8 * (n_train + n_test) * columns + 2 * 512 * columns
    # the SVD of the design (U, Σ, Vᵀ, LAPACK workspace) and the pseudo-inverse
    svd = 3 * 8 * columns * min(n_train, columns)
    return data + basis + svd


def _check_memory(n_datasets: int, n_train: int, n_test: int, top_degree: int, dev: Any) -> None:
    """Refuse sizes whose float64 arrays cannot fit, instead of swapping for minutes or being
    killed by the out-of-memory killer without a word."""
    needed = memory_needed(n_datasets, n_train, n_test, top_degree)
    available = _available_bytes(dev)
    if available is not None and needed > 0.8 * available:
        raise InputError(
            f"bias_variance_experiment: {n_datasets} datasets x ({n_train} training + {n_test} test) points "
            f"at degree up to {top_degree} need about {needed / 2**30:.1f} GiB, more than the "
            f"{available / 2**30:.1f} GiB free on {dev.type}; use fewer datasets, points or a lower degree"
        )


def bias_variance_experiment(
    degrees: Iterable[int] = (1, 4, 20),
    n_datasets: int = 2000,
    n_train: int = 30,
    noise_std: float = 0.3,
    seed: int = 0,
    device: Any = "auto",
    n_test: int = 200,
) -> BiasVarianceResult:
    """Fit each degree to ``n_datasets`` noisy training sets and measure the decomposition.

    Setup (all float64, on ``device``; ``"auto"`` uses CUDA when available):

    * training set d: ``y_i = f(x_i) + ε_di`` at ``n_train`` equispaced x_i in [−1, 1], the same
      x for every dataset (a fixed design).  Why fixed: with x drawn afresh per dataset, a
      degree-20 fit on ~30 random points occasionally meets a clump with a condition number
      near 10¹², its variance is heavy-tailed (single datasets reach 10¹⁶), and Monte Carlo
      means never settle.  A shared design also lets one pseudo-inverse fit every dataset in a
      single matrix product — no loop over datasets.
    * fit: least squares in the Legendre basis (well conditioned on [−1, 1]) through an SVD
      pseudo-inverse; a degree with degree + 1 > n_train gets the minimum-norm solution.
    * test: ``n_test`` midpoints of equal cells of [−1, 1]; each dataset gets its own fresh
      targets ``y = f(x) + ε`` there, independent of its training set.  All degrees are scored
      against the same fresh targets (common random numbers: the rows' differences are sharper,
      and their gaps are correlated).
    * degrees 25 and up with n_train = 30 are legitimate but wild: near interpolation on
      equispaced points the variance explodes (Runge), e.g. ≈ 10⁴ at degree 25 and ≈ 3·10⁹ at
      29 — real least-squares behaviour computed in float64, not round-off.
    * ``noise`` is the known σ² = ``noise_std²``, not an estimate.

    The degree-20 default with n_train = 30 is determined (21 coefficients, 30 points) and
    overfits; the measured error is compared to bias² + variance + σ² with a standard error.
    """
    degrees = _check_degrees(degrees)
    n_datasets = _check_int("n_datasets", n_datasets, 2)
    n_train = _check_int("n_train", n_train, 1)
    n_test = _check_int("n_test", n_test, 1)
    seed = _check_int("seed", seed, 0)
    noise_std = _check_noise(noise_std)

    import torch

    from gradproof.experiments._polyfit import least_squares_operator, legendre_basis
    from gradproof.verify.device import describe_device, resolve_device

    dev = resolve_device(device)
    _check_memory(n_datasets, n_train, n_test, max(degrees), dev)
    start = time.perf_counter()
    dtype = torch.float64
    # Draw on a CPU generator, then move: the same seed gives the same data on every device.
    gen = torch.Generator().manual_seed(seed)
    train_noise = torch.randn(n_datasets, n_train, generator=gen, dtype=dtype) * noise_std
    test_noise = torch.randn(n_datasets, n_test, generator=gen, dtype=dtype) * noise_std
    train_noise, test_noise = train_noise.to(dev), test_noise.to(dev)

    x_train = torch.linspace(-1.0, 1.0, n_train, dtype=dtype, device=dev)
    x_test = -1.0 + (torch.arange(n_test, dtype=dtype, device=dev) + 0.5) * (2.0 / n_test)
    f_train, f_test = true_function(x_train), true_function(x_test)
    y_train = f_train + train_noise  # (datasets, n_train)
    y_test = f_test + test_noise  # (datasets, n_test), fresh noise: independent of y_train

    top = max(degrees)
    basis_train = legendre_basis(x_train, top)
    basis_test = legendre_basis(x_test, top)
    sigma2 = noise_std**2

    rows = []
    for degree in degrees:  # a handful of degrees; every dataset is fitted at once below
        pinv, _rank = least_squares_operator(basis_train[:, : degree + 1])
        coef = y_train @ pinv.mT  # (datasets, degree + 1): all fits in one product
        pred = coef @ basis_test[:, : degree + 1].mT  # M(x; D) at the test points
        fit = coef @ basis_train[:, : degree + 1].mT

        mean_pred = pred.mean(dim=0)  # E_D[M(x)] estimated over the datasets
        bias2 = ((mean_pred - f_test) ** 2).mean()
        variance = ((pred - mean_pred) ** 2).mean()
        sq_err = (y_test - pred) ** 2
        expected_error = sq_err.mean()
        train_error = ((y_train - fit) ** 2).mean()

        # The standard error of the gap.  With the plug-in (1/n_datasets) averages above,
        #     bias2 + variance = mean_d mean_x (M_d(x) − f(x))²
        # exactly, so gap = mean_d g_d with the per-dataset residual
        #     g_d = mean_x [(y_d(x) − M_d(x))² − (M_d(x) − f(x))²] − σ²
        #         = mean_x [ε_d(x)² − σ² + 2 ε_d(x) (f(x) − M_d(x))].
        # Datasets are independent and identically distributed (own training noise, own fresh
        # test noise; design and test grid fixed), and E[g_d] = 0 because the fresh ε is
        # independent of M_d — that is the identity.  So the gap is a mean of iid terms and its
        # standard error is sd(g_d) / sqrt(n_datasets); no delta method is needed.  (Each
        # plug-in term alone is slightly off — bias2 high and variance low by variance/n_datasets
        # — but their sum is unbiased, which is what the identity is about.)
        g = (sq_err - (pred - f_test) ** 2).mean(dim=1) - sigma2
        stderr = g.std(unbiased=True) / math.sqrt(n_datasets)

        values = torch.stack([bias2, variance, expected_error, stderr, train_error]).cpu()
        if not bool(torch.isfinite(values).all()):
            raise GradproofError(
                f"bias_variance_experiment: degree {degree} gave non-finite results "
                f"(bias2, variance, error, stderr, train = {values.tolist()}) with n_train={n_train}, "
                f"noise_std={noise_std}; the fit is numerically broken — lower the degree"
            )
        b2, var, err, se, tr = (float(v) for v in values)
        rows.append(BiasVarianceRow(degree, b2, var, sigma2, err, se, tr))

    return BiasVarianceResult(
        rows=tuple(rows),
        n_datasets=n_datasets,
        n_train=n_train,
        n_test=n_test,
        noise_std=noise_std,
        seed=seed,
        device=describe_device(dev),
        seconds=time.perf_counter() - start,
    )
