"""A PyTorch function of named tensors, reduced to a scalar loss and its claimed gradients.

:class:`TorchReduction` wraps ``call(values) -> outputs`` (``values``: name → tensor) and gives
the engine what it checks (see :mod:`gradproof.verify.vector`):

* ``loss(values)`` — ⟨u, F(values)⟩ over the differentiable outputs, in float64, returned in the
  outputs' lowest precision so that the engine sizes its steps for low-precision code; on the
  devices of :data:`VMAP_DEVICES` it has a batched twin, ``loss.batched([values, …])``, that
  evaluates many perturbed points in one ``torch.func.vmap`` pass and falls back to a loop where
  vmap fails (old-style Functions without ``setup_context``, C++ extensions, random ops);
* ``grad(values)`` — Jᵀu from the user's backward (``torch.autograd.grad`` with grad_outputs u);
* ``forward_grad(values)`` — the same Jᵀu assembled from forward-mode derivatives ⟨u, J eᵢ⟩,
  one per entry, batched with ``torch.func.vmap`` where the function allows it.

The cotangent u is rounded to each output's dtype once, and that rounded u is used on both
sides, so a float32 output does not make the two sides differ by u's own rounding.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from gradproof.errors import InputError
from gradproof.verify.batching import BatchedLoss
from gradproof.verify.options import CheckOptions
from gradproof.verify.outputs import localize_outputs
from gradproof.verify.params import _user_frame
from gradproof.verify.result import GradientCheck
from gradproof.verify.vector import cotangent_rng, cotangents

__all__ = ["TorchReduction", "as_outputs"]

JVP_CHUNK = 256  # basis tangents per vmap call when assembling forward-mode gradients
# Devices on which perturbed evaluations are batched with vmap.  Not the CPU: there the engine's
# batches (2 to 6 points while screening) made whole checks 1.0–1.6× slower under vmap than in a loop
# (benchmarks/bench_vmap.py); a GPU runs a batch in one pass.
VMAP_DEVICES = frozenset({"cuda"})
MAX_LOCALIZED = 4  # failed tensors whose worst entry is traced to output entries


def as_outputs(out: Any, what: str) -> tuple[Any, ...]:
    """The outputs of a call as a tuple (a tensor, or a tuple/list of tensors and other objects)."""
    if isinstance(out, torch.Tensor):
        return (out,)
    if isinstance(out, (tuple, list)):
        return tuple(out)
    raise InputError(f"{what} returned {type(out).__name__}; expected a tensor or a tuple of tensors")


def _numpy_dtype(dtype: torch.dtype) -> Any:
    """A scalar type that carries ``dtype``'s precision (None for float64): NumPy's, or for
    bfloat16, which NumPy lacks, a torch scalar (sized as float32 it made every bfloat16 output
    look 65,000 times finer than it is, and its flat steps a wrong gradient)."""
    if dtype == torch.float64:
        return None
    if dtype == torch.bfloat16:
        return lambda value: torch.tensor(value, dtype=torch.bfloat16)
    return {torch.float32: np.float32, torch.float16: np.float16}.get(dtype, np.float32)


_NUMPY_DTYPES = frozenset({torch.float64, torch.float32, torch.float16})
_UNSEEN = object()


def _cotangent_pairs(outs: Any, cot: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(output, its cotangent) for the outputs that require grad.  The cotangent is a copy each
    time: a backward may change grad_output in place, and u is ours (reused by every later call);
    without the copy a correct backward read as nondeterministic code."""
    return [(o, c.to(o.dtype, copy=True)) for o, c in zip(outs, cot) if o.requires_grad]


def _dot(u: torch.Tensor, u_np: np.ndarray | None, o: torch.Tensor) -> float:
    """⟨u, o⟩ in float64: u and o flattened; o of any floating dtype, u already float64."""
    if u_np is not None and o.dtype in _NUMPY_DTYPES and o.is_cpu:
        if u_np.size == 1:  # a scalar output: one product, rounded once, as torch.dot
            return float(u_np[0]) * o.item()
        try:
            arr = o.detach().numpy()
        except (RuntimeError, TypeError):  # a conjugate or negative view: the torch path below
            pass
        else:
            return float(np.dot(u_np, arr.reshape(-1).astype(np.float64, copy=False)))
    return torch.dot(u, o.detach().reshape(-1).to(torch.float64)).item()


def _shares_memory(outputs: list[Any], probe_outputs: list[torch.Tensor]) -> bool:
    """Whether a call's outputs reuse the memory of the probe's (the same tensor, or a view of the
    same storage): a forward that writes into one persistent buffer.  The probe's outputs are kept
    alive, so a fresh allocation can never share their storage."""
    held = {p.untyped_storage().data_ptr() for p in probe_outputs if isinstance(p, torch.Tensor) and p.numel()}
    return any(
        isinstance(o, torch.Tensor) and o.numel() and o.untyped_storage().data_ptr() in held for o in outputs
    )


def _lowest_precision(dtypes: list[torch.dtype]) -> torch.dtype:
    floating = [d for d in dtypes if d.is_floating_point]
    return max(floating, key=lambda d: torch.finfo(d).eps) if floating else torch.float64


class TorchReduction:
    """⟨u, F⟩ and its claimed gradients for ``call``; probes ``call`` once at ``probe``.

    ``probe`` holds the user's own tensors (requiring grad): the outputs that require grad there
    are the differentiable ones, as in ``torch.autograd.gradcheck``.  ``what`` names the function
    in messages (``"func(*inputs)"``, ``"module(*inputs)"``).
    """

    def __init__(self, call: Callable[[Mapping[str, Any]], Any], probe: Mapping[str, Any], seed: int, what: str):
        self.call = call
        self.what = what
        outs = as_outputs(self._run(probe), what)
        tensors = [k for k, o in enumerate(outs) if isinstance(o, torch.Tensor)]
        for k in tensors:
            o = outs[k]
            if o.is_complex():
                raise InputError(f"output {k} of {what} is complex; gradproof checks real-valued outputs only")
            if o.layout != torch.strided:
                raise InputError(f"output {k} of {what} is a {o.layout} tensor; return a dense tensor (to_dense())")
        for k in tensors:
            if outs[k].is_floating_point() and not torch.isfinite(outs[k].detach()).all():
                self._refuse_nonfinite([outs[k]], [k])
        self.index = [k for k in tensors if outs[k].requires_grad]
        self.differentiable = bool(self.index)
        if not self.index:  # torch then checks that the numerical Jacobian is zero: so do we
            self.index = [k for k in tensors if outs[k].is_floating_point()]
        self.n_outputs = len(outs)
        self.shapes = [tuple(outs[k].shape) for k in self.index]
        self._sizes = [outs[k].shape for k in self.index]  # torch.Size: compared without conversion
        self.probe = dict(probe)
        # the engine's first loss and first gradient are at the probe's point: answered from the
        # probe's outputs and graph instead of two more forward passes
        self._first = {"loss": True, "grad": True}
        self.first_grad: dict[str, Any] | None = None  # Jᵀu through the probe's graph, once computed
        self.graph = [outs[k] for k in self.index]  # the probe's outputs, graph attached
        self._graph_versions = [o._version for o in self.graph]
        self._rewritten = False  # a later forward returned the memory of one of the probe's outputs
        self._low: dict[tuple, Any] = {}
        self.u: list[torch.Tensor] = []  # float64, already rounded to each output's dtype
        self.u_native: list[torch.Tensor] = []
        drawn = cotangents(seed, tuple(tuple(outs[k].shape) for k in self.index))
        for k, u in zip(self.index, drawn):
            o = outs[k]
            native = torch.from_numpy(u.copy()).to(device=o.device, dtype=o.dtype)
            self.u_native.append(native)
            self.u.append(native.to(torch.float64))
        self._u_flat = [u.reshape(-1) for u in self.u]
        # the same u as NumPy vectors: on the CPU, ⟨u, o⟩ in NumPy over a zero-copy view of o costs
        # a few microseconds against tens for the torch ops (the engine makes ~20 such calls)
        self._u_np = [u.detach().cpu().numpy() if u.device.type == "cpu" else None for u in self._u_flat]
        devices = {t.device.type for t in probe.values() if isinstance(t, torch.Tensor)}
        self.vmap = bool(devices & VMAP_DEVICES)
        self.loss: Callable[[Mapping[str, Any]], Any] = (
            BatchedLoss(self.loss_one, self.loss_batch) if self.vmap else self.loss_one
        )

    # -- calling the user's code ------------------------------------------------------------------
    def _run(self, values: Mapping[str, Any]) -> Any:
        try:
            return self.call(values)
        except InputError:
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported with the user's frame
            raise InputError(f"{self.what} raised {type(exc).__name__}: {exc}{_user_frame(exc)}") from exc

    def outputs(self, values: Mapping[str, Any]) -> list[torch.Tensor]:
        """The checked outputs of one call, validated against the probe's shapes."""
        outs = as_outputs(self._run(values), self.what)
        if len(outs) != self.n_outputs:
            raise InputError(f"{self.what} returned {len(outs)} outputs here but {self.n_outputs} at the first call")
        picked = [outs[k] for k in self.index]
        if hasattr(self, "graph") and not self._rewritten:
            self._rewritten = _shares_memory(picked, self.graph)
        for k, o, size in zip(self.index, picked, self._sizes):
            if not isinstance(o, torch.Tensor) or o.shape != size:
                got = tuple(o.shape) if isinstance(o, torch.Tensor) else type(o).__name__
                raise InputError(
                    f"output {k} of {self.what} changed from shape {tuple(size)} to {got} between calls"
                )
        return picked

    # -- the three things the engine checks -------------------------------------------------------
    def _at_probe(self, kind: str, values: Mapping[str, Any]) -> bool:
        """Whether this first call of ``kind`` is at the probe's point (same dtypes and values)."""
        if not self._first[kind]:
            return False
        self._first[kind] = False
        if values.keys() != self.probe.keys():
            return False
        for n, v in values.items():
            p = self.probe[n]
            if not (isinstance(v, torch.Tensor) and v.dtype == p.dtype and v.device == p.device and v.shape == p.shape):
                return False
            if not torch.equal(v.detach(), p.detach()):
                return False
        return True

    def loss_one(self, values: Mapping[str, Any]) -> Any:
        """⟨u, F(values)⟩ as a Python float (float64 outputs) or a NumPy scalar of the outputs' dtype."""
        outs = [o.detach() for o in self.current_graph()] if self._at_probe("loss", values) else self.outputs(values)
        total = 0.0
        for o, u, u_np in zip(outs, self._u_flat, self._u_np):
            total += _dot(u, u_np, o)
        if not math.isfinite(total):
            self._refuse_nonfinite(outs)
        return self._in_output_precision(total, tuple(o.dtype for o in outs))

    def _in_output_precision(self, total: float, dtypes: tuple[torch.dtype, ...]) -> Any:
        # in the outputs' own precision, so that the engine knows the code's resolution
        low = self._low.get(dtypes, _UNSEEN)
        if low is _UNSEEN:
            low = self._low[dtypes] = _numpy_dtype(_lowest_precision(list(dtypes)))
        return total if low is None else low(total)

    def loss_batch(self, points: list[Mapping[str, Any]]) -> list[Any] | None:
        """⟨u, F⟩ at every point in one ``torch.func.vmap`` pass, or ``None`` where the function
        cannot be vmapped (then, and from then on, the engine evaluates one point at a time, which
        also gives the clear error for code that raises or returns something unexpected)."""
        if not self.vmap or not points:
            return None
        names = list(points[0])
        dtypes: list[torch.dtype] = []

        def one(*xs: torch.Tensor) -> torch.Tensor:
            outs = as_outputs(self.call(dict(zip(names, xs))), self.what)
            if len(outs) != self.n_outputs:
                raise ValueError("the number of outputs changed")
            total = torch.zeros((), dtype=torch.float64, device=self.u[0].device if self.u else None)
            dtypes.clear()
            for k, u, size in zip(self.index, self._u_flat, self._sizes):
                o = outs[k]
                if not isinstance(o, torch.Tensor) or o.shape != size:
                    raise ValueError("an output changed shape")
                dtypes.append(o.dtype)
                total = total + torch.dot(u, o.detach().reshape(-1).to(torch.float64))
            return total

        try:
            stacked = [torch.stack([p[n] for p in points]) for n in names]
            totals = torch.func.vmap(one)(*stacked).tolist()
        except Exception:  # noqa: BLE001 - old-style Functions, C++ ops, random ops: loop instead
            self.vmap = False
            return None
        if not all(math.isfinite(t) for t in totals):
            return None  # one at a time: the loop names the output that is not finite
        return [self._in_output_precision(t, tuple(dtypes)) for t in totals]

    def _refuse_nonfinite(self, outs: list[torch.Tensor], index: list[int] | None = None) -> None:
        for k, o in zip(self.index if index is None else index, outs):
            o64 = o.detach().to(torch.float64)
            if not torch.isfinite(o64).all():
                bad = tuple(int(i) for i in torch.nonzero(~torch.isfinite(o64))[0].tolist())
                raise InputError(
                    f"output {k} of {self.what} is {o64[bad].item()} at index {list(bad)}: outputs must be finite "
                    "(at the given inputs and within a small step of them)"
                )
        raise InputError(f"⟨u, {self.what}⟩ overflows: the outputs are too large to check (rescale them)")

    def grad(self, values: Mapping[str, Any], u: list[torch.Tensor] | None = None) -> dict[str, Any]:
        """Jᵀu by the user's backward, at ``values`` (``u`` defaults to the seeded cotangent)."""
        if u is None and self._at_probe("grad", values) and self.differentiable and any(o.requires_grad for o in self.current_graph()):
            self.first_grad = self.probe_grad()
            return dict(self.first_grad)
        leaves = {n: t.detach().clone().requires_grad_(True) for n, t in values.items()}
        outs = self.outputs(leaves)
        cot = self.u_native if u is None else u
        pairs = _cotangent_pairs(outs, cot)
        if not pairs or not self.differentiable:
            return {n: None for n in leaves}
        try:
            grads = torch.autograd.grad(
                [o for o, _ in pairs], list(leaves.values()), [c for _, c in pairs], allow_unused=True
            )
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise InputError(f"the backward of {self.what} raised {type(exc).__name__}: {exc}{_user_frame(exc)}") from exc
        return dict(zip(leaves, grads))

    def current_graph(self) -> list[torch.Tensor]:
        """The probe's outputs with their graph — called again at the probe's point when a later
        forward returned the same memory and wrote into it (a forward that returns one persistent
        buffer, ``buf.copy_(…); return buf``: the buffer's graph is then the last call's, whose
        inputs are not the probe's, and a correct backward read as one that returned no gradient).
        Not when the outputs changed otherwise: a backward that overwrites its own saved output
        must meet the reentrancy test with the graph it damaged."""
        if self._rewritten and any(o._version != v for o, v in zip(self.graph, self._graph_versions)):
            self.graph = self.outputs(self.probe)
            self._graph_versions = [o._version for o in self.graph]
            self._rewritten = False
        return self.graph

    def differentiable_graph(self) -> list[torch.Tensor]:
        """The probe's outputs that require grad (graph kept), in output order."""
        return [o for o in self.current_graph() if o.requires_grad] if self.differentiable else []

    def probe_grad(self, cotangents: list[torch.Tensor] | None = None) -> dict[str, Any]:
        """Input gradients for ``cotangents`` (default u) through the probe's graph, which is kept."""
        cot = self.u_native if cotangents is None else cotangents
        pairs = _cotangent_pairs(self.current_graph(), cot)
        leaves = list(self.probe.values())
        try:
            grads = torch.autograd.grad(
                [o for o, _ in pairs], leaves, [c for _, c in pairs], retain_graph=True, allow_unused=True
            )
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise InputError(f"the backward of {self.what} raised {type(exc).__name__}: {exc}{_user_frame(exc)}") from exc
        return dict(zip(self.probe, grads))

    def forward_grad(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Jᵀu assembled from forward-mode AD: entry i is ⟨u, J eᵢ⟩ (vmap over eᵢ, else a loop)."""
        out = {}
        for name, x in values.items():
            x = x.detach()

            def along(tangent: torch.Tensor, name: str = name, x: torch.Tensor = x) -> torch.Tensor:
                return self._jvp_dot(values, name, x, tangent)

            n = x.numel()
            flat = torch.empty(n, dtype=torch.float64, device=x.device)
            start = 0
            batched = True
            while start < n:
                stop = min(n, start + JVP_CHUNK)
                basis = torch.zeros((stop - start, n), dtype=x.dtype, device=x.device)
                basis[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
                basis = basis.reshape((stop - start, *x.shape))
                if batched:
                    try:
                        flat[start:stop] = torch.func.vmap(along)(basis)
                    except Exception:  # noqa: BLE001 - old-style Functions, C++ ops: loop instead
                        batched = False
                if not batched:
                    for j in range(stop - start):
                        flat[start + j] = along(basis[j])
                start = stop
            out[name] = flat.reshape(x.shape).to(x.dtype)
        return out

    # -- after a failure: which output entries -----------------------------------------------------
    def localize_outputs(self, result: GradientCheck, base: Mapping[str, Any], options: CheckOptions) -> GradientCheck:
        """``result`` with, for each failed tensor, the output entries of its worst input entry."""
        records = []
        rng = cotangent_rng(options.seed, stream=1)
        for rec in result.parameters:
            if rec.ok or not rec.worst or len(records) >= MAX_LOCALIZED:
                records.append(rec)
                continue
            try:
                entries = self._localize(base, rec.name, rec.worst[0].index, rng)
            except InputError:
                entries = ()
            records.append(dataclasses.replace(rec, jacobian=entries))
        return dataclasses.replace(result, parameters=tuple(records))

    def _localize(self, base: Mapping[str, Any], name: str, index: tuple[int, ...], rng: np.random.Generator):
        values = {n: t.detach().to(torch.float64) for n, t in base.items()}
        try:
            self.outputs(values)
        except InputError:  # the function refuses float64: stay in its own dtype
            values = {n: t.detach() for n, t in base.items()}
        x = values[name]
        flat_index = int(np.ravel_multi_index(index, tuple(x.shape))) if index else 0

        def evaluate(t: np.ndarray) -> np.ndarray:
            moved = dict(values)
            y = x.clone().reshape(-1)
            y[flat_index] = float(t[0])
            moved[name] = y.reshape(x.shape)
            outs = self.outputs(moved)
            # resolve_neg: an output that is a negative view (torch._neg_view) has no NumPy twin
            return np.concatenate([o.detach().to("cpu", torch.float64).resolve_neg().reshape(-1).numpy() for o in outs])

        def column(w: np.ndarray) -> float:
            pieces, start = [], 0
            for shape, u in zip(self.shapes, self.u_native):
                size = int(np.prod(shape, dtype=np.int64))
                pieces.append(torch.from_numpy(w[start : start + size].reshape(shape)).to(u))
                start += size
            g = self.grad(values, pieces)[name]
            return 0.0 if g is None else float(g.detach().reshape(-1)[flat_index])

        eps = max((torch.finfo(u.dtype).eps for u in self.u_native), default=2.0**-52)
        return localize_outputs(
            evaluate,
            column,
            float(x.reshape(-1)[flat_index]),
            index,
            [f"output{k}" for k in self.index],
            self.shapes,
            backward_eps=float(eps),
            rng=rng,
        )

    def _jvp_dot(self, values: Mapping[str, Any], name: str, x: torch.Tensor, tangent: torch.Tensor) -> torch.Tensor:
        fwad = torch.autograd.forward_ad
        with fwad.dual_level():
            duals = {n: (fwad.make_dual(x, tangent) if n == name else t.detach()) for n, t in values.items()}
            try:
                outs = self.outputs(duals)
            except InputError as exc:
                cause = exc.__cause__
                if isinstance(cause, NotImplementedError) or "forward AD" in str(exc) or "jvp" in str(exc):
                    raise InputError(
                        f"{self.what} has no forward-mode derivative (check_forward_ad=True needs a jvp): {exc}"
                    ) from None
                raise
            total = torch.zeros((), dtype=torch.float64, device=x.device)
            for o, u in zip(outs, self.u):
                t = fwad.unpack_dual(o).tangent
                if t is not None:
                    total = total + torch.dot(u.reshape(-1), t.to(torch.float64).reshape(-1))
            return total
