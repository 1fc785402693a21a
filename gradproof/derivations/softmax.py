"""Softmax: normalisation, shift invariance, Jacobian and the log-softmax gradient."""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import INDEX_RANGES, LOGITS, SOFTMAX, i, j, l, n, s, softmax_sum, z
from gradproof.derivations.model import (
    Derivation,
    ExampleSpec,
    GradientClaim,
    IdentityClaim,
    Input,
    Step,
)

D = sp.Derivative
delta = sp.KroneckerDelta
LECTURE_LOGITS = {"z": [1.84, 0.82, -0.24]}  # Argentina, Brazil, Colombia
SYMBOLS = ((z, "logits z_1..z_n"), (s, "softmax outputs s_1..s_n"), (n, "number of classes"))


def normalization() -> Derivation:
    total = sp.Sum(s[i], (i, 1, n))
    return Derivation(
        name="softmax-normalization",
        title="Softmax outputs are probabilities",
        summary="Every softmax output lies strictly between 0 and 1 (for two or more classes), "
        "and the outputs sum to 1, so softmax turns raw scores into a probability distribution.",
        statement=sp.Eq(total, 1),
        steps=(
            Step(s[i], 0, "a ratio of positive numbers: exponentials are positive", ">"),
            Step(s[i], 1, r"the denominator is $e^{z_i}$ plus at least one more positive term ($n \geq 2$)", "<"),
            Step(total, sp.Sum(sp.exp(z[i]) / softmax_sum(l), (i, 1, n)), "definition of $s_i$"),
            Step(total, sp.Sum(sp.exp(z[i]), (i, 1, n)) / softmax_sum(l),
                 "the denominator does not depend on $i$: take it out of the sum"),
            Step(total, sp.Integer(1), "numerator and denominator are the same sum"),
        ),
        inputs=(LOGITS,),
        definitions=(SOFTMAX,),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        min_sizes={n: 2},  # with one class its output is exactly 1
        claims=(
            IdentityClaim(total, sp.Integer(1), (), label="outputs sum to 1"),
            IdentityClaim(s[i], sp.Integer(0), (i,), ">", label="outputs positive"),
            IdentityClaim(s[i], sp.Integer(1), (i,), "<", label="outputs below 1"),
        ),
        result=(s[i], (i,)),
        example_specs=(
            ExampleSpec("Lecture example: scores for Argentina, Brazil, Colombia", LECTURE_LOGITS,
                        (("s", s[i], (i,)), ("sum of s", sp.Sum(s[i], (i, 1, n)), ()))),
        ),
        symbols=SYMBOLS,
    )


def shift_invariance() -> Derivation:
    c = sp.Symbol("c", real=True)
    shifted = sp.exp(z[i] + c) / sp.Sum(sp.exp(z[l] + c), (l, 1, n))
    return Derivation(
        name="softmax-shift-invariance",
        title="Softmax is invariant to adding a constant",
        summary=r"Adding the same constant $c$ to every logit leaves the softmax unchanged. "
        r"Choosing $c = -\max_k z_k$ makes every exponent at most 0, so the stable implementation "
        r"cannot overflow. The ratio $s_i/s_j = e^{z_i - z_j}$ shows the ordering of the logits is "
        "kept, so the argmax of the softmax is the argmax of the logits.",
        statement=sp.Eq(shifted, s[i]),
        steps=(
            Step(s[i] / s[j], sp.exp(z[i] - z[j]), "the common denominator cancels: order of logits is kept"),
            Step(shifted, sp.exp(c) * sp.exp(z[i]) / sp.Sum(sp.exp(c) * sp.exp(z[l]), (l, 1, n)),
                 "$e^{a+b} = e^a e^b$"),
            Step(shifted, sp.exp(c) * sp.exp(z[i]) / (sp.exp(c) * softmax_sum(l)),
                 "$e^c$ does not depend on $l$: take it out of the sum"),
            Step(shifted, s[i], "cancel $e^c$; definition of $s_i$"),
        ),
        inputs=(LOGITS, Input(c, (), "real", "the shift added to every logit")),
        definitions=(SOFTMAX,),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        claims=(
            IdentityClaim(shifted, s[i], (i,), label="softmax(z + c) = softmax(z)"),
            IdentityClaim(s[i] / s[j], sp.exp(z[i] - z[j]), (i, j), label="s_i / s_j = exp(z_i - z_j)"),
        ),
        result=(s[i], (i,)),
        example_specs=(
            ExampleSpec("Shift by c = -max z (what stable implementations do)",
                        {"z": [1.84, 0.82, -0.24], "c": -1.84},
                        (("softmax(z)", s[i], (i,)), ("softmax(z + c)", shifted, (i,)))),
            ExampleSpec("Logits near 1000: e^1000 overflows in float64, the shifted form does not",
                        {"z": [1000.0, 1001.0, 1002.0], "c": -1002.0},
                        (("softmax(z)", s[i], (i,)),),
                        note="evaluated with the maximum subtracted, as justified by this result"),
        ),
        symbols=SYMBOLS + ((c, "a constant shift"),),
    )


def _log_softmax_steps() -> tuple[Step, ...]:
    dlog = D(sp.log(s[i]), z[j])
    return (
        Step(sp.log(s[i]), z[i] - sp.log(softmax_sum(l)), r"definition of $s_i$; $\log(a/b) = \log a - \log b$"),
        Step(dlog, D(z[i], z[j]) - D(sp.log(softmax_sum(l)), z[j]), "differentiate both sides"),
        Step(dlog, delta(i, j) - D(softmax_sum(l), z[j]) / softmax_sum(l),
             r"$\frac{\partial z_i}{\partial z_j} = \delta_{ij}$; chain rule with $\frac{d}{dx}\log x = \frac{1}{x}$"),
        Step(dlog, delta(i, j) - sp.exp(z[j]) / softmax_sum(l), "only the term $l = j$ depends on $z_j$"),
        Step(dlog, delta(i, j) - s[j], "definition of $s_j$"),
    )


def log_softmax_gradient() -> Derivation:
    dlog = D(sp.log(s[i]), z[j])
    return Derivation(
        name="log-softmax-gradient",
        title="Gradient of the log-softmax",
        summary=r"The derivative of $\log s_i$ with respect to $z_j$ is $\delta_{ij} - s_j$ (the Kronecker "
        r"delta $\delta_{ij}$ is 1 when $i = j$ and 0 otherwise); it is the building block of both the "
        "softmax Jacobian and the cross-entropy gradient.",
        statement=sp.Eq(dlog, delta(i, j) - s[j]),
        steps=_log_softmax_steps(),
        inputs=(LOGITS,),
        definitions=(SOFTMAX,),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        claims=(GradientClaim(sp.log(s[i]), z, delta(i, j) - s[j], (i,), (j,), "∂ log s_i / ∂z_j"),),
        result=(delta(i, j) - s[j], (i, j)),
        example_specs=(
            ExampleSpec("Lecture logits", LECTURE_LOGITS,
                        (("log s", sp.log(s[i]), (i,)), ("∂ log s_i/∂z_j", delta(i, j) - s[j], (i, j)))),
        ),
        symbols=SYMBOLS,
    )


def jacobian() -> Derivation:
    ds = D(s[i], z[j])
    dlog = D(sp.log(s[i]), z[j])
    result = s[i] * (delta(i, j) - s[j])
    return Derivation(
        name="softmax-jacobian",
        title="Jacobian of the softmax",
        summary=r"$\frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j)$: on the diagonal "
        r"$s_i(1 - s_i)$, off it $-s_i s_j$. The log trick turns the quotient rule into a difference.",
        statement=sp.Eq(ds, result),
        steps=_log_softmax_steps()
        + (
            Step(ds, s[i] * dlog, r"chain rule: $\frac{\partial \log s_i}{\partial z_j} = \frac{1}{s_i} \frac{\partial s_i}{\partial z_j}$"),
            Step(ds, result, r"substitute $\frac{\partial \log s_i}{\partial z_j} = \delta_{ij} - s_j$"),
        ),
        inputs=(LOGITS,),
        definitions=(SOFTMAX,),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        claims=(GradientClaim(s[i], z, result, (i,), (j,), "∂s_i/∂z_j"),),
        result=(result, (i, j)),
        example_specs=(
            ExampleSpec("Lecture example: scores for Argentina, Brazil, Colombia", LECTURE_LOGITS,
                        (("s", s[i], (i,)), ("Jacobian ∂s_i/∂z_j", result, (i, j)),
                         ("first row ∂s_1/∂z_j", result.xreplace({i: 1}), (j,)))),
        ),
        symbols=SYMBOLS,
    )


def build() -> list[Derivation]:
    return [normalization(), shift_invariance(), jacobian(), log_softmax_gradient()]
