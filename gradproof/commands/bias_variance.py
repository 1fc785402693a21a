"""``gradproof bias-variance``: run the bias–variance experiment and print its table."""

from __future__ import annotations

import argparse
import json

from gradproof.console import say
from gradproof.errors import InputError


def _degrees(text: str) -> list[int]:
    """'1,4,20' or '1' (argparse collects repeated words with nargs='+')."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"degrees must be integers, got {text!r}") from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bias-variance",
        help="measure bias^2, variance and noise of polynomial fits against the directly measured error",
        description=(
            "Fit polynomials of several degrees to many noisy datasets drawn from "
            "f(x) = 4x^4 - 4x^2 + x and print bias^2 + variance + sigma^2 next to the measured "
            "expected error, with the Monte Carlo standard error of their gap."
        ),
    )
    parser.add_argument(
        "--degrees", nargs="+", type=_degrees, default=[[1, 4, 20]], metavar="D",
        help="polynomial degrees, e.g. '1 4 20' or '1,4,20' (default: 1 4 20)",
    )  # fmt: skip
    parser.add_argument("--datasets", type=int, default=2000, help="training sets (default: 2000)")
    parser.add_argument("--train-size", type=int, default=30, help="points per training set (default: 30)")
    parser.add_argument("--test-size", type=int, default=200, help="test points (default: 200)")
    parser.add_argument("--noise", type=float, default=0.3, help="noise standard deviation (default: 0.3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--device", default="auto", help="'auto' (default), 'cpu' or 'cuda'")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gradproof.experiments.bias_variance import bias_variance_experiment

    degrees = [d for group in args.degrees for d in group]
    if not degrees:
        raise InputError("--degrees: give at least one degree")
    result = bias_variance_experiment(
        degrees=degrees,
        n_datasets=args.datasets,
        n_train=args.train_size,
        noise_std=args.noise,
        seed=args.seed,
        device=args.device,
        n_test=args.test_size,
    )
    say(json.dumps(result.to_dict(), indent=2) if args.json else result)
    return 0 if result.ok else 1
