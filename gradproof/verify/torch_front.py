"""Drop-in ``gradcheck`` / ``gradgradcheck`` with torch 2.13's signatures, on gradproof's engine.

``from gradproof import gradcheck, gradgradcheck`` in place of torch's: same arguments, ``True``
on success, a :class:`~gradproof.verify.torch_rules.GradcheckFailure` (a subclass of torch's
``GradcheckError``) with gradproof's report on failure, or ``False`` with
``raise_exception=False``.  What differs is how the Jacobian is checked: instead of a full
finite-difference Jacobian compared entry by entry against fixed ``atol``/``rtol`` (default
mode), or one non-negative direction (``fast_mode``), a seeded cotangent u reduces the function to
⟨u, func(*inputs)⟩ and gradproof's engine checks its gradient Jᵀu — from the backward, and from
forward-mode AD with ``check_forward_ad=True`` — along signed directions, with a tolerance from
the measured finite-difference error, localisation to input and output entries and a diagnosis.

Arguments, as torch's, with these differences (documented in the README):

* ``eps`` and ``fast_mode`` are accepted and ignored: steps are chosen from the measured error,
  and the one method is already cheaper than torch's default mode;
* ``atol``/``rtol`` default to ``None`` (the measured tolerance alone).  Given explicitly they can
  only make the check more lenient: a direction fails only when its error also exceeds
  ``atol·‖u‖·‖v‖ + rtol·|⟨u, J v⟩|`` — torch's per-entry tolerance carried to a random pair (u, v);
* inputs in float32 (or code computing in float32) are checked at float32's resolution, the
  reference in float64 where the function accepts it;
* complex inputs that require grad, sparse and MKLDNN tensors, and ``masked=True`` are refused
  with an :class:`~gradproof.InputError` naming the input.
* The check is seeded (seed 0): the same call always gives the same verdict.
* A pass too coarse to resolve a 10 % gradient error (bfloat16 or float16 outputs) still returns
  ``True`` but warns with :class:`~gradproof.CoarseCheckWarning` (see :mod:`gradproof.verify.coarse`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from gradproof.errors import InputError
from gradproof.verify import torch_rules as rules
from gradproof.verify.coarse import warn_if_coarse
from gradproof.verify.options import CheckOptions
from gradproof.verify.result import GradientCheck
from gradproof.verify.params import _user_frame
from gradproof.verify.torch_function import TorchReduction, as_outputs
from gradproof.verify.torch_rules import GradcheckFailure
from gradproof.verify.vector import check_reduced

__all__ = ["GradcheckFailure", "gradcheck", "gradgradcheck"]

WHAT = "func(*inputs)"
NONDET_SIGMAS = 4.0


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check the backward (and forward-mode AD) of ``func`` at ``inputs``; torch's signature.

    Returns ``True``; on a wrong derivative raises :class:`GradcheckFailure` with the report, or
    returns ``False`` when ``raise_exception=False``.  Input that cannot be checked raises
    :class:`~gradproof.InputError` either way.

    >>> import torch, gradproof
    >>> x = torch.randn(3, 4, dtype=torch.double, requires_grad=True)
    >>> gradproof.gradcheck(torch.tanh, (x,))
    True
    """
    del eps, fast_mode  # accepted for compatibility; steps come from the measured error
    try:
        _check(
            func,
            _as_tuple(inputs),
            None,
            atol=atol,
            rtol=rtol,
            nondet_tol=nondet_tol,
            check_undefined_grad=check_undefined_grad,
            check_grad_dtypes=check_grad_dtypes,
            check_batched_grad=check_batched_grad,
            check_batched_forward_grad=check_batched_forward_grad,
            check_forward_ad=check_forward_ad,
            check_backward_ad=check_backward_ad,
            masked=masked,
        )
    except GradcheckFailure:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check the backward's own backward: ``gradcheck`` of (inputs, grad_outputs) ↦ the VJP.

    As torch does, the function checked is ``x, w ↦ autograd.grad(func(x), x, w, create_graph=True)``
    with respect to the inputs and the grad_outputs w (seeded, uniform in [−1, 1], when not given):
    differences of first derivatives against the double backward's Hessian–vector products.
    """
    del eps, fast_mode
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise InputError("gradgradcheck needs check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise InputError("check_undefined_grad=True needs check_rev_over_rev=True")
    if check_batched_grad and not check_rev_over_rev:
        raise InputError("check_batched_grad=True needs check_rev_over_rev=True")
    tupled = _as_tuple(inputs)
    diff_inputs = [i for i, x in enumerate(tupled) if isinstance(x, torch.Tensor) and x.requires_grad]
    _validate_inputs(tupled, [f"input{i}" for i in range(len(tupled))])
    if grad_outputs is None:
        try:
            outs = as_outputs(func(*tupled), WHAT)
        except InputError:
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported with the user's frame
            raise InputError(f"{WHAT} raised {type(exc).__name__}: {exc}{_user_frame(exc)}") from exc
        gen = np.random.default_rng(np.random.SeedSequence([0, 0x6A6A]))
        tupled_grads = tuple(
            torch.from_numpy(gen.uniform(-1.0, 1.0, tuple(o.shape)))
            .to(device=o.device, dtype=o.dtype if (o.is_floating_point() or o.is_complex()) else torch.float64)
            .requires_grad_(True)
            for o in outs
            if isinstance(o, torch.Tensor) and o.requires_grad
        )
        if not tupled_grads:
            raise InputError(
                f"no output of {WHAT} requires grad, so it has no backward to differentiate: gradgradcheck checks "
                "nothing here (use gradcheck, which checks that the Jacobian is zero)"
            )
    else:
        tupled_grads = _as_tuple(grad_outputs)
    n_out = len(tupled_grads)
    diff_grads = {i for i, g in enumerate(tupled_grads) if isinstance(g, torch.Tensor) and g.requires_grad}
    noncontig = gen_non_contig_grad_outputs and grad_outputs is None

    def vjp_function(*args: Any) -> tuple[Any, ...]:
        xs = tuple(
            (a if a.requires_grad else a.detach().requires_grad_(True)) if i in diff_inputs else a
            for i, a in enumerate(args[:-n_out] if n_out else args)
        )
        ws = [
            (a if a.requires_grad else a.detach().requires_grad_(True)) if i in diff_grads else a
            for i, a in enumerate(args[len(args) - n_out :])
        ]
        if noncontig:  # the same values, laid out with a stride of 2
            ws = [torch.stack([w, w], dim=-1)[..., 0] if isinstance(w, torch.Tensor) else w for w in ws]
        outs = func(*xs)
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        outs = tuple(o for o in outs if isinstance(o, torch.Tensor) and o.requires_grad)
        grads = torch.autograd.grad(
            outs, [xs[i] for i in diff_inputs], ws, create_graph=True, allow_unused=True
        )
        return tuple(g for g in grads if g is not None)

    names = [f"input{i}" for i in range(len(tupled))] + [f"grad_output{i}" for i in range(n_out)]
    try:
        _check(
            vjp_function,
            tupled + tupled_grads,
            names,
            atol=atol,
            rtol=rtol,
            nondet_tol=nondet_tol,
            check_undefined_grad=check_undefined_grad,
            check_grad_dtypes=check_grad_dtypes,
            check_batched_grad=check_batched_grad,
            check_batched_forward_grad=False,
            check_forward_ad=check_fwd_over_rev,
            check_backward_ad=check_rev_over_rev,
            masked=masked,
            what="the backward of func",
            order="second",
        )
    except GradcheckFailure:
        if raise_exception:
            raise
        return False
    return True


# -- the shared body --------------------------------------------------------------------------
def _as_tuple(x: Any) -> tuple[Any, ...]:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _validate_inputs(tupled: tuple[Any, ...], names: Sequence[str]) -> list[int]:
    diff = []
    for i, x in enumerate(tupled):
        if not (isinstance(x, torch.Tensor) and x.requires_grad):
            continue
        if x.is_complex():
            raise InputError(
                f"{names[i]} is complex; gradproof checks real inputs only (split it into real and imaginary "
                "parts, or use torch.autograd.gradcheck for Wirtinger derivatives)"
            )
        if x.layout != torch.strided:
            raise InputError(f"{names[i]} is a {x.layout} tensor; gradproof checks dense tensors only (to_dense())")
        if x.numel() == 0:
            raise InputError(f"{names[i]} requires grad but has no entries (shape {tuple(x.shape)})")
        finite = torch.isfinite(x.detach())
        if not finite.all():
            idx = [int(j) for j in torch.nonzero(~finite)[0].tolist()]
            raise InputError(f"{names[i]} contains {x.detach()[tuple(idx)].item()} at index {idx}: inputs must be finite")
        diff.append(i)
    if not diff:
        raise InputError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have "
            "requires_grad=True"
        )
    return diff


def _check(func: Callable[..., Any], tupled: tuple[Any, ...], names: Sequence[str] | None, **kwargs: Any) -> None:
    """The check, with the inputs guarded: a function that modifies one in place is refused (and
    the input restored), since every verdict would be about a point that moved."""
    shown = list(names) if names is not None else [f"input{i}" for i in range(len(tupled))]
    with rules.inputs_kept(tupled, shown, kwargs.get("what", WHAT)):
        _check_unguarded(func, tupled, names, **kwargs)


def _check_unguarded(
    func: Callable[..., Any],
    tupled: tuple[Any, ...],
    names: Sequence[str] | None,
    *,
    atol: float | None,
    rtol: float | None,
    nondet_tol: float,
    check_undefined_grad: bool,
    check_grad_dtypes: bool,
    check_batched_grad: bool,
    check_batched_forward_grad: bool,
    check_forward_ad: bool,
    check_backward_ad: bool,
    masked: bool | None,
    what: str = WHAT,
    order: str = "first",
    seed: int = 0,
) -> None:
    if not callable(func):
        raise InputError(f"func must be callable, got {type(func).__name__}")
    if not (check_forward_ad or check_backward_ad):
        raise InputError("gradcheck needs check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise InputError("check_batched_grad=True needs check_backward_ad=True")
    if check_batched_forward_grad and not check_forward_ad:
        raise InputError("check_batched_forward_grad=True needs check_forward_ad=True")
    if masked:
        raise InputError("masked=True concerns sparse inputs, which gradproof does not check; leave masked unset")
    for name, value in (("atol", atol), ("rtol", rtol), ("nondet_tol", nondet_tol)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf
        ):
            raise InputError(f"{name} must be a finite non-negative number, got {value!r}")
    names = list(names) if names is not None else [f"input{i}" for i in range(len(tupled))]
    diff = _validate_inputs(tupled, names)
    diff_names = [names[i] for i in diff]
    base = {names[i]: tupled[i] for i in diff}
    originals = {names[i]: tupled[i].dtype for i in diff}

    constants = [i for i, x in enumerate(tupled) if i not in diff and isinstance(x, torch.Tensor) and x.is_floating_point()]
    slots = [(i, names[i]) for i in diff]

    def call(values: Mapping[str, Any]) -> Any:
        args = list(tupled)
        widened = False
        for i, n in slots:
            v = args[i] = values[n]
            widened = widened or v.dtype != originals[n]
        if widened:
            for i in constants:
                args[i] = tupled[i].detach().to(torch.float64)  # constants follow the float64 reference
        return func(*args)

    red = TorchReduction(call, base, seed, what)
    gen = torch.Generator().manual_seed(seed)
    backward = check_backward_ad and red.differentiable

    def zero_grad_output() -> None:  # a backward that ignores grad_output: the clearest message
        rules.mul_by_grad_output(red.probe_grad([torch.zeros_like(u) for u in red.u_native]), base, what)

    # atol per Jacobian entry is atol·‖u‖·‖v‖ on ⟨u, J v⟩; a backward allowed to wander by
    # nondet_tol per entry moves ⟨Jᵀu, v⟩ by about nondet_tol·‖u‖·‖v‖ (4σ allowed)
    unorm = math.sqrt(sum(float((u * u).sum()) for u in red.u))
    options = CheckOptions(
        seed=seed,
        floor_atol=(float(atol or 0.0) + NONDET_SIGMAS * float(nondet_tol)) * unorm,
        floor_rtol=float(rtol or 0.0),
    )
    passes: list[tuple[GradientCheck, str]] = []
    if check_backward_ad:
        # the engine's gradient is the backward's first call (with grad_output = u, as torch's own
        # first call): a backward wrong only on its first call (lazily built state) is checked, which
        # it was not while the first call was the grad_output = 0 probe, under which a wrong factor
        # cannot show
        result = _engine(red, red.grad, base, options, what)  # also refuses a random forward
        if not result.ok:
            if backward:  # ignoring grad_output or nondeterminism explain a mismatch better than any diagnosis
                try:
                    zero_grad_output()
                    rules.reentrant(red.first_grad or red.probe_grad(), red.probe_grad(), nondet_tol, what)
                except InputError:
                    pass  # a diagnosis that cannot run (a graph already freed) never replaces the verdict
            result = red.localize_outputs(result, base, options)
            kind = "second derivatives (the double backward)" if order == "second" else "the backward"
            raise GradcheckFailure(_message(result, what, kind, red), result)
        passes.append((result, "the backward"))
    if backward:
        first, second = red.first_grad or red.probe_grad(), red.probe_grad()  # the engine's run is the first
        zero_grad_output()  # the third call
        rules.reentrant(first, second, nondet_tol, what)
        # a fourth call, after the probe: a backward that goes wrong from its third call on (where
        # grad_output = 0 hides any wrong factor) is not reentrant either
        rules.reentrant(first, red.probe_grad(), nondet_tol, what)
        if check_grad_dtypes:
            for n, g in first.items():
                if g is not None and g.dtype != base[n].dtype:
                    raise GradcheckFailure(f"the gradient for {n} has dtype {g.dtype}; the input has {base[n].dtype}")
    if check_forward_ad:
        result = _engine(red, red.forward_grad, base, options, what)
        if not result.ok:
            raise GradcheckFailure(_message(result, what, "forward-mode AD (the jvp)", red), result)
        passes.append((result, "forward-mode AD"))
    if check_batched_forward_grad:
        rules.batched_forward_grad(func, tupled, gen, what)
    if check_backward_ad and red.differentiable:
        if check_batched_grad:
            for k, o in zip(red.index, red.current_graph()):
                if o.requires_grad:
                    rules.batched_grad(o, k, [base[n] for n in diff_names], diff_names, gen, what)
        if check_undefined_grad:
            rules.undefined_backward(func, tupled, [base[n] for n in diff_names], what, red.differentiable_graph())
    if check_forward_ad and check_undefined_grad:
        rules.undefined_forward(func, tupled, what)
    for result, kind in passes:  # every check passed: say where a pass means little
        _warn_if_coarse(result, what, kind, red)


def _engine(red: TorchReduction, grad: Callable, base: Mapping[str, Any], options: CheckOptions, what: str):
    try:
        return check_reduced(red.loss, grad, base, options, noun="input")
    except InputError as exc:
        raise InputError(_rephrase(str(exc), what)) from exc.__cause__


def _warn_if_coarse(result: GradientCheck, what: str, kind: str, red: TorchReduction) -> None:
    """A pass at a precision too coarse to mean much warns (see :mod:`gradproof.verify.coarse`)."""
    low = sorted({str(o.dtype).replace("torch.", "") for o in red.current_graph() if o.is_floating_point()} - {"float64"})
    precision = f"its outputs are {', '.join(low)}" if low else None
    # stacklevel 5: this function, _check_unguarded, _check, gradcheck / gradgradcheck, their caller
    warn_if_coarse(result, f"gradproof.gradcheck: {kind} of {what}", precision, stacklevel=5)


def _rephrase(text: str, what: str) -> str:
    """The engine's words for a scalar loss, in terms of the function the user passed."""
    return (
        text.replace("loss(params)", f"⟨u, {what}⟩")
        .replace("grad(params)", f"the backward of {what}")
        .replace("at the same parameters", "at the same inputs")
    )


def _message(result: GradientCheck, what: str, kind: str, red: TorchReduction) -> str:
    head = (
        f"gradproof.gradcheck: {kind} of {what} disagrees with finite differences. Checked: the derivative of "
        f"⟨u, {what}⟩ along seeded signed directions v (u: a seeded cotangent over outputs "
        f"{', '.join(f'output{k}' for k in red.index)}) against ⟨Jᵀu, v⟩ from {kind}, within the measured "
        "finite-difference error."
    )
    return head + "\n" + str(result)
