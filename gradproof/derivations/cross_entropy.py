"""Cross-entropy: its gradient through softmax, the log-sum-exp form, the KL decomposition,
and the sigmoid as a two-class softmax."""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradproof.derivations.common import (
    INDEX_RANGES,
    LABELS_SIMPLEX,
    LABELS_SUM_TO_ONE,
    LOGITS,
    SOFTMAX,
    i,
    j,
    k,
    l,
    n,
    s,
    softmax_sum,
    sum_to_one,
    y,
    z,
)
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
L = sp.Symbol("L", real=True)
CE = Definition(L, (), -sp.Sum(y[i] * sp.log(s[i]), (i, 1, n)), "L = -Σ_i y_i log s_i")
SYMBOLS = ((z, "logits"), (s, "softmax outputs"), (y, "labels"), (L, "cross-entropy loss"))


def _onehot_example(title: str, probs: list[float], hot: int) -> ExampleSpec:
    # logits z = log p reproduce the probabilities exactly, since softmax(log p) = p when Σ p = 1
    labels = [float(c == hot) for c in range(len(probs))]
    return ExampleSpec(
        title,
        {"z": list(np.log(probs)), "y": labels},
        (("s", s[i], (i,)), ("L", L, ()), ("∂L/∂z_j", s[j] - y[j], (j,))),
        note="logits taken as z = log p, so that softmax(z) = p",
    )


def softmax_gradient() -> Derivation:
    dL = D(L, z[j])
    return Derivation(
        name="cross-entropy-softmax-gradient",
        title="Gradient of cross-entropy through softmax",
        summary=r"For $L = -\sum_i y_i \log s_i$ with $s = \operatorname{softmax}(z)$, "
        r"$\frac{\partial L}{\partial z_j} = s_j \sum_i y_i - y_j$, which is $s_j - y_j$ whenever the labels "
        "sum to 1 (one-hot or soft labels): prediction minus target.",
        statement=sp.Eq(dL, s[j] - y[j]),
        steps=(
            Step(dL, -sp.Sum(y[i] * D(sp.log(s[i]), z[j]), (i, 1, n)),
                 "linearity of the derivative; $y$ does not depend on $z$"),
            Step(dL, -sp.Sum(y[i] * (delta(i, j) - s[j]), (i, 1, n)),
                 r"log-softmax gradient: $\frac{\partial \log s_i}{\partial z_j} = \delta_{ij} - s_j$"),
            Step(dL, s[j] * sp.Sum(y[i], (i, 1, n)) - y[j],
                 r"$\delta_{ij}$ keeps only the term $i = j$; $s_j$ does not depend on $i$"),
            Step(dL, s[j] - y[j], "the labels sum to 1"),
        ),
        inputs=(LOGITS, LABELS_SIMPLEX),
        definitions=(SOFTMAX, CE),
        assumptions=(LABELS_SUM_TO_ONE,),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        claims=(GradientClaim(L, z, s[j] - y[j], (), (j,), "∂L/∂z_j"),),
        result=(s[j] - y[j], (j,)),
        example_specs=(
            _onehot_example("Lecture table: true class 3 of 5, a poor prediction", [0.2, 0.3, 0.1, 0.15, 0.25], 2),
            _onehot_example("Lecture table: true class 3 of 5, a good prediction", [0.02, 0.1, 0.8, 0.05, 0.03], 2),
        ),
        symbols=SYMBOLS,
    )


def logsumexp() -> Derivation:
    lse = sp.log(softmax_sum(k))
    return Derivation(
        name="cross-entropy-logsumexp",
        title="Cross-entropy in log-sum-exp form",
        summary=r"With labels summing to 1, $L = \log \sum_k e^{z_k} - \sum_j y_j z_j$: the form frameworks "
        "evaluate (the log-sum-exp is computed with the maximum subtracted), and whose gradient is "
        r"visibly $\operatorname{softmax}(z) - y$.",
        statement=sp.Eq(L, lse - sp.Sum(y[j] * z[j], (j, 1, n))),
        steps=(
            Step(L, -sp.Sum(y[j] * sp.log(s[j]), (j, 1, n)), "definition of the cross-entropy"),
            Step(L, -sp.Sum(y[j] * (z[j] - lse), (j, 1, n)), r"$\log s_j = z_j - \log \sum_k e^{z_k}$"),
            Step(L, sp.Sum(y[j], (j, 1, n)) * lse - sp.Sum(y[j] * z[j], (j, 1, n)),
                 "expand; the log-sum-exp does not depend on $j$"),
            Step(L, lse - sp.Sum(y[j] * z[j], (j, 1, n)), "the labels sum to 1"),
        ),
        inputs=(LOGITS, LABELS_SIMPLEX),
        definitions=(SOFTMAX, CE),
        assumptions=(LABELS_SUM_TO_ONE,),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        claims=(
            IdentityClaim(L, lse - sp.Sum(y[j] * z[j], (j, 1, n)), (), label="L = logsumexp(z) - y·z"),
            GradientClaim(lse - sp.Sum(y[i] * z[i], (i, 1, n)), z, s[j] - y[j], (), (j,),
                          "∂/∂z_j [logsumexp(z) - y·z] = s_j - y_j"),
        ),
        result=(lse - sp.Sum(y[j] * z[j], (j, 1, n)), ()),
        example_specs=(
            ExampleSpec("Lecture logits with a one-hot label on the first class",
                        {"z": [1.84, 0.82, -0.24], "y": [1.0, 0.0, 0.0]},
                        (("log Σ e^z", lse, ()), ("L", L, ()))),
        ),
        symbols=SYMBOLS,
    )


p = sp.IndexedBase("p", positive=True)
q = sp.IndexedBase("q", positive=True)
H = sp.Function("H")
KL = sp.Function("KL")


def kl() -> Derivation:
    Hpq, Hp, KLpq = H(p, q), H(p), KL(p, q)
    entropy = -sp.Sum(p[i] * sp.log(p[i]), (i, 1, n))
    cross = -sp.Sum(p[i] * sp.log(q[i]), (i, 1, n))
    divergence = sp.Sum(p[i] * sp.log(p[i] / q[i]), (i, 1, n))
    bits_per_nat = sp.Symbol("bits/nat", positive=True)
    return Derivation(
        name="cross-entropy-kl",
        title="Cross-entropy = entropy + KL divergence",
        summary=r"$H(p, q) = H(p) + \operatorname{KL}(p \,\|\, q)$. Since $\operatorname{KL}(p \,\|\, q) \geq 0$ "
        r"with equality only when $q = p$ (Gibbs' inequality, from Jensen's inequality for the concave log), "
        "the cross-entropy is smallest, and equal to the entropy, when the model's distribution $q$ matches "
        r"the data's $p$. Measured in bits instead of nats, every quantity is multiplied by "
        r"$1/\ln 2 \approx 1.44$.",
        declarations=(
            "index i, j, k, l = 1..n",
            "vector p, q : n",
            r"function H(u, v) = -\sum_{i=1}^{n} u_i \log v_i",
            r"function H(u) = -\sum_{i=1}^{n} u_i \log u_i",
            r"function \operatorname{KL}(u, v) = \sum_{i=1}^{n} u_i \log \frac{u_i}{v_i}",
            r"define \mathrm{bits/nat} = \frac{1}{\log 2}",
            "assume p_i > 0",
            "assume q_i > 0",
            r"assume \sum_{i=1}^{n} p_i = 1",
            r"assume \sum_{i=1}^{n} q_i = 1",
        ),
        statement=sp.Eq(Hpq, Hp + KLpq),
        steps=(
            Step(-KLpq, sp.Sum(p[i] * sp.log(q[i] / p[i]), (i, 1, n)), r"$\log(a/b) = -\log(b/a)$"),
            Step(sp.Sum(p[i] * sp.log(q[i] / p[i]), (i, 1, n)),
                 sp.log(sp.Sum(p[i] * (q[i] / p[i]), (i, 1, n))),
                 "Jensen's inequality: log is concave and $p$ is a probability vector", "<="),
            Step(sp.log(sp.Sum(p[i] * (q[i] / p[i]), (i, 1, n))), 0, r"$p_i$ cancels; $q$ sums to 1; $\log 1 = 0$"),
            Step(KLpq, 0, r"the three lines above: $\operatorname{KL}(p \,\|\, q) \geq 0$, with equality only when $q = p$", ">="),
            Step(KL(p, p), 0, r"$\log(p_i/p_i) = 0$: the divergence vanishes at $q = p$"),
            Step(bits_per_nat, 1 / sp.log(2), r"1 nat $= \log_2 e$ bits $= 1/\ln 2$ bits $\approx 1.44$ bits"),
            Step(Hpq, sp.Add(-sp.Sum(p[i] * sp.log(p[i]), (i, 1, n)), sp.Sum(p[i] * sp.log(p[i]), (i, 1, n)),
                             -sp.Sum(p[i] * sp.log(q[i]), (i, 1, n)), evaluate=False),
                 "definition of $H(p, q)$; add and subtract $H(p)$"),
            Step(Hpq, sp.Add(entropy, divergence, evaluate=False), r"$\log p_i - \log q_i = \log(p_i/q_i)$"),
            Step(Hpq, Hp + KLpq, r"definitions of $H(p)$ and $\operatorname{KL}(p \,\|\, q)$"),
        ),
        inputs=(Input(p, (n,), "simplex", "the data distribution p"),
                Input(q, (n,), "simplex", "the model distribution q")),
        definitions=(
            Definition(Hpq, (), cross, "H(p, q) = -Σ_i p_i log q_i"),
            Definition(Hp, (), entropy, "H(p) = -Σ_i p_i log p_i"),
            Definition(KLpq, (), divergence, "KL(p‖q) = Σ_i p_i log(p_i/q_i)"),
            # p_i/p_i left unevaluated so the definition reads as KL(p‖q) at q = p
            Definition(KL(p, p), (), sp.Sum(p[i] * sp.log(sp.Mul(p[i], sp.Pow(p[i], -1, evaluate=False),
                                                                 evaluate=False)), (i, 1, n)), "KL(p‖p)"),
            Definition(bits_per_nat, (), sp.log(sp.E, 2), "1 nat = log_2 e bits"),
        ),
        assumptions=(
            Assumption("$p$ and $q$ are probability vectors with positive entries", rewrite=None),
            Assumption(r"$\sum_i p_i = 1$", rewrite=sum_to_one(p)),
            Assumption(r"$\sum_i q_i = 1$", rewrite=sum_to_one(q)),
        ),
        index_ranges={i: n, j: n, k: n, l: n},
        sizes={n: 4},
        claims=(
            IdentityClaim(Hpq, Hp + KLpq, label="H(p, q) = H(p) + KL(p‖q)"),
            IdentityClaim(KLpq, 0, (), ">=", label="KL(p‖q) ≥ 0 on random distributions"),
            IdentityClaim(KL(p, p), 0, label="KL(p‖p) = 0"),
        ),
        result=(KLpq, ()),
        example_specs=(
            ExampleSpec("A fair coin modelled as 80/20 (n = 2)", {"p": [0.5, 0.5], "q": [0.8, 0.2]},
                        (("H(p) [nats]", Hp, ()), ("KL(p‖q) [nats]", KLpq, ()), ("H(p, q) [nats]", Hpq, ()),
                         ("H(p, q) [bits]", Hpq / sp.log(2), ()), ("bits per nat", bits_per_nat, ()))),
        ),
        symbols=((p, "data distribution"), (q, "model distribution")),
    )


def sigmoid_two_class() -> Derivation:
    x = sp.Symbol("z", real=True)
    sigma = sp.Function("sigma")
    two_class = sp.exp(x) / (sp.exp(x) + sp.exp(0, evaluate=False))
    stable = Definition(sigma(x), (), 1 / (1 + sp.exp(-x)), "σ(z) = 1/(1 + e^{-z})")
    return Derivation(
        name="sigmoid-as-two-class-softmax",
        title="The sigmoid is a two-class softmax",
        summary=r"Softmax over the two logits $(z, 0)$ gives $\sigma(z)$ for the first class and "
        r"$1 - \sigma(z)$ for the second: logistic regression is softmax regression with one logit fixed at 0.",
        statement=sp.Eq(two_class, sigma(x)),
        steps=(
            Step(1 - two_class, 1 - sigma(x), r"the two outputs sum to 1, so the second is $1 - \sigma(z)$"),
            Step(two_class, sp.exp(x) / (sp.exp(x) + 1), "$e^0 = 1$"),
            Step(two_class, 1 / (1 + sp.exp(-x)), "divide numerator and denominator by $e^z$"),
            Step(two_class, sigma(x), "definition of the sigmoid"),
        ),
        inputs=(Input(x, (), "real", "the logit of the first class (the second is 0)"),),
        definitions=(stable,),
        claims=(IdentityClaim(two_class, sigma(x), label="softmax(z, 0)_1 = σ(z)"),),
        result=(sigma(x), ()),
        example_specs=(
            ExampleSpec("z = 0.8", {"z": 0.8}, (("softmax(z, 0)_1", two_class, ()), ("σ(z)", sigma(x), ()))),
        ),
        symbols=((x, "logit"),),
    )


def build() -> list[Derivation]:
    return [softmax_gradient(), logsumexp(), kl(), sigmoid_two_class()]
