"""The calibration sweep, in CI's time: never cry wolf on the corpus, and catch every required bug.

Every corpus layer (tests/corpus) at both sizes, computing in float64 and in float32, over
``SEEDS`` (not the benchmark's 0…49, so CI also looks at points nobody tuned on), and every
injected bug at both sizes and both dtypes over ``BUG_SEEDS``.  A correct layer reported FAILED
is a false alarm; a bug is required to be caught in float64 whatever its size (down to the
layer norm's dropped ε, ~1e-6 relative), and in float32 from 1e-2 relative up; a smaller
float32 bug that passes must come with a report stating a resolution at least its size.
The full ≥ 50-seed sweep is ``benchmarks/bench_calibration.py`` (table in the README).
"""

from __future__ import annotations

import os
import re

import pytest

from tests.corpus import LAYERS
from tests.corpus.sweep import jobs, run_all

pytestmark = pytest.mark.slow

SEEDS = range(100, 101)
BUG_SEEDS = range(100, 101)
WORKERS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, os.cpu_count() or 1)


@pytest.fixture(scope="module")
def outcomes():
    return run_all(jobs(SEEDS, bug_seeds=BUG_SEEDS), WORKERS)


def test_the_sweep_covers_every_layer_size_dtype_and_bug(outcomes):
    seen = {(o.job.layer, o.job.size, o.job.dtype, o.job.bug) for o in outcomes}
    for name, layer in LAYERS.items():
        for size in ("small", "large"):
            for dtype in ("float64", "float32"):
                assert (name, size, dtype, None) in seen
                assert all((name, size, dtype, bug) in seen for bug in layer.bugs)
    assert len(LAYERS) >= 24


def test_no_false_alarm_on_correct_layers(outcomes):
    alarms = [f"{o.job}: {o.report}" for o in outcomes if o.false_alarm]
    checks = sum(o.job.bug is None for o in outcomes)
    assert checks >= 24 * 2 * 2 * len(SEEDS)
    assert not alarms, f"{len(alarms)} false alarms in {checks} checks:\n" + "\n".join(alarms)


def test_every_required_bug_is_caught(outcomes):
    missed = [f"{o.job} (size {o.bug_size:.1e}): {o.report}" for o in outcomes if o.required and not o.caught]
    assert sum(o.required for o in outcomes) >= sum(len(layer.bugs) for layer in LAYERS.values()) * 2
    assert not missed, "missed:\n" + "\n".join(missed)


def test_a_small_float32_bug_that_passes_states_a_resolution_at_least_its_size(outcomes):
    """Passing a float32 bug below 1e-2 is allowed only with the resolution said out loud."""
    for o in outcomes:
        if o.job.bug is None or o.required or o.caught:
            continue
        stated = re.findall(r"errors below about ([0-9.e+-]+) of the gradient's norm", o.report)
        assert stated, f"{o.job}: passed a {o.bug_size:.1e} bug without stating a resolution: {o.report}"
        assert max(float(s) for s in stated) >= 0.1 * o.bug_size, (o.job, o.bug_size, stated)
