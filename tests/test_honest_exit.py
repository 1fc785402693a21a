"""Issue 11, item 1 and 6: the exit code is the verdict, whatever the output or the user's code does.

Each test runs the real command line in a subprocess (the same tree: PYTHONPATH points at it), as
a shell or CI job would, because broken pipes, ``os._exit`` and lingering threads only show there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = str(Path(__file__).resolve().parents[1])

CODE = """
import numpy as np

def loss(p):
    return float(np.sum(p["w"] ** 2))

def grad(p):
    return {"w": 2 * p["w"]}

def wrong(p):
    return {"w": -2 * p["w"]}
"""


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.update(extra)
    return env


def gradproof(*argv: str, cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gradproof", *argv], cwd=cwd, env=_env(**env), capture_output=True,
        text=True, encoding="utf-8", errors="replace", timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def work(tmp_path):
    (tmp_path / "net.py").write_text(CODE)
    np.savez(tmp_path / "p.npz", w=np.array([1.0, -2.0, 0.5]))
    return tmp_path


def _closed_stdout(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stdout a pipe whose reader is gone before anything is written (``| true``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradproof", *argv], cwd=cwd, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    return proc.wait(timeout=120), err


# -- a closed stdout never changes the verdict ------------------------------------------------
@pytest.mark.parametrize(("grad", "verdict"), [("wrong", 1), ("grad", 0)], ids=["mismatch", "ok"])
def test_check_with_a_closed_stdout_exits_with_its_verdict(work, grad, verdict):
    # before: `gradproof check ... | true` exited 0 for a wrong gradient (BrokenPipe became success)
    code, err = _closed_stdout(["check", "net.py:loss", f"net.py:{grad}", "--params", "p.npz"], work)
    assert code == verdict
    assert "Traceback" not in err and "Exception ignored" not in err


def test_pipefail_pipeline_fails_for_a_wrong_gradient(work):
    shell = "set -o pipefail; python -m gradproof check net.py:loss net.py:wrong --params p.npz | true"
    env = _env()
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(["bash", "-c", shell], cwd=work, env=env, capture_output=True, timeout=120)
    assert done.returncode == 1


STEPS = r"""% gradproof: index i, j = 1..n
% gradproof: define s_i = \frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}}
\begin{align*}
\frac{\partial \log s_i}{\partial z_j} &= \delta_{ij} - s_j
\end{align*}
"""


@pytest.mark.parametrize(("text", "verdict"), [(STEPS, 0), (STEPS.replace("- s_j", "+ s_j"), 1)], ids=["ok", "wrong"])
def test_a_command_that_prints_with_plain_print_keeps_its_verdict(work, text, verdict):
    # check-steps prints with print(), not console.say: the CLI's stdout guard covers it too
    (work / "steps.tex").write_text(text)
    code, err = _closed_stdout(["check-steps", "steps.tex"], work)
    assert code == verdict, err
    assert "Traceback" not in err and "output was closed" not in err


def test_list_into_a_closed_pipe_is_still_success(work):
    code, err = _closed_stdout(["list"], work)
    assert code == 0 and "Traceback" not in err


# -- user code that ends, crashes or hangs the process ----------------------------------------
@pytest.mark.parametrize(
    ("module", "phrase"),
    [
        ("import os\ndef loss(p):\n    os._exit(0)\n", "exit status 0"),
        ("import os\nos._exit(0)\ndef loss(p):\n    return 0.0\n", "exit status 0"),
        ("import os\ndef loss(p):\n    os._exit(7)\n", "exit status 7"),
        ("import sys\nsys.exit(0)\n", "SystemExit: 0"),
        ("import ctypes\ndef loss(p):\n    return ctypes.string_at(0)\n", "SIGSEGV"),
        ("import os, signal\ndef loss(p):\n    os.kill(os.getpid(), signal.SIGKILL)\n", "SIGKILL"),
    ],
    ids=["os._exit-in-loss", "os._exit-at-import", "os._exit-7", "sys.exit-at-import", "segfault", "sigkill"],
)
def test_user_code_that_ends_the_process_is_one_line_and_exit_2(work, module, phrase):
    # before: os._exit(0) ended gradproof with exit 0 and no output, which reads as "ok"
    (work / "user.py").write_text(module)
    done = gradproof("check", "user.py:loss", "net.py:grad", "--params", "p.npz", cwd=work)
    assert done.returncode == 2, done.stderr
    assert phrase in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("gradproof: error: ")


def test_a_loss_that_never_returns_is_stopped_by_the_timeout(work):
    (work / "user.py").write_text(
        "import subprocess, time\n"
        "def loss(p):\n"
        "    child = subprocess.Popen(['sleep', '300'])\n"
        "    open('sleeper.pid', 'w').write(str(child.pid))\n"
        "    while True:\n"
        "        time.sleep(1)\n"
    )
    done = gradproof("check", "user.py:loss", "net.py:grad", "--params", "p.npz", "--timeout", "2", cwd=work)
    assert done.returncode == 2
    assert "did not finish within 2 s (--timeout)" in done.stderr and "Traceback" not in done.stderr
    # what the user's code started dies with it (the whole process group is killed)
    pid = int((work / "sleeper.pid").read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"  # a zombie waits only for its reaper
    except FileNotFoundError:
        return False


def test_a_lingering_non_daemon_thread_does_not_keep_the_command_alive(work):
    (work / "user.py").write_text(
        "import threading, time\nimport numpy as np\nthreading.Thread(target=time.sleep, args=(600,)).start()\n" + CODE
    )
    done = gradproof("check", "user.py:loss", "user.py:grad", "--params", "p.npz", cwd=work, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "passed" in done.stdout


def test_user_prints_still_reach_the_terminal(work):
    (work / "user.py").write_text("print('hello from import')\n" + CODE)
    done = gradproof("check", "user.py:loss", "user.py:wrong", "--params", "p.npz", cwd=work)
    assert done.returncode == 1
    assert done.stdout.startswith("hello from import\n") and "FAILED" in done.stdout


def test_report_function_whose_module_exits_at_import(work):
    (work / "user.py").write_text("import os\nos._exit(0)\n")
    (work / "code.tex").write_text("KEEP")
    done = gradproof("report", "--function", "user:f", "-o", "code.tex", cwd=work)
    assert done.returncode == 2 and "exit status 0" in done.stderr
    assert (work / "code.tex").read_text() == "KEEP"


def test_report_function_timeout(work):
    (work / "user.py").write_text("import time\ntime.sleep(300)\n")
    done = gradproof("report", "--function", "user:f", "-o", "code.tex", "--timeout", "1", cwd=work)
    assert done.returncode == 2 and "did not finish within 1 s" in done.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_timeout_must_be_a_positive_number(work, value):
    done = gradproof("check", "net.py:loss", "net.py:grad", "--params", "p.npz", "--timeout", value, cwd=work)
    assert done.returncode == 2 and "--timeout must be a positive number" in done.stderr


def test_run_isolated_returns_values_and_errors_in_process():
    from gradproof import InputError
    from gradproof.isolated import run_isolated

    assert run_isolated("textwrap:dedent", {"text": "  x\n  y"}, timeout=60, what="dedenting") == "x\ny"
    with pytest.raises(InputError, match="internal error .*TypeError"):
        run_isolated("textwrap:dedent", {"nope": 1}, timeout=60, what="dedenting")
