"""Backpropagation through a multi-layer perceptron, one generic layer at a time.

Layer l: a_l = W_l h_{l−1} + b_l, h_l = φ(a_l); the next layer a_{l+1} = W_{l+1} h_l + b_{l+1}.
The loss reaches layer l only through a_{l+1}, so the chain rule needs nothing of it but the
upstream gradient δ_{l+1} = ∂L/∂a_{l+1} (called g below).  The proof is in index form for
symbolic widths K (of h_{l−1}), J (of layer l) and I (of layer l+1), with φ a generic function;
the activation derivatives for σ, tanh and ReLU are separate steps.  Denominator layout:
∂L/∂W_l has the shape of W_l (J × K).

The symbolic proof covers one generic layer; :data:`RANDOM_NETWORKS` then runs the
derived recursion as plain NumPy backprop on random networks of 1–3 hidden layers with each
activation and compares it with finite differences and PyTorch autograd of the forward pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from gradproof.derivations.common import StableMax
from gradproof.derivations.logistic import sigmoid_definition, stable_sigmoid
from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    GradientClaim,
    Input,
    Step,
)
from gradproof.derivations.numeric_checks import GradientCase, NumericExperiment

D = sp.Derivative
K, J, I = sp.symbols("K J I", integer=True, positive=True)  # widths of layers l−1, l, l+1
i, j, k = sp.symbols("i j k", integer=True, positive=True)
i2, j2, k2 = sp.symbols("p m q", integer=True, positive=True)  # summation indices over I, J, K

h = sp.IndexedBase("h", real=True)  # h_{l−1}: the layer's input
W = sp.IndexedBase("W", real=True)  # W_l
b = sp.IndexedBase("b", real=True)  # b_l
V = sp.IndexedBase("V", real=True)  # W_{l+1}
c = sp.IndexedBase("c", real=True)  # b_{l+1}
g = sp.IndexedBase("g", real=True)  # δ_{l+1} = ∂L/∂a_{l+1}, the upstream gradient
A = sp.IndexedBase("a", real=True)  # a_l
H = sp.IndexedBase("H", real=True)  # h_l = φ(a_l)
A2 = sp.IndexedBase("A", real=True)  # a_{l+1}
z = sp.IndexedBase("z", real=True)  # free pre-activations of layer l (nothing behind them)
u = sp.IndexedBase("u", real=True)  # free pre-activations of layer l+1
L = sp.Symbol("L", real=True)
Lz = sp.Symbol("L_z", real=True)
Lu = sp.Symbol("L_u", real=True)
phi = sp.Function("phi")
t = sp.Symbol("t", real=True)  # a scalar pre-activation
sigma = sp.Function("sigma")


class PhiPrime(sp.Function):
    """φ'(x): the derivative of the generic activation at x (prints as φ'(x))."""

    nargs = 1

    def doit(self, **hints: Any) -> sp.Expr:
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return sp.Subs(D(phi(t), t), t, arg).doit()

    def _latex(self, printer: Any) -> str:
        return rf"\phi'\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer: Any) -> str:
        return f"φ'({printer._print(self.args[0])})"

    def _gradproof_text(self, printer: Any) -> str:  # the terminal printer
        return f"φ′({printer._print(self.args[0])})"


def _pre(row: sp.Expr) -> sp.Expr:
    return sp.Sum(W[row, k2] * h[k2], (k2, 1, K)) + b[row]


def _loss_with(act: Any) -> sp.Expr:
    """L = Σ_i g_i a_{l+1,i} with h_l = act(a_l), written out (for the numeric claims)."""
    return sp.Sum(g[i2] * (sp.Sum(V[i2, j2] * act(_pre(j2)), (j2, 1, J)) + c[i2]), (i2, 1, I))


def _backprop_term(dact: Any) -> sp.Expr:
    """δ_{l,j} = (Σ_i V_ij g_i) φ'(a_j) with φ' = dact."""
    return sp.Mul(sp.Sum(V[i2, j] * g[i2], (i2, 1, I)), dact(_pre(j)), evaluate=False)


def _relu(x: sp.Expr) -> sp.Expr:
    return StableMax(x, 0)


ACTIVATIONS = {
    # name: (φ for the numeric forward, φ' as derived)
    "sigmoid": (stable_sigmoid, lambda x: stable_sigmoid(x) * (1 - stable_sigmoid(x))),
    "tanh": (sp.tanh, lambda x: 1 - sp.tanh(x) ** 2),
    "relu": (_relu, sp.Heaviside),
}


def mlp_backprop() -> Derivation:
    up = sp.Sum(sp.Mul(V[i2, j], g[i2], evaluate=False), (i2, 1, I))  # (W_{l+1}ᵀ δ_{l+1})_j
    delta_z = sp.Mul(up, D(phi(z[j]), z[j]), evaluate=False)
    delta_a = sp.Mul(up, PhiPrime(A[j]), evaluate=False)  # δ_{l,j}
    delta_a2 = sp.Mul(sp.Sum(sp.Mul(V[i2, j2], g[i2], evaluate=False), (i2, 1, I)), PhiPrime(A[j2]),
                      evaluate=False)
    grad_W = sp.Mul(delta_a, h[k], evaluate=False)
    dLz, dLW, dLb, dLV = D(Lz, z[j]), D(L, W[j, k]), D(L, b[j]), D(L, V[i, j])
    next_of_z = sp.Sum(V[i2, j2] * phi(z[j2]), (j2, 1, J)) + c[i2]
    act_steps = (
        Step(D(sigma(t), t), sp.Mul(sigma(t), 1 - sigma(t), evaluate=False),
             r"$\phi = \sigma$: $\sigma'(t) = \sigma(t)(1 - \sigma(t))$ (sigmoid-derivative)"),
        Step(D(sp.tanh(t), t), 1 - sp.tanh(t) ** 2, r"$\phi = \tanh$: $\tanh'(t) = 1 - \tanh^2(t)$"),
        Step(D(sp.Max(t, 0), t), sp.Heaviside(t),
             r"$\phi = \operatorname{ReLU} = \max(0, t)$: its slope is the unit step $H(t)$ (1 for $t > 0$, "
             r"0 for $t < 0$), away from the kink $t = 0$"),
    )
    tanh_grad_W = sp.Mul(_backprop_term(ACTIVATIONS["tanh"][1]), h[k], evaluate=False)
    claims = []
    for name, (act, dact) in ACTIVATIONS.items():
        claims.append(GradientClaim(_loss_with(act), W, sp.Mul(_backprop_term(dact), h[k], evaluate=False),
                                    (), (j, k), f"∂L/∂W_l = δ_l h_(l-1)ᵀ, φ = {name}"))
        claims.append(GradientClaim(_loss_with(act), b, _backprop_term(dact), (), (j,), f"∂L/∂b_l = δ_l, φ = {name}"))
    return Derivation(
        name="mlp-backprop",
        title="Backpropagation through a multi-layer perceptron",
        summary=r"For a layer $a_l = W_l h_{l-1} + b_l$, $h_l = \phi(a_l)$, the chain rule gives the backward "
        r"recursion $\delta_l = (W_{l+1}^\top \delta_{l+1}) \odot \phi'(a_l)$ for "
        r"$\delta_l = \frac{\partial L}{\partial a_l}$, and then $\frac{\partial L}{\partial W_l} = "
        r"\delta_l h_{l-1}^\top$ and $\frac{\partial L}{\partial b_l} = \delta_l$. With "
        r"$\phi' = \sigma(1 - \sigma)$, $1 - \tanh^2$ or the ReLU step, this is backpropagation; it is "
        "checked against finite differences and autograd on random networks of 1–3 hidden layers.",
        statement=sp.Eq(dLW, grad_W),
        steps=(
            Step(D(Lu, u[i]), g[i], r"the loss reaches layer $l$ only through $a_{l+1}$; to first order in "
                 r"$a_{l+1}$ it is $\sum_i \delta_{l+1,i} a_{l+1,i}$, with $g = \delta_{l+1} = "
                 r"\frac{\partial L}{\partial a_{l+1}}$ the upstream gradient"),
            Step(dLz, sp.Sum(g[i2] * D(next_of_z, z[j]), (i2, 1, I)),
                 r"chain rule through $a_{l+1,i} = \sum_m W_{l+1,im} \phi(a_{l,m}) + b_{l+1,i}$ "
                 r"(pre-activations of layer $l$ written as free $z$)"),
            Step(dLz, sp.Sum(g[i2] * V[i2, j] * D(phi(z[j]), z[j]), (i2, 1, I)),
                 "only the term $m = j$ depends on $z_j$"),
            Step(dLz, delta_z, r"$\phi'(z_j)$ does not depend on $i$: "
                 r"$\delta_l = (W_{l+1}^\top \delta_{l+1}) \odot \phi'(a_l)$"),
            *act_steps,
            Step(dLW, sp.Sum(sp.Mul(delta_a2, D(A[j2], W[j, k]), evaluate=False), (j2, 1, J)),
                 r"chain rule through every $a_{l,m}$, with $\frac{\partial L}{\partial a_{l,m}} = \delta_{l,m}$ "
                 "from above"),
            Step(dLb, delta_a, r"the same chain with $\frac{\partial a_{l,m}}{\partial b_j} = \delta_{mj}$: "
                 r"$\frac{\partial L}{\partial b_l} = \delta_l$"),
            Step(dLV, sp.Mul(g[i], phi(A[j]), evaluate=False),
                 r"the same rule one layer up: $\frac{\partial L}{\partial W_{l+1}} = \delta_{l+1} h_l^\top$"),
            Step(dLW, grad_W, r"$\frac{\partial a_{l,m}}{\partial W_{jk}} = \delta_{mj} h_{l-1,k}$: "
                 r"$\frac{\partial L}{\partial W_l} = \delta_l h_{l-1}^\top$"),
        ),
        inputs=(
            Input(h, (K,), "real", "h_{l-1}: the layer's input (the network input x for l = 1)"),
            Input(W, (J, K), "real", "W_l: the layer's weights"),
            Input(b, (J,), "real", "b_l: the layer's biases"),
            Input(V, (I, J), "real", "W_{l+1}: the next layer's weights"),
            Input(c, (I,), "real", "b_{l+1}: the next layer's biases"),
            Input(g, (I,), "real", "δ_{l+1} = ∂L/∂a_{l+1}: the upstream gradient"),
        ),
        definitions=(
            Definition(L, (), sp.Sum(g[i2] * A2[i2], (i2, 1, I)),
                       r"L = \sum_i \delta_{l+1,i} a_{l+1,i} (first order in a_{l+1})"),
            Definition(A2, (i,), sp.Sum(V[i, j2] * H[j2], (j2, 1, J)) + c[i],
                       r"a_{l+1,i} = \sum_j W_{l+1,ij} h_{l,j} + b_{l+1,i}"),
            Definition(H, (j,), phi(A[j]), r"h_{l,j} = \phi(a_{l,j})"),
            Definition(A, (j,), _pre(j), r"a_{l,j} = \sum_k W_{l,jk} h_{l-1,k} + b_{l,j}"),
            Definition(Lz, (), sp.Sum(g[i2] * (sp.Sum(V[i2, j2] * phi(z[j2]), (j2, 1, J)) + c[i2]), (i2, 1, I)),
                       r"L_z: L as a function of free pre-activations z of layer l"),
            Definition(Lu, (), sp.Sum(g[i2] * u[i2], (i2, 1, I)),
                       r"L_u: L as a function of free pre-activations u of layer l+1"),
            sigmoid_definition(t),
        ),
        assumptions=(
            Assumption(r"$L$ depends on $W_l$, $b_l$, $W_{l+1}$ only through $a_{l+1}$; the chain rule uses "
                       r"only $\delta_{l+1} = \frac{\partial L}{\partial a_{l+1}}$ at the point"),
            Assumption(r"$\phi$ is differentiable at every $a_{l,j}$; for ReLU: no pre-activation is exactly 0"),
        ),
        index_ranges={i: I, i2: I, j: J, j2: J, k: K, k2: K},
        sizes={K: 2, J: 2, I: 2},
        claims=tuple(claims),
        result=(tanh_grad_W, (j, k)),
        example_specs=(_example(),),
        notes=(
            r"Denominator layout: $\frac{\partial L}{\partial W_l}$ has the shape of $W_l$ ($J \times K$), "
            r"$\frac{\partial L}{\partial b_l}$ the shape of $b_l$.",
            r"evaluate(h, W, b, V, c, g) returns $\frac{\partial L}{\partial W_l}$ for $\phi = \tanh$; the "
            r"claims check $\sigma$, $\tanh$ and ReLU.",
            "Numeric witnesses: backprop from these formulas on random networks with 1, 2 and 3 hidden "
            "layers and each activation, against finite differences and autograd of the forward pass.",
        ),
        numeric_checks=(RANDOM_NETWORKS,),
        symbols=((h, "h_{l−1}, the layer input"), (W, "W_l"), (b, "b_l"), (V, "W_{l+1}"), (c, "b_{l+1}"),
                 (g, "δ_{l+1} = ∂L/∂a_{l+1}"), (A, "a_l, pre-activations"), (H, "h_l = φ(a_l)"),
                 (A2, "a_{l+1}"), (z, "free pre-activations of layer l"), (u, "free pre-activations of layer l+1"),
                 (phi, "the activation φ"), (K, "width of layer l−1"), (J, "width of layer l"),
                 (I, "width of layer l+1")),
    )


# ---------------------------------------------------------------------------------------------
# worked example: a 2-3-2 network, tanh hidden layer, squared error at the linear output

EXAMPLE = {
    "h": [1.0, -0.5],
    "W": [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]],
    "b": [0.1, 0.0, -0.2],
    "V": [[0.6, -0.1, 0.3], [-0.5, 0.4, 0.2]],
    "c": [0.0, 0.1],
}
EXAMPLE_TARGET = [1.0, 0.0]


def _example() -> ExampleSpec:
    # δ_2 = ∂L/∂a_2 = a_2 − y for L = ½‖a_2 − y‖² with a linear output: computed, not typed in
    x, W1, b1 = (np.array(EXAMPLE[key]) for key in ("h", "W", "b"))
    W2, b2 = np.array(EXAMPLE["V"]), np.array(EXAMPLE["c"])
    upstream = W2 @ np.tanh(W1 @ x + b1) + b2 - np.array(EXAMPLE_TARGET)
    _, dtanh = ACTIVATIONS["tanh"]
    hidden = sp.tanh(_pre(j))
    return ExampleSpec(
        "A 2-3-2 network: x = (1, −0.5), tanh hidden layer, linear output, squared error against y = (1, 0)",
        {**EXAMPLE, "g": list(upstream)},
        (
            ("a_1 = W_1 x + b_1", A[j], (j,)),
            ("h_1 = tanh(a_1)", hidden, (j,)),
            ("δ_2 = a_2 − y", g[i], (i,)),
            ("∂L/∂W_2 = δ_2 h_1ᵀ", sp.Mul(g[i], hidden, evaluate=False), (i, j)),
            ("δ_1 = (W_2ᵀ δ_2) ⊙ (1 − tanh² a_1)", _backprop_term(dtanh), (j,)),
            ("∂L/∂W_1 = δ_1 xᵀ", sp.Mul(_backprop_term(dtanh), h[k], evaluate=False), (j, k)),
            ("∂L/∂b_1 = δ_1", _backprop_term(dtanh), (j,)),
        ),
        note=r"$h = x$, $W = W_1$, $b = b_1$, $V = W_2$, $c = b_2$, $g = \delta_2 = a_2 - y$",
    )


# ---------------------------------------------------------------------------------------------
# numeric witnesses on whole networks


def _np_act(name: str, x: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * x))  # σ without overflow
    if name == "tanh":
        return np.tanh(x)
    return np.maximum(x, 0.0)


def _np_dact(name: str, x: np.ndarray) -> np.ndarray:
    """φ' as derived: σ(1 − σ), 1 − tanh², 1{x > 0}."""
    if name == "sigmoid":
        s = _np_act("sigmoid", x)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    return (x > 0).astype(float)


def _forward(params: list, x: np.ndarray, y: np.ndarray, act: str) -> tuple[float, list, list]:
    """Softmax cross-entropy of an MLP with hidden activation ``act`` and a linear output layer."""
    hs, As = [x], []
    for n, (Wl, bl) in enumerate(params):
        a = Wl @ hs[-1] + bl
        As.append(a)
        hs.append(a if n == len(params) - 1 else _np_act(act, a))
    out = As[-1]
    m = out.max()
    loss = float(m + np.log(np.sum(np.exp(out - m))) - y @ out)
    return loss, As, hs


def backprop(params: list, x: np.ndarray, y: np.ndarray, act: str, *, bug: str | None = None) -> list:
    """Gradients (∂L/∂W_l, ∂L/∂b_l) by the derived recursion.  ``bug`` plants a known error:
    ``"no-activation-derivative"`` (drops φ'(a_l)) or ``"transposed"`` (W_{l+1} instead of
    W_{l+1}ᵀ where the shapes allow it) — for tests that the witnesses catch it."""
    _, As, hs = _forward(params, x, y, act)
    out = As[-1]
    p = np.exp(out - out.max())
    delta = p / p.sum() - y  # cross-entropy-softmax-gradient at the linear output
    grads: list = [None] * len(params)
    for n in range(len(params) - 1, -1, -1):
        grads[n] = (np.outer(delta, hs[n]), delta.copy())  # ∂L/∂W_l = δ_l h_{l−1}ᵀ, ∂L/∂b_l = δ_l
        if n == 0:
            break
        Wn = params[n][0]
        back = Wn if (bug == "transposed" and Wn.shape[0] == Wn.shape[1]) else Wn.T
        upstream = back @ delta
        delta = upstream if bug == "no-activation-derivative" else upstream * _np_dact(act, As[n - 1])
    return grads


def _random_network(rng: np.random.Generator, depth: int, act: str) -> tuple[list, np.ndarray, np.ndarray]:
    # input width 4, hidden widths 3 (so hidden-to-hidden weights are square), 2 classes
    widths = [4] + [3] * depth + [2]
    for _ in range(100):
        params = [(rng.normal(size=(widths[n + 1], widths[n])) / np.sqrt(widths[n]), rng.normal(size=widths[n + 1]))
                  for n in range(len(widths) - 1)]
        x = rng.normal(size=widths[0])
        y = np.eye(widths[-1])[rng.integers(widths[-1])]
        _, As, _ = _forward(params, x, y, act)
        if act != "relu" or min(float(np.min(np.abs(a))) for a in As[:-1]) > 1e-3:  # away from the kink
            return params, x, y
    raise RuntimeError("could not draw a ReLU network away from its kinks")  # pragma: no cover


def _torch_loss(point: Mapping[str, Any], x: np.ndarray, y: np.ndarray, act: str) -> Any:
    """The forward pass of :func:`_forward` on float64 tensors ``point["W_1"], point["b_1"], …``."""
    import torch

    layers = len(point) // 2
    hcur = torch.as_tensor(x, dtype=torch.float64, device=point["W_1"].device)
    fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[act]
    for n in range(1, layers + 1):
        a = point[f"W_{n}"] @ hcur + point[f"b_{n}"]
        hcur = a if n == layers else fn(a)
    yt = torch.as_tensor(y, dtype=torch.float64, device=hcur.device)
    return torch.logsumexp(hcur, 0) - yt @ hcur


def _as_point(params: list) -> dict[str, np.ndarray]:
    return {f"{which}_{n + 1}": value for n, pair in enumerate(params) for which, value in zip("Wb", pair)}


def _as_params(point: Mapping[str, np.ndarray]) -> list:
    return [(point[f"W_{n}"], point[f"b_{n}"]) for n in range(1, len(point) // 2 + 1)]


DEPTHS = (1, 2, 3)


def network_cases(seed: int = 0, *, bug: str | None = None, depths: tuple[int, ...] = DEPTHS) -> list[GradientCase]:
    """Backprop from the derived formulas on random networks (each depth × σ, tanh, ReLU), one
    :class:`GradientCase` per network with ∂L/∂W_l and ∂L/∂b_l for every layer.  ``bug`` plants
    a known error in the backprop (see :func:`backprop`), for tests that the witnesses catch it."""
    rng = np.random.default_rng(seed + 7919)
    cases = []
    for depth in depths:
        for act in ACTIVATIONS:
            params, x, y = _random_network(rng, depth, act)
            derived = backprop(params, x, y, act, bug=bug)
            cases.append(GradientCase(
                where=f"{act}, {depth} hidden layer(s)",
                point=_as_point(params),
                gradient=_as_point(derived),
                loss=lambda point, x=x, y=y, act=act: _forward(_as_params(point), x, y, act)[0],
                torch_loss=lambda point, x=x, y=y, act=act: _torch_loss(point, x, y, act),
            ))
    return cases


RANDOM_NETWORKS = NumericExperiment(
    f"backprop from the derived recursion on {len(DEPTHS) * len(ACTIVATIONS)} random networks "
    f"({', '.join(map(str, DEPTHS))} hidden layers × σ, tanh, ReLU; softmax cross-entropy output)",
    network_cases,
)


def build() -> list[Derivation]:
    return [mlp_backprop()]
