"""The result cache of ``gradproof verify``: a run with nothing changed is read back without
SymPy or PyTorch; anything that could change a result changes the key; failures are never
stored; concurrent writers never leave half a file; a broken cache is an empty cache."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradproof.cli import main
from gradproof.derivations.proof import SHOWN, ProofResult, StepRecord
from gradproof.verify import cache as cache_module
from gradproof.verify.cache import KEEP_OTHER_KEYS, ResultCache, cache_key, cache_root
from gradproof.verify.verification import DerivationVerification, Witness

ROOT = Path(__file__).resolve().parents[1]
FAST = ["sigmoid-derivative", "dropout-expectation"]


def _result(name="sigmoid-derivative", ok=True) -> DerivationVerification:
    proof = ProofResult(name, (StepRecord(1, "a reason", SHOWN, "difference simplifies to 0"),), True)
    witnesses = (Witness("SymPy proof", True, None, None, "1 step shown"),
                 Witness("finite differences", ok, 1e-10, 1e-7, "∂/∂z: 3 points"))
    return DerivationVerification(name, "A title", proof, witnesses, "cpu", 0.25)


def _json_run(capsys, *args):
    rc = main(["verify", *args, "--json", "--device", "cpu"])
    return rc, json.loads(capsys.readouterr().out)


def test_second_run_reads_every_result_back(capsys):
    rc, cold = _json_run(capsys, *FAST)
    assert rc == 0 and not any(r["cached"] for r in cold["results"])
    rc, warm = _json_run(capsys, *FAST)
    assert rc == 0 and all(r["cached"] for r in warm["results"])
    strip = lambda rs: [{k: v for k, v in r.items() if k != "cached"} for r in rs]  # noqa: E731
    assert strip(warm["results"]) == strip(cold["results"])  # the same verdicts, errors and details


def test_summary_line_says_wall_time_and_what_came_from_the_cache(capsys):
    assert main(["verify", *FAST, "--device", "cpu"]) == 0
    first = capsys.readouterr().out.splitlines()[-1]
    assert first.startswith("2/2 derivations verified in ") and first.endswith(" s")
    assert main(["verify", *FAST, "--device", "cpu"]) == 0
    assert "(2 from the cache; --no-cache to recompute)" in capsys.readouterr().out.splitlines()[-1]


def test_no_cache_neither_reads_nor_writes(capsys):
    rc, _ = _json_run(capsys, "sigmoid-derivative", "--no-cache")
    assert rc == 0 and not cache_root().exists()
    _json_run(capsys, "sigmoid-derivative")
    rc, again = _json_run(capsys, "sigmoid-derivative", "--no-cache")
    assert rc == 0 and not again["results"][0]["cached"]


def test_a_cache_hit_imports_neither_sympy_nor_torch(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    script = (
        "import sys\n"
        "from gradproof.cli import main\n"
        f"rc = main(['verify', *{FAST!r}, 'Sigmoid_Derivative', '--device', 'cpu'])\n"
        "print('MODULES', rc, sorted(m for m in ('sympy', 'torch') if m in sys.modules))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert "MODULES 0 ['sympy', 'torch']" in runs[0].stdout  # cold: computed
    assert "MODULES 0 []" in runs[1].stdout, runs[1].stdout  # warm: read back, names resolved too
    assert "3 from the cache" in runs[1].stdout


def test_the_key_covers_code_libraries_seed_and_device(monkeypatch):
    base = cache_key(0, "cpu")
    assert cache_key(0, "cpu") == base
    assert len({base, cache_key(1, "cpu"), cache_key(0, "auto"), cache_key(0, "cuda")}) == 4
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    assert cache_key(0, "cpu") == base and cache_key(0, "auto") != cache_key(0, "cuda")
    for dist in ("sympy", "numpy", "torch"):
        with monkeypatch.context() as m:
            real = cache_module._version
            m.setattr(cache_module, "_version", lambda d, dist=dist: "0.0" if d == dist else real(d))
            assert cache_key(0, "cpu") != base, dist
    with monkeypatch.context() as m:
        m.setattr(cache_module, "source_hash", lambda: "edited")
        assert cache_key(0, "cpu") != base


def test_source_hash_sees_every_file_of_the_package(tmp_path, monkeypatch):
    pkg = tmp_path / "gradproof"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "grammar.lark").write_text("start: x\n")
    monkeypatch.setattr(cache_module, "_PACKAGE", pkg)
    hashes = []
    for edit in (None, ("a.py", "x = 2\n"), ("sub/grammar.lark", "start: y\n"), ("new.py", "")):
        if edit:
            (pkg / edit[0]).write_text(edit[1])
        cache_module.source_hash.cache_clear()
        hashes.append(cache_module.source_hash())
    cache_module.source_hash.cache_clear()
    assert len(set(hashes)) == 4


def test_failures_are_never_stored(tmp_path):
    cache = ResultCache("k", tmp_path)
    cache.put(_result(ok=False))
    assert not (tmp_path / "k" / "sigmoid-derivative.json").exists()
    cache.put(_result())
    assert cache.get("sigmoid-derivative").ok


def test_a_stored_failure_or_another_name_is_not_read_back(tmp_path):
    cache = ResultCache("k", tmp_path)
    cache.put(_result())
    path = tmp_path / "k" / "sigmoid-derivative.json"
    record = json.loads(path.read_text())
    record["witnesses"][1]["ok"] = False  # edited by hand, or by a bug
    path.write_text(json.dumps(record))
    assert cache.get("sigmoid-derivative") is None
    record["witnesses"][1]["ok"] = True
    record["name"] = "softmax-jacobian"
    path.write_text(json.dumps(record))
    assert cache.get("sigmoid-derivative") is None


@pytest.mark.parametrize("content", ["", "{", "[]", '{"name": "sigmoid-derivative"}', "\x00\xff"])
def test_a_corrupt_entry_is_a_miss(tmp_path, content):
    cache = ResultCache("k", tmp_path)
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "sigmoid-derivative.json").write_text(content, errors="surrogateescape")
    (tmp_path / "k" / "catalog.json").write_text(content, errors="surrogateescape")
    assert cache.get("sigmoid-derivative") is None
    assert cache.catalog_names() is None


def test_round_trip_keeps_everything_the_table_and_json_show(tmp_path):
    cache = ResultCache("k", tmp_path)
    original = _result()
    cache.put(original)
    back = cache.get("sigmoid-derivative")
    assert back.cached and not original.cached
    assert {**back.to_dict(), "cached": False} == original.to_dict()
    assert str(back) == str(original)


def test_an_unusable_cache_folder_does_not_stop_the_run(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert main(["verify", "sigmoid-derivative", "--device", "cpu"]) == 0
    assert main(["verify", "sigmoid-derivative", "--device", "cpu"]) == 0
    assert "from the cache" not in capsys.readouterr().out


def test_old_keys_are_forgotten(tmp_path):
    for k in range(KEEP_OTHER_KEYS + 4):
        folder = tmp_path / f"old{k:02d}"
        folder.mkdir()
        os.utime(folder, (1000 + k, 1000 + k))
    ResultCache("current", tmp_path).put(_result())
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "current" in left and len(left) == KEEP_OTHER_KEYS + 1
    assert "old00" not in left and f"old{KEEP_OTHER_KEYS + 3:02d}" in left  # the newest kept


def _writer(root: str, rounds: int) -> None:
    cache = ResultCache("k", Path(root))
    for k in range(rounds):
        cache.put(_result(f"d{k % 3}"))
        cache.put_catalog_names([f"d{j}" for j in range(k % 5 + 1)])


def test_concurrent_writers_never_leave_half_a_file(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), 150)) for _ in range(3)]
    for w in writers:
        w.start()
    seen = 0
    while any(w.is_alive() for w in writers):
        for path in list((tmp_path / "k").glob("*.json")) if (tmp_path / "k").exists() else []:
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            json.loads(text)  # a torn write would fail here
            seen += 1
    for w in writers:
        w.join()
        assert w.exitcode == 0
    assert seen > 0
    assert not list((tmp_path / "k").glob(".*.tmp"))  # no temporary file left behind
    assert ResultCache("k", tmp_path).get("d0").ok


def test_jobs_share_the_cache(capsys):
    names = ["sigmoid-derivative", "dropout-expectation", "training-memory"]
    rc, cold = _json_run(capsys, *names, "--jobs", "2")
    assert rc == 0 and not any(r["cached"] for r in cold["results"])
    rc, warm = _json_run(capsys, *names, "--jobs", "2")
    assert rc == 0 and [r["name"] for r in warm["results"]] == names and all(r["cached"] for r in warm["results"])


def test_names_resolve_through_the_cached_catalog(capsys):
    _json_run(capsys, "sigmoid-derivative")
    rc, out = _json_run(capsys, "Sigmoid_Derivative", " sigmoid-derivative ")
    assert rc == 0 and [r["name"] for r in out["results"]] == ["sigmoid-derivative"] * 2
    assert main(["verify", "sigmoid-derivativ", "--device", "cpu"]) == 2
    assert "did you mean 'sigmoid-derivative'" in capsys.readouterr().err


def test_cache_root_follows_xdg_and_the_platform(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "gradproof"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(sys, "platform", "linux")
    assert cache_root() == Path.home() / ".cache" / "gradproof"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache_root() == Path.home() / "Library" / "Caches" / "gradproof"


# --- concurrent runs, a corrupt cache, changed code: never a wrong verdict ----------------------

def _cli(env, *args, cwd=None):
    return subprocess.Popen([sys.executable, "-m", "gradproof", "verify", *args, "--json", "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def _env(cache_home, pythonpath=ROOT):
    return {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(pythonpath)}


def _entries(cache_home):
    return [p for p in (Path(cache_home) / "gradproof").rglob("*") if p.is_file()]


def test_two_verifies_at_once_share_one_cache(tmp_path):
    """Two ``gradproof verify --jobs 2`` runs against one cache folder at the same time: both
    verdicts right, every entry a whole JSON file, no temporary file left, and a third run reads
    every result back."""
    names = ["sigmoid-derivative", "dropout-expectation", "training-memory", "l1-regularization"]
    env = _env(tmp_path)
    runs = [_cli(env, *names, "--jobs", "2") for _ in range(2)]
    outs = [r.communicate(timeout=600) for r in runs]
    for run, (out, err) in zip(runs, outs):
        assert run.returncode == 0, err
        data = json.loads(out)
        assert data["ok"] and [r["name"] for r in data["results"]] == names
    files = _entries(tmp_path)
    assert not [p for p in files if p.name.endswith(".tmp")]
    for path in files:
        json.loads(path.read_text(encoding="utf-8"))
    assert {p.name for p in files} == {f"{n}.json" for n in names} | {"catalog.json"}
    third = _cli(env, *names)
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, err
    results = json.loads(out)["results"]
    assert all(r["cached"] for r in results)
    first = {r["name"]: r for r in json.loads(outs[0][0])["results"]}
    for r in results:  # what comes back is what was computed (time and the cached mark aside)
        assert {**r, "cached": False, "seconds": 0} == {**first[r["name"]], "cached": False, "seconds": 0}


@pytest.mark.parametrize("content", ["", "{\"name\": ", "garbage\x00", '{"name": "sigmoid-derivative"}'])
def test_a_corrupt_entry_is_recomputed_and_rewritten(capsys, content):
    rc, _ = _json_run(capsys, "sigmoid-derivative")
    assert rc == 0
    [entry] = [p for p in _entries(os.environ["XDG_CACHE_HOME"]) if p.name == "sigmoid-derivative.json"]
    entry.write_text(content, encoding="utf-8", errors="surrogateescape")
    rc, out = _json_run(capsys, "sigmoid-derivative")
    assert rc == 0 and out["ok"] and not out["results"][0]["cached"]
    assert json.loads(entry.read_text(encoding="utf-8"))["name"] == "sigmoid-derivative"  # rewritten whole
    rc, out = _json_run(capsys, "sigmoid-derivative")
    assert rc == 0 and out["results"][0]["cached"]


def test_a_cached_pass_never_hides_code_that_now_fails(tmp_path):
    """Verify a copy of the package (its pass is cached), break a derivation's claim in the copy,
    verify again with the same cache: the changed source changes the key, and the run fails."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(ROOT / "gradproof", copy / "gradproof", ignore=shutil.ignore_patterns("__pycache__"))
    env = _env(tmp_path / "cache", copy)
    run = _cli(env, "sigmoid-derivative", cwd=tmp_path)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert len(_entries(tmp_path / "cache")) == 2  # the result and the catalog's names
    source = copy / "gradproof" / "derivations" / "logistic.py"
    text = source.read_text(encoding="utf-8")
    good = "GradientClaim(sigma(t), t, result, label="
    assert text.count(good) == 1
    source.write_text(text.replace(good, "GradientClaim(sigma(t), t, 2 * result, label="), encoding="utf-8")
    run = _cli(env, "sigmoid-derivative", cwd=tmp_path)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 1, err
    data = json.loads(out)
    assert not data["ok"] and not data["results"][0]["cached"]


def test_forked_workers_compute_what_one_process_computes(tmp_path):
    """``--jobs 2`` from the command line forks its workers (SymPy, torch and the catalog inherited
    from the parent): every result equals the one computed in a single process."""
    names = ["sigmoid-derivative", "softmax-jacobian", "l2-weight-decay", "mlp-parameter-count"]
    outs = []
    for jobs in ("1", "2"):
        run = _cli(_env(tmp_path / jobs), *names, "--jobs", jobs, "--no-cache")
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        outs.append({r["name"]: {**r, "seconds": 0} for r in json.loads(out)["results"]})
    assert outs[0] == outs[1]


def test_workers_fork_only_without_threads_or_cuda():
    """Forked (on Linux) with torch already imported, which the parent imports for its workers;
    spawned once CUDA is initialised or another Python thread runs."""
    code = (
        "import sys, threading\n"
        "from gradproof.verify.derivation_check import _worker_context\n"
        "print(_worker_context().get_start_method())\n"
        "print('torch' in sys.modules)\n"
        "import torch\n"
        "print(_worker_context().get_start_method())\n"
        "real = torch.cuda.is_initialized\n"
        "torch.cuda.is_initialized = lambda: True\n"
        "print(_worker_context().get_start_method())\n"
        "torch.cuda.is_initialized = real\n"
        "t = threading.Thread(target=threading.Event().wait, args=(5,), daemon=True); t.start()\n"
        "print(_worker_context().get_start_method())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env(ROOT)).stdout.split()
    linux = sys.platform.startswith("linux")
    expected_first = "fork" if linux else "spawn"
    assert out == [expected_first, str(linux), expected_first, "spawn", "spawn"]
