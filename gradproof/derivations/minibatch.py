"""Minibatches: the variance of a minibatch gradient under sampling with and without
replacement, and how many iterations make an epoch.

The variance is derived with the minibatch expectation of :mod:`gradproof.derivations.sampling`
(the counts K_a of each sample in the batch and their first two moments under each scheme) and
checked numerically by enumerating every minibatch of small datasets and by a seeded Monte Carlo.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    IdentityClaim,
    Input,
    Step,
)
from gradproof.derivations.numeric_checks import EqualityCase, MonteCarloCase, NumericExperiment
from gradproof.derivations.sampling import WITH, WITHOUT, K, MinibatchExpect

N = sp.Symbol("N", integer=True, positive=True)  # samples in the dataset
B = sp.Symbol("B", integer=True, positive=True)  # minibatch size
a, b, c = sp.symbols("a b c", integer=True, positive=True)
g = sp.IndexedBase("g", real=True)  # per-sample gradients (one coordinate)
gbar = sp.Symbol(r"\bar{g}", real=True)  # the full-batch gradient
ghat = sp.Symbol(r"\hat{g}", real=True)  # the minibatch gradient
sigma2 = sp.Symbol("sigma^2", real=True)
V_with = sp.Symbol(r"V_{with}", real=True)
V_without = sp.Symbol(r"V_{without}", real=True)


def E(expr: sp.Expr, scheme: sp.Symbol) -> MinibatchExpect:
    return MinibatchExpect(expr, scheme, N, B)


def _batch_holds_B(expr: sp.Expr) -> sp.Expr:
    """Σ_a K_a = B: a minibatch has B samples (counted with multiplicity)."""

    def is_total(e: sp.Basic) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        var, lo, hi = e.limits[0]
        return e.function == K[var] and lo == 1 and hi == N

    return expr.replace(is_total, lambda e: B)


def minibatch_gradient_variance() -> Derivation:
    dev = g[a] - gbar
    dev_b = g[b] - gbar
    binom = sp.binomial
    pair_without = binom(N - 2, B - 2) / binom(N, B)
    single_without = binom(N - 1, B - 1) / binom(N, B)
    pi2 = B * (B - 1) / (N * (N - 1))
    squares = sp.Sum(dev**2, (a, 1, N))
    result_without = sp.Mul(sigma2 / B, (N - B) / (N - 1), evaluate=False)
    result_with = sigma2 / B
    double = sp.Sum(sp.Sum(dev * dev_b * E(K[a] * K[b], WITHOUT), (b, 1, N)), (a, 1, N)) / B**2
    double_with = sp.Sum(sp.Sum(dev * dev_b * E(K[a] * K[b], WITH), (b, 1, N)), (a, 1, N)) / B**2
    return Derivation(
        name="minibatch-gradient-variance",
        title="Variance of a minibatch gradient",
        summary=r"Average the per-sample gradients $g_a$ over a random minibatch of $B$ of the $N$ samples. "
        r"With replacement ($B$ independent draws) the variance of that minibatch gradient around the full "
        r"gradient $\bar{g}$ is $\sigma^2/B$, $\sigma^2$ the variance of the per-sample gradients; without "
        r"replacement ($B$ distinct samples) it is $\frac{\sigma^2}{B} \cdot \frac{N - B}{N - 1}$, smaller, "
        r"and 0 for $B = N$. Larger batches give better gradient estimates, but only as $1/B$: four times "
        "the batch halves the standard deviation.",
        statement=sp.And(sp.Eq(V_without, result_without), sp.Eq(V_with, result_with)),
        steps=(
            Step(E(K[a], WITHOUT), single_without,
                 r"without replacement: sample $a$ is in $\binom{N-1}{B-1}$ of the $\binom{N}{B}$ equally likely minibatches"),
            Step(E(K[a], WITH), B / N, r"with replacement: each of the $B$ draws picks $a$ with probability $1/N$"),
            Step(E(K[a] * K[b], WITHOUT), pair_without + sp.KroneckerDelta(a, b) * (single_without - pair_without),
                 r"$a \ne b$ are both in $\binom{N-2}{B-2}$ minibatches; $K_a^2 = K_a$"),
            Step(E(K[a] * K[b], WITH), B * (B - 1) / N**2 + sp.KroneckerDelta(a, b) * B / N,
                 r"multinomial counts: $B(B-1)$ ordered pairs of draws, each pair $(a, b)$ with probability $1/N^2$; "
                 r"$a = b$ adds the $B$ single draws"),
            Step(E(ghat, WITHOUT), gbar, r"linearity and $E[K_a] = B/N$: the minibatch gradient is unbiased (both schemes)"),
            Step(ghat - gbar, sp.Sum(K[a] * dev, (a, 1, N)) / B, r"$\sum_a K_a = B$: the batch has $B$ samples"),
            Step(V_without, double, "square the sum (a double sum over $a, b$) and use linearity of $E$"),
            Step(V_without, ((B / N - pi2) * squares + pi2 * sp.Sum(dev, (a, 1, N)) ** 2) / B**2,
                 r"$E[K_a K_b]$ from step 3: $\delta_{ab}$ keeps $a = b$ in the first sum"),
            Step(sp.Sum(dev, (a, 1, N)), 0, r"the deviations from the mean $\bar{g}$ sum to 0"),
            Step(V_without, (B / N - pi2) * N * sigma2 / B**2, r"definition of $\sigma^2$"),
            Step(V_without, result_without, r"$\frac{1}{B}\left(1 - \frac{B-1}{N-1}\right) = \frac{N-B}{B(N-1)}$"),
            Step(V_with, double_with, "the same square, with the counts of sampling with replacement"),
            Step(V_with, (B / N) * N * sigma2 / B**2, r"$E[K_a K_b]$ from step 4: the constant part meets "
                 r"$(\sum_a (g_a - \bar{g}))^2 = 0$"),
            Step(V_with, result_with, "cancel $N$ and $B$"),
        ),
        inputs=(
            Input(g, (N,), "real", "g_a: one coordinate of the gradient of sample a's loss"),
            Input(B, (), "count", "the minibatch size B (at most N)"),
        ),
        definitions=(
            Definition(V_without, (), E((ghat - gbar) ** 2, WITHOUT),
                       r"V_{without} = E[(\hat{g} - \bar{g})^2], B distinct samples"),
            Definition(V_with, (), E((ghat - gbar) ** 2, WITH), r"V_{with} = E[(\hat{g} - \bar{g})^2], B independent draws"),
            Definition(ghat, (), sp.Sum(K[a] * g[a], (a, 1, N)) / B,
                       r"\hat{g} = \frac{1}{B} \sum_a K_a g_a, K_a: how often sample a is in the minibatch"),
            Definition(sigma2, (), sp.Sum((g[c] - gbar) ** 2, (c, 1, N)) / N,
                       r"\sigma^2 = \frac{1}{N} \sum_a (g_a - \bar{g})^2"),
            Definition(gbar, (), sp.Sum(g[c], (c, 1, N)) / N, r"\bar{g} = \frac{1}{N} \sum_a g_a, the full gradient"),
        ),
        assumptions=(
            Assumption("each minibatch is drawn afresh: B distinct samples, every subset equally likely "
                       "(without replacement), or B independent uniform draws (with replacement)",
                       rewrite=_batch_holds_B),
            Assumption("N ≥ 2 and 1 ≤ B ≤ N"),
        ),
        index_ranges={a: N, b: N, c: N},
        sizes={N: 5},
        min_sizes={N: 2},
        claims=(
            IdentityClaim(V_without, V_with * (N - B) / (N - 1), label="V_without = V_with (N − B)/(N − 1)"),
        ),
        result=(result_without, ()),
        example_specs=(
            ExampleSpec("Six samples with gradients 1..6, batches of B = 2",
                        {"g": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "B": 2},
                        (("ḡ", gbar, ()), ("σ²", sigma2, ()), ("with replacement σ²/B", V_with, ()),
                         ("without replacement σ²/B·(N − B)/(N − 1)", V_without, ()))),
            ExampleSpec("The whole dataset as one batch (B = N = 6)", {"g": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "B": 6},
                        (("with replacement σ²/B", result_with, ()), ("without replacement", result_without, ()))),
        ),
        notes=(
            "For a gradient vector the same holds coordinate by coordinate, and E‖ĝ − ḡ‖² is σ²/B (times "
            "(N − B)/(N − 1)) with σ² the summed variances of the coordinates.",
            "E is over the minibatch only, an extension of the model: the counts K_a and their first two "
            "moments under each scheme (steps 1–4). The numeric witnesses enumerate every minibatch of small "
            "datasets exactly and run a seeded Monte Carlo on larger ones.",
        ),
        numeric_checks=(VARIANCE_ENUMERATION, VARIANCE_MONTE_CARLO),
        symbols=((g, "per-sample gradients"), (gbar, "full gradient"), (ghat, "minibatch gradient"),
                 (K, "K_a: how many times sample a is in the minibatch"), (sigma2, "variance of the g_a"),
                 (N, "number of samples"), (B, "minibatch size")),
    )


def formula_variance(g_values: np.ndarray, B_: int, replace: bool) -> float:
    """σ²/B, times (N − B)/(N − 1) without replacement (the derived result)."""
    n_ = len(g_values)
    s2 = float(np.mean((g_values - g_values.mean()) ** 2))
    return s2 / B_ if replace else s2 / B_ * (n_ - B_) / (n_ - 1)


def enumerated_variance(g_values: np.ndarray, B_: int, replace: bool) -> float:
    """The exact variance of the minibatch mean, by listing every minibatch (every ordered
    sequence of B draws with replacement; every B-subset without)."""
    n_ = len(g_values)
    batches = itertools.product(range(n_), repeat=B_) if replace else itertools.combinations(range(n_), B_)
    means = g_values[np.array(list(batches), dtype=np.intp).reshape(-1, B_)].mean(axis=1)
    return float(np.mean((means - g_values.mean()) ** 2))


def minibatch_squared_errors(g_values: np.ndarray, B_: int, replace: bool, draws: int, rng) -> np.ndarray:
    """(ĝ − ḡ)² for ``draws`` random minibatches: their mean estimates the variance."""
    n_ = len(g_values)
    if replace:
        idx = rng.integers(0, n_, size=(draws, B_))
    else:
        # the B smallest of N uniform keys are a uniformly random B-subset; argpartition finds the
        # same subset argsort would, in linear time (the mean does not depend on their order)
        idx = np.argpartition(rng.random((draws, n_)), B_ - 1, axis=1)[:, :B_]
    return (g_values[idx].mean(axis=1) - g_values.mean()) ** 2


def monte_carlo_variance(g_values: np.ndarray, B_: int, replace: bool, draws: int, rng) -> tuple[float, float]:
    """(mean of (ĝ − ḡ)² over ``draws`` random minibatches, its standard error)."""
    sq = minibatch_squared_errors(g_values, B_, replace, draws, rng)
    return float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(draws))


ENUMERATED = ((4, 1), (5, 2), (6, 3), (6, 6), (7, 4))  # (N, B): every minibatch listed
SAMPLED = ((50, 8), (200, 32), (1000, 500))  # (N, B): random minibatches
MC_DRAWS = 20000


def _scheme(replace: bool) -> str:
    return "with replacement" if replace else "without replacement"


def enumeration_cases(seed: int = 0) -> list[EqualityCase]:
    rng = np.random.default_rng(seed + 7919)
    cases = []
    for n_, B_ in ENUMERATED:
        values = rng.normal(size=n_)
        for replace in (True, False):
            cases.append(EqualityCase(f"N={n_}, B={B_}, {_scheme(replace)}",
                                      np.array(formula_variance(values, B_, replace)),
                                      np.array(enumerated_variance(values, B_, replace))))
    return cases


def monte_carlo_cases(seed: int = 0) -> list[MonteCarloCase]:
    rng = np.random.default_rng(seed + 7907)
    cases = []
    for n_, B_ in SAMPLED:
        values = rng.standard_t(5, size=n_)  # heavy-ish tails: a harder test than a Gaussian
        for replace in (True, False):
            cases.append(MonteCarloCase(f"N={n_}, B={B_}, {_scheme(replace)}",
                                        np.array(formula_variance(values, B_, replace)),
                                        minibatch_squared_errors(values, B_, replace, MC_DRAWS, rng)))
    return cases


VARIANCE_ENUMERATION = NumericExperiment(
    "the variance over every minibatch, listed, against the derived formulas ("
    + "; ".join(f"N={a_}, B={b_}" for a_, b_ in ENUMERATED) + "; both schemes)",
    enumeration_cases,
)
VARIANCE_MONTE_CARLO = NumericExperiment(
    f"mean of (ĝ − ḡ)² over {MC_DRAWS} random minibatches against the derived variance ("
    + "; ".join(f"N={a_}, B={b_}" for a_, b_ in SAMPLED) + "; both schemes)",
    monte_carlo_cases,
)


# ---------------------------------------------------------------------------------------------

Ns = sp.Symbol("N", integer=True, positive=True)  # samples (an input here, not a size)
Bs = sp.Symbol("B", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
# defined symbols carry no sign or integer assumption: that is what the steps prove
T = sp.Symbol("T")  # iterations per epoch
r = sp.Symbol("r")  # samples in the last batch


def iterations_per_epoch() -> Derivation:
    divides = sp.Eq(Ns, m * Bs)
    return Derivation(
        name="iterations-per-epoch",
        title="Iterations per epoch and the last batch",
        summary=r"An epoch passes every one of $N$ samples once, in batches of $B$. It takes "
        r"$T = \lceil N/B\rceil$ iterations: $T$ batches of $B$ hold all $N$ samples, $T - 1$ do not. The "
        r"first $T - 1$ batches are full and the last holds $r = N - B(T - 1)$ samples, between 1 and $B$; "
        r"it is full exactly when $B$ divides $N$.",
        statement=sp.And(sp.Le(Ns, Bs * T), sp.Lt(Bs * (T - 1), Ns), sp.Ge(r, 1), sp.Le(r, Bs)),
        steps=(
            Step(Ns, Bs * T, r"$\lceil x\rceil \ge x$: $T$ batches of $B$ hold all $N$ samples", "<="),
            Step(Bs * (T - 1), Ns, r"$\lceil x\rceil - 1 < x$: $T - 1$ batches do not, so $T$ is the least number", "<"),
            Step(Bs * (T - 1) + r, Ns, "the last batch takes what the $T - 1$ full ones leave"),
            Step(r, 1, r"step 2: $r = N - B(T-1) > 0$, and $r$ is a whole number", ">="),
            Step(r, Bs, r"step 1: $B - r = BT - N \ge 0$", "<="),
            Step(divides, sp.Eq(T, m), r"substitute $N = mB$: $\lceil m\rceil = m$", "=>"),
            Step(divides, sp.Eq(r, Bs), r"substitute $N = mB$: the last batch is full", "=>"),
        ),
        inputs=(Input(Ns, (), "count", "N: samples in the training set"), Input(Bs, (), "count", "B: batch size")),
        definitions=(
            Definition(T, (), sp.ceiling(Ns / Bs), r"T = \lceil N/B\rceil, iterations per epoch"),
            Definition(r, (), Ns - Bs * (sp.ceiling(Ns / Bs) - 1), r"r = N - B(T - 1), samples in the last batch"),
        ),
        assumptions=(Assumption("batches are consecutive and hold B samples, except possibly the last"),),
        claims=(
            IdentityClaim(T, sp.ceiling(Ns / Bs), label="T = ceil(N/B)"),
            IdentityClaim(Bs * (T - 1) + r, Ns, label="(T − 1)B + r = N"),
        ),
        result=(T, ()),
        example_specs=(
            ExampleSpec("N = 1,000 samples, batches of 32", {"N": 1000, "B": 32},
                        (("iterations T = ceil(N/B)", T, ()), ("last batch r", r, ()))),
            ExampleSpec("MNIST: N = 60,000, batches of 128", {"N": 60000, "B": 128},
                        (("iterations T", T, ()), ("last batch r", r, ()))),
            ExampleSpec("B divides N: N = 1,024, batches of 32", {"N": 1024, "B": 32},
                        (("iterations T", T, ()), ("last batch r", r, ()))),
            ExampleSpec("Stochastic gradient descent: B = 1", {"N": 1000, "B": 1},
                        (("iterations T", T, ()), ("last batch r", r, ()))),
        ),
        notes=("A numeric witness splits range(N) into batches for every N ≤ 300 and B ≤ 64 and compares "
               "the number of batches and the last one's size with the derived T and r.",),
        numeric_checks=(EPOCH_SPLITS,),
        symbols=((Ns, "samples"), (Bs, "batch size"), (T, "iterations per epoch"), (r, "last batch size"),
                 (m, "N/B when B divides N")),
    )


def split_into_batches(n_samples: int, batch: int) -> list[range]:
    """Consecutive batches of ``batch`` indices covering range(n_samples), as a data loader does."""
    return [range(s, min(s + batch, n_samples)) for s in range(0, n_samples, batch)]


def epoch_cases(seed: int = 0, max_samples: int = 300, max_batch: int = 64) -> list[EqualityCase]:
    """The derived T and r, compiled from the derivation's own expressions, against an actual
    split of range(N) into batches, for every N ≤ ``max_samples`` and B ≤ ``max_batch``."""
    d = iterations_per_epoch()
    n_grid, b_grid = np.meshgrid(np.arange(1, max_samples + 1), np.arange(1, max_batch + 1), indexing="ij")
    derived = {name: np.asarray(sp.lambdify((Ns, Bs), d.expand_definitions(sym), "numpy")(n_grid, b_grid), float)
               for name, sym in (("T", T), ("r", r))}
    splits = [[split_into_batches(int(n_), int(b_)) for n_, b_ in zip(nr, br)] for nr, br in zip(n_grid, b_grid)]
    counted = np.array([[len(s_) for s_ in row] for row in splits], dtype=float)
    last_sizes = np.array([[len(s_[-1]) for s_ in row] for row in splits], dtype=float)
    where = f"N = 1..{max_samples}, B = 1..{max_batch}"
    return [EqualityCase(f"{where}: iterations T", derived["T"], counted),
            EqualityCase(f"{where}: last batch r", derived["r"], last_sizes)]


EPOCH_SPLITS = NumericExperiment("T and r against range(N) split into batches of B, every N ≤ 300, B ≤ 64", epoch_cases)


def build() -> list[Derivation]:
    return [minibatch_gradient_variance(), iterations_per_epoch()]

