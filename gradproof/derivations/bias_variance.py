"""The bias–variance decomposition, proved with an explicit expectation algebra.

SymPy's ``sympy.stats`` returns the expanded polynomial (never grouped into bias²) and can run
for minutes, so expectations here are a small operator :class:`Expect` on polynomials in the two
random quantities: the noise ε and the deviation Δ = M − E[M] of the trained model from its mean
over training sets.  ``Expect(expr).doit()`` expands ``expr`` as a polynomial in Δ and ε and
applies, term by term, the rules the derivation states as steps: linearity (constants come out),
independence of ε and the training set (E[Δ^a ε^b] = E[Δ^a] E[ε^b]), E[Δ] = 0, E[Δ²] = Var_D M,
E[ε] = 0, E[ε²] = σ².  A step is then true when both sides agree after the operator is applied.

For numeric checks the training set D is one of n sets drawn with probabilities q_j, on which the
model predicts m_j, and ε = ±σ with probability 1/2 each; the exact enumeration of that model is
compared with the decomposition, independently of the operator.  The Monte Carlo experiment with
polynomial fits is :func:`gradproof.experiments.bias_variance.bias_variance_experiment`.
"""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import Dot
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    IdentityClaim,
    Input,
    Step,
)

n = sp.Symbol("n", integer=True, positive=True)  # training sets in the discrete model
j = sp.Symbol("j", integer=True, positive=True)
f = sp.Symbol("f", real=True)  # f(x), the true function at the query point
sigma = sp.Symbol("sigma", positive=True)
eps = sp.Symbol("epsilon", real=True)  # the noise: random
Delta = sp.Symbol("Delta", real=True)  # M − E_D[M]: random through D
y = sp.Symbol("y", real=True)
M = sp.Symbol("M", real=True)  # M(x; D), the trained model's prediction
mu = sp.Symbol("mu", real=True)  # E_D[M]
m = sp.IndexedBase("m", real=True)
q = sp.IndexedBase("q", positive=True)

MEAN = sp.Sum(q[j] * m[j], (j, 1, n))
VARIANCE = sp.Sum(q[j] * (m[j] - MEAN) ** 2, (j, 1, n))


def _moment_delta(power: int, variance: sp.Expr) -> sp.Expr:
    # E[Δ] = 0 (Δ is M minus its own mean); E[Δ²] = Var_D M
    return {0: sp.S.One, 1: sp.S.Zero, 2: variance}[power]


def _moment_eps(power: int) -> sp.Expr:
    # E[ε] = 0; E[ε²] = Var ε = σ²
    return {0: sp.S.One, 1: sp.S.Zero, 2: sigma**2}[power]


class Expect(sp.Function):
    """E over the training set D and the noise ε, for polynomials (of degree ≤ 2 in each) in the
    random quantities Δ and ε; everything else is a constant.  ``doit`` applies the rules.

    The second argument is Var_D M, the value of E[Δ²]; it travels inside the expression so that
    substituting concrete sizes reaches it (it is not printed)."""

    nargs = 2

    def doit(self, deep: bool = True, **hints):
        body, variance = self.args
        body = body.doit(deep=deep, **hints) if deep else body
        if deep and not variance.has(n):
            # at concrete sizes the sum is evaluated; with symbolic n SymPy would only spend
            # ~0.3 s per call to return it unchanged
            variance = variance.doit(deep=deep, **hints)
        total = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(body)):
            const, random_part = term.as_independent(Delta, eps, as_Add=False)  # linearity
            powers = random_part.as_powers_dict()
            extra = set(powers) - {Delta, eps, sp.S.One}
            degree = (powers.get(Delta, 0), powers.get(eps, 0))
            if extra or not all(d in (0, 1, 2) for d in degree):
                raise NotImplementedError(f"E[{random_part}]: only powers 0..2 of Δ and ε have moments here")
            # independence of ε and D: E[Δ^a ε^b] = E[Δ^a] E[ε^b]
            total += const * _moment_delta(int(degree[0]), variance) * _moment_eps(int(degree[1]))
        return total

    def _latex(self, printer) -> str:
        return r"\mathbb{E}\left[" + printer._print(self.args[0]) + r"\right]"

    def _sympystr(self, printer) -> str:
        return f"E[{printer._print(self.args[0])}]"

    _gradproof_text = _sympystr  # the CLI text printer


def E(expr: sp.Expr) -> Expect:
    """E[expr] over D and ε, with Var_D M that of the discrete model of the numeric checks."""
    return Expect(expr, VARIANCE)


def _sum(*terms: sp.Expr) -> sp.Expr:
    return sp.Add(*terms, evaluate=False)


def decomposition() -> Derivation:
    EM = E(M)
    a = sp.Add(f, -EM, evaluate=False)  # f − E[M], a constant
    error = E((y - M) ** 2)
    bias2 = sp.Add(EM, -f, evaluate=False) ** 2
    variance = E((M - EM) ** 2)
    rhs = _sum(bias2, variance, sigma**2)
    enumeration = sp.Sum(q[j] * sp.Rational(1, 2) * ((f + sigma - m[j]) ** 2 + (f - sigma - m[j]) ** 2), (j, 1, n))
    decomposed = (MEAN - f) ** 2 + VARIANCE + sigma**2
    return Derivation(
        name="bias-variance-decomposition",
        title="Bias–variance decomposition",
        summary=r"For targets $y = f(x) + \epsilon$ with noise of mean 0 and variance $\sigma^2$, independent "
        r"of the training set $D$, the expected squared error of the trained model $M(x; D)$ splits into "
        r"bias$^2$ $(\mathbb{E}_D[M] - f)^2$, variance $\mathbb{E}_D[(M - \mathbb{E}_D[M])^2]$ and the "
        r"irreducible $\sigma^2$: the cross terms vanish because both the noise and the model's deviation from "
        "its mean average to 0. gradproof.bias_variance_experiment measures the three parts for polynomial fits.",
        declarations=(
            "random M",  # the trained model's output: its law (over training sets) is not needed
            r"random \epsilon \sim \mathcal{N}(0, \sigma^2)",  # only its mean and variance are used
            r"define \Delta = M - \mathbb{E}[M]",
            r"define y = f + \epsilon",
            r"assume \sigma > 0",
        ),
        statement=sp.Eq(error, rhs),
        steps=(
            Step(E(Delta), 0, r"$\Delta = M - \mathbb{E}[M]$ is the model's deviation from its own mean: "
                 r"$\mathbb{E}[\Delta] = \mathbb{E}[M] - \mathbb{E}[M]$"),
            Step(E(eps), 0, "the noise has mean 0"),
            Step(E(eps**2), sigma**2, r"$\mathbb{E}[\epsilon^2] = \operatorname{Var} \epsilon + (\mathbb{E}\,\epsilon)^2 = \sigma^2$"),
            Step(E(eps * Delta), E(eps) * E(Delta), r"$\epsilon$ is independent of the training set $D$, hence of $\Delta$"),
            Step(error, E(_sum(a, eps, -Delta) ** 2), r"$y = f(x) + \epsilon$; write $M = \mathbb{E}[M] + \Delta$"),
            Step(
                error,
                E(_sum(a**2, eps**2, Delta**2, 2 * a * eps, -2 * a * Delta, -2 * eps * Delta)),
                "expand the square",
            ),
            Step(
                error,
                _sum(a**2, E(eps**2), E(Delta**2), 2 * a * E(eps), -2 * a * E(Delta), -2 * E(eps * Delta)),
                r"linearity of $\mathbb{E}$; $f(x)$ and $\mathbb{E}[M]$ are constants",
            ),
            Step(
                error,
                _sum(a**2, E(eps**2), E(Delta**2), 2 * a * E(eps), -2 * a * E(Delta), -2 * E(eps) * E(Delta)),
                r"independence: $\mathbb{E}[\epsilon\Delta] = \mathbb{E}[\epsilon]\,\mathbb{E}[\Delta]$",
            ),
            Step(
                error,
                _sum(a**2, E(eps**2), E(Delta**2), 2 * a * E(eps), Dot(-2, a, 0), Dot(-2, E(eps), 0)),
                r"$\mathbb{E}[\Delta] = 0$: both cross terms with $\Delta$ vanish",
            ),
            Step(error, _sum(a**2, E(eps**2), E(Delta**2), Dot(2, a, 0)), r"$\mathbb{E}[\epsilon] = 0$: the last cross term vanishes"),
            Step(error, _sum(a**2, E(Delta**2), sigma**2), r"$\mathbb{E}[\epsilon^2] = \sigma^2$"),
            Step(error, rhs, r"$(a - b)^2 = (b - a)^2$; $\Delta = M - \mathbb{E}[M]$: bias$^2$, variance, noise"),
        ),
        inputs=(
            Input(f, (), "real", "f(x): the true function at the query point"),
            Input(sigma, (), "positive", "σ: standard deviation of the noise"),
            Input(m, (n,), "real", "m_j: the trained model's prediction M(x; D_j) on training set j"),
            Input(q, (n,), "simplex", "q_j: probability of drawing training set j"),
        ),
        definitions=(
            Definition(y, (), f + eps, r"y = f(x) + \epsilon"),
            Definition(M, (), mu + Delta, r"M = \mathbb{E}_D[M] + \Delta"),
            Definition(mu, (), MEAN, r"\mathbb{E}_D[M] = \sum_j q_j m_j (D = D_j with probability q_j)"),
        ),
        assumptions=(
            Assumption(r"$\mathbb{E}[\epsilon] = 0$ and $\operatorname{Var} \epsilon = \sigma^2$"),
            Assumption(r"$\epsilon$ is independent of the training set $D$ (fresh noise on the test target)"),
            Assumption(r"$\mathbb{E}$ is over $D$ and $\epsilon$ together; $M$ depends on $D$ only, so "
                       r"$\mathbb{E}[M] = \mathbb{E}_D[M]$"),
            Assumption(r"numeric checks: $D$ is one of $n$ training sets (probabilities $q_j$), "
                       r"$\epsilon = \pm\sigma$ with probability $\frac{1}{2}$"),
        ),
        index_ranges={j: n},
        sizes={n: 3},
        claims=(
            IdentityClaim(enumeration, decomposed, label="exact enumeration over D and ε = bias² + variance + σ²"),
            IdentityClaim(error, enumeration, label="the expectation algebra agrees with the enumeration"),
        ),
        result=(decomposed, ()),
        example_specs=(
            ExampleSpec(
                "Three equally likely training sets, f(x) = 1, σ = 0.5",
                {"f": 1.0, "sigma": 0.5, "m": [0.6, 1.1, 1.6], "q": [1 / 3, 1 / 3, 1 / 3]},
                (
                    ("bias² (E_D[M] - f)²", (MEAN - f) ** 2, ()),
                    ("variance E_D[(M - E_D M)²]", VARIANCE, ()),
                    ("noise σ²", sigma**2, ()),
                    ("sum of the three", decomposed, ()),
                    ("E[(y - M)²] by enumeration", enumeration, ()),
                ),
            ),
        ),
        notes=(
            r"The expectation $\mathbb{E}$ is an explicit operator on polynomials in $\Delta$ and $\epsilon$ "
            r"(linearity, independence, $\mathbb{E}[\Delta] = 0$, $\mathbb{E}[\Delta^2] = \operatorname{Var}_D M$, "
            r"$\mathbb{E}[\epsilon] = 0$, $\mathbb{E}[\epsilon^2] = \sigma^2$); every step above holds "
            "after applying it, and each rule is stated as its own step first.",
            "The numeric claim enumerates a small discrete model exactly; the tests add a seeded Monte Carlo "
            "with Gaussian noise, and gradproof.bias_variance_experiment measures the same identity for "
            "polynomial regressions.",
        ),
        symbols=(
            (f, "true function value f(x)"),
            (eps, "noise on the target"),
            (sigma, "noise standard deviation"),
            (M, "trained model's prediction M(x; D)"),
            (Delta, "deviation M − E_D[M]"),
            (y, "noisy target"),
        ),
    )


def build() -> list[Derivation]:
    return [decomposition()]
