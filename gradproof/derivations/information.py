"""Information-theoretic facts behind the cross-entropy loss: KL(p‖q) = 0 exactly when q = p,
the cross-entropy is never negative and is 0 only for a certain, correct prediction, and it is
not symmetric in its two arguments.

These need more than "lhs ⋈ rhs for all values": an equivalence (both implications proved by the
rules of :mod:`gradproof.derivations.logic`) and an existential claim shown at a witness point.
The one-variable fact behind Gibbs' inequality, log x ≤ x − 1 with equality only at x = 1, is
proved as φ(x) = x − 1 − log x ≥ 0: φ' = (x − 1)/x, so x = 1 is φ's only critical point and a
strict minimum, where φ = 0.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradproof.derivations.common import i, n, sum_to_one
from gradproof.derivations.logic import At, Exists, Iff
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    IdentityClaim,
    Input,
    Step,
)
from gradproof.derivations.numeric_checks import EqualityCase, NumericExperiment

p = sp.IndexedBase("p", positive=True)
q = sp.IndexedBase("q", positive=True)
yh = sp.IndexedBase("yhat", positive=True)  # predicted probabilities ŷ
y = sp.IndexedBase("y", nonnegative=True)  # labels
c = sp.Symbol("c", integer=True, positive=True)  # the true class
x = sp.Symbol("x", positive=True)
phi = sp.Function("phi")
H = sp.Function("H")
KL = sp.Function("KL")
L = sp.Symbol("L", real=True)
L_c = sp.Symbol("L_c", real=True)

PHI = Definition(phi(x), (x,), x - 1 - sp.log(x), r"\varphi(x) = x - 1 - \log x")
P_INPUT = Input(p, (n,), "simplex", "a probability vector p (positive entries)")
Q_INPUT = Input(q, (n,), "simplex", "a probability vector q (positive entries)")
X_INPUT = Input(x, (), "positive", "a positive number x (the lemma's variable)")
PQ_SUM_TO_ONE = (
    Assumption("p and q are probability vectors with positive entries: Σ_i p_i = 1", rewrite=sum_to_one(p)),
    Assumption("Σ_i q_i = 1", rewrite=sum_to_one(q)),
)
LEMMA_REASON = (
    r"$\log x \le x - 1$: $\varphi'(x) = (x - 1)/x$ changes sign only at $x = 1$, "
    r"a strict minimum, where $\varphi(1) = 0$"
)


def _kl_definitions() -> tuple[Definition, ...]:
    return (
        Definition(KL(p, q), (), sp.Sum(p[i] * sp.log(p[i] / q[i]), (i, 1, n)), r"KL(p‖q) = Σ_i p_i log(p_i/q_i)"),
        PHI,
    )


def kl_zero_iff_equal() -> Derivation:
    kl = KL(p, q)
    ratio = q[i] / p[i]
    term = p[i] * phi(ratio)
    terms = sp.Sum(term, (i, 1, n))
    kl_zero, equal = sp.Eq(kl, 0), sp.Eq(q[i], p[i])
    return Derivation(
        name="kl-zero-iff-equal",
        title="KL divergence is zero exactly when the distributions agree",
        summary=r"$\operatorname{KL}(p \,\|\, q) = 0$ if and only if $q = p$. The 'if' is a substitution: every "
        r"$\log(p_i/p_i)$ is 0. The 'only if' uses $\log x \le x - 1$ with equality only at $x = 1$: writing "
        r"$\operatorname{KL}(p \,\|\, q) = \sum_i p_i \varphi(q_i/p_i)$ with $\varphi(x) = x - 1 - \log x \ge 0$, "
        r"a zero sum of nonnegative terms has every term 0, so every ratio $q_i/p_i$ is 1. Both directions "
        r"are proved by rules that never sample points: the premise $\operatorname{KL}(p \,\|\, q) = 0$ holds "
        r"only where $q = p$, where no random point lands.",
        statement=Iff(kl_zero, equal),
        steps=(
            Step(phi(x), 0, LEMMA_REASON, ">="),
            Step(sp.Eq(phi(x), 0), sp.Eq(x, 1), "the equality case: the minimum at $x = 1$ is strict", "=>"),
            Step(kl, terms, r"add $\sum_i p_i (q_i/p_i - 1) = \sum_i q_i - \sum_i p_i = 0$; "
                 r"$\log(q_i/p_i) = -\log(p_i/q_i)$"),
            Step(term, 0, r"$p_i > 0$ and $\varphi \ge 0$ (step 1)", ">="),
            Step(kl_zero, sp.Eq(terms, 0), "step 3", "=>"),
            Step(sp.Eq(terms, 0), sp.Eq(term, 0),
                 "a sum of nonnegative terms (step 4) is 0 only if every term is", "=>"),
            Step(sp.Eq(term, 0), sp.Eq(phi(ratio), 0), r"divide by $p_i > 0$", "=>"),
            Step(sp.Eq(phi(ratio), 0), sp.Eq(ratio, 1), r"step 2 at $x = q_i/p_i > 0$", "=>"),
            Step(sp.Eq(ratio, 1), equal, r"multiply by $p_i$", "=>"),
            Step(kl_zero, equal, "steps 5 to 9: the 'only if'", "=>"),
            Step(equal, kl_zero, r"substitute $q = p$: every $\log(p_i/p_i) = 0$ (the 'if')", "=>"),
        ),
        inputs=(P_INPUT, Q_INPUT, X_INPUT),
        definitions=_kl_definitions(),
        assumptions=PQ_SUM_TO_ONE,
        index_ranges={i: n},
        sizes={n: 3},
        claims=(
            IdentityClaim(kl, 0, (), ">", label="KL(p‖q) > 0 at random p ≠ q"),
            IdentityClaim(kl, terms, label="KL(p‖q) = Σ_i p_i φ(q_i/p_i)"),
            IdentityClaim(phi(x), 0, (), ">=", label="φ(x) = x − 1 − log x ≥ 0"),
        ),
        result=(kl, ()),
        example_specs=(
            ExampleSpec("A fair coin p and the model q = (0.8, 0.2)", {"p": [0.5, 0.5], "q": [0.8, 0.2], "x": 1.6},
                        (("KL(p‖q)", kl, ()), ("terms p_i φ(q_i/p_i)", term, (i,)), ("φ(x) at x = 1.6", phi(x), ()))),
            ExampleSpec("q = p: the divergence vanishes", {"p": [0.5, 0.5], "q": [0.5, 0.5], "x": 1.0},
                        (("KL(p‖q)", kl, ()), ("terms p_i φ(q_i/p_i)", term, (i,)), ("φ(1)", phi(x), ()))),
            ExampleSpec("q close to p: small but positive", {"p": [0.5, 0.5], "q": [0.51, 0.49], "x": 1.02},
                        (("KL(p‖q)", kl, ()), ("φ(1.02)", phi(x), ()))),
        ),
        notes=(
            "q = p means q_i = p_i for every i. The numeric checks evaluate KL(p‖q) > 0 at random pairs, "
            "the rewriting as Σ p_i φ(q_i/p_i), φ ≥ 0, and KL along q → p (positive, shrinking like the "
            "squared distance, 0 at q = p); random points cannot test the 'only if' itself, which is why "
            "it is proved by rules.",
        ),
        numeric_checks=(KL_APPROACH,),
        symbols=((p, "probability vector"), (q, "probability vector"), (x, "a positive number"),
                 (phi, "φ(x) = x − 1 − log x"), (n, "number of outcomes")),
    )


def kl_approach_cases(seed: int = 0) -> list[EqualityCase]:
    """KL(p‖q_t) along q_t = p + t(q − p), t → 0: positive for every t > 0 (down to t = 10⁻⁶,
    KL ≈ 10⁻¹³), 0 at t = 0.  The 'only if' seen from the numbers: no q ≠ p on the way gives 0."""
    rng = np.random.default_rng(seed + 3571)
    ts = np.array([0.5, 1e-2, 1e-4, 1e-6])
    cases = []
    for size in (2, 3, 10):
        pairs = [(rng.dirichlet(np.ones(size)), rng.dirichlet(np.ones(size))) for _ in range(20)]
        kl_values = np.array([[np.sum(pv * np.log(pv / (pv + t_ * (qv - pv)))) for t_ in ts] for pv, qv in pairs])
        cases.append(EqualityCase(f"n={size}, 20 pairs, sign of KL(p‖q_t) for t = 0.5 … 1e-6",
                                  np.sign(kl_values), np.ones_like(kl_values)))
        at_p = np.array([np.sum(pv * np.log(pv / pv)) for pv, _ in pairs])
        cases.append(EqualityCase(f"n={size}, KL(p‖p)", at_p, np.zeros_like(at_p)))
    return cases


KL_APPROACH = NumericExperiment("KL(p‖q) > 0 along q → p and KL(p‖p) = 0 (n = 2, 3, 10)", kl_approach_cases)


def cross_entropy_nonnegative() -> Derivation:
    ce = -sp.Sum(y[i] * sp.log(yh[i]), (i, 1, n))
    onehot = -sp.Sum(sp.KroneckerDelta(i, c) * sp.log(yh[i]), (i, 1, n))
    term = -y[i] * sp.log(yh[i])
    certain = sp.Eq(yh[c], 1)
    return Derivation(
        name="cross-entropy-nonnegative",
        title="Cross-entropy is never negative",
        summary=r"For probability vectors $y$ (labels) and $\hat{y}$ (predictions), "
        r"$L = -\sum_i y_i \log \hat{y}_i \ge 0$: every term is a nonnegative weight times "
        r"$-\log \hat{y}_i \ge 0$, since $\hat{y}_i \le 1$. For a one-hot label on the true class $c$ the loss "
        r"is $-\log \hat{y}_c$, which is 0 if and only if $\hat{y}_c = 1$: the prediction is certain (all "
        "probability on one class) and correct (on the true class). Any doubt costs a positive loss.",
        statement=sp.And(sp.Ge(L, 0), Iff(sp.Eq(L_c, 0), certain)),
        steps=(
            Step(term, 0, r"$y_i \ge 0$, and $\log \hat{y}_i \le 0$ because $0 < \hat{y}_i \le 1$", ">="),
            Step(L, sp.Sum(term, (i, 1, n)), "definition of the cross-entropy"),
            Step(sp.Sum(term, (i, 1, n)), 0, "a sum of nonnegative terms (step 1)", ">="),
            Step(L, 0, "steps 2 and 3", ">="),
            Step(L_c, -sp.log(yh[c]), r"one-hot label $y_i = \delta_{ic}$: only the term $i = c$ remains"),
            Step(sp.Eq(L_c, 0), certain,
                 r"$-\log u$ is strictly decreasing and $-\log 1 = 0$: no other $u$ gives 0", "=>"),
            Step(certain, sp.Eq(L_c, 0), r"substitute $\hat{y}_c = 1$: $-\log 1 = 0$", "=>"),
        ),
        inputs=(
            Input(y, (n,), "simplex", "labels: a probability vector (one-hot or soft)"),
            Input(yh, (n,), "simplex", "predicted probabilities ŷ (positive, summing to 1)"),
        ),
        definitions=(
            Definition(L, (), ce, r"L = -\sum_i y_i \log \hat{y}_i"),
            Definition(L_c, (), onehot, r"L_c = -\sum_i \delta_{ic} \log \hat{y}_i, the loss for a one-hot label on class c"),
        ),
        assumptions=(
            Assumption("y and ŷ are probability vectors; ŷ has positive entries (a softmax output), so ŷ_i ≤ 1"),
            Assumption("c is the true class of a one-hot label, 1 ≤ c ≤ n"),
        ),
        index_ranges={i: n, c: n},
        sizes={n: 3},
        claims=(
            IdentityClaim(L, 0, (), ">=", label="L ≥ 0 at random probability vectors"),
            IdentityClaim(L_c, -sp.log(yh[c]), (c,), label="one-hot loss = −log ŷ_c"),
            IdentityClaim(L_c, 0, (c,), ">", label="L_c > 0 when ŷ_c < 1"),
        ),
        result=(L, ()),
        example_specs=(
            ExampleSpec("Lecture table: true class 3 of 5, a poor prediction",
                        {"y": [0.0, 0.0, 1.0, 0.0, 0.0], "yhat": [0.2, 0.3, 0.1, 0.15, 0.25]},
                        (("L", L, ()), ("−log ŷ_3", -sp.log(yh[3]), ()))),
            ExampleSpec("Lecture table: true class 3 of 5, a good prediction",
                        {"y": [0.0, 0.0, 1.0, 0.0, 0.0], "yhat": [0.02, 0.1, 0.8, 0.05, 0.03]},
                        (("L", L, ()), ("−log ŷ_3", -sp.log(yh[3]), ()))),
            ExampleSpec("Certain and correct: ŷ = y = (0, 0, 1, 0, 0)",
                        {"y": [0.0, 0.0, 1.0, 0.0, 0.0], "yhat": [0.0, 0.0, 1.0, 0.0, 0.0]},
                        (("one-hot loss L_3 = −log ŷ_3", onehot.xreplace({c: 3}), ()),)),
            ExampleSpec("Soft label y = (0.1, 0.2, 0.7) predicted exactly: still positive",
                        {"y": [0.1, 0.2, 0.7], "yhat": [0.1, 0.2, 0.7]},
                        (("L", L, ()),), note="a soft label is never 'certain': the loss is its entropy, > 0"),
        ),
        notes=(
            "Step 1 needs ŷ_i ≤ 1, which SymPy's assumptions cannot express, so it is checked at exact random "
            "points; steps 3 and 4 then follow from it by the sign and chain rules. The equivalence for a "
            "one-hot label is proved by rules (never at random points).",
        ),
        symbols=((y, "labels"), (yh, "predicted probabilities"), (c, "the true class"),
                 (L, "cross-entropy"), (L_c, "cross-entropy of a one-hot label on class c"), (n, "number of classes")),
    )


HALF = sp.Rational(1, 2)
COIN_P = (HALF, HALF)  # a fair coin
COIN_Q = (sp.Rational(4, 5), sp.Rational(1, 5))  # a model that believes 80/20


def cross_entropy_asymmetry() -> Derivation:
    Hpq, Hqp = H(p, q), H(q, p)
    point = ((p, COIN_P), (q, COIN_Q), (n, 2))

    def at(e):
        return At.make(e, point)

    return Derivation(
        name="cross-entropy-asymmetry",
        title="Cross-entropy is not symmetric",
        summary=r"$H(p, q) \ne H(q, p)$ in general: swapping the data distribution and the model changes the "
        r"cross-entropy. One witness proves it: for a fair coin $p = (1/2, 1/2)$ and a model "
        r"$q = (4/5, 1/5)$, $H(p, q) = \log(5/2) \approx 0.916$ nats but $H(q, p) = \log 2 \approx 0.693$ "
        r"nats. (For $q = p$ both are the entropy $H(p)$, so the claim is 'not always equal', an "
        "existential statement, not 'never equal'.)",
        statement=Exists((p, q), sp.Ne(Hpq, Hqp)),
        steps=(
            Step(Hpq - Hqp, sp.Sum(q[i] * sp.log(p[i]) - p[i] * sp.log(q[i]), (i, 1, n)),
                 "the definitions, term by term"),
            Step(at(Hpq), sp.log(sp.Rational(5, 2)),
                 r"$-\frac12 \log\frac45 - \frac12 \log\frac15 = -\frac12 \log\frac{4}{25}$"),
            Step(at(Hqp), sp.log(2), r"$-(\frac45 + \frac15) \log\frac12 = \log 2$"),
            Step(at(Hpq), at(Hqp), r"$\log\frac52 - \log 2 = \log\frac54 \ne 0$", "!="),
            Step(Hpq.xreplace({q: p}), Hqp.xreplace({q: p}), "for $q = p$ the two agree: equality can happen"),
        ),
        inputs=(P_INPUT, Q_INPUT),
        definitions=(
            Definition(Hpq, (), -sp.Sum(p[i] * sp.log(q[i]), (i, 1, n)), "H(p, q) = -Σ_i p_i log q_i"),
            Definition(Hqp, (), -sp.Sum(q[i] * sp.log(p[i]), (i, 1, n)), "H(q, p) = -Σ_i q_i log p_i"),
            Definition(H(p, p), (), -sp.Sum(p[i] * sp.log(p[i]), (i, 1, n)), ""),
        ),
        assumptions=PQ_SUM_TO_ONE,
        index_ranges={i: n},
        sizes={n: 2},
        claims=(
            IdentityClaim(at(Hpq), sp.log(sp.Rational(5, 2)), label="H(p, q) at the coin = log(5/2)"),
            IdentityClaim(at(Hqp), sp.log(2), label="H(q, p) at the coin = log 2"),
            IdentityClaim(Hpq - Hqp, sp.Sum(q[i] * sp.log(p[i]) - p[i] * sp.log(q[i]), (i, 1, n)),
                          label="H(p, q) − H(q, p) = Σ_i (q_i log p_i − p_i log q_i)"),
        ),
        result=(Hpq - Hqp, ()),
        example_specs=(
            ExampleSpec("The coin: data p = (0.5, 0.5), model q = (0.8, 0.2)", {"p": [0.5, 0.5], "q": [0.8, 0.2]},
                        (("H(p, q) [nats]", Hpq, ()), ("H(q, p) [nats]", Hqp, ()),
                         ("H(p, q) − H(q, p)", Hpq - Hqp, ()))),
            ExampleSpec("Three classes: p = (0.7, 0.2, 0.1), q = (0.1, 0.2, 0.7)",
                        {"p": [0.7, 0.2, 0.1], "q": [0.1, 0.2, 0.7]},
                        (("H(p, q) [nats]", Hpq, ()), ("H(q, p) [nats]", Hqp, ())),
                        note="a mirror image: here the two happen to agree"),
        ),
        notes=(
            "The existential claim is proved at the witness by exact arithmetic (the two values are closed "
            "forms, log(5/2) and log 2); the universal relation '≠' would claim far more and is false at q = p.",
        ),
        symbols=((p, "data distribution"), (q, "model distribution"), (n, "number of outcomes")),
    )


def build() -> list[Derivation]:
    return [cross_entropy_nonnegative(), cross_entropy_asymmetry(), kl_zero_iff_equal()]
