"""The sigmoid and its losses: σ' = σ(1 − σ), the binary cross-entropy gradient (per sample and
batch mean), and the squared error through a sigmoid, whose gradient vanishes when σ saturates.

Layout convention (denominator layout): ∂L/∂w has the shape of w, one entry ∂L/∂w_k per weight.
Numerics: σ and log σ are evaluated in forms that never exponentiate a positive number
(σ(t) = e^{(t − |t|)/2} / (1 + e^{−|t|}), log(1 + e^t) = (t + |t|)/2 + log(1 + e^{−|t|})), so
logits of ±1000 give finite, correct values.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from gradproof.derivations.common import StableMax, k, l, z
from gradproof.derivations.model import (
    Definition,
    Derivation,
    ExampleSpec,
    GradientClaim,
    IdentityClaim,
    Input,
    Step,
)

D = sp.Derivative
sigma = sp.Function("sigma")
t = sp.Symbol("z", real=True)  # a scalar logit

d = sp.Symbol("d", integer=True, positive=True)  # number of features
N = sp.Symbol("N", integer=True, positive=True)  # batch size
a = sp.Symbol("a", integer=True, positive=True)  # sample index
c = sp.Symbol("c", integer=True, positive=True)  # summation index over samples

w = sp.IndexedBase("w", real=True)
x = sp.IndexedBase("x", real=True)
X = sp.IndexedBase("X", real=True)
yb = sp.IndexedBase("y", real=True)  # batch labels y_a
p = sp.IndexedBase("p", positive=True)
ell = sp.IndexedBase("ell", real=True)
res = sp.IndexedBase("r", real=True)  # the residual p_a − y_a, for stable evaluation in the claims
b = sp.Symbol("b", real=True)
y0 = sp.Symbol("y", real=True)  # one label
L = sp.Symbol("L", real=True)

LAYOUT = (r"Denominator layout: $\frac{\partial L}{\partial w}$ has the shape of $w$ ($d$ entries), "
          r"$\frac{\partial L}{\partial b}$ is a scalar.")


def softplus(u: sp.Expr) -> sp.Expr:
    """log(1 + e^u) = max(u, 0) + log1p(e^{−|u|}), without exponentiating a positive number.

    max is the opaque StableMax: written as (u + |u|)/2, SymPy distributes the halves over the
    terms of u = Σ X w + b, and the cancellation of those large terms costs every digit of a
    tiny loss."""
    return StableMax(u, 0) + log1p(sp.exp(-sp.Abs(u)))


def stable_sigmoid(u: sp.Expr) -> sp.Expr:
    """σ(u) = e^{min(u, 0)} / (1 + e^{−|u|}): equal to 1/(1 + e^{−u}) for both signs of u."""
    return sp.exp(-StableMax(-u, 0)) / (1 + sp.exp(-sp.Abs(u)))


def stable_bce(u: sp.Expr, label: sp.Expr) -> sp.Expr:
    """−[y log σ(u) + (1 − y) log(1 − σ(u))] = (1 − y) log(1 + e^u) + y log(1 + e^{−u}): for labels
    0 or 1 one term survives, with no cancellation (log(1 + e^u) − yu would lose every digit of a
    tiny loss at large u)."""
    return (1 - label) * softplus(u) + label * softplus(-u)


def stable_residual(u: sp.Expr, label: sp.Expr) -> sp.Expr:
    """σ(u) − y = (1 − y)σ(u) − yσ(−u) (since σ(u) + σ(−u) = 1): exact for labels 0 or 1 even
    where σ(u) rounds to 1."""
    return (1 - label) * stable_sigmoid(u) - label * stable_sigmoid(-u)


def sigmoid_definition(arg: sp.Expr) -> Definition:
    return Definition(sigma(arg), (), 1 / (1 + sp.exp(-arg)), r"\sigma(z) = 1/(1 + e^{-z})",
                      numeric=lambda sizes: stable_sigmoid(arg))


# ---------------------------------------------------------------------------------------------


def sigmoid_derivative() -> Derivation:
    ds = D(sigma(t), t)
    u = 1 + sp.exp(-t)
    result = sp.Mul(sigma(t), 1 - sigma(t), evaluate=False)
    U = sp.UnevaluatedExpr
    return Derivation(
        name="sigmoid-derivative",
        title="Derivative of the sigmoid",
        summary=r"$\sigma'(z) = \sigma(z)(1 - \sigma(z))$: the derivative is computed from the forward value "
        r"alone. It is at most $\frac{1}{4}$ (at $z = 0$) and tends to 0 as $\sigma$ saturates at 0 or 1, which "
        "is why a squared error through a sigmoid learns slowly from confident mistakes.",
        statement=sp.Eq(ds, result),
        steps=(
            Step(sigma(t), 1 / u, "definition of the sigmoid"),
            Step(ds, sp.exp(-t) / u**2, r"chain rule: $\frac{d}{du} u^{-1} = -u^{-2}$ and $\frac{d}{dz}(1 + e^{-z}) = -e^{-z}$"),
            Step(ds, sp.Mul(U(1 / u), U(sp.exp(-t) / u), evaluate=False), "split the fraction"),
            Step(ds, sp.Mul(U(1 / u), U(1 - 1 / u), evaluate=False),
                 r"$\frac{e^{-z}}{1 + e^{-z}} = 1 - \frac{1}{1 + e^{-z}}$"),
            Step(ds, result, "definition of the sigmoid"),
        ),
        inputs=(Input(t, (), "real", "the logit"),),
        definitions=(sigmoid_definition(t),),
        claims=(
            GradientClaim(sigma(t), t, result, label="dσ/dz = σ(1 − σ)"),
            IdentityClaim(result, sp.Rational(1, 4), (), "<=", label="σ'(z) ≤ 1/4"),
        ),
        result=(result, ()),
        example_specs=(
            ExampleSpec("z = 0: the steepest point", {"z": 0.0},
                        (("σ(z)", sigma(t), ()), ("σ'(z)", result, ()))),
            ExampleSpec("z = 2", {"z": 2.0}, (("σ(z)", sigma(t), ()), ("σ'(z)", result, ()))),
            ExampleSpec("z = -6: saturated", {"z": -6.0}, (("σ(z)", sigma(t), ()), ("σ'(z)", result, ()))),
            ExampleSpec("z = -800: far in the tail", {"z": -800.0},
                        (("σ(z)", sigma(t), ()), ("σ'(z)", result, ())),
                        note=r"$1/(1 + e^{800})$ would overflow $e^{800}$; the stable form only exponentiates "
                        r"numbers $\leq 0$ and underflows cleanly to 0"),
        ),
        symbols=((t, "the logit"), (sigma, "the sigmoid σ(z) = 1/(1 + e^{−z})")),
    )


# ---------------------------------------------------------------------------------------------
# binary cross-entropy: per-sample quantities indexed by the sample a = 1..N


def _logit_definition() -> Definition:
    return Definition(z, (a,), sp.Sum(w[l] * X[a, l], (l, 1, d)) + b, r"z_a = \sum_l w_l X_{al} + b")


def _bce_definitions() -> tuple[Definition, ...]:
    return (
        Definition(L, (), sp.Sum(ell[c], (c, 1, N)) / N, r"L = \frac{1}{N} \sum_a \ell_a"),
        Definition(ell, (a,), -(yb[a] * sp.log(p[a]) + (1 - yb[a]) * sp.log(1 - p[a])),
                   r"\ell_a = -[y_a \log p_a + (1 - y_a) \log(1 - p_a)]",
                   # ℓ_a = log(1 + e^{z_a}) − y_a z_a (step 1), evaluated without overflow
                   numeric=lambda sizes, idx: stable_bce(z[idx], yb[idx])),
        Definition(res, (a,), p[a] - yb[a], r"r_a = p_a - y_a",
                   numeric=lambda sizes, idx: stable_residual(z[idx], yb[idx])),
        Definition(p, (a,), 1 / (1 + sp.exp(-z[a])), r"p_a = \sigma(z_a)",
                   numeric=lambda sizes, idx: stable_sigmoid(z[idx])),
        _logit_definition(),
    )


def bce_sigmoid_gradient() -> Derivation:
    dl_w, dl_b = D(ell[a], w[k]), D(ell[a], b)
    dL_w, dL_b = D(L, w[k]), D(L, b)
    err = sp.Add(p[a], -yb[a], evaluate=False)
    batch_w = sp.Mul(sp.Sum(sp.Mul(X[a, k], err, evaluate=False), (a, 1, N)), 1 / N, evaluate=False)
    batch_b = sp.Mul(sp.Sum(err, (a, 1, N)), 1 / N, evaluate=False)
    logistic_factor = sp.exp(z[a]) / (1 + sp.exp(z[a]))
    return Derivation(
        name="bce-sigmoid-gradient",
        title="Gradient of binary cross-entropy through a sigmoid",
        summary=r"For $p = \sigma(w^\top x + b)$ and $\ell = -[y \log p + (1 - y) \log(1 - p)]$, "
        r"$\frac{\partial \ell}{\partial w_k} = (p - y) x_k$ and $\frac{\partial \ell}{\partial b} = p - y$: "
        r"the $\sigma'(z)$ factor cancels against the log, so the gradient stays large for a confident wrong "
        r"prediction. Over a batch of $N$ samples (rows of $X$), the mean loss has gradient "
        r"$X^\top(p - y)/N$ and $\frac{\partial L}{\partial b} = \operatorname{mean}(p - y)$.",
        statement=sp.Eq(dL_w, batch_w),
        steps=(
            Step(ell[a], sp.log(1 + sp.exp(z[a])) - yb[a] * z[a],
                 r"$\log \sigma(z) = -\log(1 + e^{-z})$ and $\log(1 - \sigma(z)) = -z - \log(1 + e^{-z})$"),
            Step(dl_w, (logistic_factor - yb[a]) * D(z[a], w[k]),
                 r"chain rule; $\frac{d}{dz}\log(1 + e^z) = \frac{e^z}{1 + e^z}$"),
            Step(dl_w, sp.Mul(err, D(z[a], w[k]), evaluate=False),
                 r"$\frac{e^z}{1 + e^z} = \frac{1}{1 + e^{-z}} = \sigma(z) = p$"),
            Step(dl_w, sp.Mul(err, X[a, k], evaluate=False),
                 r"$\frac{\partial z_a}{\partial w_k} = X_{ak}$: only the term $l = k$ of the sum depends on $w_k$"),
            Step(dl_b, err, r"the same chain, with $\frac{\partial z_a}{\partial b} = 1$"),
            Step(dL_b, batch_b, "linearity: the derivative of the mean is the mean of the derivatives"),
            Step(dL_w, sp.Sum(dl_w, (a, 1, N)) / N, "linearity of the derivative"),
            Step(dL_w, batch_w, r"per-sample gradient above; in matrix form $(X^\top(p - y))_k / N$"),
        ),
        inputs=(
            Input(X, (N, d), "real", "the batch: one sample x_a per row"),
            Input(yb, (N,), "binary", "labels y_a ∈ {0, 1} (every step also holds for soft labels in [0, 1])"),
            Input(w, (d,), "real", "weights"),
            Input(b, (), "real", "bias"),
        ),
        definitions=_bce_definitions(),
        index_ranges={k: d, l: d, a: N, c: N},
        sizes={N: 2, d: 2},
        claims=(
            # r_a = p_a − y_a, evaluated without cancellation at saturated p
            GradientClaim(ell[a], w, res[a] * X[a, k], (a,), (k,), "∂ℓ_a/∂w_k = (p_a − y_a) X_ak"),
            GradientClaim(ell[a], b, res[a], (a,), (), "∂ℓ_a/∂b = p_a − y_a"),
            GradientClaim(L, w, batch_w.xreplace({err: res[a]}), (), (k,), "∂L/∂w = Xᵀ(p − y)/N"),
            GradientClaim(L, b, batch_b.xreplace({err: res[a]}), (), (), "∂L/∂b = mean(p − y)"),
        ),
        result=(batch_w, (k,)),
        example_specs=(
            ExampleSpec("One sample (N = 1): x = (1, 2), w = (0.5, -0.25), b = 0.1, y = 1",
                        {"X": [[1.0, 2.0]], "y": [1.0], "w": [0.5, -0.25], "b": 0.1},
                        (("z", z[a], (a,)), ("p = σ(z)", p[a], (a,)), ("ℓ", ell[a], (a,)),
                         ("∂ℓ/∂w_k = (p − y)x_k", err * X[a, k], (a, k)), ("∂ℓ/∂b = p − y", err, (a,)))),
            ExampleSpec("A batch of N = 3 samples, d = 2",
                        {"X": [[1.0, 2.0], [-1.0, 0.5], [0.0, -2.0]], "y": [1.0, 0.0, 1.0],
                         "w": [0.5, -0.25], "b": 0.1},
                        (("p", p[a], (a,)), ("L", L, ()), ("∂L/∂w = Xᵀ(p − y)/N", batch_w, (k,)),
                         ("∂L/∂b", batch_b, ()))),
            ExampleSpec("Saturated and wrong: z = -800 with y = 1",
                        {"X": [[40.0, 0.0]], "y": [1.0], "w": [-20.0, 0.0], "b": 0.0},
                        (("z", z[a], (a,)), ("ℓ", ell[a], (a,)), ("∂ℓ/∂w_k", err * X[a, k], (a, k))),
                        note=r"$\log p = \log \sigma(-800)$ underflows to $\log 0 = -\infty$ when computed naively; "
                        r"$\ell = \log(1 + e^z) - yz$ gives 800, and the gradient $-x$ stays large"),
        ),
        notes=(LAYOUT, r"$X$ has one sample per row ($N \times d$); $p$ and $y$ are $N$-vectors."),
        symbols=((X, "the batch, one sample per row"), (yb, "labels"), (w, "weights"), (b, "bias"),
                 (z, "logits z_a = Σ_k w_k X_ak + b"), (p, "predicted probabilities p_a = σ(z_a)"),
                 (ell, "per-sample loss"), (L, "mean loss over the batch"), (N, "batch size"),
                 (d, "number of features")),
    )



# ---------------------------------------------------------------------------------------------
# squared error through a sigmoid, one sample x of d features

zs = sp.Symbol("z", real=True)  # z = wᵀx + b, a defined quantity here
L_ce = sp.Symbol("L_CE", real=True)
res0 = sp.Symbol("r", real=True)  # σ(z) − y, for stable evaluation in the claims


def mse_sigmoid_gradient() -> Derivation:
    sg = sigma(zs)
    miss = sp.Add(sg, -y0, evaluate=False)  # σ − y, kept in this order for display
    factor = sp.Mul(sg, 1 - sg, evaluate=False)
    dL_w, dL_b = D(L, w[k]), D(L, b)
    grad_w = sp.Mul(miss, sg, 1 - sg, x[k], evaluate=False)
    grad_b = sp.Mul(miss, sg, 1 - sg, evaluate=False)
    ce_w = sp.Mul(miss, x[k], evaluate=False)
    definitions = (
        Definition(L, (), (sg - y0) ** 2 / 2, r"L = \frac{1}{2}(\sigma(z) - y)^2"),
        Definition(L_ce, (), -(y0 * sp.log(sg) + (1 - y0) * sp.log(1 - sg)),
                   r"L_{CE} = -[y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))]",
                   numeric=lambda sizes: stable_bce(zs, y0)),
        Definition(res0, (), sg - y0, r"r = \sigma(z) - y", numeric=lambda sizes: stable_residual(zs, y0)),
        sigmoid_definition(zs),  # before z's own definition, so σ(z) is recognised first
        Definition(zs, (), sp.Sum(w[l] * x[l], (l, 1, d)) + b, r"z = \sum_l w_l x_l + b"),
    )
    quantities = (
        ("z", zs, ()), ("σ(z)", sg, ()), ("σ(z)(1 − σ(z))", factor, ()),
        ("MSE ∂L/∂w_k = (σ − y)σ(1 − σ)x_k", grad_w, (k,)),
        ("cross-entropy ∂L_CE/∂w_k = (σ − y)x_k", ce_w, (k,)),
        ("ratio cross-entropy / MSE = 1/(σ(1 − σ))", 1 / factor, ()),
    )
    return Derivation(
        name="mse-sigmoid-gradient",
        title="Squared error through a sigmoid",
        summary=r"For $L = \frac{1}{2}(\sigma(z) - y)^2$ with $z = w^\top x + b$, "
        r"$\frac{\partial L}{\partial w} = (\sigma - y)\sigma(1 - \sigma)x$. The chain rule brings in "
        r"$\sigma'(z) = \sigma(1 - \sigma) \leq \frac{1}{4}$, which tends to 0 when $\sigma$ saturates: a "
        "confidently wrong prediction gets almost no gradient (it vanishes), while the cross-entropy gradient "
        r"$(\sigma - y)x$ of the same model does not carry that factor and stays near $-x$.",
        statement=sp.Eq(dL_w, grad_w),
        steps=(
            Step(dL_b, grad_b, r"chain rule as below, with $\frac{\partial z}{\partial b} = 1$"),
            Step(dL_w, sp.Mul(miss, D(sg, w[k]), evaluate=False),
                 r"chain rule: $\frac{d}{du} \frac{1}{2}u^2 = u$, and $y$ does not depend on $w$"),
            Step(dL_w, sp.Mul(miss, factor, D(zs, w[k]), evaluate=False),
                 r"chain rule with $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ (sigmoid-derivative): the factor "
                 r"that vanishes when $\sigma(z)$ saturates at 0 or 1"),
            Step(dL_w, grad_w, r"$\frac{\partial z}{\partial w_k} = x_k$: only the term $l = k$ of the sum depends on $w_k$"),
        ),
        inputs=(
            Input(x, (d,), "real", "one sample's features"),
            Input(y0, (), "binary", "the target, 0 or 1"),
            Input(w, (d,), "real", "weights"),
            Input(b, (), "real", "bias"),
        ),
        definitions=definitions,
        index_ranges={k: d, l: d},
        sizes={d: 2},
        claims=(
            GradientClaim(L, w, grad_w, (), (k,), "∂L/∂w_k = (σ − y)σ(1 − σ)x_k"),
            GradientClaim(L, b, grad_b, (), (), "∂L/∂b = (σ − y)σ(1 − σ)"),
            GradientClaim(L_ce, w, res0 * x[k], (), (k,), "cross-entropy of the same model: (σ − y)x_k"),
            IdentityClaim(factor, sp.Rational(1, 4), (), "<=", label="σ(1 − σ) ≤ 1/4"),
        ),
        result=(grad_w, (k,)),
        example_specs=(
            ExampleSpec("Saturated wrong prediction: y = 1, z = -6 (x = (1), w = (-6), b = 0)",
                        {"x": [1.0], "y": 1.0, "w": [-6.0], "b": 0.0}, quantities,
                        note="the squared-error gradient is about 400 times smaller than the "
                        r"cross-entropy gradient: the factor $\sigma(1 - \sigma) \approx 0.0025$"),
            ExampleSpec("Unsaturated: y = 1, z = 0 (x = (1, 2), w = (0.5, -0.25), b = 0)",
                        {"x": [1.0, 2.0], "y": 1.0, "w": [0.5, -0.25], "b": 0.0}, quantities),
        ),
        notes=(LAYOUT,),
        symbols=((x, "features"), (y0, "target"), (w, "weights"), (b, "bias"), (zs, "logit z = wᵀx + b"),
                 (L, "squared error ½(σ(z) − y)²"), (L_ce, "binary cross-entropy of the same model"),
                 (d, "number of features")),
    )


def build() -> list[Derivation]:
    return [sigmoid_derivative(), bce_sigmoid_gradient(), mse_sigmoid_gradient()]
