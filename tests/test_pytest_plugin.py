"""The pytest plugin, end to end with pytester (in a subprocess, so it runs whether or not the
``gradproof`` entry point is installed: the entry point is blocked and the module loaded by name)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import numpy as np
import gradproof

X = np.arange(12.0).reshape(4, 3) / 10

def loss(p):
    return 0.5 * np.sum((X @ p["w"]) ** 2) / 4

def grad(p):
    return {"w": X.T @ (X @ p["w"]) / 4}

def wrong(p):
    return {"w": -grad(p)["w"]}

P = {"w": np.array([1.0, -2.0, 0.5])}

def test_good(gradproof_assert):
    gradproof_assert(loss, grad, P)

def test_bad(gradproof_assert):
    gradproof_assert(loss, wrong, P)

def test_plain_assert_gradient():
    gradproof.assert_gradient(loss, wrong, P)

def test_device_option(gradproof_options):
    assert gradproof_options.device == "cpu"
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str):
    env_path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", env_path)  # the worktree's gradproof first
    return pytester.runpytest_subprocess(
        "-p", "no:gradproof", "-p", "gradproof.pytest_plugin", "-p", "no:cacheprovider", *args
    )


def test_plugin_end_to_end(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    pytester.makepyfile(test_grads=TESTS)
    result = _run(pytester, monkeypatch, "--gradproof-device=cpu")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    assert "gradient check FAILED for parameter 'w'" in out
    assert "flipped sign" in out
    # the traceback stops in the user's test, not inside gradproof
    assert "gradproof/verify/check.py" not in out


def test_help_lists_device_option(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    result = _run(pytester, monkeypatch, "--help")
    assert "--gradproof-device" in result.stdout.str()


def test_plugin_import_is_light():
    code = "import sys, gradproof.pytest_plugin; print('torch' in sys.modules, 'sympy' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unavailable_device_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    pytester.makepyfile(test_grads=TESTS)
    result = _run(pytester, monkeypatch, "--gradproof-device=cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gradproof-device: device 'cuda' was requested but CUDA is not available*"])


XDIST_TESTS = TESTS + '''
import pytest
from hypothesis import given, settings
from gradproof.strategies import logits, one_hot_labels

@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0, 3.0])
def test_good_scaled(gradproof_assert, scale):
    gradproof_assert(loss, grad, {"w": scale * P["w"]})

@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_bad_scaled(gradproof_assert, scale):
    gradproof_assert(loss, wrong, {"w": scale * P["w"]})

@settings(max_examples=10, deadline=None, derandomize=True)
@given(logits((3, 4)), one_hot_labels(3, 4))
def test_strategies_under_xdist(z, y):
    def ce(z):
        m = z.max(axis=1, keepdims=True)
        return -np.sum(y * (z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))))
    def ce_grad(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True) - y
    gradproof.assert_gradient(ce, ce_grad, z, floor_atol=1e-12)
'''


def test_plugin_under_xdist(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """``pytest -n 2``: the option reaches the workers, the fixtures work in both, failures come
    back with the full report (and no gradproof frames), strategies draw in the workers."""
    pytest.importorskip("xdist")
    pytester.makepyfile(test_grads=XDIST_TESTS)
    result = _run(pytester, monkeypatch, "-n", "2", "-v", "--gradproof-device=cpu")
    result.assert_outcomes(passed=7, failed=4)
    out = result.stdout.str()
    assert "[gw0]" in out and "[gw1]" in out  # both workers ran tests
    assert out.count("gradient check FAILED for parameter 'w'") >= 4
    assert "flipped sign" in out
    assert "gradproof/verify/check.py" not in out


def test_a_bad_device_stops_an_xdist_run_too(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_grads=TESTS)
    result = _run(pytester, monkeypatch, "-n", "2", "--gradproof-device=tpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gradproof-device:*tpu*"])
