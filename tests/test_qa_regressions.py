"""Regressions found by QA: each test reproduces a defect seen from the command line or the API."""

from __future__ import annotations

import numpy as np
import pytest

from gradproof.cli import main

MODULE = """
import numpy as np
_cache = {}

def loss(p):
    _cache["w"] = p["w"].copy()  # forward caches what backward needs, as students write it
    return float(np.sum(p["w"] ** 2))

def grad(p):
    return {"w": 2 * _cache["w"]}

def starred(*a):
    return a

def kwonly(x, *, k=1):
    return x * k

def softmax(z):
    return np.exp(z) / np.sum(np.exp(z))

lam = lambda x: x + 1
"""


@pytest.fixture
def user(tmp_path, monkeypatch):
    (tmp_path / "mycode.py").write_text(MODULE)
    (tmp_path / "broken.py").write_text("def f(x)\n    return x\n")
    (tmp_path / "raising.py").write_text("raise RuntimeError('module-level boom')\n")
    np.savez(tmp_path / "p.npz", w=np.array([1.0, -2.0, 0.5]))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- gradproof check ------------------------------------------------------------------------
def test_check_loss_and_grad_from_one_file_share_its_globals(user, capsys):
    code, out, err = _run(capsys, "check", "mycode.py:loss", "mycode.py:grad", "--params", "p.npz")
    assert code == 0, err
    assert "passed" in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: np.save(d / "single.npy", np.ones(3)), "single .npy array"),
        (lambda d: (d / "single.npy").write_text("garbage\n"), "not an .npz (zip) file"),
        (lambda d: (d / "single.npy").mkdir(), "is a folder"),
    ],
)
def test_check_params_file_that_is_not_an_npz(user, capsys, make, message):
    make(user)
    code, out, err = _run(capsys, "check", "mycode.py:loss", "mycode.py:grad", "--params", "single.npy")
    assert code == 2
    assert message in err and "Traceback" not in err and err.count("\n") == 1


# -- gradproof report -----------------------------------------------------------------------
def test_report_fragment_pdf_is_refused_before_touching_the_file(user, capsys):
    (user / "notes.tex").write_text("KEEP")
    code, _, err = _run(
        capsys, "report", "softmax-jacobian", "--format", "fragment", "--pdf", "--no-verify", "-o", "notes.tex"
    )
    assert code == 2 and "fragment has no preamble" in err
    assert (user / "notes.tex").read_text() == "KEEP"


@pytest.mark.parametrize("spec", ["mycode.py:softmax", "mycode:softmax"])
def test_report_function_accepts_a_py_path_like_check(user, capsys, spec):
    code, out, err = _run(capsys, "report", "--function", spec, "-o", "code.tex")
    assert code == 0, err
    tex = (user / "code.tex").read_text()
    assert "mycode:softmax" in tex and "_gradproof_user" not in tex


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("broken:f", "SyntaxError"),
        ("raising:f", "RuntimeError: module-level boom"),
        ("mycode:lam", "lambda"),
        ("mycode:starred", "parameter '*a'"),
        ("mycode:kwonly", "keyword-only parameter 'k'"),
    ],
)
def test_report_function_refusals_are_one_line(user, capsys, spec, message):
    (user / "code.tex").write_text("KEEP")
    code, _, err = _run(capsys, "report", "--function", spec, "-o", "code.tex")
    assert code == 2
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert (user / "code.tex").read_text() == "KEEP"
