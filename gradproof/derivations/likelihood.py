"""Why the classification losses are what they are: cross-entropy with one-hot labels is the
negative log-likelihood of a categorical model, binary cross-entropy that of a Bernoulli model.

In both, the likelihood of N independent samples is P = e^{−N L} with L the mean loss; since
t ↦ e^{−N t} is strictly decreasing, the parameters that minimise L are exactly those that
maximise P.
"""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import LOG_OF_PRODUCT, StableMax
from gradproof.derivations.logistic import stable_bce, stable_sigmoid
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    GradientClaim,
    IdentityClaim,
    Input,
    Step,
)

D = sp.Derivative
N = sp.Symbol("N", integer=True, positive=True)  # samples
C = sp.Symbol("C", integer=True, positive=True)  # classes
a, c, e = sp.symbols("a c e", integer=True, positive=True)
g, h = sp.symbols("g h", integer=True, positive=True)  # the entry Z_gh of a derivative
Z = sp.IndexedBase("Z", real=True)
Y = sp.IndexedBase("Y", nonnegative=True)
Yhat = sp.IndexedBase(r"\hat{Y}", positive=True)
P = sp.Symbol("P", positive=True)  # the likelihood P(Y | X)
L = sp.Symbol("L", real=True)  # the mean loss
t = sp.Symbol("t", real=True)  # a value of the mean loss
SLOPE_REASON = (
    r"the likelihood $e^{-N t}$ falls strictly as the mean loss $t$ grows: minimising $L$ and "
    r"maximising $P$ pick the same parameters"
)


def _row_lse(sizes: dict, row: sp.Expr) -> sp.Expr:
    # log Σ_e e^{Z_ae}, with the row maximum subtracted (softmax-shift-invariance)
    width = int(sizes[C])
    m = StableMax(*[Z[row, k] for k in range(1, width + 1)])
    return m + sp.log(sp.Add(*[sp.exp(Z[row, k] - m) for k in range(1, width + 1)]))


def _stable_softmax(sizes: dict, row: sp.Expr, col: sp.Expr) -> sp.Expr:
    return sp.exp(Z[row, col] - _row_lse(sizes, row))


def _stable_log_likelihood(sizes: dict) -> sp.Expr:
    # log P = Σ_a Σ_c Y_ac log Ŷ_ac with log Ŷ_ac = Z_ac − logsumexp(row a): never log 0
    return sp.Add(*[Y[r, k] * (Z[r, k] - _row_lse(sizes, r))
                    for r in range(1, int(sizes[N]) + 1) for k in range(1, int(sizes[C]) + 1)])


def cross_entropy_maximum_likelihood() -> Derivation:
    loglik = sp.Sum(sp.Sum(Y[a, c] * sp.log(Yhat[a, c]), (c, 1, C)), (a, 1, N))
    likelihood = sp.Product(sp.Product(Yhat[a, c] ** Y[a, c], (c, 1, C)), (a, 1, N))
    mean_ce = -loglik / N
    return Derivation(
        name="cross-entropy-maximum-likelihood",
        title="Cross-entropy is a negative log-likelihood",
        summary=r"Read the softmax outputs $\hat{Y}_{ac}$ as the probabilities a categorical model gives the "
        r"classes of sample $a$. With one-hot labels, the probability of sample $a$'s observed class is "
        r"$\prod_c \hat{Y}_{ac}^{Y_{ac}}$, and for $N$ independent samples the likelihood is "
        r"$P = \prod_a \prod_c \hat{Y}_{ac}^{Y_{ac}}$. Its negative log is $N$ times the mean cross-entropy "
        r"$L$, so $P = e^{-N L}$: minimising the cross-entropy is maximising the likelihood of the labels.",
        statement=sp.Eq(-sp.log(P), N * L),
        steps=(
            Step(D(sp.exp(-N * t), t), 0, SLOPE_REASON, "<"),
            Step(sp.log(P), sp.log(likelihood), "definition of the likelihood: independent samples, "
                 r"each with probability $\prod_c \hat{Y}_{ac}^{Y_{ac}}$"),
            Step(sp.log(P), loglik, r"the log of a product of positive factors is the sum of their logs; "
                 r"$\log u^{y} = y \log u$"),
            Step(-sp.log(P), N * L, r"definition of the mean cross-entropy $L$; so $P = e^{-N L}$"),
        ),
        inputs=(
            Input(Z, (N, C), "real", "logits: one row per sample, one column per class"),
            Input(Y, (N, C), "onehot-rows", "labels: one one-hot row per sample"),
        ),
        definitions=(
            Definition(P, (), likelihood, r"P = P(Y \mid X) = \prod_a \prod_c \hat{Y}_{ac}^{Y_{ac}}",
                       numeric=lambda sizes: sp.exp(_stable_log_likelihood(sizes))),
            Definition(L, (), mean_ce, r"L = -\frac{1}{N} \sum_a \sum_c Y_{ac} \log \hat{Y}_{ac}",
                       numeric=lambda sizes: -_stable_log_likelihood(sizes) / sizes[N]),
            Definition(Yhat, (a, c), sp.exp(Z[a, c]) / sp.Sum(sp.exp(Z[a, e]), (e, 1, C)),
                       r"\hat{Y}_{ac} = e^{Z_{ac}} / \sum_e e^{Z_{ae}}", numeric=_stable_softmax),
        ),
        assumptions=(
            Assumption("the samples are independent given their inputs"),
            Assumption(r"one-hot labels: $\prod_c \hat{Y}_{ac}^{Y_{ac}}$ is the probability of sample $a$'s class"),
            LOG_OF_PRODUCT,
        ),
        index_ranges={a: N, c: C, e: C, g: N, h: C},
        sizes={N: 2, C: 3},
        claims=(
            IdentityClaim(-sp.log(P), N * L, label="−log P = N L"),
            GradientClaim(-sp.log(P), Z, Yhat[g, h] - Y[g, h], (), (g, h),
                          "∂(−log P)/∂Z_gh = Ŷ_gh − Y_gh: the same gradient as N L"),
        ),
        result=(-sp.log(P), ()),
        example_specs=(
            ExampleSpec(
                "Three samples, classes cat / chicken / dog; labels cat, chicken, chicken",
                {"Z": [[2.0, 0.5, -1.0], [0.1, 1.9, 0.3], [1.2, 1.0, 0.0]],
                 "Y": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]},
                (("Ŷ (softmax rows)", Yhat[a, c], (a, c)), ("likelihood P", P, ()), ("−log P", -sp.log(P), ()),
                 ("mean cross-entropy L", L, ()), ("N L", N * L, ())),
            ),
        ),
        notes=(r"$Y$ has one one-hot row per sample; with soft label rows, $\prod_c \hat{Y}_{ac}^{Y_{ac}}$ is no "
               r"longer a probability, but $-\log P = N L$ still holds term by term.",),
        symbols=((Z, "logits"), (Y, "one-hot labels"), (Yhat, "softmax of each row"), (P, "likelihood of the labels"),
                 (L, "mean cross-entropy"), (N, "number of samples"), (C, "number of classes")),
    )


z = sp.IndexedBase("z", real=True)
y = sp.IndexedBase("y", nonnegative=True)
p = sp.IndexedBase("p", positive=True)
q = sp.IndexedBase("q", positive=True)
ell = sp.IndexedBase("ell", real=True)


def bce_maximum_likelihood() -> Derivation:
    bernoulli = p[a] ** y[a] * q[a] ** (1 - y[a])
    likelihood = sp.Product(bernoulli, (a, 1, N))
    bce = -(y[a] * sp.log(p[a]) + (1 - y[a]) * sp.log(1 - p[a]))
    return Derivation(
        name="bce-maximum-likelihood",
        title="Binary cross-entropy is a negative log-likelihood",
        summary=r"Let $p = \sigma(z)$ be the probability the model gives label 1. A label $y \in \{0, 1\}$ then "
        r"has probability $p^y (1 - p)^{1-y}$: $p$ for $y = 1$, $1 - p$ for $y = 0$. Its negative log is the "
        r"binary cross-entropy $-[y \log p + (1 - y) \log(1 - p)]$, and for $N$ independent samples "
        r"$-\log P = N L$ with $L$ the mean BCE, so $P = e^{-N L}$: training with BCE maximises the "
        "likelihood of the labels.",
        statement=sp.Eq(-sp.log(P), N * L),
        steps=(
            Step(D(sp.exp(-N * t), t), 0, SLOPE_REASON, "<"),
            Step(bernoulli, y[a] * p[a] + (1 - y[a]) * q[a],
                 r"for $y_a = 1$ the factor is $p_a$, for $y_a = 0$ it is $q_a$: a Bernoulli probability"),
            Step(q[a], 1 - p[a], r"$\sigma(-z) = 1 - \sigma(z)$: the two labels' probabilities sum to 1"),
            Step(-sp.log(bernoulli), ell[a],
                 r"$\log(u^{y} v^{1-y}) = y \log u + (1 - y) \log v$ for $u, v > 0$; $q_a = 1 - p_a$"),
            Step(-sp.log(P), -sp.log(likelihood), "definition: the samples are independent"),
            Step(-sp.log(P), sp.Sum(ell[a], (a, 1, N)), "the log of a product is the sum of the logs"),
            Step(-sp.log(P), N * L, r"definition of the mean loss $L$; so $P = e^{-N L}$"),
        ),
        inputs=(
            Input(z, (N,), "real", "logits z_a, one per sample"),
            Input(y, (N,), "binary", "labels y_a ∈ {0, 1}"),
        ),
        definitions=(
            Definition(P, (), likelihood, r"P = \prod_a p_a^{y_a} q_a^{1 - y_a}",
                       numeric=lambda sizes: sp.exp(-sp.Add(*[stable_bce(z[k], y[k]) for k in range(1, sizes[N] + 1)]))),
            Definition(L, (), sp.Sum(ell[c], (c, 1, N)) / N, r"L = \frac{1}{N} \sum_a \ell_a"),
            Definition(ell, (a,), bce, r"\ell_a = -[y_a \log p_a + (1 - y_a) \log(1 - p_a)]",
                       numeric=lambda sizes, idx: stable_bce(z[idx], y[idx])),
            Definition(p, (a,), 1 / (1 + sp.exp(-z[a])), r"p_a = \sigma(z_a), the probability of label 1",
                       numeric=lambda sizes, idx: stable_sigmoid(z[idx])),
            Definition(q, (a,), 1 / (1 + sp.exp(z[a])), r"q_a = \sigma(-z_a), the probability of label 0",
                       numeric=lambda sizes, idx: stable_sigmoid(-z[idx])),
        ),
        assumptions=(Assumption("the samples are independent given their inputs"), LOG_OF_PRODUCT),
        index_ranges={a: N, c: N},
        sizes={N: 3},
        claims=(
            IdentityClaim(-sp.log(P), N * L, label="−log P = N L"),
            IdentityClaim(bernoulli, y[a] * p[a] + (1 - y[a]) * q[a], (a,), label="p^y q^{1−y} picks p or q"),
            GradientClaim(-sp.log(P), z, p[a] - y[a], (), (a,), "∂(−log P)/∂z_a = p_a − y_a"),
        ),
        result=(-sp.log(P), ()),
        example_specs=(
            ExampleSpec(
                "Three samples: z = (2, −1, 0.5), labels y = (1, 0, 0)",
                {"z": [2.0, -1.0, 0.5], "y": [1.0, 0.0, 0.0]},
                (("p = σ(z)", p[a], (a,)), ("probability of each label p^y (1 − p)^{1−y}", bernoulli, (a,)),
                 ("likelihood P", P, ()), ("−log P", -sp.log(P), ()), ("per-sample BCE ℓ", ell[a], (a,)),
                 ("mean BCE L", L, ()), ("N L", N * L, ())),
            ),
        ),
        notes=(r"$q_a = \sigma(-z_a) = 1 - p_a$ is written as its own symbol so that its positivity is visible: "
               "the log of a product splits only over positive factors.",),
        symbols=((z, "logits"), (y, "labels"), (p, "probability of label 1"), (q, "probability of label 0"),
                 (ell, "per-sample BCE"), (L, "mean BCE"), (P, "likelihood"), (N, "number of samples")),
    )


def build() -> list[Derivation]:
    return [cross_entropy_maximum_likelihood(), bce_maximum_likelihood()]
