"""gradproof.gradcheck / gradgradcheck: torch's contract, gradproof's engine."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradproof  # noqa: E402
from gradproof import GradcheckFailure, InputError  # noqa: E402
from gradproof.errors import GradproofError  # noqa: E402
from gradproof.verify.result import GradientCheck  # noqa: E402
from torch.autograd.gradcheck import GradcheckError  # noqa: E402

from . import torch_doc_functions as d  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def rand(*shape, dtype=torch.float64, seed=0, grad=True):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_(grad)


# ------------------------------------------------------------------------------------ contract
@pytest.mark.parametrize("name", ["gradcheck", "gradgradcheck"])
def test_signature_is_torchs(name):
    ours = inspect.signature(getattr(gradproof, name)).parameters
    theirs = inspect.signature(getattr(torch.autograd, name)).parameters
    assert list(ours) == list(theirs)
    for p in theirs:
        assert ours[p].kind == theirs[p].kind, p
        if p not in ("eps", "atol", "rtol"):
            assert ours[p].default == theirs[p].default, p
    assert ours["atol"].default is None and ours["rtol"].default is None and ours["eps"].default is None


def test_failure_is_a_gradcheck_error_carrying_the_report():
    x = rand(5, 4)
    with pytest.raises(GradcheckError) as info:
        gradproof.gradcheck(d.ExpForgot.apply, (x,))
    err = info.value
    assert isinstance(err, GradcheckFailure) and isinstance(err, GradproofError) and isinstance(err, RuntimeError)
    assert isinstance(err.result, GradientCheck) and not err.result.ok
    assert "FAILED for input 'input0'" in str(err)
    assert gradproof.gradcheck(d.ExpForgot.apply, (x,), raise_exception=False) is False
    assert gradproof.gradcheck(d.Exp.apply, (x,), raise_exception=False) is True


def test_report_localises_to_input_and_output_entries():
    class OneEntry(d.Exp):
        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            g = result * grad_out
            g[2, 1] = g[2, 1] * 1.001
            return g

    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(OneEntry.apply, (rand(4, 3),))
    text = str(info.value)
    assert "input0[2, 1]" in text
    assert "∂output0[2, 1]/∂input0[2, 1]" in text


def test_complex_input_is_refused_naming_it():
    x = rand(3)
    z = torch.randn(3, dtype=torch.complex128, requires_grad=True)
    with pytest.raises(InputError, match="input1 is complex"):
        gradproof.gradcheck(lambda a, b: a * b.abs(), (x, z))
    # a complex input that does not require grad is a constant: fine
    assert gradproof.gradcheck(lambda a, b: a * b.abs(), (x, z.detach()))


def test_inputs_without_requires_grad_are_skipped_as_torch_does():
    class WrongForB(torch.autograd.Function):  # the gradient for b is wrong, but b is a constant
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, -g * a

    a, b = rand(4), rand(4, seed=1, grad=False)
    assert gradproof.gradcheck(WrongForB.apply, (a, b))
    with pytest.raises(GradcheckFailure, match="'input1'"):
        gradproof.gradcheck(WrongForB.apply, (a, b.requires_grad_()))
    with pytest.raises(InputError, match="at least one input tensor to require gradient"):
        gradproof.gradcheck(torch.sin, (rand(3, grad=False),))


def test_eps_and_fast_mode_are_accepted_and_ignored():
    x = rand(6, 5)
    for kwargs in ({}, {"eps": 0.5}, {"fast_mode": True}, {"eps": 1e-12, "fast_mode": True}):
        assert gradproof.gradcheck(d.Exp.apply, (x,), **kwargs)
        with pytest.raises(GradcheckFailure):
            gradproof.gradcheck(d.ExpForgot.apply, (x,), **kwargs)


def _off_by(rel):
    class Off(d.Exp):
        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return result * grad_out * (1 + rel)

    return Off.apply


def test_explicit_atol_rtol_only_make_the_check_more_lenient():
    x = rand(6, 5)
    # zero tolerances are not stricter than the measured error: correct code still passes
    assert gradproof.gradcheck(d.Exp.apply, (x,), atol=0.0, rtol=0.0)
    assert gradproof.gradcheck(d.linear, (rand(7, 4), rand(3, 4, seed=1)), atol=0, rtol=0)
    # a 1e-6 relative error is caught by default, and still with torch's usual tolerances...
    wrong = _off_by(1e-6)
    assert not gradproof.gradcheck(wrong, (x,), raise_exception=False)
    assert not gradproof.gradcheck(wrong, (x,), atol=1e-12, rtol=1e-9, raise_exception=False)
    # ...and only an explicit tolerance above it lets it through
    assert gradproof.gradcheck(wrong, (x,), rtol=1e-5)
    assert gradproof.gradcheck(wrong, (x,), atol=1.0)
    for bad in (-1e-3, float("nan"), "1e-3", True):
        with pytest.raises(InputError):
            gradproof.gradcheck(d.Exp.apply, (x,), atol=bad)


class Jittery(torch.autograd.Function):
    """A backward with run-to-run noise of 1e-12 (like atomic adds on a GPU)."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        Jittery.calls += 1
        noise = torch.from_numpy(np.random.default_rng(Jittery.calls).normal(size=tuple(x.shape)) * 1e-12)
        return g * (x.cos() + noise)


def test_nondet_tol_is_honoured():
    x = rand(8)
    with pytest.raises(GradcheckFailure, match="not reentrant"):
        gradproof.gradcheck(Jittery.apply, (x,))
    assert gradproof.gradcheck(Jittery.apply, (x,), nondet_tol=1e-10)


class CallCounted(torch.autograd.Function):
    """sin whose backward is scaled by 1.5 on the calls ``wrong_on(call)`` picks (numbered from 1):
    state built lazily (wrong only on the first call), or damaged after some calls."""

    calls = 0
    wrong_on = staticmethod(lambda call: False)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        CallCounted.calls += 1
        return g * x.cos() * (1.5 if CallCounted.wrong_on(CallCounted.calls) else 1.0)


@pytest.mark.parametrize("wrong_first", [True, False])
def test_a_backward_wrong_only_on_its_first_call_fails(wrong_first):
    """torch's gradcheck catches it (its first backward call is a real one); ours used to spend the
    first call on the grad_output = 0 probe, where any wrong factor is invisible, and passed it."""
    CallCounted.calls, CallCounted.wrong_on = 0, staticmethod(lambda call: wrong_first and call == 1)
    x = rand(5)
    if wrong_first:
        with pytest.raises(GradcheckFailure, match="not reentrant|disagrees"):
            gradproof.gradcheck(CallCounted.apply, (x,))
    else:  # the same code right on every call passes
        assert gradproof.gradcheck(CallCounted.apply, (x,))
    CallCounted.calls = 0
    assert torch.autograd.gradcheck(CallCounted.apply, (x,), raise_exception=False) is not wrong_first


@pytest.mark.parametrize("wrong_from", [0, 1, 2, 3, 4])
def test_a_backward_that_goes_wrong_after_some_calls_fails(wrong_from):
    """The third backward call is the grad_output = 0 probe, where a wrong factor cannot show: a
    fourth call compared with the first catches a backward wrong from its third call on."""
    CallCounted.calls = 0
    CallCounted.wrong_on = staticmethod(lambda call: bool(wrong_from) and call >= wrong_from)
    ok = gradproof.gradcheck(CallCounted.apply, (rand(5),), raise_exception=False)
    assert ok is (wrong_from == 0)


def test_a_backward_that_overwrites_its_saved_output_is_not_reentrant():
    """It damages its own graph: run twice it gives two answers.  The probe's graph must not be
    rebuilt to hide that (only a later *forward* writing into the outputs rebuilds it)."""

    class Overwrites(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.y = y
            return y

        @staticmethod
        def backward(ctx, g):
            gx = g * ctx.y
            with torch.no_grad():
                ctx.y.mul_(2.0)
            return gx

    assert torch.autograd.gradcheck(Overwrites.apply, (rand(5),), raise_exception=False) is False
    with pytest.raises((GradcheckFailure, InputError)):
        gradproof.gradcheck(Overwrites.apply, (rand(5),))


def test_a_backward_nonzero_only_for_a_zero_grad_output_fails():
    class ZeroOnly(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return torch.ones_like(x) if not g.any() else g * x.cos()

    with pytest.raises(GradcheckFailure, match="not multiplied by grad_output"):
        gradproof.gradcheck(ZeroOnly.apply, (rand(5),))


class ScaledSin(torch.autograd.Function):
    """sin with a backward scaled by ``factor`` (1: correct)."""

    factor = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ScaledSin.factor * x.cos()


@pytest.mark.parametrize("factor", [1.0, 1.5, 0.999])
def test_a_forward_returning_one_persistent_buffer(factor):
    """``buf.copy_(…); return buf``: every call rewrites the same tensor, so the probe's graph was the
    last call's (other inputs) and a correct backward read as 'a gradient on one of two runs'."""
    ScaledSin.factor = factor
    buf = torch.zeros(6, dtype=torch.float64)

    def into_buffer(x):
        buf.copy_(ScaledSin.apply(x))
        return buf

    x = rand(6)
    buf2 = torch.zeros(12, dtype=torch.float64)

    def into_a_view(x):  # a view of a larger buffer: earlier calls' CopySlices stay in its history
        buf2[:6].copy_(ScaledSin.apply(x))
        return buf2[:6]

    if factor == 1.0:
        assert gradproof.gradcheck(into_buffer, (x,))
        assert gradproof.gradcheck(into_buffer, (x,), check_undefined_grad=False, check_batched_grad=True)
        assert gradproof.gradcheck(into_a_view, (x,))
    else:  # a verdict, never an InputError from a diagnosis that cannot run on the freed graph
        assert gradproof.gradcheck(into_buffer, (x,), raise_exception=False) is False
        assert gradproof.gradcheck(into_a_view, (x,), raise_exception=False) is False
    ScaledSin.factor = 1.0


def test_backward_that_ignores_grad_output_is_named():
    class Ignores(d.Exp):
        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return result.clone()

    with pytest.raises(GradcheckFailure, match="not multiplied by grad_output"):
        gradproof.gradcheck(Ignores.apply, (rand(3),))


def test_scalar_output_backward_ignoring_grad_output_fails():
    """torch's cotangent for a scalar output is 1, under which ignoring it is invisible; ours is not."""

    class SumSquares(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * x).sum()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * (g != 0)  # zero for a zero grad_output, else ignores its value

    x = rand(5)
    assert torch.autograd.gradcheck(SumSquares.apply, (x,))
    assert not gradproof.gradcheck(SumSquares.apply, (x,), raise_exception=False)


# --------------------------------------------------------------------------------- precision
def test_float32_inputs_checked_at_their_resolution():
    x, w = rand(20, 20, dtype=torch.float32), rand(30, 20, dtype=torch.float32, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not torch.autograd.gradcheck(d.linear, (x, w), raise_exception=False)  # torch cries wolf
    assert gradproof.gradcheck(d.linear, (x, w))


class Float32Only(torch.autograd.Function):
    """A kernel that computes in float32 whatever it is given (as a CUDA/Triton one might)."""

    @staticmethod
    def forward(ctx, x, w):
        x32, w32 = x.float(), w.float()
        ctx.save_for_backward(x32, w32)
        return torch.tanh(x32 @ w32).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        x32, w32 = ctx.saved_tensors
        d_pre = g.float() * (1 - torch.tanh(x32 @ w32) ** 2)
        return (d_pre @ w32.T).to(g.dtype), (x32.T @ d_pre).to(g.dtype)


class Float32OnlyBug(Float32Only):
    @staticmethod
    def backward(ctx, g):
        gx, gw = Float32Only.backward(ctx, g)
        gw = gw.clone()
        gw[1, 2] *= 1.01
        return gx, gw


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_code_computing_in_float32_no_false_alarm_and_one_percent_caught(dtype):
    x, w = rand(16, 6, dtype=dtype), rand(6, 4, dtype=dtype, seed=1)
    assert gradproof.gradcheck(Float32Only.apply, (x, w))
    with pytest.raises(GradcheckFailure, match="input1"):
        gradproof.gradcheck(Float32OnlyBug.apply, (x, w))


# ---------------------------------------------------------------------------- bad input
def test_nondeterministic_forward_is_an_input_error():
    x = rand(50)
    with pytest.raises(InputError, match="nondeterministic"):
        gradproof.gradcheck(lambda t: torch.nn.functional.dropout(t, 0.5, training=True), (x,))


def test_function_that_raises_or_returns_nan_is_an_input_error():
    def boom(t):
        raise ValueError("kaput")

    with pytest.raises(InputError, match="kaput"):
        gradproof.gradcheck(boom, (rand(3),))
    with pytest.raises(InputError, match="finite"):
        gradproof.gradcheck(lambda t: t / 0.0, (rand(3),))
    with pytest.raises(InputError, match="callable"):
        gradproof.gradcheck(42, (rand(3),))
    with pytest.raises(InputError, match="masked"):
        gradproof.gradcheck(torch.sin, (rand(3),), masked=True)
    with pytest.raises(InputError, match="sparse"):
        gradproof.gradcheck(lambda t: t.to_dense(), (rand(3, 3).detach().to_sparse().requires_grad_(),))
    with pytest.raises(InputError):
        gradproof.gradcheck(torch.sin, (rand(3),), check_backward_ad=False, check_forward_ad=False)


def test_expanded_input_with_stride_zero_is_checked():
    """torch refuses inputs whose entries share memory; gradproof perturbs private copies."""
    x = rand(1, 4).expand(3, 4)
    with pytest.raises(RuntimeError):
        torch.autograd.gradcheck(torch.sin, (x,))
    assert gradproof.gradcheck(torch.sin, (x,))


# --------------------------------------------------------------------------- several outputs
class TwoOutputs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.argmax()  # an integer output is not differentiable

    @staticmethod
    def backward(ctx, g_sin, g_arg):
        (x,) = ctx.saved_tensors
        return g_sin * x.cos()


def test_non_differentiable_outputs_are_skipped():
    assert gradproof.gradcheck(TwoOutputs.apply, (rand(6),))


class SinCos(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, gs, gc):
        (x,) = ctx.saved_tensors
        return gs * x.cos() - gc * x.sin()


class SinCosSignBug(SinCos):
    @staticmethod
    def backward(ctx, gs, gc):
        (x,) = ctx.saved_tensors
        return gs * x.cos() + gc * x.sin()


def test_two_outputs_and_a_bug_in_the_second_ones_gradient():
    x = rand(3, 4)
    assert gradproof.gradcheck(SinCos.apply, (x,))
    assert gradproof.gradgradcheck(SinCos.apply, (x,))
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(SinCosSignBug.apply, (x,))
    assert "∂output1[" in str(info.value)


# ------------------------------------------------------------------- forward mode, batching
class ExpFwd(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.exp()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * y


class ExpFwdBug(ExpFwd):
    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * y * 1.001


def test_check_forward_ad():
    x = rand(4, 3)
    assert gradproof.gradcheck(ExpFwd.apply, (x,), check_forward_ad=True)
    assert gradproof.gradcheck(ExpFwdBug.apply, (x,))  # the backward is right
    with pytest.raises(GradcheckFailure, match="forward-mode AD"):
        gradproof.gradcheck(ExpFwdBug.apply, (x,), check_forward_ad=True)
    assert gradproof.gradcheck(ExpFwdBug.apply, (x,), check_forward_ad=True, check_backward_ad=False,
                               raise_exception=False) is False
    with pytest.raises(InputError, match="jvp|forward"):
        gradproof.gradcheck(d.Exp.apply, (x,), check_forward_ad=True)


class ItemInBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * float(g.sum().item() != 12345.0) * 2  # .item() cannot be vmapped


def test_check_batched_grad_as_torch_runs_it():
    x = rand(5)
    assert gradproof.gradcheck(torch.tanh, (x,), check_batched_grad=True)
    assert gradproof.gradcheck(ItemInBackward.apply, (x,))
    assert not torch.autograd.gradcheck(ItemInBackward.apply, (x,), check_batched_grad=True, raise_exception=False)
    with pytest.raises(GradcheckFailure, match="batched"):
        gradproof.gradcheck(ItemInBackward.apply, (x,), check_batched_grad=True)
    assert gradproof.gradcheck(torch.tanh, (x,), check_forward_ad=True, check_batched_forward_grad=True)


class NoneUnsafe(torch.autograd.Function):
    """Two outputs; the backward assumes both output gradients are defined."""

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * 2 + gb * 3


def test_check_undefined_grad_as_torch_runs_it():
    x = rand(4)
    with pytest.raises(TypeError):  # torch differentiates one output at a time: the None reaches it
        torch.autograd.gradcheck(NoneUnsafe.apply, (x,), raise_exception=False)
    with pytest.raises(GradcheckFailure, match="undefined"):
        gradproof.gradcheck(NoneUnsafe.apply, (x,))
    assert gradproof.gradcheck(NoneUnsafe.apply, (x,), check_undefined_grad=False)


# ---------------------------------------------------------------------- gradgradcheck details
def test_gradgradcheck_with_given_and_noncontiguous_grad_outputs():
    x = rand(4, 3)
    w = rand(4, 3, seed=2)
    assert gradproof.gradgradcheck(d.Sigmoid.apply, (x,), (w,))
    assert gradproof.gradgradcheck(d.Sigmoid.apply, (x,), gen_non_contig_grad_outputs=True)
    with pytest.raises(GradcheckFailure, match="grad_output0|input0"):
        gradproof.gradgradcheck(d.SigmoidWrongSecond.apply, (x,), (w,))


# ---------------------------------------------------------- what torch's default mode misses
class SoftmaxCE(torch.autograd.Function):
    """Per-sample cross-entropy losses, hand-written backward (s − y) · grad_output."""

    off = 0.0

    @staticmethod
    def forward(ctx, z, y):
        s = torch.softmax(z, dim=1)
        ctx.save_for_backward(s, y)
        return -(y * torch.log_softmax(z, dim=1)).sum(1)

    @staticmethod
    def backward(ctx, g):
        s, y = ctx.saved_tensors
        grad = (s - y) * g[:, None]
        if SoftmaxCE.off:
            grad = grad.clone()
            grad[5, 7] *= 1 + SoftmaxCE.off
        return grad, None


@pytest.mark.slow
def test_one_entry_1e4_off_in_per_sample_softmax_ce_caught_where_torch_default_passes():
    z = rand(64, 100) * 2
    y = torch.nn.functional.one_hot(torch.arange(64) % 100, 100).double()
    SoftmaxCE.off = 1e-4
    try:
        assert torch.autograd.gradcheck(SoftmaxCE.apply, (z, y))
        with pytest.raises(GradcheckFailure, match=r"input0\[5, 7\]"):
            gradproof.gradcheck(SoftmaxCE.apply, (z, y))
    finally:
        SoftmaxCE.off = 0.0
    assert gradproof.gradcheck(SoftmaxCE.apply, (z, y))


# ------------------------------------------------------------------------------------- GPU
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_inputs():
    x = rand(20, 20).detach().cuda().requires_grad_()
    w = rand(30, 20, seed=1).detach().cuda().requires_grad_()
    assert gradproof.gradcheck(d.linear, (x, w))
    with pytest.raises(GradcheckFailure):
        gradproof.gradcheck(d.LinearWeightEntry.apply, (x, w))


# ------------------------------------------------------------------------- adapter internals
def test_forward_mode_gradient_same_with_vmap_and_with_the_loop(monkeypatch):
    """Jᵀu assembled from forward mode: the vmap path and the loop fallback agree exactly enough."""
    from gradproof.verify.torch_function import TorchReduction

    x, w = rand(3, 4), rand(4, 2, seed=1)
    values = {"input0": x, "input1": w}
    red = TorchReduction(lambda v: torch.tanh(v["input0"] @ v["input1"]), values, 0, "f")
    batched = red.forward_grad(values)
    backward = red.grad(values)

    def no_vmap(*args, **kwargs):
        raise RuntimeError("vmap unavailable")

    monkeypatch.setattr(torch.func, "vmap", no_vmap)
    looped = red.forward_grad(values)
    for name in values:
        torch.testing.assert_close(batched[name], looped[name], rtol=1e-14, atol=1e-15)
        torch.testing.assert_close(batched[name], backward[name], rtol=1e-12, atol=1e-14)


class SmallBiasBug(Float32Only):
    """float32 code; the bias of a tanh layer (a small share of the gradient) 10 % off."""

    @staticmethod
    def forward(ctx, x, w, b):
        x32, w32, b32 = x.float(), w.float(), b.float()
        ctx.save_for_backward(x32, w32, b32)
        return torch.tanh(x32 @ w32 + b32).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        x32, w32, b32 = ctx.saved_tensors
        d_pre = g.float() * (1 - torch.tanh(x32 @ w32 + b32) ** 2)
        return (d_pre @ w32.T).to(g.dtype), (x32.T @ d_pre).to(g.dtype), (d_pre.sum(0) * 1.1).to(g.dtype)


@pytest.mark.parametrize("seed", range(3))
def test_low_precision_code_is_checked_tensor_by_tensor(seed):
    """A joint float32 tolerance is set by the big tensors; the small bias must get its own."""
    x = rand(64, 40, dtype=torch.float32, seed=10 * seed) * 3
    w = rand(40, 3, dtype=torch.float32, seed=10 * seed + 1)
    b = rand(3, dtype=torch.float32, seed=10 * seed + 2) * 0.01
    with pytest.raises(GradcheckFailure, match="'input2'"):
        gradproof.gradcheck(SmallBiasBug.apply, (x, w, b))


def test_cotangents_are_signed_and_never_small_or_all_unit():
    from gradproof.verify.vector import cotangent, cotangent_rng

    u = cotangent(cotangent_rng(0), (1000,))
    assert 0.5 <= np.abs(u).min() and np.abs(u).max() <= 1.5
    assert (u > 0).mean() == pytest.approx(0.5, abs=0.06)
    assert np.abs(np.abs(u) - 1).max() > 0.4  # magnitudes vary: ignoring grad_output shows


@pytest.mark.parametrize("seed", range(6))
def test_scalar_output_ignoring_grad_output_fails_for_every_seed(seed):
    """With u = ±1 a scalar output hides this half the time; magnitudes in [0.5, 1.5] never do."""
    from gradproof.verify.torch_front import _check

    class IgnoresScalar(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * x).sum()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * (g != 0)  # zero for a zero grad_output, else its value ignored

    kwargs = dict(atol=None, rtol=None, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
                  check_backward_ad=True, masked=None)
    with pytest.raises(GradcheckFailure):
        _check(IgnoresScalar.apply, (rand(5),), None, seed=seed, **kwargs)


class JitteryMore(torch.autograd.Function):
    """Run-to-run noise of 1e-9 in the backward, declared with nondet_tol=1e-8."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        JitteryMore.calls += 1
        noise = torch.from_numpy(np.random.default_rng(JitteryMore.calls).normal(size=tuple(x.shape)) * 1e-9)
        return g * (x.cos() + noise)


def test_nondet_tol_also_widens_the_comparison():
    x = rand(8)
    assert gradproof.gradcheck(JitteryMore.apply, (x,), nondet_tol=1e-8)
    assert not gradproof.gradcheck(JitteryMore.apply, (x,), nondet_tol=1e-11, raise_exception=False)


class MarkedNonDifferentiable(torch.autograd.Function):
    """A float output marked non-differentiable: torch leaves it out of the check; so must we."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        aux = x.cos()
        ctx.mark_non_differentiable(aux)
        return x.sin(), aux

    @staticmethod
    def backward(ctx, g, g_aux):
        (x,) = ctx.saved_tensors
        return g * x.cos()


def test_float_outputs_marked_non_differentiable_are_skipped():
    x = rand(5)
    assert torch.autograd.gradcheck(MarkedNonDifferentiable.apply, (x,))
    assert gradproof.gradcheck(MarkedNonDifferentiable.apply, (x,))


class MatmulConstBug(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(c)
        return x.mm(c)  # mm refuses mixed dtypes

    @staticmethod
    def backward(ctx, g):
        (c,) = ctx.saved_tensors
        return g.mm(c.t()) * 1.001, None


def test_float32_constants_follow_the_float64_reference():
    """float32 inputs and a float32 constant: still evaluated in float64 (the constant widened)."""
    x = rand(6, 5, dtype=torch.float32)
    c = rand(5, 4, dtype=torch.float32, seed=2, grad=False)
    with pytest.raises(GradcheckFailure) as info:
        gradproof.gradcheck(MatmulConstBug.apply, (x, c))
    assert "evaluated in float64" in str(info.value)


def test_cached_cotangents_are_the_seeded_draws_in_order_and_read_only():
    from gradproof.verify.vector import cotangent, cotangent_rng, cotangents

    shapes = ((2, 3), (), (4,))
    rng = cotangent_rng(7)
    expected = [cotangent(rng, s) for s in shapes]
    for _ in range(2):  # the second answer comes from the cache
        got = cotangents(7, shapes)
        assert [g.shape for g in got] == [e.shape for e in expected]
        assert all(np.array_equal(g, e) for g, e in zip(got, expected))
        assert not any(g.flags.writeable for g in got)
    assert not np.array_equal(cotangents(8, shapes)[0], expected[0])


@pytest.mark.parametrize(
    ("make", "resolves_one_percent"),
    [
        (lambda a, b: (a @ b).t(), True),  # a non-contiguous output
        (lambda a, b: torch._neg_view(a @ b), True),  # NumPy cannot view it: the torch path
        (lambda a, b: (a @ b).float(), True),
        (lambda a, b: ((a @ b).tanh().half(), (a * 3).sum()), False),  # float16 and a scalar output
    ],
    ids=["transposed", "neg-view", "float32-out", "float16-and-scalar"],
)
@pytest.mark.filterwarnings("ignore::gradproof.CoarseCheckWarning")  # the float16 case passes coarsely
def test_the_fast_dot_and_split_paths_agree_with_autograd(make, resolves_one_percent):
    # ⟨u, F⟩ is taken in NumPy for CPU outputs NumPy can view and by torch otherwise; the joint
    # screen's split goes through NumPy; both must give a passing check of a correct backward
    # and a failing one of a wrong backward
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(3, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    assert gradproof.gradcheck(make, (a, b))

    class Scaled(torch.autograd.Function):  # the same function with b's gradient 1 % too large
        @staticmethod
        def forward(ctx, b):
            return b.clone()

        @staticmethod
        def backward(ctx, g):
            return 1.01 * g

    if resolves_one_percent:  # (a float16 output's rounding hides it: the check says so, and passes)
        assert not gradproof.gradcheck(lambda a, b: make(a, Scaled.apply(b)), (a, b), raise_exception=False)


def test_bfloat16_inputs_take_the_torch_split():
    gen = torch.Generator().manual_seed(4)
    a = torch.randn(3, 4, generator=gen).to(torch.bfloat16).requires_grad_()
    b = torch.randn(4, 5, generator=gen).to(torch.bfloat16).requires_grad_()
    assert gradproof.gradcheck(lambda a, b: a @ b, (a, b))
