"""``gradproof check`` on code in a file: exit codes 0 / 1 / 2 and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from gradproof.cli import main

CODE = """
import numpy as np
X = np.arange(12.0).reshape(4, 3) / 10

def loss(p):
    return 0.5 * np.sum((X @ p["w"] + p["c"]) ** 2) / 4

def grad(p):
    r = X @ p["w"] + p["c"]
    return {"w": X.T @ r / 4, "c": r.sum() / 4}

def grad_sum(p):
    r = X @ p["w"] + p["c"]
    return {"w": X.T @ r, "c": r.sum() / 4}

def dropout(p):
    return loss(p) * np.random.rand()
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "net.py").write_text(CODE)
    np.savez(tmp_path / "p.npz", w=np.array([1.0, -2.0, 0.5]), c=np.array(0.3))
    (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n")
    (tmp_path / "bad.npz").write_text("not a zip")
    return tmp_path


def test_ok_exit_0(files, capsys):
    code = main(["check", f"{files}/net.py:loss", f"{files}/net.py:grad", "--params", str(files / "p.npz")])
    assert code == 0
    assert "passed" in capsys.readouterr().out


def test_mismatch_exit_1(files, capsys):
    code = main(
        ["check", f"{files}/net.py:loss", f"{files}/net.py:grad_sum", "--params", str(files / "p.npz")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED for parameter 'w'" in out and "batch size 4" in out


def test_dotted_module(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    monkeypatch.syspath_prepend(str(files))
    assert main(["check", "net:loss", "net:grad", "--params", "p.npz"]) == 0


@pytest.mark.parametrize(
    "argv, phrase",
    [
        (["{d}/net.py:loss", "{d}/net.py:nope", "--params", "{d}/p.npz"], "has no attribute 'nope'"),
        (["{d}/broken.py:loss", "{d}/net.py:grad", "--params", "{d}/p.npz"], "cannot import"),
        (["{d}/missing.py:loss", "{d}/net.py:grad", "--params", "{d}/p.npz"], "does not exist"),
        (["{d}/net.py:loss", "{d}/net.py:grad", "--params", "{d}/bad.npz"], "cannot read"),
        (["{d}/net.py:loss", "{d}/net.py:grad", "--params", "{d}/none.npz"], "does not exist"),
        (["{d}/net.py", "{d}/net.py:grad", "--params", "{d}/p.npz"], "MODULE:FUNCTION"),
        (["{d}/net.py:dropout", "{d}/net.py:grad", "--params", "{d}/p.npz"], "nondeterministic"),
    ],
    ids=["no-attr", "import-error", "no-file", "bad-npz", "no-npz", "no-colon", "nondeterministic"],
)
def test_input_errors_exit_2_without_traceback(files, capsys, argv, phrase):
    code = main(["check", *[a.format(d=files) for a in argv]])
    err = capsys.readouterr().err
    assert code == 2
    assert phrase in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "a:b"])
    assert info.value.code == 2
