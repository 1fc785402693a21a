"""Verifying a derivation by independent witnesses.

1. the SymPy proof of every step (:mod:`gradproof.derivations.prove`);
2. Richardson central differences of the compiled forward, in float64, against the compiled
   derived gradient, with the error measured relative to the gradient's scale and judged
   against the finite-difference error estimate;
3. PyTorch autograd of the same forward (float64, CUDA when ``device="auto"`` finds one);
4. for identities without a derivative, both sides evaluated.

Points: random ones and adversarial but legal ones (logits of ±50, near-one-hot probability
vectors), at the derivation's default sizes and one size larger.  A claim holds only when every
witness agrees; a symbolic proof alone never decides.
"""

from __future__ import annotations

import numbers
import time
from typing import Any

import numpy as np

from gradproof.derivations.model import Derivation, GradientClaim, IdentityClaim
from gradproof.derivations.numeric import compile_expr, sample_inputs
from gradproof.errors import InputError
from gradproof.verify import finite_diff
from gradproof.verify.autograd import autograd_jacobian
from gradproof.verify.device import describe_device, resolve_device
from gradproof.verify.judge import (  # noqa: F401 - the tolerances are part of this module's API
    AUTOGRAD_RTOL,
    EVALUATION_RTOL,
    FD_FLOOR_RTOL,
    SCALE_FLOOR,
    Tally,
    Witness,
    judge_autograd,
    judge_fd,
    judge_values,
)
from gradproof.verify.numeric_checks import run_numeric_check
from gradproof.verify.verification import DerivationVerification


def _size_variants(d: Derivation) -> list[dict]:
    base = dict(d.sizes)
    if not base:
        return [base]
    return [base, {k: v + 1 for k, v in base.items()}]


def _points(d: Derivation, sizes: dict, rng: np.random.Generator) -> list[tuple[str, dict]]:
    return [
        ("random", sample_inputs(d, sizes, rng)),
        ("random", sample_inputs(d, sizes, rng)),
        ("adversarial", sample_inputs(d, sizes, rng, adversarial=True)),
    ]


def _name_of(symbol: Any) -> str:
    return str(getattr(symbol, "label", symbol))


def _check_gradient_claim(d: Derivation, claim: GradientClaim, device: Any, rng: np.random.Generator) -> list[Witness]:
    wrt = _name_of(claim.wrt)
    label = claim.label or f"∂/∂{wrt}"
    fd_tally, ag_tally = Tally("finite differences", FD_FLOOR_RTOL), Tally("autograd", AUTOGRAD_RTOL)
    count = 0
    for sizes in _size_variants(d):
        forward = compile_expr(d, claim.function, claim.function_index, sizes, "numpy")
        forward_t = compile_expr(d, claim.function, claim.function_index, sizes, "torch")
        gradient = compile_expr(d, claim.gradient, claim.function_index + claim.wrt_index, sizes, "numpy")
        for kind, values in _points(d, sizes, rng):
            count += 1
            derived = gradient(values)
            fd = finite_diff.jacobian(lambda w, values=values, f=forward: f({**values, wrt: w}), values[wrt])
            fd_value = fd.value.reshape(derived.shape)
            verdict = judge_fd(derived, fd_value, fd.error.reshape(derived.shape))
            bad = verdict.bad
            fd_tally.add(verdict, "" if bad is None else
                         f"at a {kind} point, entry {bad}: FD {fd_value[bad]:.6g}, derived {derived[bad]:.6g}")
            ag = autograd_jacobian(forward_t, values, wrt, device).reshape(derived.shape)
            verdict = judge_autograd(derived, ag, forward(values))
            bad = verdict.bad
            ag_tally.add(verdict, "" if bad is None else
                         f"at a {kind} point, entry {bad}: autograd {ag[bad]:.6g}, derived {derived[bad]:.6g}")
    sizes_text = ", ".join(", ".join(f"{k}={v}" for k, v in s.items()) or "scalar" for s in _size_variants(d))
    what = f"{label}: {count} points ({sizes_text})"
    return [fd_tally.witness(what, failed=label), ag_tally.witness(what, failed=label)]


def _check_identity_claim(d: Derivation, claim: IdentityClaim, rng: np.random.Generator) -> Witness:
    label = claim.label or "identity"
    worst, where, count = 0.0, "", 0
    for sizes in _size_variants(d):
        left = compile_expr(d, claim.lhs, claim.index, sizes, "numpy")
        right = compile_expr(d, claim.rhs, claim.index, sizes, "numpy")
        for kind, values in _points(d, sizes, rng):
            count += 1
            a, b = left(values), right(values)
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                where = where or f"non-finite value at a {kind} point"
                continue
            verdict = judge_values(a, b, claim.relation)
            worst = max(worst, verdict.error)
            if not verdict.ok and not where:
                bad = verdict.bad
                av = a[bad] if np.ndim(a) else a
                bv = b[bad] if np.ndim(b) else b
                entry = f", entry {bad}" if bad else ""
                where = f"fails at a {kind} point{entry}: {float(av):.6g} {claim.relation} {float(bv):.6g}"
    ok = not where
    detail = f"{label}: holds at {count} points" if ok else f"{label}: {where}"
    return Witness("evaluation", ok, worst if claim.relation == "=" else None,
                   EVALUATION_RTOL if claim.relation == "=" else None, detail)


def verify_derivation(name_or_derivation: Any, device: Any = "auto", *, seed: int = 0) -> DerivationVerification:
    """Check a derivation by every witness; see the module docstring.

    ``device``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, or ``"cuda"`` — asking for
    CUDA without it raises :class:`gradproof.DeviceError` rather than silently using the CPU.
    """
    from gradproof.derivations.registry import derivation

    d = derivation(name_or_derivation)
    torch_device = resolve_device(device)
    start = time.perf_counter()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InputError(f"verify: seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    proof = d.prove(seed=seed)
    witnesses = [
        Witness("SymPy proof", proof.ok, None, None,
                f"{proof.shown} step(s) shown symbolically, {proof.checked} checked at exact random points"
                + ("" if proof.ok else "; " + "; ".join(str(s).strip() for s in proof.steps if not s.ok)))
    ]
    for claim in d.claims:
        if isinstance(claim, GradientClaim):
            witnesses += _check_gradient_claim(d, claim, torch_device, rng)
        elif isinstance(claim, IdentityClaim):
            witnesses.append(_check_identity_claim(d, claim, rng))
        else:  # pragma: no cover - a programming error in a derivation module
            raise TypeError(f"{d.name}: unknown claim type {type(claim).__name__}")
    for check in d.numeric_checks:
        witnesses += run_numeric_check(check, seed=seed, device=torch_device)
    return DerivationVerification(
        d.name, d.title, proof, tuple(witnesses), describe_device(torch_device), time.perf_counter() - start
    )


def _verify_in_worker(name: str, device: str, seed: int) -> DerivationVerification:
    import torch

    torch.set_num_threads(1)  # one derivation per core; more threads only contend
    return verify_derivation(name, device=device, seed=seed)


def _worker_context() -> Any:
    """Fork on Linux from a process with a single Python thread where CUDA has not been
    initialised: the workers inherit SymPy, PyTorch and the built catalog (about 4 s of imports
    and building each, on a cold ``gradproof verify``), imported here once instead of in every
    worker.  Importing torch starts no thread of its own and touches no CUDA state; a worker
    runs torch on one thread (``torch.set_num_threads(1)``), so no OpenMP pool the parent may
    have started is used after the fork.  Spawn otherwise (Python threads running — a test
    runner's —, CUDA initialised, or a platform where forking is unsafe or unavailable)."""
    import multiprocessing
    import sys
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1 and not _cuda_initialized():
        import torch  # noqa: F401 - imported once here, inherited by every worker

        from gradproof.derivations.registry import catalog

        catalog()  # built once here, inherited by every worker
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _cuda_initialized() -> bool:
    """Whether this process has initialised CUDA (a forked child could not use it); False
    without torch loaded, which then cannot have."""
    import sys

    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def verify_many(
    names: list[str], device: Any = "auto", *, seed: int = 0, jobs: int = 1, on_done: Any = None
) -> list[DerivationVerification]:
    """Verify several derivations, in ``jobs`` worker processes when ``jobs > 1``.

    Results come back in the order of ``names``; ``on_done(result)`` is called as each finishes
    (for progress).  Workers are forked or spawned, see :func:`_worker_context`.
    """
    if jobs <= 1 or len(names) <= 1 or str(device).startswith("cuda"):
        results = []
        for name in names:
            results.append(verify_derivation(name, device=device, seed=seed))
            if on_done:
                on_done(results[-1])
        return results

    from concurrent.futures import ProcessPoolExecutor, as_completed

    by_name: dict[str, DerivationVerification] = {}
    jobs = min(int(jobs), len(names))  # a worker per derivation at most: the rest would only start up
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_worker_context()) as pool:
        futures = {pool.submit(_verify_in_worker, name, str(device), seed): name for name in names}
        for future in as_completed(futures):
            result = future.result()
            by_name[futures[future]] = result
            if on_done:
                on_done(result)
    return [by_name[name] for name in names]
