"""The README's measured limits of checking float32 code.

* a single entry 1 % off in a 32×10 float32 softmax-CE gradient, at random placements: how often it
  is reported, and for the rest, whether the passing report states a resolution that covers it;
* correct float32 ReLU networks (pre-activations within the long steps float32 forces): false
  alarms; and the same networks with the ReLU derivative dropped: bugs caught.

    PYTHONPATH=$PWD python benchmarks/bench_float32_limits.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradproof import check_gradient  # noqa: E402
from tests.test_check_gradient_detection import _ce32, _relu_mlp32  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    caught = covered = 0
    for seed in range(args.seeds):
        rng = np.random.default_rng(100 + seed)
        entry = (int(rng.integers(32)), int(rng.integers(10)))
        loss, grad, params = _ce32(32, 10, 7, 1e-2, entry)
        _, good, _ = _ce32(32, 10, 7)
        wrong = grad(params)["Z"].astype(float)
        right = good(params)["Z"].astype(float)
        size = float(np.linalg.norm(wrong - right) / np.linalg.norm(right))
        result = check_gradient(loss, grad, params)
        if not result.ok:
            caught += 1
            continue
        stated = re.search(r"errors below about ([0-9.e+-]+) of the gradient's norm", str(result))
        covered += bool(stated and float(stated.group(1)) >= size)
    print(
        f"one entry 1 % off, 32×10 float32 softmax-CE: reported in {caught}/{args.seeds} placements; "
        f"of the {args.seeds - caught} passes, {covered} state a resolution at or above the bug's relative size"
    )
    false = missed = 0
    for seed in range(args.seeds):
        loss, grad, params = _relu_mlp32(seed)
        false += not check_gradient(loss, grad, params).ok
        missed += check_gradient(loss, lambda p, grad=grad: grad(p, drop_relu_derivative=True), params).ok
    print(
        f"float32 ReLU networks: false alarms {false}/{args.seeds}; "
        f"dropped ReLU derivative caught {args.seeds - missed}/{args.seeds}"
    )


if __name__ == "__main__":
    main()
