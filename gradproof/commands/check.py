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
    if not p.exists():
        raise InputError(f"parameter file {path!r} does not exist")
    if not p.is_file():
        raise InputError(f"--params {path!r} is {_file_kind(p)}, not an .npz file written by numpy.savez")
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
        _check_headers(p)
        with np.load(p, allow_pickle=False) as data:
            params = {name: np.array(data[name]) for name in data.files}
    except InputError:
        raise
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - a corrupt file is an input error, whatever numpy raises
        raise InputError(f"cannot read {path!r} as an .npz file: {type(exc).__name__}: {exc}") from None
    if not params:
        raise InputError(f"{path!r} holds no arrays")
    if list(params) == ["arr_0"]:  # np.savez(file, array): a single array
        return params["arr_0"]
    return params


def _file_kind(p: Path) -> str:
    import stat

    mode = p.stat().st_mode
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return kind
    return "not a regular file"


def _check_headers(p: Path) -> None:
    """Read every member's .npy header before numpy allocates anything: a corrupt header, or one
    that claims more data than the file holds (a "745 GiB" array in a 1 kB file), is refused."""
    import zipfile

    import numpy as np

    fmt = np.lib.format
    with zipfile.ZipFile(p) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[:-4]
            with archive.open(info) as fh:
                try:
                    version = fmt.read_magic(fh)
                    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                    shape, _fortran, dtype = read(fh, max_header_size=100_000)
                except Exception as exc:  # noqa: BLE001 - ValueError, SyntaxError, tokenize.TokenError, ...
                    raise InputError(
                        f"cannot read {str(p)!r}: the header of array {name!r} is corrupt "
                        f"({type(exc).__name__}: {str(exc)[:160]})"
                    ) from None
                header_size = fh.tell()
            if dtype.hasobject:
                continue  # refused by np.load(allow_pickle=False) with its own message
            claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
            held = info.file_size - header_size
            if claimed > held:
                raise InputError(
                    f"cannot read {str(p)!r}: array {name!r} claims shape {tuple(shape)} of {dtype} "
                    f"({_bytes(claimed)}) but the file holds {_bytes(held)} of data: the file is corrupt or truncated"
                )


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("kB", 1000)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


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
