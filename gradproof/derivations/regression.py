"""Regression gradients: least squares (and the perceptron update it gives), softmax regression.

Layout convention (denominator layout): ∂L/∂W has the shape of W.  Batches hold one sample per
row (X is N × d).  Everything is derived in index form for symbolic N, d, C: SymPy's matrix
calculus silently returns 0 for the softmax-regression loss (see NOTES.md).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from gradproof.derivations.common import StableMax
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    GradientClaim,
    Input,
    Step,
)
from gradproof.derivations.numeric_checks import EqualityCase, NumericExperiment

D = sp.Derivative
N = sp.Symbol("N", integer=True, positive=True)  # batch size
d = sp.Symbol("d", integer=True, positive=True)  # features
C = sp.Symbol("C", integer=True, positive=True)  # classes
a, c, e = sp.symbols("a c e", integer=True, positive=True)  # samples, classes
k, l, m, q = sp.symbols("k l m q", integer=True, positive=True)  # features

X = sp.IndexedBase("X", real=True)
w = sp.IndexedBase("w", real=True)
y = sp.IndexedBase("y", real=True)
yhat = sp.IndexedBase(r"\hat{y}", real=True)
ell = sp.IndexedBase("ell", real=True)
L = sp.Symbol("L", real=True)
eta = sp.Symbol("eta", positive=True)


def linear_regression_gradient() -> Derivation:
    dl = D(ell[a], w[k])
    dL = D(L, w[k])
    resid = sp.Add(yhat[a], -y[a], evaluate=False)
    grad = sp.Mul(resid, X[a, k], evaluate=False)
    stepped = w[l] + eta * (y[a] - yhat[a]) * X[a, l]  # w_l after one step on sample a
    loss_after = (sp.Sum(stepped * X[a, l], (l, 1, d)) - y[a]) ** 2 / 2
    batch = sp.Mul(sp.Sum(sp.Mul(X[a, k], resid, evaluate=False), (a, 1, N)), 1 / N, evaluate=False)
    return Derivation(
        name="linear-regression-gradient",
        title="Gradient of the squared error of a linear model",
        summary=r"For $\hat{y} = w^\top x$ and $\ell = \frac{1}{2}(\hat{y} - y)^2$, "
        r"$\frac{\partial \ell}{\partial w} = (\hat{y} - y)x$. A gradient-descent step with this gradient is "
        r"the perceptron-style update $w \leftarrow w + \eta(y - \hat{y})x$, and the mean loss over a batch "
        r"$X$ (one sample per row) has gradient $X^\top(\hat{y} - y)/N$.",
        statement=sp.Eq(dL, batch),
        steps=(
            Step(dl, sp.Mul(resid, D(yhat[a], w[k]), evaluate=False), r"chain rule: $\frac{d}{du} \frac{1}{2}u^2 = u$"),
            Step(dl, grad, r"$\frac{\partial \hat{y}_a}{\partial w_k} = X_{ak}$: only the term $l = k$ of $\sum_l w_l X_{al}$ depends on $w_k$"),
            Step(sp.Add(w[k], -eta * dl, evaluate=False),
                 sp.Add(w[k], sp.Mul(eta, sp.Add(y[a], -yhat[a], evaluate=False), X[a, k], evaluate=False),
                        evaluate=False),
                 r"a gradient-descent step of size $\eta$ with the gradient above: the perceptron update"),
            Step(dL, sp.Sum(dl, (a, 1, N)) / N,
                 "linearity: the derivative of the mean is the mean of the derivatives"),
            Step(dL, batch, r"per-sample gradient above; in matrix form $(X^\top(\hat{y} - y))_k / N$"),
        ),
        inputs=(
            Input(X, (N, d), "real", "the batch: one sample per row"),
            Input(y, (N,), "real", "targets"),
            Input(w, (d,), "real", "weights"),
            Input(eta, (), "positive", "learning rate η"),
        ),
        definitions=(
            Definition(L, (), sp.Sum(ell[c], (c, 1, N)) / N, r"L = \frac{1}{N} \sum_a \ell_a"),
            Definition(ell, (a,), (yhat[a] - y[a]) ** 2 / 2, r"\ell_a = \frac{1}{2}(\hat{y}_a - y_a)^2"),
            Definition(yhat, (a,), sp.Sum(w[l] * X[a, l], (l, 1, d)), r"\hat{y}_a = \sum_l w_l X_{al}"),
        ),
        index_ranges={k: d, l: d, a: N, c: N},
        sizes={N: 2, d: 2},
        claims=(
            GradientClaim(ell[a], w, grad, (a,), (k,), "∂ℓ_a/∂w_k = (ŷ_a − y_a) X_ak"),
            GradientClaim(L, w, batch, (), (k,), "∂L/∂w = Xᵀ(ŷ − y)/N"),
        ),
        result=(batch, (k,)),
        example_specs=(
            ExampleSpec("One sample, the world's second smallest perceptron: x = (1, 2), y = 3, "
                        "w = (0.5, 0.5), η = 0.1",
                        {"X": [[1.0, 2.0]], "y": [3.0], "w": [0.5, 0.5], "eta": 0.1},
                        (("ŷ", yhat[a], (a,)), ("ℓ", ell[a], (a,)), ("∂ℓ/∂w_k", grad, (a, k)),
                         ("updated w_k = w_k + η(y − ŷ)x_k", w[k] + eta * (y[a] - yhat[a]) * X[a, k], (a, k)),
                         ("ℓ after the update", loss_after, (a,))),
                        note="one gradient step lowers the loss"),
            ExampleSpec("A batch of N = 3", {"X": [[1.0, 2.0], [0.0, 1.0], [2.0, -1.0]], "y": [3.0, 1.0, 0.0],
                                             "w": [0.5, 0.5], "eta": 0.1},
                        (("ŷ", yhat[a], (a,)), ("L", L, ()), ("∂L/∂w = Xᵀ(ŷ − y)/N", batch, (k,)))),
        ),
        notes=(r"Denominator layout: $\frac{\partial L}{\partial w}$ has the shape of $w$ ($d$ entries).",
               r"The lecture writes the update as $w \leftarrow w + (y - \hat{y})x$, i.e. $\eta = 1$."),
        symbols=((X, "the batch, one sample per row"), (y, "targets"), (w, "weights"), (yhat, "predictions"),
                 (ell, "per-sample loss"), (L, "mean loss"), (eta, "learning rate"), (N, "batch size"),
                 (d, "number of features")),
    )



W = sp.IndexedBase("W", real=True)
bias = sp.IndexedBase("b", real=True)
O = sp.IndexedBase("O", real=True)
P = sp.IndexedBase(r"\hat{Y}", positive=True)
Y = sp.IndexedBase("Y", nonnegative=True)
r = sp.Symbol("r", integer=True, positive=True)  # the class of the weight W_qr
g, h = sp.symbols("g h", integer=True, positive=True)  # the entry Z_gh of the free logits
Z = sp.IndexedBase("Z", real=True)
S = sp.IndexedBase("S", positive=True)
LZ = sp.Symbol("L_Z", real=True)


def _logits(row: sp.Expr, col: sp.Expr) -> sp.Expr:
    return sp.Sum(X[row, m] * W[m, col], (m, 1, d)) + bias[col]


def _row_max(sizes: dict, row: sp.Expr) -> sp.Expr:
    return StableMax(*[_logits(row, cc) for cc in range(1, int(sizes[C]) + 1)])


def _stable_probability(sizes: dict, row: sp.Expr, col: sp.Expr) -> sp.Expr:
    # softmax with the row maximum subtracted (softmax-shift-invariance): no overflow
    mx = _row_max(sizes, row)
    return sp.exp(_logits(row, col) - mx) / sp.Add(
        *[sp.exp(_logits(row, cc) - mx) for cc in range(1, int(sizes[C]) + 1)])


def _stable_loss(sizes: dict) -> sp.Expr:
    # -(1/N) Σ_a Σ_c Y_ac log Ŷ_ac with log Ŷ_ac = O_ac - M_a - log Σ_e e^{O_ae - M_a}: never log 0
    rows = []
    for aa in range(1, int(sizes[N]) + 1):
        mx = _row_max(sizes, aa)
        lse = mx + sp.log(sp.Add(*[sp.exp(_logits(aa, cc) - mx) for cc in range(1, int(sizes[C]) + 1)]))
        rows.append(sp.Add(*[Y[aa, cc] * (_logits(aa, cc) - lse) for cc in range(1, int(sizes[C]) + 1)]))
    return -sp.Add(*rows) / sizes[N]


def _rows_sum_to_one(expr: sp.Expr) -> sp.Expr:
    def is_row_sum(s: sp.Basic) -> bool:
        if not isinstance(s, sp.Sum) or len(s.limits) != 1:
            return False
        var, lo, hi = s.limits[0]
        f = s.function
        return (isinstance(f, sp.Indexed) and f.base == Y and f.indices[1] == var and lo == 1 and hi == C
                and var not in f.indices[0].free_symbols)

    return expr.replace(is_row_sum, lambda s: sp.S.One)


def softmax_regression_gradient() -> Derivation:
    dW, db = D(L, W[q, r]), D(L, bias[r])
    miss = sp.Add(P[a, r], -Y[a, r], evaluate=False)
    miss_c = sp.Add(P[a, c], -Y[a, c], evaluate=False)
    grad_W = sp.Mul(sp.Sum(sp.Mul(X[a, q], miss, evaluate=False), (a, 1, N)), 1 / N, evaluate=False)
    grad_b = sp.Mul(sp.Sum(miss, (a, 1, N)), 1 / N, evaluate=False)
    lse = sp.log(sp.Sum(sp.exp(O[a, e]), (e, 1, C)))
    chain = sp.Sum(sp.Sum(sp.Mul(miss_c, D(O[a, c], W[q, r]), evaluate=False), (c, 1, C)), (a, 1, N)) / N
    loss = -sp.Sum(sp.Sum(Y[a, c] * sp.log(P[a, c]), (c, 1, C)), (a, 1, N)) / N
    # the loss as a function of free logits Z (no W or b behind them): ∂L_Z/∂Z_{gh} is the per-row
    # cross-entropy-softmax gradient, which the chain rule then carries through O = XW + b
    dZ = D(LZ, Z[g, h])
    S_miss = sp.Mul(sp.Add(S[g, h], -Y[g, h], evaluate=False), 1 / N, evaluate=False)
    delta = sp.KroneckerDelta
    return Derivation(
        name="softmax-regression-gradient",
        title="Gradient of softmax regression",
        summary=r"For logits $O = XW + b$ ($X$: $N \times d$, one sample per row; $W$: $d \times C$), "
        r"$\hat{Y}$ = softmax of each row and $L$ the mean cross-entropy against label rows $Y$, "
        r"$\frac{\partial L}{\partial O} = (\hat{Y} - Y)/N$, so $\frac{\partial L}{\partial W} = "
        r"X^\top(\hat{Y} - Y)/N$ and $\frac{\partial L}{\partial b}$ is the column mean of $\hat{Y} - Y$. "
        "Derived entry by entry: SymPy's matrix calculus returns 0 for this loss without an error.",
        statement=sp.Eq(dW, grad_W),
        steps=(
            Step(dZ, -sp.Sum(sp.Sum(Y[a, c] * D(sp.log(S[a, c]), Z[g, h]), (c, 1, C)), (a, 1, N)) / N,
                 r"the loss of free logits $Z$, $L_Z = -\frac{1}{N} \sum_a \sum_c Y_{ac} \log S_{ac}$ with $S$ = "
                 r"softmax of each row of $Z$; linearity of the derivative, $Y$ does not depend on $Z$"),
            Step(dZ, -sp.Sum(sp.Sum(Y[a, c] * delta(a, g) * (delta(c, h) - S[g, h]), (c, 1, C)), (a, 1, N)) / N,
                 r"log-softmax gradient within row $a$: $\frac{\partial \log S_{ac}}{\partial Z_{gh}} = "
                 r"\delta_{ag}(\delta_{ch} - S_{gh})$, 0 for another row $g \neq a$"),
            Step(dZ, -sp.Sum(Y[g, c] * (delta(c, h) - S[g, h]), (c, 1, C)) / N, r"$\delta_{ag}$ keeps only the term $a = g$"),
            Step(dZ, (S[g, h] * sp.Sum(Y[g, c], (c, 1, C)) - Y[g, h]) / N,
                 r"$\delta_{ch}$ keeps only the term $c = h$; $S_{gh}$ does not depend on $c$"),
            Step(dZ, S_miss, r"each row of $Y$ sums to 1 (cross-entropy-softmax-gradient, one row, times $1/N$)"),
            Step(L, sp.Sum(lse - sp.Sum(Y[a, c] * O[a, c], (c, 1, C)), (a, 1, N)) / N,
                 r"$\log \hat{Y}_{ac} = O_{ac} - \log \sum_e e^{O_{ae}}$; each row of $Y$ sums to 1 "
                 "(cross-entropy-logsumexp, per row)"),
            Step(dW, chain, r"chain rule through every logit $O_{ac}$: $L$ is $L_Z$ at $Z = O$, and "
                 r"$\frac{\partial L_Z}{\partial Z_{ac}} = (S_{ac} - Y_{ac})/N$ becomes $(\hat{Y}_{ac} - Y_{ac})/N$ there"),
            Step(dW, sp.Sum(sp.Sum(sp.Mul(miss_c, X[a, q], delta(c, r), evaluate=False), (c, 1, C)),
                            (a, 1, N)) / N,
                 r"$\frac{\partial O_{ac}}{\partial W_{qr}} = X_{aq} \delta_{cr}$, since $O_{ac} = \sum_m X_{am} W_{mc} + b_c$"),
            Step(db, grad_b, r"the same chain with $\frac{\partial O_{ac}}{\partial b_r} = \delta_{cr}$: column means of $\hat{Y} - Y$"),
            Step(dW, grad_W, r"$\delta_{cr}$ keeps only the term $c = r$; in matrix form $(X^\top(\hat{Y} - Y))_{qr} / N$"),
        ),
        inputs=(
            Input(X, (N, d), "real", "the batch: one sample per row"),
            Input(Y, (N, C), "simplex-rows", "labels: one row per sample, one-hot or a probability vector"),
            Input(W, (d, C), "real", "weights, one column per class"),
            Input(bias, (C,), "real", "biases, one per class"),
        ),
        definitions=(
            Definition(L, (), loss, r"L = -\frac{1}{N} \sum_a \sum_c Y_{ac} \log \hat{Y}_{ac}",
                       numeric=_stable_loss),
            Definition(P, (a, c), sp.exp(O[a, c]) / sp.Sum(sp.exp(O[a, e]), (e, 1, C)),
                       r"\hat{Y}_{ac} = e^{O_{ac}} / \sum_e e^{O_{ae}}", numeric=_stable_probability),
            Definition(O, (a, c), _logits(a, c), r"O_{ac} = \sum_m X_{am} W_{mc} + b_c"),
            Definition(LZ, (), -sp.Sum(sp.Sum(Y[a, c] * sp.log(S[a, c]), (c, 1, C)), (a, 1, N)) / N,
                       r"L_Z = -\frac{1}{N} \sum_a \sum_c Y_{ac} \log S_{ac}"),
            Definition(S, (a, c), sp.exp(Z[a, c]) / sp.Sum(sp.exp(Z[a, e]), (e, 1, C)),
                       r"S_{ac} = e^{Z_{ac}} / \sum_e e^{Z_{ae}}"),
        ),
        assumptions=(Assumption(r"each row of $Y$ is a probability vector: $\sum_c Y_{ac} = 1$",
                                rewrite=_rows_sum_to_one),),
        index_ranges={a: N, c: C, e: C, r: C, q: d, m: d, g: N, h: C},
        sizes={N: 2, d: 2, C: 3},
        claims=(
            GradientClaim(L, W, grad_W, (), (q, r), "∂L/∂W = Xᵀ(Ŷ − Y)/N"),
            GradientClaim(L, bias, grad_b, (), (r,), "∂L/∂b = column means of Ŷ − Y"),
        ),
        result=(grad_W, (q, r)),
        example_specs=(
            ExampleSpec("N = 2 samples, d = 2 features, C = 3 classes",
                        {"X": [[1.0, 2.0], [0.5, -1.0]], "Y": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
                         "W": [[0.1, -0.2, 0.3], [0.0, 0.4, -0.1]], "b": [0.0, 0.1, -0.1]},
                        (("O = XW + b", O[a, c], (a, c)), ("Ŷ", P[a, c], (a, c)), ("L", L, ()),
                         ("∂L/∂W = Xᵀ(Ŷ − Y)/N", grad_W, (q, r)), ("∂L/∂b", grad_b, (r,)))),
        ),
        notes=(r"Denominator layout: $\frac{\partial L}{\partial W}$ has the shape of $W$ ($d \times C$), "
               r"$\frac{\partial L}{\partial b}$ the shape of $b$ ($C$).",),
        symbols=((X, "the batch, one sample per row"), (Y, "label rows"), (W, "weights"), (bias, "biases"),
                 (O, "logits O = XW + b"), (P, "row-wise softmax of O"), (L, "mean cross-entropy"),
                 (Z, "free logits (no W, b behind them)"), (S, "row-wise softmax of Z"),
                 (LZ, "mean cross-entropy as a function of Z"),
                 (N, "batch size"), (d, "number of features"), (C, "number of classes")),
    )


# ---------------------------------------------------------------------------------------------
# minibatch gradients

Bsz = sp.Symbol("B", integer=True, positive=True)  # minibatch size
G = sp.IndexedBase("G", real=True)  # per-sample gradients G_ak = ∂ℓ_a/∂w_k
Eg = sp.IndexedBase(r"\bar{g}", real=True)  # expected minibatch gradient


def minibatch_mean_gradient() -> Derivation:
    dL = D(L, w[k])
    full = sp.Mul(sp.Sum(G[a, k], (a, 1, N)), 1 / N, evaluate=False)
    share = sp.binomial(N - 1, Bsz - 1) / (Bsz * sp.binomial(N, Bsz))
    per_sample = sp.Mul(sp.Add(yhat[a], -y[a], evaluate=False), X[a, k], evaluate=False)
    return Derivation(
        name="minibatch-mean-gradient",
        title="The minibatch gradient is an unbiased estimate",
        summary=r"The gradient of the mean loss $L = \frac{1}{N} \sum_a \ell_a$ is the mean of the per-sample "
        r"gradients (linearity of the derivative). Averaged over all $\binom{N}{B}$ equally likely minibatches "
        r"of size $B$, the minibatch gradient $\frac{1}{B} \sum_{a \in S} \nabla \ell_a$ equals that full "
        r"gradient, because every sample lies in the same number $\binom{N-1}{B-1}$ of minibatches: this is "
        "why minibatch SGD follows the full gradient on average.",
        statement=sp.Eq(Eg[k], dL),
        steps=(
            Step(dL, sp.Mul(sp.Sum(D(ell[a], w[k]), (a, 1, N)), 1 / N, evaluate=False),
                 "linearity: the derivative of a sum is the sum of the derivatives (for any per-sample loss)"),
            Step(dL, full, r"$G_{ak} = \frac{\partial \ell_a}{\partial w_k}$, the gradient of sample $a$"),
            Step(Eg[k], sp.Mul(share, sp.Sum(G[a, k], (a, 1, N)), evaluate=False),
                 r"average of $\frac{1}{B} \sum_{a \in S} G_{ak}$ over the $\binom{N}{B}$ minibatches $S$: "
                 r"sample $a$ lies in $\binom{N-1}{B-1}$ of them (checked by enumerating every minibatch)"),
            Step(Eg[k], full, r"$\binom{N-1}{B-1} / \binom{N}{B} = B/N$"),
            Step(Eg[k], dL, "the full gradient from above: the minibatch gradient is unbiased"),
        ),
        inputs=(
            Input(X, (N, d), "real", "the dataset: one sample per row"),
            Input(y, (N,), "real", "targets"),
            Input(w, (d,), "real", "weights"),
        ),
        definitions=(
            Definition(Eg, (k,), share * sp.Sum(G[a, k], (a, 1, N)),
                       r"\bar{g}_k = E_S[\frac{1}{B} \sum_{a \in S} G_{ak}], S uniform over the size-B subsets"),
            Definition(L, (), sp.Sum(ell[c], (c, 1, N)) / N, r"L = \frac{1}{N} \sum_a \ell_a"),
            Definition(G, (a, k), D(ell[a], w[k]), r"G_{ak} = \partial \ell_a / \partial w_k"),
            Definition(ell, (a,), (yhat[a] - y[a]) ** 2 / 2,
                       r"\ell_a = \frac{1}{2}(\hat{y}_a - y_a)^2 (squared error, for the numbers)"),
            Definition(yhat, (a,), sp.Sum(w[l] * X[a, l], (l, 1, d)), r"\hat{y}_a = \sum_l w_l X_{al}"),
        ),
        assumptions=(Assumption(r"the minibatch $S$ is a uniformly random subset of $B \leq N$ distinct samples"),),
        index_ranges={k: d, l: d, a: N, c: N},
        sizes={N: 3, d: 2, Bsz: 2},
        claims=(GradientClaim(L, w, full, (), (k,), "∂L/∂w = mean of the per-sample gradients"),),
        result=(full, (k,)),
        example_specs=(
            ExampleSpec("N = 3 samples (squared error of a linear model), w = (0.5, -1)",
                        {"X": [[1.0, 2.0], [0.0, 1.0], [2.0, -1.0]], "y": [3.0, 1.0, 0.0], "w": [0.5, -1.0]},
                        (("per-sample gradients G_ak = (ŷ_a − y_a) X_ak", per_sample, (a, k)),
                         ("full gradient ∂L/∂w", full, (k,)))),
        ),
        notes=("Minibatches are drawn without replacement; the numeric check averages the minibatch "
               "gradient over every size-$B$ subset of small datasets exactly and compares it with the "
               "full gradient.",),
        numeric_checks=(MINIBATCH_ENUMERATION,),
        symbols=((X, "the dataset, one sample per row"), (y, "targets"), (w, "weights"), (ell, "per-sample loss"),
                 (L, "mean loss"), (G, "per-sample gradients"), (Eg, "expected minibatch gradient"),
                 (N, "number of samples"), (Bsz, "minibatch size"), (d, "number of features")),
    )


def minibatch_gradients(X_: np.ndarray, y_: np.ndarray, w_: np.ndarray, B: int) -> np.ndarray:
    """The minibatch gradient (1/B) Σ_{a∈S} (ŷ_a − y_a) x_a for every size-B subset S (one row each)."""
    per_sample = (X_ @ w_ - y_)[:, None] * X_
    return np.array([per_sample[list(S)].mean(axis=0) for S in itertools.combinations(range(len(X_)), B)])


MINIBATCH_SHAPES = ((4, 1), (5, 2), (6, 3), (7, 7))  # (N, B)


def minibatch_cases(seed: int = 0) -> list[EqualityCase]:
    """Exact enumeration on random datasets of several (N, B): the average over every size-B
    minibatch of the minibatch gradient against the full-batch gradient Xᵀ(Xw − y)/N."""
    rng = np.random.default_rng(seed + 104729)
    cases = []
    for N_, B_ in MINIBATCH_SHAPES:
        X_, y_, w_ = rng.normal(size=(N_, 3)), rng.normal(size=N_), rng.normal(size=3)
        batches = minibatch_gradients(X_, y_, w_, B_)
        cases.append(EqualityCase(f"N={N_}, B={B_}: {len(batches)} minibatches", batches.mean(axis=0),
                                  X_.T @ (X_ @ w_ - y_) / N_))
    return cases


MINIBATCH_ENUMERATION = NumericExperiment(
    "mean over every minibatch = full gradient ("
    + "; ".join(f"N={n}, B={bb}: {math.comb(n, bb)} minibatches" for n, bb in MINIBATCH_SHAPES) + ")",
    minibatch_cases,
)


def build() -> list[Derivation]:
    return [linear_regression_gradient(), softmax_regression_gradient(), minibatch_mean_gradient()]
