"""The verdict on one derivation: its proof and every witness's (:class:`Witness`).

Plain data without SymPy, PyTorch or NumPy, so that a verification read back from the result cache
(:mod:`gradproof.verify.cache`) imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradproof.derivations.proof import ProofResult


@dataclass(frozen=True)
class Witness:
    """One method's verdict: its largest error (relative to the compared quantity's scale)."""

    method: str
    ok: bool
    max_error: float | None
    tolerance: float | None
    detail: str

    def __str__(self) -> str:
        err = "" if self.max_error is None else f" max rel. error {self.max_error:.1e} (tol {self.tolerance:.0e})"
        return f"  [{'ok ' if self.ok else 'FAIL'}] {self.method}:{err} — {self.detail}"


@dataclass(frozen=True)
class DerivationVerification:
    """All witnesses for one derivation; ``ok`` only when every one of them agrees."""

    name: str
    title: str
    proof: ProofResult
    witnesses: tuple[Witness, ...]
    device: str
    seconds: float
    #: read back from the result cache (:mod:`gradproof.verify.cache`), not computed in this run
    cached: bool = False

    @property
    def ok(self) -> bool:
        return all(w.ok for w in self.witnesses)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def max_error(self) -> float | None:
        errors = [w.max_error for w in self.witnesses if w.max_error is not None]
        return max(errors) if errors else None

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.method for w in self.witnesses))

    def witness(self, method: str) -> Witness | None:
        """The combined verdict of one method (worst error over its claims)."""
        ws = [w for w in self.witnesses if w.method == method]
        if not ws:
            return None
        errors = [w.max_error for w in ws if w.max_error is not None]
        worst = max(errors) if errors else None
        tols = [w.tolerance for w in ws if w.tolerance is not None]
        return Witness(method, all(w.ok for w in ws), worst, max(tols) if tols else None,
                       "; ".join(w.detail for w in ws))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "device": self.device,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
            "proof": {"ok": self.proof.ok, "shown": self.proof.shown, "checked": self.proof.checked},
            "witnesses": [
                {"method": w.method, "ok": w.ok, "max_error": w.max_error, "tolerance": w.tolerance,
                 "detail": w.detail}
                for w in self.witnesses
            ],
        }

    def __str__(self) -> str:
        head = "verified" if self.ok else "FAILED"
        lines = [f"{self.name}: {head} on {self.device} in {self.seconds:.2f} s"]
        lines += [str(w) for w in self.witnesses]
        if not self.proof.ok:
            lines.append(str(self.proof))
        return "\n".join(lines)
