"""Elementwise diagnoses: an activation derivative left out, applied twice, or taken at the wrong tensor.

Hypotheses are built from the arrays the user's code held (:mod:`~gradproof.verify.capture`) that
have the parameter's shape — typically the pre- and post-activation — and a short table of
activation derivatives.  Each hypothesis is a corrected gradient ``h``; it is claimed only when
⟨h, v⟩ matches the finite differences along every direction already measured (and every entry
differenced, if all were), within the tolerance plus 2 % of the original mismatch, while the
gradient as returned visibly does not.  No extra loss evaluations are spent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from gradproof.verify.capture import Captured
from gradproof.verify.directional import Directions
from gradproof.verify.localize import Entries
from gradproof.verify.options import GRID64

UNEXPLAINED = 0.02  # share of the original mismatch a hypothesis may leave unexplained
MAX_TENSORS = 8  # same-shaped tensors tried (pairs of them for the wrong-tensor hypothesis)
_ERF = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def _gelu_prime(u: np.ndarray) -> np.ndarray:
    cdf = 0.5 * (1.0 + _ERF(u / math.sqrt(2.0)).astype(float))
    return cdf + u * np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Factor:
    """An activation derivative as a function of one tensor ``u``."""

    formula: str  # in terms of u
    what: str  # whose derivative, and through which tensor
    fn: Callable[[np.ndarray], np.ndarray]


FACTORS = (
    Factor("1 − u²", "tanh's derivative written through its output", lambda u: 1.0 - u * u),
    Factor("1 − tanh(u)²", "tanh's derivative at its input", lambda u: 1.0 - np.tanh(u) ** 2),
    Factor(
        "u(1 − u)", "the sigmoid's derivative through its output, or the diagonal of softmax's Jacobian",
        lambda u: u * (1.0 - u),
    ),
    Factor("σ(u)(1 − σ(u))", "the sigmoid's derivative at its input", lambda u: _sigmoid(u) * (1.0 - _sigmoid(u))),
    Factor("1[u > 0]", "ReLU's derivative", lambda u: (u > 0).astype(float)),
    Factor("σ(u)", "softplus's derivative at its input", _sigmoid),
    Factor("Φ(u) + u·φ(u)", "the exact GELU's derivative at its input", _gelu_prime),
)


def _explains(h: np.ndarray, user: np.ndarray, dirs: Directions, entries: Entries | None) -> bool:
    fd = np.asarray(dirs.fd)
    tol = np.asarray(dirs.tolerance)
    mine = np.array([float(np.vdot(h, v)) for v in dirs.vectors])
    if not np.all(np.isfinite(mine)):
        return False
    if np.any(np.abs(mine - fd) > 3.0 * tol + UNEXPLAINED * np.abs(user - fd)):
        return False
    if entries is not None and entries.complete:
        got = h.reshape(-1)[entries.index]
        wrong = np.abs(entries.got - entries.expected)
        if np.any(np.abs(got - entries.expected) > 3.0 * entries.tolerance + UNEXPLAINED * wrong):
            return False
    return True


def _label(c: Captured) -> str:
    return c.name if c.name.startswith("what ") else f"`{c.name}` in {c.function}"


def _gradient_like(t: np.ndarray, g: np.ndarray) -> bool:
    """An array close to the returned gradient (a copy of it, or what it was built from)."""
    return float(np.linalg.norm(t - g)) <= 0.5 * max(float(np.linalg.norm(g)), GRID64)


def _same_shaped(
    x: np.ndarray, name: str, g: np.ndarray, tensors: Iterable[Captured]
) -> list[tuple[str, np.ndarray]]:
    """The parameter itself, the distinct float tensors of its shape the code held (not gradient-like),
    and their images under tanh and the sigmoid (an activation's output the code may not have named)."""
    held = [(f"the parameter `{name}`", x)]
    for c in tensors:
        if c.value.shape != x.shape or c.value.dtype.kind != "f" or not np.all(np.isfinite(c.value)):
            continue
        if _gradient_like(c.value, g):
            continue
        if any(np.array_equal(c.value, t) for _, t in held):
            continue
        held.append((_label(c), c.value))
        if len(held) >= MAX_TENSORS:
            break
    derived = [(f"tanh({label})", np.tanh(t)) for label, t in held]
    derived += [(f"σ({label})", _sigmoid(t)) for label, t in held]
    return held + [(label, t) for label, t in derived if not any(np.allclose(t, u) for _, u in held)]


def computed_elsewhere(
    x: np.ndarray, g: np.ndarray, dirs: Directions, entries: Entries | None, tensors: list[Captured]
) -> str | None:
    """'the code computed the right gradient in … but returned something else', if an array it held fits."""
    user = np.array([float(np.vdot(g, v)) for v in dirs.vectors])
    for c in tensors:
        if c.value.shape == x.shape and c.value.dtype.kind == "f" and _explains(c.value, user, dirs, entries):
            return (
                f"the code held the right gradient ({_label(c)} matches the finite differences) but returned "
                "something else"
            )
    return None


def explain_elementwise(
    name: str, x: np.ndarray, g: np.ndarray, dirs: Directions, entries: Entries | None, tensors: list[Captured]
) -> str | None:
    """A sentence naming an elementwise activation-derivative bug, if one explains the failure."""
    user = np.array([float(np.vdot(g, v)) for v in dirs.vectors])
    fd = np.asarray(dirs.fd)
    if not np.any(np.abs(user - fd) > 3.0 * np.asarray(dirs.tolerance)):
        return None  # the failure does not show along the directions: nothing to fit
    candidates = _same_shaped(x, name, g, tensors)
    with np.errstate(all="ignore"):
        for label, t in candidates:
            for factor in FACTORS:
                d = factor.fn(t)
                if np.allclose(d, 1.0):
                    continue
                if _explains(g * d, user, dirs, entries):
                    return (
                        f"the gradient equals the true one without the factor {factor.formula} at u = {label} "
                        f"({factor.what}): the activation derivative was left out of the backward"
                    )
                if np.all(np.abs(d) > 1e-12) and _explains(g / d, user, dirs, entries):
                    return (
                        f"the gradient equals the true one times an extra factor {factor.formula} at u = {label} "
                        f"({factor.what}): an activation derivative applied where none belongs (or twice)"
                    )
        for factor in FACTORS:
            for wrong, t1 in candidates:
                d1 = factor.fn(t1)
                if not np.all(np.abs(d1) > 1e-12):
                    continue
                for right, t2 in candidates:
                    if right == wrong:
                        continue
                    if _explains(g * factor.fn(t2) / d1, user, dirs, entries):
                        return (
                            f"the derivative factor {factor.formula} ({factor.what}) is evaluated at u = {wrong} "
                            f"where the true gradient has it at u = {right} (pre- vs post-activation)"
                        )
    return None
