"""The CLI's output and exit codes (0 ok, 1 a failed check, 2 usage or input error)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gradproof.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "softmax-jacobian" in out and "Jacobian of the softmax" in out


def test_show_lecture_numbers(capsys):
    assert main(["show", "softmax-jacobian"]) == 0
    out = capsys.readouterr().out
    assert "0.673" in out and "0.243" in out and "0.084" in out
    assert "0.22" in out and "−0.163" in out and "−0.057" in out  # the formulas' minus sign
    assert "because:" in out


def test_show_latex(capsys):
    assert main(["show", "softmax-jacobian", "--latex"]) == 0
    assert r"\begin{align*}" in capsys.readouterr().out


def test_unknown_name_is_usage_error_with_suggestion(capsys):
    assert main(["show", "softmax-jacobain"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and "softmax-jacobian" in err
    assert "Traceback" not in err
    assert main(["verify", "cross-entropy"]) == 2


def test_bad_option_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "gradproof", "verify", "--no-such-flag"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_verify_named_json(capsys):
    assert main(["verify", "softmax-jacobian", "cross-entropy-kl", "--json", "--device", "cpu"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and [r["name"] for r in data["results"]] == ["softmax-jacobian", "cross-entropy-kl"]


def test_verify_table(capsys):
    assert main(["verify", "softmax-jacobian"]) == 0
    out = capsys.readouterr().out
    assert "fin. diff." in out and "autograd" in out and "1/1 derivations verified" in out


def test_verify_exits_1_on_a_failing_derivation(monkeypatch, capsys):
    import dataclasses

    import sympy as sp

    import gradproof
    from gradproof.derivations import registry
    from gradproof.derivations.common import i, j, s, z
    from gradproof.derivations.model import GradientClaim

    good = gradproof.derivation("softmax-jacobian")
    bad = dataclasses.replace(
        good, claims=(GradientClaim(s[i], z, -s[i] * (sp.KroneckerDelta(i, j) - s[j]), (i,), (j,)),)
    )
    table = dict(registry._all())
    table["softmax-jacobian"] = bad
    monkeypatch.setattr(registry, "_all", lambda: table)
    assert main(["verify", "softmax-jacobian"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_cuda_without_cuda_exits_2(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["verify", "softmax-jacobian", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_verify_in_worker_processes(capsys):
    assert main(["verify", "sigmoid-derivative", "dropout-expectation", "--jobs", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in data["results"]] == ["sigmoid-derivative", "dropout-expectation"]
    assert all(r["ok"] for r in data["results"])


def test_verify_rejects_zero_jobs(capsys):
    assert main(["verify", "sigmoid-derivative", "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err


def _script(code: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` then ``gradproof.cli.script()`` with ``args`` in a fresh interpreter."""
    program = f"import sys\n{code}\nsys.argv = ['gradproof', *{list(args)!r}]\nfrom gradproof.cli import script\nscript()\n"
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=600)


def test_the_fast_exit_keeps_output_atexit_handlers_and_the_code(tmp_path):
    """After ``show`` (SymPy loaded, no user code) the process skips the interpreter's teardown,
    but the output is complete, atexit handlers run and the exit code is the verdict's."""
    proc = _script("import atexit; atexit.register(lambda: print('atexit ran'))", tmp_path,
                   "show", "softmax-jacobian", "--latex")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("atexit ran")
    assert r"\end{align*}" in proc.stdout
    proc = _script("", tmp_path, "show", "no-such-derivation")
    assert proc.returncode == 2 and "unknown derivation" in proc.stderr


def test_user_code_gets_the_normal_exit(tmp_path):
    """``check`` runs the user's code (in a child process that ends with ``os._exit``): a file it
    left open and unflushed is still written, as a normal interpreter exit would write it."""
    (tmp_path / "leaky.py").write_text(
        "import numpy as np\n"
        "log = open('log.txt', 'w')\n"
        "log.write('user data')\n"  # buffered, never closed
        "def loss(p):\n    return float(np.sum(p['w'] ** 2))\n"
        "def grad(p):\n    return {'w': 2 * p['w']}\n"
    )
    np.savez(tmp_path / "w.npz", w=np.arange(3.0))
    proc = _script("import sympy", tmp_path, "check", "leaky.py:loss", "leaky.py:grad", "--params", "w.npz")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "log.txt").read_text() == "user data", (proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize(
    ("args", "verdict"), [(["list"], 0), (["show", "softmax-jacobian"], 0), (["verify", "no-such-derivation"], 2)]
)
def test_a_closed_stdout_keeps_the_verdict(args, verdict):
    """``gradproof show X >&-``: the output is discarded by the caller, the exit code is still the
    verdict (as for ``check``, see test_qa_attack13) — never 1, which means a failed check, and no
    traceback from the fast exit's flush of a stream that is not there."""
    proc = subprocess.run(["sh", "-c", f'"{sys.executable}" -m gradproof {" ".join(args)} >&-'],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == verdict, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_summary_time_in_process_is_this_calls_own(capsys):
    """main() inside a long-running program (this test run) times its own work, not the age of
    the process; only the executable counts from the process's start."""
    import time

    start = time.perf_counter()
    assert main(["verify", "softmax-jacobian", "--json", "--no-cache"]) == 0
    elapsed = time.perf_counter() - start
    reported = json.loads(capsys.readouterr().out)["wall_seconds"]
    assert 0 < reported <= elapsed + 0.01
