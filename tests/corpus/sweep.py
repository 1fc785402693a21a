"""The calibration sweep: ``check_gradient`` over the corpus, correct layers and injected bugs.

A *false alarm* is a correct layer reported FAILED.  A bug is *required* to be caught in float64
whatever its size, and in float32 when its relative size (see :func:`tests.corpus.base.bug_size`)
is at least ``FLOAT32_REQUIRED``; smaller float32 bugs are recorded but not required.
Jobs run in worker processes from the standard library (``concurrent.futures``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from tests.corpus.base import DTYPES, LAYERS, SIZES, bug_size, build

FLOAT32_REQUIRED = 1e-2


@dataclass(frozen=True)
class Job:
    layer: str
    size: str
    dtype: str
    seed: int
    bug: str | None = None


@dataclass(frozen=True)
class Outcome:
    job: Job
    ok: bool
    seconds: float
    evaluations: int
    bug_size: float
    report: str  # the check's report when it failed, or when a bug went uncaught
    remeasured: int = 0  # screen failures the confirmation stage measured again

    @property
    def false_alarm(self) -> bool:
        return self.job.bug is None and not self.ok

    @property
    def required(self) -> bool:
        return self.job.bug is not None and (self.job.dtype == "float64" or self.bug_size >= FLOAT32_REQUIRED)

    @property
    def caught(self) -> bool:
        return self.job.bug is not None and not self.ok


def jobs(
    seeds: Iterable[int],
    *,
    bug_seeds: Iterable[int] = (),
    layers: Iterable[str] | None = None,
    sizes: Iterable[str] = SIZES,
    dtypes: Iterable[str] = DTYPES,
) -> list[Job]:
    names = sorted(LAYERS) if layers is None else list(layers)
    seeds, bug_seeds, sizes, dtypes = list(seeds), list(bug_seeds), list(sizes), list(dtypes)
    out = []
    for name in names:
        for size in sizes:
            for dtype in dtypes:
                out += [Job(name, size, dtype, s) for s in seeds]
                out += [Job(name, size, dtype, s, bug) for bug in sorted(LAYERS[name].bugs) for s in bug_seeds]
    return out


def run(job: Job) -> Outcome:
    from gradproof.verify.check import check_gradient

    case = build(job.layer, job.size, job.dtype, job.seed, job.bug)
    t0 = time.perf_counter()
    result = check_gradient(case.loss, case.grad, case.params, seed=job.seed)
    seconds = time.perf_counter() - t0
    size = bug_size(case) if job.bug else 0.0
    interesting = (not result.ok) if job.bug is None else result.ok
    remeasured = sum(p.remeasured for p in result.parameters)
    report = str(result) if interesting else ""
    return Outcome(job, result.ok, seconds, result.evaluations, size, report, remeasured)


def run_all(job_list: list[Job], workers: int = 1, log: str | None = None) -> list[Outcome]:
    """Every job's outcome (in order); with ``log``, each is also appended to that file as one JSON
    line as soon as it is known, so that an interrupted sweep keeps what it measured."""
    out: list[Outcome] = []

    def keep(o: Outcome) -> None:
        out.append(o)
        if log is not None:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(dataclasses.asdict(o)) + "\n")

    if workers <= 1:
        for j in job_list:
            keep(run(j))
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for o in pool.map(run, job_list, chunksize=4):
            keep(o)
    return out


def read_log(path: str) -> list[Outcome]:
    """The outcomes a sweep wrote with ``log=path``."""
    outcomes = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            outcomes.append(Outcome(**{**d, "job": Job(**d["job"])}))
    return outcomes


def summary(outcomes: list[Outcome]) -> list[dict]:
    """One row per (layer, dtype): checks, false alarms, correct checks that failed the screen
    (and were cleared by the confirmation), required bugs caught, smaller float32 bugs caught, median time of a correct check."""
    rows: dict[tuple[str, str], dict] = {}
    for o in outcomes:
        row = rows.setdefault(
            (o.job.layer, o.job.dtype),
            {"layer": o.job.layer, "dtype": o.job.dtype, "checks": 0, "false": 0, "bugs": 0, "caught": 0,
             "small_bugs": 0, "small_caught": 0, "times": [], "screened_out": 0},
        )
        if o.job.bug is None:
            row["checks"] += 1
            row["false"] += o.false_alarm
            row["times"].append(o.seconds)
            row["screened_out"] += o.remeasured > 0
        elif o.required:
            row["bugs"] += 1
            row["caught"] += o.caught
        else:
            row["small_bugs"] += 1
            row["small_caught"] += o.caught
    out = []
    for key in sorted(rows):
        row = rows[key]
        times = sorted(row.pop("times"))
        row["median_ms"] = 1e3 * times[len(times) // 2] if times else float("nan")
        out.append(row)
    return out
