"""``gradproof check MODULE:LOSS MODULE:GRAD --params FILE.npz``: check a hand-written gradient.

MODULE is a dotted module name (importable from the current directory) or a path to a ``.py``
file.  Exit 0 when the gradient agrees, 1 when it does not, 2 for usage or input errors — with
one line on stderr, never a traceback.

The user's code is imported and called in a child process (:mod:`gradproof.isolated`); this
process loads the parameters, keeps the verdict and prints it, so code that exits, crashes or
hangs ends in one line and exit 2, never in a silent exit 0.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from gradproof.errors import GradproofError, InputError

#: seconds the user's code may run before ``check`` and ``report --function`` give up
DEFAULT_TIMEOUT = 600.0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a hand-written gradient against finite differences",
        description=(
            "Check GRAD (the hand-written gradient) against finite differences of LOSS at the "
            "parameters stored in an .npz file.  Exit 0 ok, 1 mismatch, 2 usage or input error."
        ),
    )
    parser.add_argument("loss", metavar="MODULE:LOSS", help="loss function, e.g. mynet.py:loss")
    parser.add_argument("grad", metavar="MODULE:GRAD", help="gradient function, e.g. mynet.py:grad")
    parser.add_argument("--params", required=True, metavar="FILE.npz", help="parameters, one array per name")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random directions (default 0)")
    parser.add_argument(
        "--directions",
        type=int,
        default=None,
        help="directions per parameter (default: 8, or 5 above 2,048 entries)",
    )
    parser.add_argument("--device", default=None, help="device for PyTorch code: auto, cpu or cuda")
    add_timeout_option(parser, "the check")
    parser.set_defaults(run=run)


def add_timeout_option(parser: Any, what: str) -> None:
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"stop {what} after this many seconds, exit 2 (default {DEFAULT_TIMEOUT:g})",
    )  # fmt: skip


def checked_timeout(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"--timeout must be a positive number of seconds, got {value:g}")
    return value


def _load_params(path: str) -> Any:
    import zipfile

    import numpy as np

    p = Path(path)
    if p.is_dir():
        raise InputError(f"--params {path!r} is a folder; give an .npz file written by numpy.savez")
    if not p.is_file():
        raise InputError(f"parameter file {path!r} does not exist")
    # np.load guesses the format from the first bytes: a .npy or a text file would come back as a
    # bare array or as a misleading "pickled data" complaint, so insist on the zip container.
    if not zipfile.is_zipfile(p):
        with open(p, "rb") as fh:
            is_npy = fh.read(6) == b"\x93NUMPY"
        what = "a single .npy array" if is_npy else "not an .npz (zip) file"
        raise InputError(
            f"cannot read --params {path!r}: {what}; save the parameters with numpy.savez(file, w=..., b=...)"
        )
    try:
        with np.load(p, allow_pickle=False) as data:
            params = {name: np.array(data[name]) for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise InputError(f"cannot read {path!r} as an .npz file: {exc}") from None
    if not params:
        raise InputError(f"{path!r} holds no arrays")
    if list(params) == ["arr_0"]:  # np.savez(file, array): a single array
        return params["arr_0"]
    return params


def run(args: argparse.Namespace) -> int:
    from gradproof.console import say
    from gradproof.isolated import run_isolated

    timeout = checked_timeout(args.timeout)
    params = _load_params(args.params)
    options = {"seed": args.seed, "directions": args.directions, "device": args.device}
    result = run_isolated(
        "gradproof.commands.check:check_in_child",
        {"loss": args.loss, "grad": args.grad, "params": params, "options": options},
        timeout=timeout,
        what="the check",
    )
    say(result)
    return 0 if result.ok else 1


def check_in_child(loss: str, grad: str, params: Any, options: dict[str, Any]) -> Any:
    """In the child process: import the user's functions and check them (a GradientCheck)."""
    from gradproof.usercode import resolve
    from gradproof.verify.check import check_gradient

    loss_fn = resolve(loss)
    grad_fn = resolve(grad)
    try:
        return check_gradient(loss_fn, grad_fn, params, **options)
    except GradproofError:  # InputError, DeviceError: already one clear line
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback on the command line
        raise InputError(f"checking failed: {type(exc).__name__}: {exc}") from None
