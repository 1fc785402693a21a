"""Issue 11, items 2 and 5: corrupt input is one line and exit 2, and every limit is enforced."""

from __future__ import annotations

import os
import stat
import time
import warnings
import zipfile

import numpy as np
import pytest

import gradproof
from gradproof.cli import main

CODE = """
import numpy as np

def loss(p):
    return float(np.sum(p["w"] ** 2))

def grad(p):
    return {"w": 2 * p["w"]}
"""


@pytest.fixture
def work(tmp_path, monkeypatch):
    (tmp_path / "net.py").write_text(CODE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _npz_with_header(path, header: str) -> None:
    """An .npz whose one member 'w' has the given .npy header and 3 float64 values of data."""
    header = header.ljust(117) + "\n"
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1") + np.zeros(3).tobytes()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", raw)


# -- corrupt parameter files -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "phrase"),
    [
        # before: MemoryError traceback ("Unable to allocate 745. GiB")
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }", "claims shape (100000000000,)"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", "claims shape (4,)"),  # truncated
        # before: tokenize.TokenError traceback
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), (((", "header of array 'w' is corrupt"),
        ("{'descr\": '<f8', 'fortran_order': False, 'shape': (3,), }", "header of array 'w' is corrupt"),
        ("not a dict at all", "header of array 'w' is corrupt"),
    ],
    ids=["huge", "truncated", "token-error", "bad-quote", "not-a-dict"],
)
def test_corrupt_npz_is_one_line(work, capsys, header, phrase):
    _npz_with_header(work / "p.npz", header)
    code, _, err = _run(capsys, "check", "net.py:loss", "net.py:grad", "--params", "p.npz")
    assert code == 2 and phrase in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_an_honest_npz_still_loads(work, capsys):
    _npz_with_header(work / "p.npz", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }")
    assert _run(capsys, "check", "net.py:loss", "net.py:grad", "--params", "p.npz")[0] == 0
    np.savez_compressed(work / "c.npz", w=np.ones(4))
    assert _run(capsys, "check", "net.py:loss", "net.py:grad", "--params", "c.npz")[0] == 0


def test_params_dev_null_says_what_it_is(work, capsys):
    # before: "parameter file '/dev/null' does not exist"
    code, _, err = _run(capsys, "check", "net.py:loss", "net.py:grad", "--params", "/dev/null")
    assert code == 2 and "'/dev/null' is a character device" in err


def test_params_fifo_says_what_it_is(work, capsys):
    os.mkfifo(work / "pipe")
    assert stat.S_ISFIFO(os.stat(work / "pipe").st_mode)
    code, _, err = _run(capsys, "check", "net.py:loss", "net.py:grad", "--params", "pipe")
    assert code == 2 and "is a named pipe (FIFO)" in err


# -- report --function targets without a readable 'def' ---------------------------------------
@pytest.mark.parametrize(
    ("module", "phrase"),
    [
        ("f = lambda x: x + 1\nf.__name__ = 'f'\nf.__qualname__ = 'f'\n", "is a lambda"),  # renamed lambda
        ("ns = {}\nexec('def f(x):\\n    return x', ns)\nf = ns['f']\n", "cannot read its source"),
        (
            "def g(x):\n    return x\nf = g\nimport sys\nf.__code__ = compile('lambda x: x', 'nowhere.py', 'eval')"
            ".co_consts[0]\n",
            "lambda",
        ),
    ],
    ids=["renamed-lambda", "exec", "foreign-code"],
)
def test_function_without_a_def_is_one_line(work, capsys, module, phrase):
    # before: StopIteration traceback from the guard looking for a 'def'
    (work / "odd.py").write_text(module)
    code, _, err = _run(capsys, "report", "--function", "odd:f", "-o", "code.tex")
    assert code == 2 and phrase in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (work / "code.tex").exists()


# -- options and parameters that cannot be checked --------------------------------------------
def _sq(p):
    return float(np.sum(np.asarray(p) ** 2))


def _dsq(p):
    return 2 * np.asarray(p)


@pytest.mark.parametrize("option", ["rtol", "atol"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1e-3, "1e-3", True])
def test_non_finite_tolerances_are_refused(option, value):
    # before: rtol=inf accepted, then a correct gradient reported FAILED (inf * 0 = nan)
    with pytest.raises(gradproof.InputError, match=f"{option} must be a finite non-negative number"):
        gradproof.check_gradient(_sq, _dsq, np.ones(2), **{option: value})


def test_finite_tolerances_still_work():
    assert gradproof.check_gradient(_sq, _dsq, np.ones(2), rtol=1e-6, atol=np.float64(1e-9)).ok


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda t: t.ones(3, device="meta"), "on the 'meta' device"),
        (lambda t: t.ones(3).to_sparse(), "sparse tensor (sparse_coo)"),
        (lambda t: t.eye(3).to_sparse_csr(), "sparse tensor (sparse_csr)"),
    ],
    ids=["meta", "sparse-coo", "sparse-csr"],
)
def test_meta_and_sparse_parameters_are_input_errors(make, phrase):
    torch = pytest.importorskip("torch")
    # before: NotImplementedError ("Cannot copy out of meta tensor") and TypeError tracebacks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that sparse CSR support is in beta
        param = make(torch)
    with pytest.raises(gradproof.InputError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        gradproof.check_gradient(lambda p: (p["w"] ** 2).sum(), lambda p: {"w": 2 * p["w"]}, {"w": param})


def test_a_sparse_gradient_is_compared_by_its_values():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, -2.0, 0.5])
    assert gradproof.check_gradient(lambda p: (p**2).sum(), lambda p: (2 * p).to_sparse(), x).ok
    assert not gradproof.check_gradient(lambda p: (p**2).sum(), lambda p: (-2 * p).to_sparse(), x).ok


@pytest.mark.parametrize(
    ("value", "dtype"),
    [(np.array([1, 2, 3]), "int64"), (np.array([True, False]), "bool"), (np.array([1, 2], dtype=np.uint8), "uint8")],
)
def test_integer_and_boolean_parameters_are_converted_and_said_so(value, dtype):
    # before: silently checked as float64, nothing in the result said the input was not
    result = gradproof.check_gradient(lambda p: _sq(p["b"]), lambda p: {"b": _dsq(p["b"])}, {"b": value})
    assert result.ok
    assert f"'b' was {dtype}, checked as float64" in result.precision and result.precision in str(result)


def test_torch_integer_parameter_is_converted_and_said_so():
    torch = pytest.importorskip("torch")
    result = gradproof.check_gradient(lambda p: (p["b"] ** 2).sum(), lambda p: {"b": 2 * p["b"]},
                                      {"b": torch.tensor([1, 2, 3])})  # fmt: skip
    assert result.ok and "'b' was int64, checked as float64" in str(result)


def test_float_parameters_are_not_called_converted():
    result = gradproof.check_gradient(_sq, _dsq, np.ones(2, dtype=np.float32))
    assert "was float32" not in result.precision and "checked as float64" not in result.precision


# -- verify --jobs -----------------------------------------------------------------------------
def test_jobs_is_clamped_to_the_derivations(monkeypatch, capsys):
    import gradproof.verify.derivation_check as dc

    seen = {}

    def fake(names, device="auto", *, seed=0, jobs=1, on_done=None):
        seen["jobs"] = jobs
        return [dc.verify_derivation(n, device="cpu") for n in names]

    monkeypatch.setattr(dc, "verify_many", fake)
    assert main(["verify", "sigmoid-derivative", "--jobs", "64", "--device", "cpu"]) == 0
    assert seen["jobs"] == 1  # before: 64 (63 processes that only start up)


def test_verify_many_starts_no_more_workers_than_derivations(monkeypatch):
    import concurrent.futures

    from gradproof.verify.derivation_check import verify_many

    class Pool:
        def __init__(self, max_workers, mp_context):
            Pool.workers = max_workers
            raise RuntimeError("stop here")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    with pytest.raises(RuntimeError, match="stop here"):
        verify_many(["sigmoid-derivative", "sigmoid-as-two-class-softmax"], device="cpu", jobs=64)
    assert Pool.workers == 2


# -- pdflatex ------------------------------------------------------------------------------------
def _fake_tex(tmp_path, monkeypatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pdflatex"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_pdflatex_process_group_is_killed_at_the_time_limit(tmp_path, monkeypatch):
    from gradproof.reports.compile import TexError, compile_pdf

    pid_file = tmp_path / "child.pid"
    # a pdflatex that starts a child (as mktexpk does) and then hangs
    _fake_tex(tmp_path, monkeypatch, f"sleep 300 &\necho $! > {pid_file}\nsleep 300\n")
    tex = tmp_path / "notes.tex"
    tex.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    with pytest.raises(TexError, match="did not finish within 1 s"):
        compile_pdf(tex, time_limit=1)
    pid = int(pid_file.read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)  # before: the child survived the time limit


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_latex_failure_without_an_error_line_shows_the_log(tmp_path, monkeypatch):
    from gradproof.reports.compile import TexError, compile_pdf

    lines = "\\n".join(f"log line {i}" for i in range(30))
    _fake_tex(tmp_path, monkeypatch, f'printf "{lines}\\nNo pages of output.\\n" > report.log\n')
    tex = tmp_path / "notes.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\\end{document}\n")
    with pytest.raises(TexError) as info:
        compile_pdf(tex)
    message = str(info.value)
    # before: "pdflatex failed without an error message (see the log)", with the log already deleted
    assert "No pages of output." in message and "log line 29" in message and "see the log" not in message
    assert "log line 5" not in message  # only the end of the log


def test_latex_failure_without_a_log_shows_the_output(tmp_path, monkeypatch):
    from gradproof.reports.compile import TexError, compile_pdf

    _fake_tex(tmp_path, monkeypatch, 'echo "I cannot find the format file"\nexit 1\n')
    tex = tmp_path / "notes.tex"
    tex.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    with pytest.raises(TexError, match="I cannot find the format file"):
        compile_pdf(tex)


# -- bias-variance -------------------------------------------------------------------------------
def test_bias_variance_huge_degree_is_refused_at_once(capsys):
    # before: 13-22 s and 1 GB of memory, then a table
    code, _, err = _run(capsys, "bias-variance", "--degrees", "200000", "--datasets", "2", "--device", "cpu")
    assert code == 2 and "degree 200000 is above the limit 10,000" in err and "GiB" in err
    # refused before the experiment imports torch or builds anything


def test_bias_variance_memory_estimate_counts_the_basis(monkeypatch):
    from gradproof.experiments import bias_variance as bv

    # degree 5,000 with 2 datasets: the data are ~100 kB, the Legendre bases ~20 MB
    assert bv.memory_needed(2, 30, 200, 5000) > 18 * 2**20
    monkeypatch.setattr(bv, "_available_bytes", lambda dev: 10 * 2**20)
    with pytest.raises(gradproof.InputError, match="at degree up to 5000 need about"):
        bv.bias_variance_experiment(degrees=[5000], n_datasets=2, device="cpu")


# -- titles and authors ----------------------------------------------------------------------------
@pytest.mark.parametrize("title", ["β-VAE", "Ω and ω", "√x", "∏ p_i ≥ 0", "Μ (a capital mu)", "cafe\u0301"])
def test_greek_and_math_titles_are_accepted(title):
    from gradproof.derivations.latex_text import check_typesettable

    check_typesettable(title, "--title")  # before: β refused while the message said Greek was fine


def test_a_root_sign_in_a_title_does_not_swallow_the_brace():
    from gradproof.derivations.latex_text import escape_text

    # before: \ensuremath{\sqrt }x, which does not compile
    assert escape_text("√x") == r"\ensuremath{\surd }x"
    assert escape_text("β") == r"\ensuremath{\beta }" and escape_text("Α") == r"\ensuremath{\mathrm{A} }"


@pytest.mark.parametrize(("title", "char"), [("Lecture ✓", "'✓' (U+2713)"), ("Łódź ę", "'ę' (U+0119)"),
                                             ("☃", "'☃' (U+2603)")])  # fmt: skip
def test_other_characters_are_refused_by_name(title, char, capsys, tmp_path):
    out = tmp_path / "x.tex"
    code, _, err = _run(capsys, "report", "softmax-jacobian", "--no-verify", "--title", title, "-o", str(out))
    assert not out.exists()
    assert code == 2 and char in err and "√ ∑ ∏ ≤ ≥ ≠ ± × · ∂ ∇ ∞ → ∈" in err
