"""The bias–variance experiment: the identity, the lecture's shape, numerics, API and CLI."""

from __future__ import annotations

import doctest
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradproof
from gradproof.cli import main
from gradproof.errors import DeviceError, GradproofError, InputError
from gradproof.experiments import bias_variance as bv
from gradproof.experiments._polyfit import least_squares_operator, legendre_basis

SEEDS = [0, 1, 2, 3, 4]
SMALL = 300  # datasets per run in most tests: fast, and still far from the edge of every check


def _run(**kwargs):
    kwargs.setdefault("n_datasets", SMALL)
    kwargs.setdefault("device", "cpu")
    return gradproof.bias_variance_experiment(**kwargs)


# --- the identity and the lecture's picture ---------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_measured_error_matches_bias2_plus_variance_plus_noise(seed):
    result = _run(seed=seed)
    for row in result.rows:
        assert row.stderr > 0
        assert abs(row.gap) <= 4 * row.stderr + 1e-12, row
        assert math.isclose(row.gap, row.expected_error - row.bias2 - row.variance - row.noise)
    assert result.ok


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_lecture_picture_underfit_good_fit_overfit(seed):
    r = _run(seed=seed)
    d1, d4, d20 = r.row(1), r.row(4), r.row(20)
    assert d1.bias2 > d4.bias2  # degree 1 underfits
    assert d1.bias2 > d1.variance
    assert d20.variance > d4.variance  # degree 20 overfits
    assert d20.variance > d20.bias2
    assert d4.expected_error < d1.expected_error
    assert d4.expected_error < d20.expected_error
    # training error keeps falling with the degree while the test error turns back up
    assert d1.train_error > d4.train_error > d20.train_error


def test_variance_and_bias_match_the_closed_form_for_a_fixed_design():
    """A second witness: for least squares on a fixed design, Var M(x) = σ² ‖h(x)‖² exactly."""
    sigma, n_train, n_test = 0.3, 30, 200
    r = _run(n_datasets=2000, noise_std=sigma, n_train=n_train, n_test=n_test)
    x = torch.linspace(-1, 1, n_train, dtype=torch.float64)
    xt = -1 + (torch.arange(n_test, dtype=torch.float64) + 0.5) * (2 / n_test)
    for row in r.rows:
        d = row.degree
        # an independent fit: NumPy's Legendre least squares on the noise-free targets
        coef = np.polynomial.legendre.legfit(x.numpy(), bv.true_function(x).numpy(), d)
        bias2 = np.mean((np.polynomial.legendre.legval(xt.numpy(), coef) - bv.true_function(xt).numpy()) ** 2)
        hat = np.polynomial.legendre.legvander(xt.numpy(), d) @ np.linalg.pinv(
            np.polynomial.legendre.legvander(x.numpy(), d)
        )
        variance = sigma**2 * np.mean(np.sum(hat**2, axis=1))
        # variance estimated from 2000 datasets: relative sd ≈ sqrt(2/2000) per point, less on average
        assert row.variance == pytest.approx(variance, rel=0.08)
        # (mean prediction − f) = bias + δ, δ with variance ≈ variance/2000: bias2 moves by ≈ 2·bias·δ
        tolerance = 4 * (2 * math.sqrt(bias2 * variance / 2000) + variance / 2000) + 1e-12
        assert row.bias2 == pytest.approx(bias2, abs=tolerance)
    assert r.row(4).bias2 < 1e-3  # the true function is a quartic


def test_zero_noise_has_no_variance_and_no_gap():
    r = _run(noise_std=0.0)
    for row in r.rows:
        assert row.noise == 0 and row.variance == pytest.approx(0, abs=1e-20)
        assert row.stderr == pytest.approx(0, abs=1e-20)
        assert row.expected_error == pytest.approx(row.bias2, rel=1e-12, abs=1e-20)
    assert r.ok


# --- numerics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [(20,), (25,), (29,), (35, 60)], ids=str)
def test_high_degrees_stay_finite(degrees):
    r = _run(degrees=degrees, n_datasets=50)
    for row in r.rows:
        values = [row.bias2, row.variance, row.expected_error, row.stderr, row.train_error]
        assert all(math.isfinite(v) for v in values), row
        assert row.ok


def test_underdetermined_fit_is_minimum_norm_and_interpolates():
    r = _run(degrees=(12,), n_train=8, n_datasets=20)
    assert r.rows[0].train_error == pytest.approx(0, abs=1e-20)
    a = legendre_basis(torch.linspace(-1, 1, 8, dtype=torch.float64), 12)
    pinv, rank = least_squares_operator(a)
    assert rank == 8
    y = torch.randn(8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = np.linalg.lstsq(a.numpy(), y.numpy(), rcond=None)[0]  # NumPy's minimum-norm answer
    np.testing.assert_allclose((pinv @ y).numpy(), expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=20),
    degree=st.integers(0, 30),
)
def test_legendre_basis_matches_numpy(x, degree):
    ours = legendre_basis(torch.tensor(x, dtype=torch.float64), degree).numpy()
    np.testing.assert_allclose(ours, np.polynomial.legendre.legvander(np.array(x), degree), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), degree=st.integers(0, 25), seed=st.integers(0, 2**31 - 1))
def test_least_squares_operator_matches_numpy_lstsq(n, degree, seed):
    a = legendre_basis(torch.linspace(-1, 1, n, dtype=torch.float64), degree)
    y = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    pinv, _ = least_squares_operator(a)
    ours = (a @ (pinv @ y)).numpy()  # compare fitted values: coefficients are not unique when rank < p
    ref = a.numpy() @ np.linalg.lstsq(a.numpy(), y.numpy(), rcond=None)[0]
    np.testing.assert_allclose(ours, ref, atol=1e-8 * max(1.0, float(np.abs(ref).max())))


def test_non_finite_results_raise(monkeypatch):
    monkeypatch.setattr(bv, "true_function", lambda x: x * math.inf)
    with pytest.raises(GradproofError, match="degree 1 gave non-finite"):
        _run(degrees=(1,), n_datasets=5)


# --- reproducibility --------------------------------------------------------------------------


def test_same_seed_same_result_different_seed_different_numbers():
    a, b, c = _run(seed=7, n_datasets=50), _run(seed=7, n_datasets=50), _run(seed=8, n_datasets=50)
    assert a == b  # `seconds` is left out of the comparison
    assert a.rows == b.rows
    for ra, rc in zip(a.rows, c.rows, strict=True):
        assert ra.expected_error != rc.expected_error
        assert ra.variance != rc.variance


# --- the result object ------------------------------------------------------------------------


def test_result_reports_settings_table_and_json():
    r = _run(n_datasets=20, n_train=25, noise_std=0.5, seed=3, n_test=50)
    assert (r.n_datasets, r.n_train, r.noise_std, r.seed, r.n_test) == (20, 25, 0.5, 3, 50)
    assert r.degrees == (1, 4, 20) and r.device == "cpu"
    text = str(r)
    assert "4x^4 - 4x^2 + x" in text and "20 datasets x 25" in text
    assert [line.split()[0] for line in text.splitlines()[3:6]] == ["1", "4", "20"]
    data = json.loads(json.dumps(r.to_dict()))
    assert [row["degree"] for row in data["rows"]] == [1, 4, 20]
    assert data["rows"][0]["noise"] == pytest.approx(0.25)
    assert set(data["rows"][0]) >= {"bias2", "variance", "noise", "expected_error", "stderr", "gap"}
    with pytest.raises(InputError, match="degree 7"):
        r.row(7)


def test_module_doctest():
    assert doctest.testmod(bv).failed == 0


# --- input validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"degrees": (1, -1)}, r"degrees\[1\] must be >= 0"),
        ({"degrees": (1, 2.5)}, r"degrees\[1\] must be an integer"),
        ({"degrees": (True,)}, r"degrees\[0\] must be an integer"),
        ({"degrees": ()}, "degrees is empty"),
        ({"degrees": (4, 4)}, "duplicates"),
        ({"degrees": "1,4"}, "sequence of integers"),
        ({"n_datasets": 1}, "n_datasets must be >= 2"),
        ({"n_datasets": 10.0}, "n_datasets must be an integer"),
        ({"n_train": 0}, "n_train must be >= 1"),
        ({"n_test": 0}, "n_test must be >= 1"),
        ({"noise_std": -0.1}, "noise_std must be finite and >= 0"),
        ({"noise_std": math.nan}, "noise_std must be finite"),
        ({"noise_std": "0.3"}, "noise_std must be a number"),
        ({"seed": -1}, "seed must be >= 0"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_arguments_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match) as info:
        _run(**kwargs)
    assert isinstance(info.value, ValueError)


def test_single_int_degree_is_accepted():
    assert _run(degrees=3, n_datasets=5).degrees == (3,)


# --- devices ----------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_raises_device_error():
    with pytest.raises(DeviceError, match="CUDA is not available"):
        gradproof.bias_variance_experiment(n_datasets=5, device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    gpu = gradproof.bias_variance_experiment(n_datasets=500, device="cuda")
    cpu = gradproof.bias_variance_experiment(n_datasets=500, device="cpu")
    assert gpu.device.startswith("cuda")
    for rg, rc in zip(gpu.rows, cpu.rows, strict=True):
        for name in ("bias2", "variance", "expected_error", "stderr", "train_error"):
            assert getattr(rg, name) == pytest.approx(getattr(rc, name), rel=1e-8, abs=1e-12)


def test_auto_device_is_recorded():
    r = gradproof.bias_variance_experiment(n_datasets=5, device="auto")
    assert r.device.startswith("cuda" if torch.cuda.is_available() else "cpu")


# --- the command line -------------------------------------------------------------------------


def test_cli_prints_the_table(capsys):
    code = main(["bias-variance", "--datasets", "200", "--seed", "1", "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Bias-variance experiment" in out and "200 datasets x 30" in out
    assert [line.split()[0] for line in out.splitlines()[3:6]] == ["1", "4", "20"]


def test_cli_json_with_options(capsys):
    argv = ["bias-variance", "--degrees", "1,3", "5", "--datasets", "40", "--train-size", "12"]
    argv += ["--test-size", "30", "--noise", "0.2", "--seed", "2", "--device", "cpu", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["degree"] for row in data["rows"]] == [1, 3, 5]
    assert (data["n_datasets"], data["n_train"], data["n_test"], data["seed"]) == (40, 12, 30, 2)
    assert data["noise_std"] == 0.2 and data["ok"] is True
    assert (
        data["rows"]
        == _run(degrees=(1, 3, 5), n_datasets=40, n_train=12, n_test=30, noise_std=0.2, seed=2).to_dict()[
            "rows"
        ]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--datasets", "1"], "n_datasets must be >= 2"),
        (["--noise", "-1"], "noise_std must be finite and >= 0"),
        (["--degrees", "1,x"], "degrees must be integers"),
    ],
    ids=["datasets", "noise", "degrees"],
)
def test_cli_bad_input_exits_2_with_one_line(capsys, argv, message):
    try:
        code = main(["bias-variance", "--device", "cpu", *argv])
    except SystemExit as exc:  # argparse type errors exit from the parser
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert "Traceback" not in err


def test_command_module_does_not_import_torch():
    code = "import sys, gradproof.commands.bias_variance; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
