"""What ``torch.autograd.gradcheck`` checks besides the Jacobian, run as torch runs it.

These are structural rules of autograd, not numerics, so they need no error model:

* a backward given grad_output = 0 returns zero (else it ignores grad_output), with the input's
  dtype, device and size — always on, as in torch;
* the backward gives the same result twice (``nondet_tol``, torch's "reentrant" test);
* undefined output gradients are handled (``check_undefined_grad``), backward and forward mode;
* the function leaves its inputs unchanged (gradproof's own rule: a verdict about inputs that
  moved during the check would be about no point at all);
* vmap over the backward / over forward-mode AD agrees with a loop (``check_batched_grad``,
  ``check_batched_forward_grad``), with two random cotangents/tangents and ``torch.allclose``.

A broken rule raises :class:`GradcheckFailure`, a ``torch.autograd.gradcheck.GradcheckError``
(so code catching torch's error keeps working) that also is a gradproof verdict.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.autograd.gradcheck import GradcheckError

from gradproof.errors import GradproofError, InputError
from gradproof.verify.params import _user_frame

__all__ = [
    "GradcheckFailure",
    "batched_forward_grad",
    "batched_grad",
    "inputs_kept",
    "mul_by_grad_output",
    "reentrant",
    "undefined_backward",
    "undefined_forward",
]


class GradcheckFailure(GradcheckError, GradproofError):
    """A failed :func:`gradproof.gradcheck` / :func:`gradproof.gradgradcheck`.

    Subclasses torch's ``GradcheckError`` (a ``RuntimeError``), so it is a drop-in.  ``result``
    is gradproof's :class:`~gradproof.verify.result.GradientCheck` when the failure is a
    derivative that disagrees with finite differences, and ``None`` for a broken autograd rule.
    """

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


@contextlib.contextmanager
def inputs_kept(tupled: tuple, names: Sequence[str], what: str) -> Iterator[None]:
    """Refuse a function that modifies its inputs in place: every later call would see other values.

    The tensors of ``tupled`` are copied first; if any changed when the check ends (passed, failed
    or refused), it is restored and an :class:`~gradproof.InputError` names it, in place of the
    verdict, which would be about a point that moved.
    """
    kept = [(i, t, t.detach().clone()) for i, t in enumerate(tupled) if isinstance(t, torch.Tensor) and t.layout == torch.strided]
    try:
        yield
    except (GradcheckFailure, InputError) as exc:
        changed = _restore_changed(kept)
        if changed:
            raise _modified(changed, names, what) from exc
        raise
    changed = _restore_changed(kept)
    if changed:
        raise _modified(changed, names, what)


def _restore_changed(kept: list[tuple[int, torch.Tensor, torch.Tensor]]) -> list[int]:
    changed = []
    for i, t, copy in kept:
        now = t.detach()
        if now.shape == copy.shape and now.dtype == copy.dtype and _equal(now, copy):
            continue
        changed.append(i)
        if now.shape == copy.shape and now.dtype == copy.dtype:
            with torch.no_grad():
                now.copy_(copy)
    return changed


def _equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    if torch.equal(a, b):
        return True
    if a.is_floating_point() or a.is_complex():  # NaN in a constant is not a change
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return False


def _modified(changed: list[int], names: Sequence[str], what: str) -> InputError:
    which = ", ".join(names[i] if i < len(names) else f"argument {i}" for i in changed)
    return InputError(
        f"{what} modified {which} in place (its values changed during the check; restored now). gradcheck needs "
        "a function that leaves its inputs unchanged: clone an input before modifying it"
    )


def _grad(outputs, inputs, grad_outputs, what: str, **kwargs):
    try:
        return torch.autograd.grad(outputs, inputs, grad_outputs, allow_unused=True, **kwargs)
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise InputError(f"the backward of {what} raised {type(exc).__name__}: {exc}{_user_frame(exc)}") from exc


def _where(t: torch.Tensor) -> str:
    flat = int(torch.argmax(t.detach().abs().reshape(-1).to(torch.float64)))
    idx = [int(i) for i in torch.unravel_index(torch.tensor(flat), t.shape)] if t.dim() else []
    return f"{t.reshape(-1)[flat].item():.6g} at {idx}" if idx else f"{t.item():.6g}"


def mul_by_grad_output(grads: Mapping[str, Any], inputs: Mapping[str, torch.Tensor], what: str) -> None:
    """With grad_output = 0 every input gradient (``grads``) must be zero or undefined, of the input's type."""
    for name, g in grads.items():
        x = inputs[name]
        if g is None:
            continue
        if g.layout != x.layout:
            raise GradcheckFailure(f"the gradient for {name} has layout {g.layout}, the input has {x.layout}")
        if not g.eq(0).all():
            raise GradcheckFailure(
                f"the backward of {what} is not multiplied by grad_output: with grad_output = 0 it returned a "
                f"nonzero gradient for {name} ({_where(g)}). Scale the returned gradients by grad_output."
            )
        if g.dtype != x.dtype:
            raise GradcheckFailure(f"the gradient for {name} has dtype {g.dtype}; the input has {x.dtype}")
        if g.device != x.device:
            raise GradcheckFailure(f"the gradient for {name} is on {g.device}; the input is on {x.device}")
        if g.shape != x.shape:
            raise GradcheckFailure(
                f"the gradient for {name} has shape {tuple(g.shape)}; the input has shape {tuple(x.shape)}"
            )


def reentrant(first: dict[str, Any], second: dict[str, Any], nondet_tol: float, what: str) -> None:
    """The backward run twice with the same inputs and grad_output must agree within ``nondet_tol``."""
    for name, a in first.items():
        b = second[name]
        if a is None or b is None:
            if (a is None) != (b is None):
                raise GradcheckFailure(f"the backward of {what} returned a gradient for {name} only on one of two runs")
            continue
        gap = (a.detach() - b.detach()).abs()
        if gap.numel() and float(gap.max()) > nondet_tol:
            raise GradcheckFailure(
                f"the backward of {what} is not reentrant: run twice with the same inputs and grad_output it "
                f"gave gradients for {name} that differ by {float(gap.max()):.3g} ({_where(gap)}), more than "
                f"nondet_tol = {nondet_tol:g}. If the backward is nondeterministic by design (atomic adds), pass a "
                "nondet_tol that covers it."
            )


def undefined_backward(
    func, tupled: tuple, diff: Sequence[torch.Tensor], what: str, graph: Sequence[torch.Tensor] | None = None
) -> None:
    """All (and, one at a time, each) undefined output gradients give zero or undefined input gradients.

    ``graph``: the differentiable outputs of a call already made at ``tupled`` (kept graph), used
    for the first case instead of calling ``func`` again.
    """
    undefined = getattr(getattr(torch._C, "_functions", None), "UndefinedGrad", None)
    if undefined is None:  # pragma: no cover - present in every torch 2.x
        raise InputError("check_undefined_grad needs torch._C._functions.UndefinedGrad, which this torch lacks")

    def outputs():
        out = func(*tupled)
        out = out if isinstance(out, (tuple, list)) else (out,)
        return [o for o in out if isinstance(o, torch.Tensor) and o.requires_grad]

    cases = [[undefined()(o) for o in (outputs() if graph is None else graph)]]
    if len(cases[0]) > 1:
        for k in range(len(cases[0])):
            outs = outputs()
            cases.append([undefined()(o) if j == k else o for j, o in enumerate(outs)])
    for case in cases:
        try:
            grads = torch.autograd.grad(
                case, list(diff), [torch.zeros_like(o) for o in case], allow_unused=True, retain_graph=True
            )
        except Exception as exc:  # noqa: BLE001 - e.g. TypeError from None * 2 in a Python backward
            raise GradcheckFailure(
                f"the backward of {what} does not handle undefined output gradients (it raised {type(exc).__name__}: {exc}); treat a "
                "None grad_output as zeros, or pass check_undefined_grad=False"
            ) from exc
        for g in grads:
            if g is not None and not g.eq(0).all():
                raise GradcheckFailure(
                    f"the backward of {what} returned a nonzero gradient ({_where(g)}) when every output gradient "
                    "was undefined or zero"
                )


def batched_grad(output: torch.Tensor, k: int, diff: Sequence[torch.Tensor], names, gen: torch.Generator, what):
    """vmap over the backward (``is_grads_batched``) must match a loop over two random cotangents."""
    cots = [torch.randn(output.shape, generator=gen, dtype=torch.float64).to(output) for _ in range(2)]

    def vjp(v, batched=False):
        got = _grad([output], list(diff), [v], what, retain_graph=True, is_grads_batched=batched)
        shape = (2,) if batched else ()
        return [g if g is not None else torch.zeros(shape + tuple(x.shape), dtype=x.dtype) for g, x in zip(got, diff)]

    expected = [torch.stack(parts) for parts in zip(*(vjp(c) for c in cots))]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="There is a performance drop")
        try:
            result = vjp(torch.stack(cots), batched=True)
        except InputError as exc:
            raise GradcheckFailure(
                f"computing batched gradients (vmap over the backward of {what}) failed: {exc.__cause__ or exc}; "
                "make the backward vmap-compatible or pass check_batched_grad=False"
            ) from None
    for got, exp, name in zip(result, expected, names):
        if not torch.allclose(got, exp):
            raise GradcheckFailure(
                f"batched gradients of output {k} for {name} (vmap over the backward of {what}) differ from the "
                f"same gradients computed one at a time by up to {float((got - exp).abs().max()):.3g}"
            )


def _vmap():
    legacy = getattr(getattr(torch, "_vmap_internals", None), "_vmap", None)  # what torch's gradcheck uses
    return legacy if legacy is not None else torch.func.vmap


def batched_forward_grad(func, tupled: tuple, gen: torch.Generator, what: str) -> None:
    """vmap over forward-mode AD must match a loop over two random tangents, input by input."""
    fwad = torch.autograd.forward_ad
    for i, x in enumerate(tupled):
        if not (isinstance(x, torch.Tensor) and x.requires_grad):
            continue

        def jvp(tangent, i=i, x=x):
            with fwad.dual_level():
                args = [fwad.make_dual(x.detach(), tangent) if j == i else (a.detach() if isinstance(a, torch.Tensor)
                        else a) for j, a in enumerate(tupled)]
                outs = func(*args)
                outs = outs if isinstance(outs, (tuple, list)) else (outs,)
                res = []
                for o in outs:
                    if o is None:
                        continue
                    primal, tangent_out = fwad.unpack_dual(o)
                    res.append(tangent_out if tangent_out is not None else torch.zeros_like(primal))
                return tuple(res)

        tangents = [torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x) for _ in range(2)]
        expected = [torch.stack(parts) for parts in zip(*(jvp(t) for t in tangents))]
        try:
            result = _vmap()(jvp)(torch.stack(tangents))
        except RuntimeError as exc:
            raise GradcheckFailure(
                f"computing batched forward-mode gradients of {what} (vmap over the jvp) failed: {exc}; pass "
                "check_batched_forward_grad=False if the function does not support vmap"
            ) from exc
        for k, (got, exp) in enumerate(zip(result, expected)):
            if not torch.allclose(got, exp):
                raise GradcheckFailure(
                    f"batched forward-mode gradients of output {k} for input{i} differ from the same gradients "
                    f"computed one at a time by up to {float((got - exp).abs().max()):.3g}"
                )


def undefined_forward(func, tupled: tuple, what: str) -> None:
    """A zero tangent given as a dual tensor or as a plain tensor must give the same output tangents."""
    fwad = torch.autograd.forward_ad
    with fwad.dual_level():
        for i, x in enumerate(tupled):
            if not (isinstance(x, torch.Tensor) and x.requires_grad):
                continue
            base = [a.detach() if isinstance(a, torch.Tensor) else a for a in tupled]
            dual = list(base)
            dual[i] = fwad.make_dual(x.detach(), torch.zeros_like(x))
            out1 = func(*dual)
            out2 = func(*base)
            out1 = out1 if isinstance(out1, (tuple, list)) else (out1,)
            out2 = out2 if isinstance(out2, (tuple, list)) else (out2,)
            for k, (a, b) in enumerate(zip(out1, out2)):
                if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
                    continue
                ta, tb = fwad.unpack_dual(a).tangent, fwad.unpack_dual(b).tangent
                if ta is not None and tb is not None and not torch.allclose(ta, tb):
                    raise GradcheckFailure(
                        f"forward-mode tangents of output {k} of {what} differ when input{i}'s tangent is an explicit "
                        "zero rather than undefined"
                    )
