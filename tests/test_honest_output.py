"""Issue 11, item 2: terminals that cannot encode Unicode get ASCII spellings, never a traceback."""

from __future__ import annotations

import io

import numpy as np
import pytest

from gradproof.console import ascii_spelling, say
from tests.test_honest_exit import CODE, STEPS, gradproof

# how a terminal that cannot encode Unicode looks to Python: (encoding, errors) of sys.stdout
STREAMS = {
    "ascii": ("ascii", "strict"),  # PYTHONIOENCODING=ascii
    "latin-1": ("latin-1", "strict"),  # PYTHONIOENCODING=latin-1
    "C-locale": ("ascii", "surrogateescape"),  # LC_ALL=C PYTHONUTF8=0
}
# (argv, expected exit code): each prints Unicode on the way (∂, ≤, ×, —, Σ, σ, …)
COMMANDS = [
    (["list"], 0),
    (["show", "softmax-jacobian"], 0),
    (["show", "bias-variance-decomposition"], 0),
    (["verify", "sigmoid-derivative", "--jobs", "1"], 0),
    (["check", "net.py:loss", "net.py:wrong", "--params", "p.npz"], 1),
    (["check", "net.py:loss", "net.py:grad", "--params", "missing.npz"], 2),
    (["show", "softmax-jacoban"], 2),
    (["report", "softmax-jacobian", "--no-verify", "--title", "Lecture 数学", "-o", "x.tex"], 2),
    (["bias-variance", "--datasets", "50", "--device", "cpu"], 0),
    (["check-steps", "steps.tex"], 1),  # ✓ ≈ ✗ marks
]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("enc")
    (d / "net.py").write_text(CODE.replace("def wrong", "# ∂L/∂w ≈ −2w\ndef wrong"), encoding="utf-8")
    np.savez(d / "p.npz", w=np.array([1.0, -2.0, 0.5]))
    (d / "steps.tex").write_text(STEPS.replace("- s_j", "+ s_j"))  # one row, ✗ FAILED
    return d


@pytest.mark.parametrize("stream", list(STREAMS))
@pytest.mark.parametrize(("argv", "verdict"), COMMANDS, ids=[" ".join(a[:2]) for a, _ in COMMANDS])
def test_every_command_falls_back_to_ascii(work, monkeypatch, stream, argv, verdict):
    # before: UnicodeEncodeError tracebacks from check (−, ≤), show (∂), verify (—)
    from gradproof.cli import main

    encoding, errors = STREAMS[stream]
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors)
    err = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors)
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.chdir(work)
    assert main(argv) == verdict
    out.flush()
    err.flush()
    written, complaint = out.buffer.getvalue().decode(encoding), err.buffer.getvalue().decode(encoding)
    assert complaint.startswith("gradproof: error: ") if verdict == 2 else written
    assert out.errors == errors  # the stream is handed back as it was


@pytest.mark.parametrize(
    ("argv", "verdict", "env"),
    [
        (["check", "net.py:loss", "net.py:wrong", "--params", "p.npz"], 1, {"LC_ALL": "C", "PYTHONUTF8": "0"}),
        (["show", "softmax-jacobian"], 0, {"PYTHONIOENCODING": "ascii"}),
        (["check", "--help"], 0, {"LC_ALL": "C", "PYTHONUTF8": "0"}),
    ],
    ids=["check-C-locale", "show-ascii", "help-C-locale"],
)
def test_real_terminals_without_unicode(work, argv, verdict, env):
    env = {"PYTHONIOENCODING": "", "LANG": "C", **env}
    done = gradproof(*argv, cwd=work, **env)
    assert done.returncode == verdict, done.stderr
    assert "Traceback" not in done.stderr and done.stdout.isascii() and done.stderr.isascii()


def test_check_output_spelled_in_ascii(work):
    done = gradproof("check", "net.py:loss", "net.py:wrong", "--params", "p.npz", cwd=work, PYTHONIOENCODING="ascii")
    assert "the gradient is -1 x the true gradient" in done.stdout  # "−1 ×"


def test_latin1_keeps_what_it_can_encode(work):
    import subprocess
    import sys

    from tests.test_honest_exit import _env

    argv = [sys.executable, "-m", "gradproof", "check", "net.py:loss", "net.py:wrong", "--params", "p.npz"]
    done = subprocess.run(argv, cwd=work, env=_env(PYTHONIOENCODING="latin-1"), capture_output=True, timeout=120)
    out = done.stdout.decode("latin-1")
    assert done.returncode == 1
    assert "the gradient is -1 × the true gradient" in out  # × is latin-1, − is not


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("✓ step 3 ≈ 1e-9", "ok step 3 ~= 1e-9"),
        ("✗ failed", "x failed"),
        ("∂L/∂z_j = s_j − y_j", "dL/dz_j = s_j - y_j"),
        ("√x · ∑ ∏ ≤ ≥ ≠ ± × ∇ ∞ → ∈", "sqrtx * sum prod <= >= != +/- x grad  inf ->  in "),
        ("β₁ σ² Δ", "beta_1 sigma^2 Delta"),
        ("Müller, façade, Łódź", "Muller, facade, Lodz"),
        ("数", "?"),
    ],
)
def test_ascii_spelling(text, ascii):
    assert ascii_spelling(text) == ascii


class _Stream(io.StringIO):
    def __init__(self, encoding):
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self):
        return self._encoding


@pytest.mark.parametrize(
    ("encoding", "written"), [("ascii", "x <= 1 ok, e\n"), ("latin-1", "x <= 1 ok, é\n"), ("utf-8", "x ≤ 1 ✓, é\n")]
)
def test_say_spells_only_what_the_stream_cannot_encode(encoding, written):
    stream = _Stream(encoding)
    say("x ≤ 1 ✓,", "é", file=stream)
    assert stream.getvalue() == written


def test_say_ignores_a_closed_pipe():
    class Closed(io.StringIO):
        encoding = "utf-8"

        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    say("verdict", file=Closed())  # no exception: the caller still returns its verdict
