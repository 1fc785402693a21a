"""Two conventions of linear models: the squared error with and without the factor ½, and the bias
folded into the weights with an augmented input (x, 1)."""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import index_range_rules
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
d = sp.Symbol("d", integer=True, positive=True)  # number of features
j, k, l, m = sp.symbols("j k l m", integer=True, positive=True)
x = sp.IndexedBase("x", real=True)
w = sp.IndexedBase("w", real=True)
y = sp.Symbol("y", real=True)
alpha = sp.Symbol("alpha", positive=True)
yhat = sp.Symbol("yhat", real=True)
e = sp.Symbol("e", real=True)  # (y − ŷ)²
e_half = sp.Symbol("e_half", real=True)  # ½(y − ŷ)²


def squared_error_gradient() -> Derivation:
    resid = sp.Add(y, -yhat, evaluate=False)
    grad = sp.Mul(-2, resid, x[k], evaluate=False)
    grad_half = sp.Mul(-1, resid, x[k], evaluate=False)
    return Derivation(
        name="squared-error-gradient",
        title="Gradient of the squared error, with and without the factor 1/2",
        summary=r"For $\hat{y} = w^\top x$, $\frac{\partial}{\partial w_k} (y - \hat{y})^2 = -2(y - \hat{y})x_k$; "
        r"with the convention $\frac{1}{2}(y - \hat{y})^2$ the 2 cancels and the gradient is "
        r"$-(y - \hat{y})x_k$. The two losses have the same minimisers, and a gradient step of size $\alpha$ "
        r"on $(y - \hat{y})^2$ is a step of size $2\alpha$ on $\frac{1}{2}(y - \hat{y})^2$: the factor is "
        "absorbed into the learning rate, which is why lectures write either.",
        statement=sp.And(sp.Eq(D(e, w[k]), grad), sp.Eq(D(e_half, w[k]), grad_half)),
        steps=(
            Step(D(e, w[k]), sp.Mul(2, resid, D(resid, w[k]), evaluate=False), r"chain rule: $\frac{d}{du} u^2 = 2u$"),
            Step(D(yhat, w[k]), x[k], r"$\hat{y} = \sum_l w_l x_l$: only the term $l = k$ depends on $w_k$"),
            Step(D(e, w[k]), grad, r"$\partial(y - \hat{y})/\partial w_k = -x_k$"),
            Step(D(e_half, w[k]), grad_half, r"the same with $\frac12$: $\frac12 \cdot 2 = 1$"),
            Step(sp.Add(w[k], -alpha * D(e, w[k]), evaluate=False),
                 sp.Add(w[k], -2 * alpha * D(e_half, w[k]), evaluate=False),
                 r"a step of size $\alpha$ on $(y - \hat{y})^2$ is a step of size $2\alpha$ on $\frac12 (y - \hat{y})^2$"),
        ),
        inputs=(
            Input(x, (d,), "real", "one sample's features"),
            Input(y, (), "real", "the target"),
            Input(w, (d,), "real", "weights"),
            Input(alpha, (), "positive", "learning rate α"),
        ),
        definitions=(
            Definition(e, (), (y - yhat) ** 2, r"e = (y - \hat{y})^2"),
            Definition(e_half, (), (y - yhat) ** 2 / 2, r"e_{1/2} = \frac{1}{2}(y - \hat{y})^2"),
            Definition(yhat, (), sp.Sum(w[l] * x[l], (l, 1, d)), r"\hat{y} = \sum_l w_l x_l"),
        ),
        index_ranges={k: d, l: d},
        sizes={d: 2},
        claims=(
            GradientClaim(e, w, grad, (), (k,), "∂(y − ŷ)²/∂w_k = −2(y − ŷ)x_k"),
            GradientClaim(e_half, w, grad_half, (), (k,), "∂½(y − ŷ)²/∂w_k = −(y − ŷ)x_k"),
        ),
        result=(grad, (k,)),
        example_specs=(
            ExampleSpec("x = (1, 2), y = 3, w = (0.5, 0.5), α = 0.1",
                        {"x": [1.0, 2.0], "y": 3.0, "w": [0.5, 0.5], "alpha": 0.1},
                        (("ŷ", yhat, ()), ("(y − ŷ)²", e, ()), ("∂(y − ŷ)²/∂w", grad, (k,)),
                         ("∂½(y − ŷ)²/∂w", grad_half, (k,)),
                         ("step on (y − ŷ)² with α", w[k] - alpha * grad, (k,)),
                         ("step on ½(y − ŷ)² with 2α", w[k] - 2 * alpha * grad_half, (k,)))),
        ),
        notes=(r"The lecture's perceptron update $w \leftarrow w + (y - \hat{y})x$ is gradient descent on "
               r"$\frac{1}{2}(y - \hat{y})^2$ with $\alpha = 1$, or on $(y - \hat{y})^2$ with $\alpha = \frac{1}{2}$.",),
        symbols=((x, "features"), (y, "target"), (w, "weights"), (yhat, "prediction wᵀx"), (alpha, "learning rate"),
                 (e, "squared error"), (e_half, "half squared error"), (d, "number of features")),
    )


wt = sp.IndexedBase("wtilde", real=True)  # the augmented weights (w, b)
xt = sp.IndexedBase("xtilde", real=True)  # the augmented input (x, 1)
wo = sp.IndexedBase("w", real=True)  # the original weights, w_k = wtilde_k
b = sp.Symbol("b", real=True)  # the original bias, b = wtilde_{d+1}
z = sp.Symbol("z", real=True)
zt = sp.Symbol("ztilde", real=True)
ell = sp.Symbol("ell", real=True)
ellt = sp.Symbol("elltilde", real=True)


def bias_as_weight() -> Derivation:
    last = d + 1
    split = sp.Add(sp.Sum(wt[m] * xt[m], (m, 1, d)), wt[last] * xt[last], evaluate=False)
    plain = sp.Add(sp.Sum(wt[m] * x[m], (m, 1, d)), wt[last], evaluate=False)
    miss = sp.Add(z, -y, evaluate=False)
    return Derivation(
        name="bias-as-weight",
        title="The bias as one more weight",
        summary=r"Append a constant 1 to the input, $\tilde{x} = (x, 1)$, and the bias to the weights, "
        r"$\tilde{w} = (w, b)$. Then $\tilde{w}^\top \tilde{x} = w^\top x + b$: the same model. The gradients "
        r"agree too: $\partial \ell/\partial \tilde{w}_k = \partial \ell/\partial w_k$ for $k \le d$ and "
        r"$\partial \ell/\partial \tilde{w}_{d+1} = \partial \ell/\partial b$, because the derivative of "
        r"$\tilde{w}^\top \tilde{x}$ with respect to $\tilde{w}_{d+1}$ is the constant input 1. "
        "That is why code can treat the bias as a weight on a constant feature, and why the perceptron's "
        "threshold c merges into the bias.",
        statement=sp.And(sp.Eq(zt, z), sp.Eq(D(ellt, wt[k]), D(ell, wo[k])), sp.Eq(D(ellt, wt[last]), D(ell, b))),
        steps=(
            Step(zt, split, r"split off the last term of $\sum_{m=1}^{d+1}$"),
            Step(zt, plain, r"$\tilde{x}_m = x_m$ for $m \le d$ and $\tilde{x}_{d+1} = 1$"),
            Step(zt, z, r"$w_m = \tilde{w}_m$ and $b = \tilde{w}_{d+1}$: the original model $w^\top x + b$"),
            Step(D(ellt, wt[k]), sp.Mul(sp.Add(zt, -y, evaluate=False), xt[k], evaluate=False),
                 r"chain rule: $\partial \tilde{z}/\partial \tilde{w}_k = \tilde{x}_k$"),
            Step(D(ellt, wt[k]), sp.Mul(miss, x[k], evaluate=False), r"$\tilde{z} = z$ and $\tilde{x}_k = x_k$ for $k \le d$"),
            Step(D(ell, wo[k]), sp.Mul(miss, x[k], evaluate=False), r"the original gradient: $\partial z/\partial w_k = x_k$"),
            Step(D(ellt, wt[k]), D(ell, wo[k]), "steps 5 and 6"),
            Step(D(ellt, wt[last]), miss, r"$\tilde{x}_{d+1} = 1$"),
            Step(D(ell, b), miss, r"the original gradient: $\partial z/\partial b = 1$"),
            Step(D(ellt, wt[last]), D(ell, b), "steps 8 and 9"),
        ),
        inputs=(
            Input(x, (d,), "real", "one sample's features"),
            Input(y, (), "real", "the target"),
            Input(wt, (d + 1,), "real", "the augmented weights (w, b)"),
        ),
        definitions=(
            Definition(ellt, (), (zt - y) ** 2 / 2, r"\tilde{\ell} = \frac{1}{2}(\tilde{z} - y)^2"),
            Definition(ell, (), (z - y) ** 2 / 2, r"\ell = \frac{1}{2}(z - y)^2"),
            Definition(zt, (), sp.Sum(wt[m] * xt[m], (m, 1, last)), r"\tilde{z} = \sum_{m=1}^{d+1} \tilde{w}_m \tilde{x}_m"),
            Definition(z, (), sp.Sum(wo[m] * x[m], (m, 1, d)) + b, r"z = \sum_m w_m x_m + b"),
            # xtilde_m = x_m for m ≤ d and 1 for m = d + 1, written with δ_{m,d+1} (no Piecewise: the
            # prover resolves a δ of an index against its range at once)
            Definition(xt, (m,), x[m] * (1 - sp.KroneckerDelta(m, last)) + sp.KroneckerDelta(m, last),
                       r"\tilde{x}_m = x_m for m \le d, \tilde{x}_{d+1} = 1"),
            Definition(wo, (m,), wt[m], r"w_m = \tilde{w}_m for m \le d: the original weights"),
            Definition(b, (), wt[last], r"b = \tilde{w}_{d+1}: the original bias"),
        ),
        assumptions=(Assumption("", rewrite=index_range_rules({k: d, m: d + 1, j: d + 1})),),
        index_ranges={k: d, m: d + 1, j: d + 1},
        sizes={d: 2},
        claims=(
            IdentityClaim(zt, z, label="augmented model = wᵀx + b"),
            GradientClaim(ellt, wt, sp.Mul(miss, xt[j], evaluate=False), (), (j,),
                          "augmented gradient = (z − y)(x, 1): (z − y)x for the weights, z − y for the bias"),
            GradientClaim(ell, wt, sp.Piecewise((miss * x[j], j <= d), (miss, True)), (), (j,),
                          "the original model's gradient, ordered as (∂ℓ/∂w, ∂ℓ/∂b)"),
        ),
        result=(zt, ()),
        example_specs=(
            ExampleSpec("x = (1, 2), y = 1, w = (0.5, −0.25), b = 0.1: augmented weights (0.5, −0.25, 0.1)",
                        {"x": [1.0, 2.0], "y": 1.0, "wtilde": [0.5, -0.25, 0.1]},
                        (("augmented input (x, 1)", xt[j], (j,)), ("augmented model", zt, ()), ("wᵀx + b", z, ()),
                         ("augmented gradient", sp.Mul(miss, xt[j], evaluate=False), (j,)),
                         ("(∂ℓ/∂w, ∂ℓ/∂b)", sp.Piecewise((miss * x[j], j <= d), (miss, True)), (j,)))),
        ),
        notes=(r"The augmented weights $\tilde{w}$ are the inputs; the original $w$ and $b$ are read off them "
               r"($w_k = \tilde{w}_k$, $b = \tilde{w}_{d+1}$), so both models are evaluated at the same parameters.",),
        symbols=((x, "features"), (xt, "augmented input (x, 1)"), (wt, "augmented weights (w, b)"),
                 (wo, "weights"), (b, "bias"), (z, "wᵀx + b"), (zt, "the augmented model's output"), (ell, "loss of the original model"),
                 (ellt, "loss of the augmented model"), (d, "number of features")),
    )


def build() -> list[Derivation]:
    return [squared_error_gradient(), bias_as_weight()]
