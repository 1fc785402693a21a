"""Gradient descent: among unit directions u, the negative gradient direction −∇L/‖∇L‖ decreases
the loss fastest to first order, and no other unit direction does as well.

To first order L(w + εu) = L(w) + ε D_u with D_u = Σ_k g_k u_k and g = ∇L(w).  The bound
D_u ≥ −‖g‖ is Cauchy–Schwarz; here it comes with its equality case from one identity,
D_u + ‖g‖ = (‖g‖/2) Σ_k (u_k + g_k/‖g‖)², valid for every unit vector u.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradproof.derivations.common import Named
from gradproof.derivations.logic import Iff
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    IdentityClaim,
    Input,
    Step,
)
from gradproof.derivations.numeric_checks import EqualityCase, GradientCase, NumericExperiment

d = sp.Symbol("d", integer=True, positive=True)  # number of parameters
k, l = sp.symbols("k l", integer=True, positive=True)
g = sp.IndexedBase("g", real=True)  # the gradient ∇L(w)
u = sp.IndexedBase("u", real=True)  # a unit direction
# ‖g‖ > 0 is the theorem's hypothesis g ≠ 0 (at a stationary point every direction is flat)
gnorm = Named("gnorm", r"\|g\|", "‖g‖", positive=True)
D_u = Named("D_u", r"D_{u} L", "D_u L", real=True)


def _sum_of_squares_is(base: sp.IndexedBase, value: sp.Expr):
    def is_total(e: sp.Basic) -> bool:
        if not isinstance(e, sp.Sum) or len(e.limits) != 1:
            return False
        var, lo, hi = e.limits[0]
        return e.function == base[var] ** 2 and lo == 1 and hi == d

    return lambda expr: expr.replace(is_total, lambda e: value)


def steepest_descent_direction() -> Derivation:
    slope = sp.Sum(g[l] * u[l], (l, 1, d))
    star = -g[k] / gnorm
    squares = sp.Sum((u[l] + g[l] / gnorm) ** 2, (l, 1, d))
    excess = gnorm / 2 * squares
    bound = sp.Add(-gnorm, excess, evaluate=False)
    flat, fastest = sp.Eq(D_u, -gnorm), sp.Eq(u[k], star)
    return Derivation(
        name="steepest-descent-direction",
        title="The negative gradient is the steepest descent direction",
        summary=r"Moving from $w$ a small step $\varepsilon$ along a unit direction $u$ changes the loss by "
        r"$\varepsilon\, D_u L + O(\varepsilon^2)$, with the directional derivative $D_u L = \sum_k g_k u_k$, "
        r"$g = \nabla L(w)$. For every unit $u$, $D_u L \ge -\|g\|$ (Cauchy–Schwarz), and the bound is "
        r"reached only by $u = -g/\|g\|$: to first order no direction decreases the loss faster than the "
        r"negative gradient, which is why gradient descent steps along $-g$.",
        statement=sp.And(sp.Ge(D_u, -gnorm), Iff(flat, fastest)),
        steps=(
            Step(D_u, bound, r"expand the square: $\sum_l u_l^2 = 1$ and $\sum_l g_l^2 = \|g\|^2$"),
            Step(bound, -gnorm, r"a sum of squares times $\|g\|/2 > 0$", ">="),
            Step(D_u, -gnorm, "steps 1 and 2: Cauchy–Schwarz for unit $u$", ">="),
            Step(sp.Sum(g[l] * (-g[l] / gnorm), (l, 1, d)), -gnorm,
                 r"$u = -g/\|g\|$ reaches the bound: $\sum_l g_l^2 / \|g\| = \|g\|$"),
            Step(sp.Sum((g[l] / gnorm) ** 2, (l, 1, d)), 1, r"and $-g/\|g\|$ is a unit vector"),
            Step(flat, sp.Eq(excess, 0), "step 1", "=>"),
            Step(sp.Eq(excess, 0), sp.Eq(squares, 0), r"divide by $\|g\|/2 > 0$", "=>"),
            Step(sp.Eq(squares, 0), sp.Eq((u[k] + g[k] / gnorm) ** 2, 0),
                 "a sum of squares is 0 only if every square is", "=>"),
            Step(sp.Eq((u[k] + g[k] / gnorm) ** 2, 0), fastest, "a square is 0 only if its base is", "=>"),
            Step(flat, fastest, "steps 6 to 9: only the negative gradient reaches the bound", "=>"),
            Step(fastest, flat, r"substitute $u = -g/\|g\|$ (step 4)", "=>"),
        ),
        inputs=(
            Input(g, (d,), "real", "g = ∇L(w), the gradient at the current parameters (not 0)"),
            Input(u, (d,), "unit", "a direction of length 1"),
        ),
        definitions=(
            Definition(D_u, (), slope, r"D_u L = \sum_k g_k u_k = \frac{d}{d\varepsilon} L(w + \varepsilon u) at \varepsilon = 0"),
            Definition(gnorm, (), sp.sqrt(sp.Sum(g[l] ** 2, (l, 1, d))), r"\|g\| = \sqrt{\sum_k g_k^2}"),
        ),
        assumptions=(
            Assumption("u is a unit vector: Σ_k u_k² = 1", rewrite=_sum_of_squares_is(u, sp.S.One)),
            Assumption("g ≠ 0, so ‖g‖ > 0 and ‖g‖² = Σ_k g_k²", rewrite=_sum_of_squares_is(g, gnorm**2)),
            Assumption("L is differentiable at w: L(w + εu) = L(w) + ε D_u L + O(ε²)"),
        ),
        index_ranges={k: d, l: d},
        sizes={d: 3},
        claims=(
            IdentityClaim(D_u, -gnorm, (), ">=", label="D_u L ≥ −‖g‖ for random unit u"),
            IdentityClaim(sp.Sum(g[l] * (-g[l] / gnorm), (l, 1, d)), -gnorm, label="u = −g/‖g‖ reaches −‖g‖"),
            IdentityClaim(D_u, bound, label="D_u L + ‖g‖ = (‖g‖/2) Σ (u_k + g_k/‖g‖)²"),
        ),
        result=(D_u, ()),
        example_specs=(
            ExampleSpec("g = (3, 4): the steepest direction u = (−0.6, −0.8)", {"g": [3.0, 4.0], "u": [-0.6, -0.8]},
                        (("‖g‖", gnorm, ()), ("D_u L", D_u, ()), ("−g/‖g‖", star, (k,)))),
            ExampleSpec("g = (3, 4), u = (−1, 0): along one axis", {"g": [3.0, 4.0], "u": [-1.0, 0.0]},
                        (("D_u L", D_u, ()), ("bound −‖g‖", -gnorm, ()))),
            ExampleSpec("g = (3, 4), u = (0.6, 0.8): along the gradient, the loss rises fastest",
                        {"g": [3.0, 4.0], "u": [0.6, 0.8]}, (("D_u L", D_u, ()),)),
        ),
        notes=(
            "The first-order expansion behind D_u L is checked numerically: finite differences of "
            "L(w + εu) as a function of ε, on a smooth loss against Σ_k g_k u_k with g from its gradient, and no random "
            "unit direction beats −g/‖g‖.",
        ),
        numeric_checks=(FIRST_ORDER, NO_STEEPER_DIRECTION),
        symbols=((g, "gradient ∇L(w)"), (u, "unit direction"), (gnorm, "‖g‖, the gradient's length"),
                 (D_u, "directional derivative"), (d, "number of parameters")),
    )


def _problem(rng: np.random.Generator, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.normal(size=(30, dim)), rng.integers(0, 2, size=30).astype(float), rng.normal(size=dim)


def _loss(w: np.ndarray, A: np.ndarray, t: np.ndarray) -> float:
    """Logistic regression with a little L2: a smooth loss to move along."""
    z = A @ w
    return float(np.mean(np.logaddexp(0.0, z) - t * z) + 0.05 * w @ w)


def _gradient(w: np.ndarray, A: np.ndarray, t: np.ndarray) -> np.ndarray:
    z = A @ w
    return A.T @ (1 / (1 + np.exp(-z)) - t) / len(t) + 0.1 * w


def first_order_cases(seed: int = 0) -> list[GradientCase]:
    """d/dε L(w + εu) at ε = 0 is Σ_k g_k u_k: the derived slope as the 'gradient' in ε."""
    rng = np.random.default_rng(seed + 4241)
    cases = []
    for dim in (2, 5, 20):
        A, t, w = _problem(rng, dim)
        v = rng.normal(size=dim)
        v /= np.linalg.norm(v)

        def loss(point, A=A, t=t, w=w, v=v):
            return _loss(w + float(point["eps"]) * v, A, t)

        def torch_loss(point, A=A, t=t, w=w, v=v):
            import torch

            At, tt = torch.as_tensor(A, device=point["eps"].device), torch.as_tensor(t, device=point["eps"].device)
            wv = torch.as_tensor(w, device=At.device) + point["eps"] * torch.as_tensor(v, device=At.device)
            z = At @ wv
            return torch.mean(torch.nn.functional.softplus(z) - tt * z) + 0.05 * wv @ wv

        cases.append(GradientCase(f"{dim} parameters", {"eps": np.array(0.0)},
                                  {"eps": np.array(_gradient(w, A, t) @ v)}, loss, torch_loss))
    return cases


def steepest_cases(seed: int = 0, directions: int = 2000) -> list[EqualityCase]:
    """The smallest slope over random unit directions and u* = −g/‖g‖ is exactly −‖g‖."""
    rng = np.random.default_rng(seed + 4243)
    cases = []
    for dim in (2, 5, 20):
        A, t, w = _problem(rng, dim)
        g_ = _gradient(w, A, t)
        us = rng.normal(size=(directions, dim))
        us /= np.linalg.norm(us, axis=1, keepdims=True)
        slopes = np.append(us @ g_, g_ @ (-g_ / np.linalg.norm(g_)))
        cases.append(EqualityCase(f"{dim} parameters, {directions} random directions and −g/‖g‖",
                                  np.array(-np.linalg.norm(g_)), np.array(slopes.min())))
    return cases


FIRST_ORDER = NumericExperiment("d/dε L(w + εu) at 0 against Σ_k g_k u_k (logistic loss; 2, 5, 20 parameters)",
                                first_order_cases)
NO_STEEPER_DIRECTION = NumericExperiment("no random unit direction has a slope below −‖g‖ (2, 5, 20 parameters)",
                                         steepest_cases)


def build() -> list[Derivation]:
    return [steepest_descent_direction()]
