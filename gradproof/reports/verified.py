"""The "verified" box: which witnesses agreed, the largest error and the device.

Reads the result of :func:`gradproof.verify` (``.ok``, ``.device``, ``.proof``, ``.witnesses``
with ``.method``, ``.ok``, ``.max_error``, ``.tolerance``, ``.detail``, ``.max_error``).  Times
are left out on purpose: the same derivation must give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradproof.derivations.latex_text import escape_text


def sci(x: float) -> str:
    """A number for a sentence in LaTeX: 2 significant digits, ``3.1\\times 10^{-9}``."""
    x = float(x)
    if x == 0:
        return "$0$"
    if not math.isfinite(x):
        return "$\\infty$" if x > 0 else "NaN"
    mant, exp = f"{x:.1e}".split("e")
    exp_i = int(exp)
    return f"${mant}$" if exp_i == 0 else f"${mant}\\times 10^{{{exp_i}}}$"


@dataclass(frozen=True)
class _ProofOnly:
    """Stands in for a verification result where ``gradproof.verify`` is not installed yet."""

    proof: Any
    device: str = "cpu"
    witnesses: tuple = ()

    @property
    def ok(self) -> bool:
        return bool(self.proof.ok)


def verify_derivation(d: Any, device: str = "auto") -> Any:
    """``gradproof.verify(d)``; the SymPy proof alone where the numeric checks are absent."""
    try:
        from gradproof.verify.derivation_check import verify_derivation as verify
    except ModuleNotFoundError as exc:
        if exc.name != "gradproof.verify.derivation_check":
            raise
        return _ProofOnly(d.prove())
    return verify(d, device=device)


def summary_sentences(v: Any) -> str:
    """One or two LaTeX sentences summarising a verification result."""
    methods: list[str] = []  # each method once, in first-seen order (a derivation checks several claims)
    for w in v.witnesses:
        label = escape_text(w.method)
        failed = f"{label} (\\textbf{{failed}})"
        if not w.ok and label in methods:
            methods[methods.index(label)] = failed
        elif label not in methods and failed not in methods:
            methods.append(label if w.ok else failed)
    if not methods and getattr(v, "proof", None) is not None:
        methods.append("SymPy proof")
    proof = getattr(v, "proof", None)
    proof_text = ""
    if proof is not None:
        proof_text = f" The SymPy proof shows {proof.shown} of {len(proof.steps)} steps symbolically" + (
            f" and checks {proof.checked} exactly at random rational points." if proof.checked else "."
        )
    numeric = [w for w in v.witnesses if getattr(w, "max_error", None) is not None]
    err = ""
    if numeric:
        worst = max(numeric, key=lambda w: w.max_error)
        err = (
            f" Largest error {sci(worst.max_error)} ({escape_text(worst.method)}; tolerance "
            f"{sci(worst.tolerance)}), relative to the gradient's scale."
        )
    head = "Verified" if v.ok else "\\textbf{Not verified}"
    return f"{head} by {', '.join(methods) or 'no method'} on {escape_text(v.device)}.{err}{proof_text}"


def box(v: Any) -> str:
    """A framed paragraph for the article."""
    return (
        "\\par\\medskip\\noindent\\fbox{\\parbox{\\dimexpr\\linewidth-2\\fboxsep-2\\fboxrule\\relax}{\\small "
        + summary_sentences(v)
        + "}}\\par\\medskip\n"
    )
