"""Regressions from the hostile QA pass over issues 11 (honest exits) and 13 (display)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_honest_exit import CODE, _env

DEV_FULL = Path("/dev/full")


@pytest.fixture
def work(tmp_path):
    (tmp_path / "net.py").write_text(CODE)
    np.savez(tmp_path / "p.npz", w=np.array([1.0, -2.0, 0.5]))
    return tmp_path


def _run(argv: list[str], cwd: Path, **popen: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradproof", *argv], cwd=cwd, env=_env(), timeout=180, **popen)


# -- output that cannot be written (>/dev/full) ------------------------------------------------
@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    ("argv", "verdict"),
    [
        (["check", "net.py:loss", "net.py:wrong", "--params", "p.npz"], 1),  # a mismatch stays 1
        (["check", "net.py:loss", "net.py:grad", "--params", "p.npz"], 2),  # ok, but the output is lost
        (["list"], 2),
        (["show", "softmax-jacobian"], 2),
        (["--help"], 2),
        (["--version"], 2),
    ],
    ids=["check-mismatch", "check-ok", "list", "show", "help", "version"],
)
def test_output_to_a_full_device_is_one_line_and_never_exit_0(work, argv, verdict):
    # before: an OSError (ENOSPC) traceback, exit 1 by accident whatever the verdict
    with open(DEV_FULL, "w") as full:
        done = _run(argv, work, stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == verdict, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "gradproof: error: could not write the output: No space left on device"


def test_a_reader_that_stops_early_is_still_not_a_lost_output(work):
    # | head: the reader's choice; the verdict stays (0 here), no complaint
    proc = subprocess.Popen([sys.executable, "-m", "gradproof", "list"], cwd=work, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert b"could not write" not in proc.stderr.read()


def test_stderr_on_a_full_device_keeps_the_verdict(work):
    with open(DEV_FULL, "w") as full:
        done = _run(["check", "net.py:loss", "net.py:grad", "--params", "p.npz"], work,
                    stdout=subprocess.DEVNULL, stderr=full)  # fmt: skip
    assert done.returncode == 0


# -- gradproof started with its standard streams closed ------------------------------------------
@pytest.mark.parametrize(("grad", "verdict"), [("wrong", 1), ("grad", 0)], ids=["mismatch", "ok"])
def test_check_with_stdout_and_stderr_closed_keeps_its_verdict(work, grad, verdict):
    # before: os.pipe() returned fds 1 and 2, the child's stderr overwrote the result pipe, and a
    # correct gradient exited 2 ("the user's code ended the process")
    argv = [sys.executable, "-m", "gradproof", "check", "net.py:loss", f"net.py:{grad}", "--params", "p.npz"]

    def close_stdio() -> None:
        os.close(1)
        os.close(2)

    done = subprocess.run(argv, cwd=work, env=_env(), stdin=subprocess.DEVNULL, preexec_fn=close_stdio, timeout=180)
    assert done.returncode == verdict


# -- gradproof show: aligned relations, exponents in ASCII, examples' rows kept whole -------------
RELATIONS = ("=", "≤", "≥", "<", ">", "≠", "<=", ">=", "!=")


def _step_relation_columns(text: str) -> list[tuple[int, int, bool]]:
    """(step, column of its relation, whether the left-hand side was repeated as blanks)."""
    import re

    found = []
    for line in text.splitlines():
        m = re.match(r"^ {2}[ \d]\d\. ", line)
        if not m:
            continue
        body = line[m.end() :]
        repeated = body.startswith(" ") or body.split(" ", 1)[0] in RELATIONS
        words = body.split(" ")
        column = len(m.group())
        for word in words:
            if word in RELATIONS:
                break
            column += len(word) + 1
        found.append((int(m.group().split(".")[0]), column, repeated))
    return found


@pytest.mark.parametrize("ascii", [False, True], ids=["unicode", "ascii"])
@pytest.mark.parametrize("width", [100, 60])
def test_show_aligns_the_relations_of_a_repeated_left_hand_side(width, ascii):
    # before: a repeated left-hand side became min(len, 12) blanks, measured before the ASCII
    # spelling: '=' two columns left of the step above (∂ log s_i/∂z_j, Σ_{i=1..n} s_i) at any
    # width, and up to five in ASCII (dsigma(z)/dz vs ∂σ(z)/∂z)
    import re

    from gradproof.derivations.registry import catalog
    from gradproof.derivations.text import _HANG, _align_limit, render_text

    step_line = re.compile(r"^ {2}[ \d]\d\. ")
    for d in catalog():
        above = None
        for line in render_text(d, width=width, ascii=ascii).splitlines():
            m = step_line.match(line)
            if not m:
                continue
            body = line[m.end() :]
            if not body.startswith(" "):
                above = line
                continue
            column = m.end() + len(body) - len(body.lstrip(" "))
            lhs = len(above[m.end() :].split(" " + line[column:].split(" ")[0] + " ")[0])
            if lhs <= _align_limit(width):  # the same relation stands right above
                assert above[column] in "=<>≤≥≠⇒!" and line[column] in "=<>≤≥≠⇒!", (d.name, width, ascii, line)
            else:
                assert column == m.end() + _HANG + 1, (d.name, width, ascii, line)


def test_ascii_spells_a_run_of_superscripts_as_one_exponent():
    # before: "u⁻²" became "u^-^2" in `gradproof show sigmoid-derivative` under PYTHONIOENCODING=ascii
    from gradproof.console import ascii_spelling, to_ascii
    from gradproof.derivations.registry import derivation
    from gradproof.derivations.text import render_text

    for spell in (to_ascii, ascii_spelling):
        assert spell("d/du u⁻¹ = −u⁻²") == "d/du u^-1 = -u^-2"
        assert spell("L⁽ⁱ⁾, ‖w‖², x₁₂") == "L^(i), ||w||^2, x_12"
    text = render_text(derivation("sigmoid-derivative"), ascii=True)
    assert "-u^-2" in text and "^-^" not in text


@pytest.mark.parametrize("width", [100, 60])
def test_show_keeps_each_row_of_an_example_value_on_one_line(width):
    # before: numpy's max_line_width was given the room after the label, though numpy counts the
    # label itself: at 60 columns the 2×3 matrix ∂L/∂W_2 printed as six one-number lines
    from gradproof.derivations.registry import catalog
    from gradproof.derivations.text import _value_lines

    for d in catalog():
        for ex in d.examples:
            for name, value in {**ex.inputs, **ex.values}.items():
                arr = np.asarray(value)
                if arr.ndim not in (1, 2):
                    continue
                lines = _value_lines(f"    → {name} = ", value, width, False)
                body = [line for line in lines if "[" in line or line.rstrip().endswith(("]", ","))]
                rows = 1 if arr.ndim == 1 else arr.shape[0]
                assert len(body) == rows, (d.name, name, width, lines)
                assert all(len(line) <= width for line in lines)
                assert not any(token in line for line in lines for token in ("−0.,", "−0. ", "−0.]", "-0."))


@pytest.mark.parametrize("ascii", [False, True], ids=["unicode", "ascii"])
@pytest.mark.parametrize("width", [100, 60, 40])
def test_show_never_repeats_a_step_number(width, ascii):
    # before: at 60 columns step 2 of softmax-shift-invariance (a long left-hand side) printed
    # "2." again on its continuation line
    from gradproof.derivations.registry import catalog
    from gradproof.derivations.text import render_text

    for d in catalog():
        numbers = [step for step, _, _ in _step_relation_columns(render_text(d, width=width, ascii=ascii))]
        assert numbers == list(range(1, len(d.steps) + 1)), (d.name, width, ascii)


def test_ctrl_c_during_the_users_code_exits_130_and_ends_it(work):
    # the README's exit 130 had no test: Ctrl-C while the user's loss runs (in the child, which is
    # in its own session and so does not see the terminal's SIGINT) must not read as a verdict
    import signal

    (work / "spin.py").write_text(
        "def loss(p):\n    print('started', flush=True)\n    while True:\n        pass\n\ndef grad(p):\n    return p\n"
    )
    # SIGINT back to its default in the CLI: a test runner started as a background job of a script
    # has SIGINT ignored, which the CLI would inherit (and rightly keep: its launcher shields it)
    proc = subprocess.Popen([sys.executable, "-m", "gradproof", "check", "spin.py:loss", "spin.py:grad", "--params", "p.npz"],
                            cwd=work, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        assert proc.stdout.readline() == "started\n"  # the user's code is running
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        assert proc.stderr.read().strip() == "gradproof: interrupted"
    finally:
        proc.kill()
        proc.wait()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: Linux only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the child process")
def test_the_users_code_dies_with_a_cli_killed_outright(work):
    # a CLI killed by SIGKILL (a runner's timeout, the OOM killer) cannot clean up: the child running
    # the user's endless loop, in a session of its own, was left spinning at full CPU for good
    import signal
    import time

    (work / "spin.py").write_text(
        "def loss(p):\n    print('started', flush=True)\n    while True:\n        pass\n\ndef grad(p):\n    return p\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "gradproof", "check", "spin.py:loss", "spin.py:grad", "--params", "p.npz"],
                            cwd=work, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    children: list[int] = []
    try:
        assert proc.stdout.readline() == "started\n"  # the user's code is running
        children = _children(proc.pid)
        assert children, "the user's code runs in a child process"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), "the user's code outlived the CLI"
    finally:
        proc.kill()
        proc.wait()
        for c in children:
            try:
                os.kill(c, signal.SIGKILL)
            except OSError:
                pass


# -- worked examples in the reports: round-off is 0 -----------------------------------------------
def test_round_off_in_an_example_matrix_prints_as_zero():
    # before: O = XW + b of softmax-regression-gradient showed -2.776 × 10^{-17} for an exact 0 on the
    # slides, in the notes and in the Markdown
    import re

    from gradproof.derivations.markdown import value
    from gradproof.derivations.registry import catalog
    from gradproof.reports.tables import value_latex

    matrix = np.array([[0.1 + 0.2 - 0.3, 0.7], [0.05, -0.4]])
    assert value_latex(matrix) == value(matrix) == r"$\begin{pmatrix} 0 & 0.7 \\ 0.05 & -0.4 \end{pmatrix}$"
    assert value_latex(np.array([1e-20, 2e-20])) == r"$(1\times 10^{-20},\ 2\times 10^{-20})$"  # small, not round-off
    roundoff = re.compile(r"10\^\{-1[3-9]\}")
    for d in catalog():
        for ex in d.examples:
            for v in [*ex.inputs.values(), *ex.values.values()]:
                assert not roundoff.search(value_latex(v)) and not roundoff.search(value(v)), (d.name, v)


def test_hinge_prose_uses_the_label_of_its_formulas():
    # before: the hinge formulas used c (max(0, 1 − c ŷ), −c H(1 − c ŷ)) and their reasons, the
    # summary, the assumptions and the notes y (−y, yŷ < 1): two names for one label on one page
    from gradproof.derivations.registry import derivation

    d = derivation("loss-function-derivatives")
    prose = [d.summary, *(s.reason for s in d.steps), *(a.text for a in d.assumptions), *d.notes]
    prose += [df.text for df in d.definitions]
    assert not any(r"y\hat{y}" in t or r"y \hat{y}" in t or "$-y$" in t for t in prose)
    assert any(r"c\hat{y}" in t for t in prose)


def test_a_keyboard_interrupt_raised_by_the_users_loss_is_named_as_such(work):
    # before: "internal error while running the user's code: KeyboardInterrupt:" blamed gradproof
    (work / "kb.py").write_text("def loss(p):\n    raise KeyboardInterrupt\n\ndef grad(p):\n    return p\n")
    done = _run(["check", "kb.py:loss", "kb.py:grad", "--params", "p.npz"], work, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == "gradproof: error: the user's code raised KeyboardInterrupt\n"


def test_the_users_prints_reach_the_terminal_whole(work):
    # before: the child's output was decoded one 64 KiB read at a time, so a character split by a
    # read boundary printed as two replacement characters (648 of them for 200,000 'é')
    (work / "chatty.py").write_text("print('x' + 'é' * 100000)\n" + CODE, encoding="utf-8")  # odd: a split é
    done = _run(["check", "chatty.py:loss", "chatty.py:grad", "--params", "p.npz"], work,
                capture_output=True, text=True, encoding="utf-8")  # fmt: skip
    assert done.returncode == 0
    assert "x" + "é" * 100000 + "\n" in done.stdout and "\ufffd" not in done.stdout
