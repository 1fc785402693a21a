"""Calibration sweep: false alarms and caught bugs of ``check_gradient`` over the layer corpus.

Every corpus layer (tests/corpus: conv2d, pooling, batch and layer norm, RNN and LSTM, attention,
embedding, activations, losses, ...) at two sizes, in float64 and in float32 code, over many seeds;
plus every injected bug.  Prints the table for the README and, with ``--details``, every false
alarm and every missed required bug.

    PYTHONPATH=$PWD python benchmarks/bench_calibration.py [--seeds 50] [--bug-seeds 10] [--jobs 2] [--log out.jsonl]
    PYTHONPATH=$PWD python benchmarks/bench_calibration.py --from-log a.jsonl b.jsonl   # the table of earlier runs
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus import DTYPES, LAYERS, SIZES  # noqa: E402
from tests.corpus.sweep import jobs, read_log, run_all, summary  # noqa: E402


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| layer | dtype | false alarms | screen failures cleared | required bugs caught "
        "| smaller float32 bugs caught | median time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        small = f"{r['small_caught']}/{r['small_bugs']}" if r["small_bugs"] else "–"
        bugs = f"{r['caught']}/{r['bugs']}" if r["bugs"] else "–"
        lines.append(
            f"| {r['layer']} | {r['dtype']} | {r['false']}/{r['checks']} | {r['screened_out'] - r['false']} "
            f"| {bugs} | {small} | {r['median_ms']:.1f} ms |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50, help="seeds per correct layer, size and dtype")
    ap.add_argument("--bug-seeds", type=int, default=10, help="seeds per injected bug, size and dtype")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--layers", default=None, help="comma-separated subset of " + ",".join(sorted(LAYERS)))
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--dtypes", default=",".join(DTYPES))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--details", action="store_true", help="print each false alarm and missed required bug")
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--log", default=None, help="append each outcome to this file as a JSON line as it is known")
    ap.add_argument("--from-log", nargs="+", default=None, help="summarise outcomes logged by earlier runs instead")
    args = ap.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    bug_seeds = range(args.first_seed, args.first_seed + args.bug_seeds)
    job_list = jobs(
        seeds,
        bug_seeds=bug_seeds,
        layers=args.layers.split(",") if args.layers else None,
        sizes=args.sizes.split(","),
        dtypes=args.dtypes.split(","),
    )
    # seed by seed, so that an interrupted run (see --log) has covered every layer equally
    job_list.sort(key=lambda j: (j.seed, j.layer, j.size, j.dtype, j.bug or ""))
    t0 = time.perf_counter()
    if args.from_log:
        outcomes = [o for path in args.from_log for o in read_log(path)]
        job_list = [o.job for o in outcomes]
        seeds = sorted({o.job.seed for o in outcomes if o.job.bug is None}) or [0]
        bug_seeds = sorted({o.job.seed for o in outcomes if o.job.bug is not None}) or [0]
        seeds, bug_seeds = range(seeds[0], seeds[-1] + 1), range(bug_seeds[0], bug_seeds[-1] + 1)
    else:
        outcomes = run_all(job_list, args.jobs, args.log)
    wall = time.perf_counter() - t0
    rows = summary(outcomes)
    false = sum(r["false"] for r in rows)
    checks = sum(r["checks"] for r in rows)
    caught = sum(r["caught"] for r in rows)
    bugs = sum(r["bugs"] for r in rows)
    how = "summarised from the runs' --log" if args.from_log else f"in {wall:.0f} s wall ({args.jobs} processes)"
    head = (
        f"{len(job_list)} checks {how}: false alarms {false}/{checks}, "
        f"required bugs caught {caught}/{bugs}; seeds {seeds.start}..{seeds.stop - 1} for correct layers, "
        f"{bug_seeds.start}..{bug_seeds.stop - 1} for bugs"
    )
    lines = [head, "", *table(rows)]
    if args.details:
        lines += ["", "False alarms:"]
        lines += [f"- {o.job}: {o.report}" for o in outcomes if o.false_alarm]
        lines += ["", "Missed required bugs:"]
        lines += [f"- {o.job} (size {o.bug_size:.1e}): {o.report}" for o in outcomes if o.required and not o.caught]
        lines += ["", "Smaller float32 bugs not caught (not required; the report must state its resolution):"]
        lines += [
            f"- {o.job} (size {o.bug_size:.1e}): {o.report}"
            for o in outcomes
            if o.job.bug is not None and not o.required and not o.caught
        ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text("# Calibration sweep\n\n" + text + "\n")


if __name__ == "__main__":
    main()
