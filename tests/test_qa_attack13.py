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
