"""Loss functions and their (sub)derivatives: L1, L2, hinge, zero-one, and why argmax cannot be
trained through while softmax can."""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.common import INDEX_RANGES, LOGITS, SOFTMAX, i, j, k, n, s, z
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    GradientClaim,
    Input,
    Step,
)

D = sp.Derivative
delta = sp.KroneckerDelta

yhat = sp.Symbol("yhat", real=True)  # the prediction ŷ
y = sp.Symbol("y", real=True)  # a regression target
c = sp.Symbol("c", real=True)  # a class label, -1 or +1 (the lecture's y in the hinge loss)
ell_1, ell_2, ell_hinge, ell_01 = sp.symbols("ell_1 ell_2 ell_hinge ell_01", real=True)
argmax = sp.IndexedBase("a", nonnegative=True)  # the one-hot argmax output

margin = 1 - c * yhat


def _hinge_numeric(sizes: dict) -> sp.Expr:
    # max(0, u) = (u + |u|)/2: the same function, in a form PyTorch's printer can compile
    return (margin + sp.Abs(margin)) / 2


def _argmax_numeric(sizes: dict, idx: sp.Expr) -> sp.Expr:
    # for distinct logits H(z_i − z_k) = (1 + sign(z_i − z_k))/2 for k ≠ i; the δ_ik makes the
    # k = i factor 1 (idx may still be the symbol i here: the index is substituted later)
    size = int(sizes[n])
    return sp.Mul(*[(1 + sp.sign(z[idx] - z[q]) + delta(idx, q)) / 2 for q in range(1, size + 1)])


def _no_dirac_deltas(expr: sp.Expr) -> sp.Expr:
    # away from the kinks every Dirac delta has a nonzero argument, where it is 0
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def loss_derivatives() -> Derivation:
    softmax_jacobian = s[i] * (delta(i, j) - s[j])
    hinge_grad = -c * sp.Heaviside(margin)
    return Derivation(
        name="loss-function-derivatives",
        title="Derivatives of common loss functions",
        summary=r"The L1 loss $|\hat{y} - y|$ has derivative $\operatorname{sign}(\hat{y} - y)$ (constant size: "
        r"robust to outliers), the L2 loss $(\hat{y} - y)^2$ has $2(\hat{y} - y)$ (proportional to the error); "
        r"the hinge loss $\max(0, 1 - c\hat{y})$ of a class label $c = \pm 1$ has subgradient $-c$ while the margin $c\hat{y} < 1$ and 0 "
        "beyond it. The zero-one loss and the argmax are piecewise constant: their derivative is 0 almost "
        "everywhere, so no gradient reaches the parameters — which is why classifiers are trained through "
        r"the smooth softmax, whose Jacobian $s_i(\delta_{ij} - s_j)$ is never 0, and the argmax is used only "
        "for prediction.",
        statement=sp.Eq(D(argmax[i], z[j]), 0),
        steps=(
            Step(D(ell_1, yhat), sp.sign(yhat - y), r"$\frac{d|u|}{du} = \operatorname{sign}(u)$ for $u = \hat{y} - y \neq 0$; $\frac{\partial u}{\partial \hat{y}} = 1$"),
            Step(D(ell_2, yhat), 2 * (yhat - y), r"chain rule: $\frac{d u^2}{du} = 2u$, $\frac{\partial u}{\partial \hat{y}} = 1$"),
            Step(
                D(ell_hinge, yhat),
                hinge_grad,
                r"$\max(0, u)$ has slope $H(u)$: 1 for $u > 0$, 0 for $u < 0$; "
                r"$\frac{\partial (1 - c\hat{y})}{\partial \hat{y}} = -c$: "
                r"subgradient $-c$ when $c\hat{y} < 1$, 0 when $c\hat{y} > 1$",
            ),
            Step(D(ell_01, yhat), 0, r"sign is constant on each side of 0: flat wherever $\hat{y} \neq 0$"),
            Step(D(s[i], z[j]), softmax_jacobian, "softmax is smooth: a nonzero Jacobian (softmax-jacobian)"),
            Step(
                D(argmax[i], z[j]),
                0,
                r"$a_i$ is a product of steps $H(z_i - z_k)$; each derivative is a Dirac delta $\delta(z_i - z_k)$, "
                "0 for distinct logits",
            ),
        ),
        inputs=(
            Input(yhat, (), "real", "the prediction ŷ (a real-valued score)"),
            Input(y, (), "real", "the regression target y (L1 and L2 losses)"),
            Input(c, (), "sign", "the class label, -1 or +1 (hinge and zero-one losses)"),
            LOGITS,
        ),
        definitions=(
            Definition(ell_1, (), sp.Abs(yhat - y), r"\ell_1 = |\hat{y} - y|"),
            Definition(ell_2, (), (yhat - y) ** 2, r"\ell_2 = (\hat{y} - y)^2"),
            Definition(ell_hinge, (), sp.Max(0, margin), r"\ell_{hinge} = \max(0, 1 - c \hat{y})", _hinge_numeric),
            Definition(
                ell_01,
                (),
                (1 - sp.sign(c * yhat)) / 2,
                r"\ell_{01} = \mathbf{1}[\operatorname{sign}\hat{y} \neq c] = (1 - \operatorname{sign}(c\hat{y}))/2",
            ),
            Definition(
                argmax,
                (i,),
                sp.Product(sp.Heaviside(z[i] - z[k], 1), (k, 1, n)),
                r"a_i = \prod_k H(z_i - z_k) = 1 if z_i is the largest logit, else 0",
                _argmax_numeric,
            ),
            SOFTMAX,
        ),
        assumptions=(
            Assumption(
                r"away from the kinks: $\hat{y} \neq y$ (L1), $c\hat{y} \neq 1$ (hinge), $\hat{y} \neq 0$ "
                "(zero-one), distinct logits (argmax); there every Dirac delta is 0",
                rewrite=_no_dirac_deltas,
            ),
            Assumption("$H$ is the unit step, with $H(0) = 1$ in the argmax so that the factor $k = i$ of $a_i$ is 1"),
        ),
        index_ranges=INDEX_RANGES,
        sizes={n: 3},
        claims=(
            GradientClaim(ell_1, yhat, sp.sign(yhat - y), label="∂|ŷ - y|/∂ŷ = sign(ŷ - y)"),
            GradientClaim(ell_2, yhat, 2 * (yhat - y), label="∂(ŷ - y)²/∂ŷ = 2(ŷ - y)"),
            GradientClaim(ell_hinge, yhat, hinge_grad, label="∂ max(0, 1 - cŷ)/∂ŷ = -c·1[cŷ < 1]"),
            GradientClaim(ell_01, yhat, sp.S.Zero, label="zero-one loss: derivative 0 at random points"),
            GradientClaim(argmax[i], z, sp.S.Zero, (i,), (j,), "argmax: derivative 0 at random points"),
        ),
        result=(hinge_grad, ()),
        example_specs=(
            ExampleSpec(
                "Prediction ŷ = 0.3, target y = 1 (class +1), lecture logits",
                {"yhat": 0.3, "y": 1.0, "c": 1.0, "z": [1.84, 0.82, -0.24]},
                (
                    ("∂ℓ_1/∂ŷ", sp.sign(yhat - y), ()),
                    ("∂ℓ_2/∂ŷ", 2 * (yhat - y), ()),
                    ("∂ℓ_hinge/∂ŷ (margin 0.3 < 1)", hinge_grad, ()),
                    ("∂ℓ_01/∂ŷ", sp.S.Zero, ()),
                    ("argmax a", argmax[i], (i,)),
                    ("softmax s", s[i], (i,)),
                    ("∂s_i/∂z_j", softmax_jacobian, (i, j)),
                ),
            ),
            ExampleSpec(
                "A confident correct prediction ŷ = 2.5 for class +1: the hinge gradient is 0",
                {"yhat": 2.5, "y": 1.0, "c": 1.0, "z": [1.84, 0.82, -0.24]},
                (("∂ℓ_hinge/∂ŷ (margin 2.5 > 1)", hinge_grad, ()), ("∂ℓ_2/∂ŷ", 2 * (yhat - y), ())),
            ),
        ),
        notes=(
            "Numeric checks are at random points, away from the kinks (measure zero); at a kink the "
            r"subgradients lie between the one-sided derivatives (hinge at $c\hat{y} = 1$: between $-c$ and 0).",
            "The softmax Jacobian step is verified numerically by the softmax-jacobian derivation.",
            r"evaluate() returns the hinge subgradient $-c\,H(1 - c\hat{y})$; the other results are in the claims.",
        ),
        symbols=(
            (yhat, "prediction ŷ"),
            (y, "regression target"),
            (c, "class label ±1 (the lecture's y in the hinge loss)"),
            (argmax, "one-hot argmax of the logits"),
            (s, "softmax of the logits"),
            (z, "logits"),
        ),
    )


def build() -> list[Derivation]:
    return [loss_derivatives()]
