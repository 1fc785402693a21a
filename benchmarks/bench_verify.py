"""``gradproof verify`` of the whole catalog, cold and warm, as a user runs it.

Each repetition: a fresh, empty cache folder (``XDG_CACHE_HOME``); a *cold* run (nothing cached:
every derivation proved and checked, the results written to the cache), then a *warm* run
(nothing changed: every result read back).  Also a ``--no-cache`` run (computes everything,
writes nothing).  Every run is a fresh ``python -m gradproof verify`` with the default
``--jobs``, timed from outside (interpreter start included); its exit code must be 0, and the
wall time its summary line prints must not exceed the time measured outside.

The machine may be shared: the load average is recorded, and so is each run's CPU time (user +
system of the process and its workers), which load inflates far less than wall time.  As a
peer in the same run, ``python -c "import sympy, torch"`` — the imports a cold run cannot avoid.

    python benchmarks/bench_verify.py            # median of 3
    python benchmarks/bench_verify.py --repeat 5 --out benchmarks/RESULTS_verify.md
    python benchmarks/bench_verify.py --baseline /tmp/old   # also an older tree's --no-cache run

``--baseline DIR``: a checkout of an older version (``git archive COMMIT | tar -x -C DIR``),
whose ``--no-cache`` run is timed in every repetition, so the two compare under the same load.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"(\d+)/(\d+) derivations verified in ([0-9.]+) s")


def _timed(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child and its workers, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout


def _verify(env: dict[str, str], *extra: str, cwd: Path = ROOT) -> dict:
    wall, cpu, out = _timed([sys.executable, "-m", "gradproof", "verify", *extra], env, cwd)
    match = SUMMARY.search(out)
    if match is None:
        sys.exit(f"no summary line in:\n{out[-2000:]}")
    verified, total, printed = int(match[1]), int(match[2]), float(match[3])
    if verified != total:
        sys.exit(f"only {verified}/{total} verified")
    if printed > wall + 0.05:  # printed to 0.1 s, counted from the process's start
        sys.exit(f"the summary line says {printed} s, more than the {wall:.2f} s measured outside")
    return {"wall": wall, "cpu": cpu, "printed": printed, "total": total,
            "cached": "from the cache" in out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    parser.add_argument("--baseline", type=Path, help="an older checkout: time its --no-cache run too")
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "gradproof" / "__init__.py").is_file():
        sys.exit(f"--baseline {args.baseline}: no gradproof package there")

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    rows: dict[str, list[dict]] = {"cold": [], "warm": [], "no-cache": [], "peer": []}
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache_home:
            run_env = {**env, "XDG_CACHE_HOME": cache_home}
            cold = _verify(run_env)
            warm = _verify(run_env)
            if cold["cached"] or not warm["cached"]:
                sys.exit("the cold run read from the cache, or the warm run did not")
            rows["cold"].append(cold)
            rows["warm"].append(warm)
            rows["no-cache"].append(_verify(run_env, "--no-cache"))
            if args.baseline is not None:
                base_env = {**run_env, "PYTHONPATH": str(args.baseline.resolve())}
                rows.setdefault("baseline", []).append(
                    _verify(base_env, "--no-cache", cwd=args.baseline.resolve()))
        wall, cpu, _ = _timed([sys.executable, "-c", "import sympy, torch"], env)
        rows["peer"].append({"wall": wall, "cpu": cpu, "printed": float("nan")})
    load_after = os.getloadavg()

    total = rows["cold"][0]["total"]
    labels = {
        "cold": f"cold: empty cache, {total} derivations",
        "warm": "warm: nothing changed",
        "no-cache": "`--no-cache`",
        "peer": "peer: `python -c \"import sympy, torch\"`",
        "baseline": f"baseline `--no-cache`: the code of {args.baseline}",
    }
    lines = [
        f"`gradproof verify` of the whole catalog ({total} derivations), default `--jobs`, "
        f"{os.cpu_count()} CPUs, median of {args.repeat} (min–max); load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after",
        "",
        "| run | wall s | (min–max) | printed s | CPU s |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, runs in rows.items():
        walls = [r["wall"] for r in runs]
        printed = statistics.median(r["printed"] for r in runs)
        lines.append(
            f"| {labels[key]} | {statistics.median(walls):.2f} | {min(walls):.2f}–{max(walls):.2f} | "
            f"{'—' if printed != printed else f'{printed:.2f}'} | "
            f"{statistics.median(r['cpu'] for r in runs):.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
