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


# -- check_gradient input -------------------------------------------------------------------
def _sq(p):
    return float(np.sum(np.asarray(p) ** 2))


def _dsq(p):
    return 2 * np.asarray(p)


def test_non_string_parameter_names_are_refused_not_renamed():
    import gradproof

    # before: the keys reached loss as '0', '1' (KeyError), and {0: a, '0': b} silently lost one
    with pytest.raises(gradproof.InputError, match="parameter names must be strings: key 0"):
        gradproof.check_gradient(lambda p: _sq(p[0]), lambda p: {0: _dsq(p[0])}, {0: np.ones(2)})


@pytest.mark.parametrize("value", [True, np.bool_(False), np.array([True])])
def test_a_boolean_loss_is_an_input_error(value):
    import gradproof

    with pytest.raises(gradproof.InputError, match="returned a boolean"):
        gradproof.check_gradient(lambda p: value, _dsq, np.ones(2))


def test_torch_boolean_loss_is_an_input_error():
    torch = pytest.importorskip("torch")
    import gradproof

    with pytest.raises(gradproof.InputError, match="returned a boolean"):
        gradproof.check_gradient(lambda p: torch.tensor(True), _dsq, np.ones(2))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"seed": "a"}, "seed must be an integer"), ({"directions": 1.5}, "directions must be an integer"),
     ({"worst": -1}, "worst must be non-negative")],
)  # fmt: skip
def test_option_types_are_checked(options, message):
    import gradproof

    with pytest.raises(gradproof.InputError, match=message):
        gradproof.check_gradient(_sq, _dsq, np.ones(2), **options)


def test_bad_device_is_an_error_for_numpy_parameters_too():
    import gradproof

    with pytest.raises(gradproof.DeviceError, match="unknown device 'tpu'"):
        gradproof.check_gradient(_sq, _dsq, np.ones(2), device="tpu")


def test_check_device_cuda_without_cuda_exits_2(user, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = _run(capsys, "check", "mycode.py:loss", "mycode.py:grad", "--params", "p.npz", "--device", "cuda")
    assert code == 2 and "CUDA is not available" in err


def test_sys_exit_in_the_loss_is_an_input_error(user, capsys):
    (user / "quits.py").write_text("import sys\ndef loss(p):\n    sys.exit(3)\n")
    code, _, err = _run(capsys, "check", "quits.py:loss", "mycode.py:grad", "--params", "p.npz")
    assert code == 2 and "loss(params) raised SystemExit: 3" in err


# -- non-ASCII titles -----------------------------------------------------------------------
def test_accented_title_keeps_its_accents():
    from gradproof.derivations.latex_text import escape_text

    # before: "Müller" came out as "Muller" and "Łódź" as "odz"-like text, silently
    assert escape_text("Müller, Señor, façade, Łódź, straße, naïve") == (
        r"M\"{u}ller, Se\~{n}or, fa\c{c}ade, \L{}\'{o}d\'{z}, stra\ss{}e, na\"{\i{}}ve"
    )


def test_untypesettable_title_is_refused_before_writing(user, capsys):
    (user / "notes.tex").write_text("KEEP")
    argv = ["report", "softmax-jacobian", "--no-verify", "--title", "Lecture 数学", "-o", "notes.tex"]
    code, _, err = _run(capsys, *argv)
    assert code == 2 and "'数' (U+6570)" in err  # before: written with the title as "Lecture ??"
    assert (user / "notes.tex").read_text() == "KEEP"


def test_untypesettable_author_is_refused():
    from gradproof import InputError
    from gradproof.reports import build_report

    with pytest.raises(InputError, match="--author"):
        build_report(["softmax-jacobian"], author="✓ me", verify=False)


# -- API argument types ---------------------------------------------------------------------
@pytest.mark.parametrize("name", [None, ["softmax-jacobian"], 3])
def test_derivation_with_a_non_string_name(name):
    import gradproof

    # before: a list raised TypeError (unhashable), None "did you mean 'training-memory'?"
    with pytest.raises(gradproof.InputError, match="named by its slug"):
        gradproof.derivation(name)


@pytest.mark.parametrize("seed", ["x", -1, 1.5])
def test_verify_with_a_bad_seed(seed):
    import gradproof

    with pytest.raises(gradproof.InputError, match="seed must be a non-negative integer"):
        gradproof.verify("softmax-jacobian", seed=seed)


def test_an_empty_parameter_is_not_passed_with_an_absurd_tolerance():
    import gradproof

    # before: "passed ... directional error 0.0e+00 ≤ tolerance 2.1e+289"
    with pytest.raises(gradproof.InputError, match=r"parameter 'w' has no entries \(shape 0×3\)"):
        gradproof.check_gradient(lambda p: _sq(p["w"]), lambda p: {"w": _dsq(p["w"])}, {"w": np.ones((0, 3))})


def test_one_parameter_agrees():
    import gradproof

    assert "1 parameter agrees with" in str(gradproof.check_gradient(_sq, _dsq, np.ones(2)))


# -- bias-variance --------------------------------------------------------------------------
def test_bias_variance_too_large_for_memory_is_refused_at_once(capsys):
    # before: --datasets 100000000 allocated for minutes (swap or the OOM killer), no message
    code, _, err = _run(capsys, "bias-variance", "--datasets", "100000000", "--device", "cpu")
    assert code == 2 and "GiB" in err and "use fewer datasets" in err


def test_bias_variance_memory_estimate_uses_free_memory(monkeypatch):
    from gradproof import InputError
    from gradproof.experiments import bias_variance as bv

    monkeypatch.setattr(bv, "_available_bytes", lambda dev: 10**6)
    with pytest.raises(InputError, match="need about"):
        bv.bias_variance_experiment(n_datasets=2000, device="cpu")
    monkeypatch.setattr(bv, "_available_bytes", lambda dev: None)  # unknown: no guess, just run
    assert bv.bias_variance_experiment(n_datasets=20, device="cpu").n_datasets == 20


def test_an_exception_in_user_code_names_its_line(user, capsys):
    (user / "oops.py").write_text("import numpy as np\n\ndef loss(p):\n    return float(np.dot(p['w'], np.ones(2)))\n")
    code, _, err = _run(capsys, "check", "oops.py:loss", "mycode.py:grad", "--params", "p.npz")
    assert code == 2
    assert "loss(params) raised ValueError" in err and "(at oops.py:4 in loss)" in err  # not NumPy's frame


def test_report_function_keeps_the_author(user, capsys):
    code, _, err = _run(capsys, "report", "--function", "mycode:softmax", "--author", "A. Müller", "-o", "code.tex")
    assert code == 0, err
    assert r"\author{A. M\"{u}ller}" in (user / "code.tex").read_text()  # before: \author{} (dropped)


def test_unwritable_output_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    import errno
    import os

    from gradproof import InputError
    from gradproof.reports.output import write_atomic

    target = tmp_path / "notes.tex"
    target.write_text("KEEP")

    def refuse(*args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(InputError, match="cannot write .*Permission denied"):
        write_atomic(target, "new")
    assert target.read_text() == "KEEP"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tex"]  # no temporary left behind


def test_output_in_a_folder_that_cannot_hold_files(capsys):
    code, _, err = _run(capsys, "report", "softmax-jacobian", "--no-verify", "-o", "/proc/notes.tex")
    assert code == 2 and "cannot write '/proc/notes.tex'" in err and "Traceback" not in err


def test_losses_too_large_to_check_are_refused_not_passed():
    import gradproof

    def loss(p):
        return float(np.sum(p**2)) * 1e300

    with pytest.raises(gradproof.InputError, match="too large"):
        gradproof.check_gradient(loss, lambda p: -2e300 * p, np.ones(2))  # a sign bug must never pass


def test_list_from_grad_is_refused_for_a_dict_of_one():
    import gradproof

    with pytest.raises(gradproof.InputError, match="expected a dict"):
        gradproof.check_gradient(lambda p: float(np.sum(p["w"] ** 2)), lambda p: [2 * p["w"]], {"w": np.ones(2)})


def test_stray_grad_entries_are_not_counted_as_parameters():
    import gradproof

    result = gradproof.check_gradient(
        lambda p: float(np.sum(p["w"] ** 2)), lambda p: {"w": 2 * p["w"], "v": np.ones(3)}, {"w": np.ones(2)}
    )
    assert not result.ok
    head = str(result).splitlines()[0]
    assert "'v', which is not a parameter" in head and "of 2 parameters" not in head
