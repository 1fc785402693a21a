"""``check_module``: every parameter and floating input of a ``torch.nn.Module``, on the one engine.

For a module whose backward is hand-written (custom ``torch.autograd.Function``s inside), the
gradients autograd reports for its parameters are only as right as those backwards.  The module
is run on a deep copy (``torch.func.functional_call``, so the user's module, its parameters and
its buffers are never touched) in its current train/eval mode, and the function

    (parameters, floating inputs) ↦ ⟨u, module(*inputs)⟩   (or ``loss(module(*inputs))``)

is checked like any other (see :mod:`gradproof.verify.vector`).  Parameters are named by their
module path (``encoder.layers.0.weight``), inputs ``input0``, ``input1``, ….  A forward that is
random in the module's mode (dropout in training) is refused with the nondeterminism
:class:`~gradproof.InputError`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import torch

from gradproof.errors import InputError
from gradproof.verify.options import CheckOptions, merge_options
from gradproof.verify.result import GradientCheck
from gradproof.verify.torch_function import TorchReduction
from gradproof.verify.vector import check_reduced

__all__ = ["check_module"]


def check_module(
    module: Any,
    *inputs: Any,
    loss: Callable[[Any], Any] | None = None,
    seed: int = 0,
    options: CheckOptions | None = None,
    **overrides: Any,
) -> GradientCheck:
    """Check the gradients of ``module``'s parameters and floating inputs by finite differences.

    ``loss=None`` checks ⟨u, output⟩ for a seeded cotangent u over every floating output; a
    ``loss`` callable maps the module's output to a scalar.  Other options as for
    :func:`gradproof.check_gradient` (``directions=``, ``device=``, ...).  Returns a
    :class:`~gradproof.verify.result.GradientCheck`; raises :class:`~gradproof.InputError` for
    input that cannot be checked.

    >>> import torch, gradproof
    >>> layer = torch.nn.Linear(3, 2).double()
    >>> bool(gradproof.check_module(layer, torch.randn(4, 3, dtype=torch.double)))
    True
    """
    if not isinstance(module, torch.nn.Module):
        raise InputError(f"check_module needs a torch.nn.Module, got {type(module).__name__}")
    if loss is not None and not callable(loss):
        raise InputError(f"loss must be callable or None, got {type(loss).__name__}")
    opts = merge_options(options, {**overrides, "seed": seed})
    params = {n: p for n, p in module.named_parameters() if p.requires_grad}
    checked_inputs = {}
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            if x.layout != torch.strided:
                raise InputError(f"input{i} is a {x.layout} tensor; pass a dense tensor (to_dense())")
            checked_inputs[f"input{i}"] = x
        elif isinstance(x, torch.Tensor) and x.is_complex():
            raise InputError(f"input{i} is complex; gradproof checks real inputs only")
    values = {**params, **checked_inputs}
    if not values:
        raise InputError(
            "the module has no parameters that require grad and no floating-point inputs: nothing to check"
        )
    for name, t in values.items():
        if t.numel() == 0:
            raise InputError(f"{name} has no entries (shape {tuple(t.shape)}): leave it out")
    copies = _Copies(module)
    mode = "training" if module.training else "eval"
    what = f"module(*inputs) in {mode} mode" if loss is None else f"loss(module(*inputs)) in {mode} mode"

    def call(vals: Mapping[str, Any]) -> Any:
        widened = any(vals[n].dtype != values[n].dtype for n in vals)
        replica = copies.get(widened)
        args = []
        for i, x in enumerate(inputs):
            name = f"input{i}"
            if name in vals:
                args.append(vals[name])
            elif widened and isinstance(x, torch.Tensor) and x.is_floating_point():
                args.append(x.detach().to(torch.float64))
            else:
                args.append(x)
        out = torch.func.functional_call(replica, {n: vals[n] for n in params}, tuple(args))
        if isinstance(out, Mapping):  # e.g. a dict of logits and auxiliary outputs
            out = tuple(out.values())
        return out if loss is None else loss(out)

    probe = {n: t.detach().requires_grad_(True) for n, t in values.items()}
    red = TorchReduction(call, probe, opts.seed, what)
    base = {n: t.detach() for n, t in values.items()}
    try:
        result = check_reduced(red.loss, red.grad, base, opts, noun="tensor")
    except InputError as exc:
        raise InputError(_rephrase(str(exc), what, module.training)) from exc.__cause__
    records = tuple(
        dataclasses.replace(p, noun="parameter" if p.name in params else "input") for p in result.parameters
    )
    result = dataclasses.replace(result, parameters=records)
    if not result.ok:
        result = red.localize_outputs(result, base, opts)
    return result


class _Copies:
    """Deep copies of the module: as it is, and in float64 for the reference evaluation."""

    def __init__(self, module: torch.nn.Module):
        try:
            self.native = copy.deepcopy(module)
        except Exception as exc:  # noqa: BLE001 - a module holding an unpicklable handle
            raise InputError(
                f"the module cannot be deep-copied ({type(exc).__name__}: {exc}); gradproof runs a copy so that "
                "your module's parameters and buffers are never touched"
            ) from None
        self.wide: torch.nn.Module | None = None

    def get(self, widened: bool) -> torch.nn.Module:
        if not widened:
            return self.native
        if self.wide is None:
            self.wide = copy.deepcopy(self.native).double()
        return self.wide


def _rephrase(text: str, what: str, training: bool) -> str:
    text = (
        text.replace("loss(params)", f"⟨u, {what}⟩")
        .replace("grad(params)", f"the backward of {what}")
        .replace("at the same parameters", "at the same parameters and inputs")
    )
    if "nondeterministic" in text and training:
        text += (
            ". The module is in training mode, where dropout and other random layers draw afresh on every "
            "call: check it after module.eval(), or make the randomness fixed"
        )
    return text
