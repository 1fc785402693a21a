"""Regularization: the L2 penalty as weight decay, the L1 penalty's (sub)gradient, and why
(inverted) dropout leaves the expected activation unchanged."""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import Dot
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
delta = sp.KroneckerDelta

d = sp.Symbol("d", integer=True, positive=True)  # number of parameters
j, k = sp.symbols("j k", integer=True, positive=True)
w = sp.IndexedBase("w", real=True)
g = sp.IndexedBase("g", real=True)  # ∂L_data/∂w
w_new = sp.IndexedBase("w'", real=True)
lam = sp.Symbol("lambda", positive=True)
alpha = sp.Symbol("alpha", positive=True)
R = sp.Symbol("R", nonnegative=True)

WEIGHTS = Input(w, (d,), "real", "the parameters w_1..w_d, flattened")
STRENGTH = Input(lam, (), "positive", "regularization strength λ")
SYMBOLS = (
    (w, "parameters, all layers flattened into one vector"),
    (d, "number of parameters"),
    (lam, "regularization strength"),
    (R, "the penalty"),
)
LAYOUT = r"denominator layout: $\frac{\partial R}{\partial w}$ has the shape of $w$ (one entry per parameter)"


def l2_weight_decay() -> Derivation:
    penalty = lam / 2 * sp.Sum(w[j] ** 2, (j, 1, d))
    dR = D(R, w[k])
    update = sp.Add(sp.Mul(1 - alpha * lam, w[k], evaluate=False), -alpha * g[k], evaluate=False)
    return Derivation(
        name="l2-weight-decay",
        title="L2 regularization is weight decay",
        summary=r"The gradient of the penalty $\frac{\lambda}{2} \|w\|^2$ is $\lambda w$, so a gradient step on "
        r"$L_{data} + \frac{\lambda}{2} \|w\|^2$ is $w \leftarrow (1 - \alpha\lambda)w - \alpha \nabla L_{data}$: "
        r"every step first shrinks the weights by the factor $1 - \alpha\lambda$ (hence 'weight decay'), "
        "pulling parameters the data does not support towards 0.",
        statement=sp.Eq(w_new[k], update),
        steps=(
            Step(
                dR,
                lam / 2 * sp.Sum(D(w[j] ** 2, w[k]), (j, 1, d)),
                r"linearity of the derivative; $\lambda$ is a constant",
            ),
            Step(
                dR, lam / 2 * sp.Sum(2 * w[j] * delta(j, k), (j, 1, d)), r"$\frac{d}{dx} x^2 = 2x$; $\frac{\partial w_j}{\partial w_k} = \delta_{jk}$"
            ),
            Step(dR, lam * w[k], r"$\delta_{jk}$ keeps only the term $j = k$; $2/2 = 1$"),
            Step(
                w_new[k],
                sp.Add(w[k], -alpha * sp.Add(g[k], dR, evaluate=False), evaluate=False),
                r"gradient step on $L = L_{data} + R$ with step size $\alpha$",
            ),
            Step(
                w_new[k],
                sp.Add(w[k], -alpha * sp.Add(g[k], lam * w[k], evaluate=False), evaluate=False),
                r"$\frac{\partial R}{\partial w_k} = \lambda w_k$",
            ),
            Step(w_new[k], update, r"collect $w_k$: shrink by $1 - \alpha\lambda$, then step along $-\nabla L_{data}$"),
        ),
        inputs=(
            WEIGHTS,
            Input(g, (d,), "real", "the data-loss gradient ∂L_data/∂w"),
            STRENGTH,
            Input(alpha, (), "positive", "step size α"),
        ),
        definitions=(
            Definition(R, (), penalty, r"R = \frac{\lambda}{2} \|w\|_2^2 = \frac{\lambda}{2} \sum_j w_j^2"),
            Definition(
                w_new,
                (k,),
                w[k] - alpha * (g[k] + D(R, w[k])),
                r"w'_k = w_k - \alpha\, \partial L / \partial w_k",
            ),
        ),
        assumptions=(Assumption(LAYOUT),),
        index_ranges={j: d, k: d},
        sizes={d: 3},
        claims=(
            GradientClaim(R, w, lam * w[k], (), (k,), "∂(λ/2 ‖w‖²)/∂w_k = λ w_k"),
            IdentityClaim(w_new[k], update, (k,), label="w' = (1 - αλ) w - α ∇L_data"),
        ),
        result=(update, (k,)),
        example_specs=(
            ExampleSpec(
                "One step with λ = 0.1, α = 0.5",
                {"w": [0.5, -1.0, 2.0], "g": [0.1, 0.2, -0.3], "lambda": 0.1, "alpha": 0.5},
                (
                    ("∂R/∂w", lam * w[k], (k,)),
                    ("decay factor 1 - αλ", 1 - alpha * lam, ()),
                    ("w'", update, (k,)),
                ),
            ),
        ),
        notes=(r"In the lectures the data loss is the batch mean $\frac{1}{B} \sum_i L^{(i)}$; $g$ is its gradient.",),
        symbols=SYMBOLS
        + ((g, "gradient of the data loss"), (alpha, "step size"), (w_new, "parameters after the step")),
    )


h = sp.Symbol("h", real=True)


def l1_regularization() -> Derivation:
    penalty = lam * sp.Sum(sp.Abs(w[j]), (j, 1, d))
    dR = D(R, w[k])
    right = sp.Limit(lam * sp.Abs(h) / h, h, 0, "+")
    left = sp.Limit(lam * sp.Abs(h) / h, h, 0, "-")
    return Derivation(
        name="l1-regularization",
        title="Subgradient of the L1 penalty",
        summary=r"The penalty $\lambda \|w\|_1 = \lambda \sum_j |w_j|$ has derivative "
        r"$\lambda \operatorname{sign}(w_k)$ with respect to $w_k$ wherever $w_k \neq 0$: a push of constant size "
        r"$\lambda$ towards 0, however small $w_k$ already is, which is why L1 drives weights to exactly 0 "
        r"(sparsity) while L2 only shrinks them. At $w_k = 0$ the one-sided derivatives are $-\lambda$ and "
        r"$\lambda$; every slope in $[-\lambda, \lambda]$ is a subgradient, and $\operatorname{sign}(0) = 0$ "
        "picks 0.",
        statement=sp.Eq(dR, lam * sp.sign(w[k])),
        steps=(
            Step(right, lam, r"at $w_k = 0$ only $\lambda |w_k|$ changes: $(\lambda|h| - \lambda|0|)/h = \lambda$ for $h > 0$"),
            Step(left, -lam, r"and $-\lambda$ for $h < 0$: a kink, no derivative at $w_k = 0$"),
            Step(dR, lam * sp.Sum(D(sp.Abs(w[j]), w[k]), (j, 1, d)), r"$w_k \neq 0$: linearity of the derivative"),
            Step(
                dR,
                lam * sp.Sum(sp.sign(w[j]) * delta(j, k), (j, 1, d)),
                r"$\frac{d|x|}{dx} = \operatorname{sign}(x)$ for $x \neq 0$; $\frac{\partial w_j}{\partial w_k} = \delta_{jk}$",
            ),
            Step(dR, lam * sp.sign(w[k]), r"$\delta_{jk}$ keeps only the term $j = k$"),
        ),
        inputs=(WEIGHTS, STRENGTH),
        definitions=(Definition(R, (), penalty, r"R = \lambda \|w\|_1 = \lambda \sum_j |w_j|"),),
        assumptions=(
            Assumption(LAYOUT),
            Assumption(r"the derivative formula holds for $w_k \neq 0$; at $w_k = 0$ the subgradient set is "
                       r"$[-\lambda, \lambda]$"),
        ),
        index_ranges={j: d, k: d},
        sizes={d: 3},
        claims=(GradientClaim(R, w, lam * sp.sign(w[k]), (), (k,), "∂(λ‖w‖₁)/∂w_k = λ sign(w_k), w_k ≠ 0"),),
        result=(lam * sp.sign(w[k]), (k,)),
        example_specs=(
            ExampleSpec(
                "λ = 0.1: the push towards 0 has the same size for a large and a tiny weight",
                {"w": [2.0, -0.001, 0.0], "lambda": 0.1},
                (("R", R, ()), ("∂R/∂w (sign(0) = 0 at the kink)", lam * sp.sign(w[k]), (k,))),
            ),
        ),
        notes=(
            r"Subgradient at $w_k = 0$: every $g \in [-\lambda, \lambda]$ satisfies "
            r"$\lambda|w_k + h| \geq \lambda|w_k| + g h$ for all $h$; frameworks use $\operatorname{sign}(0) = 0$, "
            "i.e. the subgradient 0.",
            r"The lecture writes the penalty as $\frac{\lambda}{2}\|W\|_1$ but its derivative as "
            r"$\lambda \operatorname{sign}(w_k)$; these two do not match. Here the penalty is $\lambda \|w\|_1$, "
            r"whose derivative is $\lambda \operatorname{sign}(w_k)$.",
            r"Numeric checks are at random points, where $w_k \neq 0$ with probability 1.",
        ),
        symbols=SYMBOLS + ((h, "a small change of w_k at w_k = 0"),),
    )


# -- dropout ------------------------------------------------------------------------------------

p = sp.Symbol("p", positive=True)  # keep probability
m = sp.Symbol("m", nonnegative=True)  # the mask: 1 keeps the unit, 0 drops it
act = sp.Symbol("a", real=True)


class E_m(sp.Function):  # noqa: N801 - printed as the expectation over the mask
    """Expectation over the dropout mask m ~ Bernoulli(p), as the explicit two-term sum
    ``P(m = 1)·f(1) + P(m = 0)·f(0)``; ``doit`` evaluates it."""

    nargs = 1

    def doit(self, deep: bool = True, **hints):
        body = self.args[0].doit(deep=deep, **hints) if deep else self.args[0]
        return p * body.subs(m, 1) + (1 - p) * body.subs(m, 0)

    def _latex(self, printer) -> str:
        return r"\mathbb{E}_{m}\left[" + printer._print(self.args[0]) + r"\right]"

    def _sympystr(self, printer) -> str:
        return f"E_m[{printer._print(self.args[0])}]"

    _gradproof_text = _sympystr  # the CLI text printer


def _two_terms(*factors: sp.Expr) -> sp.Expr:
    """p · factors(m = 1) + (1 - p) · factors(m = 0), unevaluated for display."""
    return sp.Add(
        Dot(p, *(f.subs(m, 1) for f in factors)),
        Dot(1 - p, *(f.subs(m, 0) for f in factors)),
        evaluate=False,
    )


def dropout_expectation() -> Derivation:
    unscaled, inverted = E_m(m * act), E_m(m * act / p)
    return Derivation(
        name="dropout-expectation",
        title="Inverted dropout keeps the expected activation",
        summary=r"With a mask $m \sim \operatorname{Bernoulli}(p)$ (keep probability $p$), the training-time "
        r"output $m a / p$ of inverted dropout has expectation $a$, the output the full network gives at test "
        "time, so nothing changes when dropout is switched off. Equivalently, plain dropout $m a$ has "
        "expectation $p a$ in training, and the test-time activations are scaled by $p$ to match.",
        statement=sp.Eq(inverted, act),
        steps=(
            Step(unscaled, _two_terms(m, act), r"expectation over $m \in \{0, 1\}$: $P(m = 1) = p$, $P(m = 0) = 1 - p$"),
            Step(
                unscaled,
                p * act,
                "the dropped term is 0: plain dropout shrinks the mean to $p a$, "
                "so at test time (all units kept) the activations are scaled by $p$",
            ),
            Step(
                inverted, _two_terms(m / p, act), "inverted dropout: scale the kept unit by $1/p$ in training"
            ),
            Step(inverted, Dot(p, 1 / p, act), "the dropped term is 0"),
            Step(inverted, act, r"$p \cdot \frac{1}{p} = 1$: no scaling is needed at test time"),
        ),
        inputs=(
            Input(act, (), "real", "the activation a of one unit"),
            Input(p, (), "probability", "keep probability p (the unit is dropped with probability 1 - p)"),
        ),
        assumptions=(
            Assumption(
                r"$m \sim \operatorname{Bernoulli}(p)$: $m = 1$ (keep) with probability $p$, $m = 0$ (drop) with "
                "probability $1 - p$"
            ),
            Assumption("the mask is drawn independently of $a$ (each unit's mask separately)"),
        ),
        declarations=(r"random m \sim \mathrm{Bernoulli}(p)", "assume 0 < p < 1"),
        claims=(
            IdentityClaim(inverted, act, label="E[m a / p] = a"),
            IdentityClaim(unscaled, p * act, label="E[m a] = p a"),
        ),
        result=(inverted, ()),
        example_specs=(
            ExampleSpec(
                "Keep probability p = 0.5 (the lecture's default), activation a = 2",
                {"a": 2.0, "p": 0.5},
                (
                    ("E[m a] (plain dropout)", unscaled, ()),
                    ("test-time output p·a", p * act, ()),
                    ("E[m a / p] (inverted dropout)", inverted, ()),
                ),
            ),
            ExampleSpec(
                "Keep probability p = 0.8, activation a = -1.5",
                {"a": -1.5, "p": 0.8},
                (("E[m a] (plain dropout)", unscaled, ()), ("E[m a / p] (inverted dropout)", inverted, ())),
            ),
        ),
        notes=(
            "$p$ is the KEEP probability here, as in the regularization lecture ('drop with probability "
            "$1 - p$, scale by $p$ at test time'); another lecture calls the DROP probability $p$.",
            r"Expectations are exact two-term sums over $m \in \{0, 1\}$; a seeded Monte Carlo in the tests agrees.",
        ),
        symbols=((act, "activation of one unit"), (p, "keep probability"), (m, "dropout mask, 0 or 1")),
    )


def build() -> list[Derivation]:
    return [l2_weight_decay(), l1_regularization(), dropout_expectation()]
