"""``gradproof check MODULE:LOSS MODULE:GRAD --params FILE.npz``: check a hand-written gradient.

MODULE is a dotted module name (importable from the current directory) or a path to a ``.py``
file.  Exit 0 when the gradient agrees, 1 when it does not, 2 for usage or input errors — with
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from gradproof.errors import InputError


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
    parser.set_defaults(run=run)


def _load_module(spec: str) -> Any:
    looks_like_path = spec.endswith(".py") or "/" in spec or "\\" in spec
    try:
        if looks_like_path:
            path = Path(spec)
            if not path.is_file():
                raise InputError(f"module file {spec!r} does not exist")
            name = f"_gradproof_user_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise InputError(f"cannot load {spec!r} as a Python module")
            module = importlib.util.module_from_spec(module_spec)
            sys.path.insert(0, str(path.resolve().parent))
            try:
                module_spec.loader.exec_module(module)
            finally:
                sys.path.pop(0)
            return module
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        return importlib.import_module(spec)
    except InputError:
        raise
    except BaseException as exc:  # noqa: BLE001 - user code: report it in one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"cannot import {spec!r}: {type(exc).__name__}: {exc}") from None


def _resolve(target: str) -> Any:
    module_spec, sep, attr = target.rpartition(":")
    if not sep or not module_spec or not attr:
        raise InputError(f"expected MODULE:FUNCTION, got {target!r}")
    module = _load_module(module_spec)
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{module_spec!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"{target!r} is not callable")
    return obj


def _load_params(path: str) -> Any:
    import zipfile

    import numpy as np

    if not Path(path).is_file():
        raise InputError(f"parameter file {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise InputError(f"{path!r} is a single .npy array; save parameters with numpy.savez")
            params = {name: np.array(data[name]) for name in data.files}
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"cannot read {path!r} as an .npz file: {exc}") from None
    if not params:
        raise InputError(f"{path!r} holds no arrays")
    if list(params) == ["arr_0"]:  # np.savez(file, array): a single array
        return params["arr_0"]
    return params


def run(args: argparse.Namespace) -> int:
    from gradproof.verify.check import check_gradient

    loss = _resolve(args.loss)
    grad = _resolve(args.grad)
    params = _load_params(args.params)
    try:
        result = check_gradient(
            loss, grad, params, seed=args.seed, directions=args.directions, device=args.device
        )
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback on the command line
        raise InputError(f"checking failed: {type(exc).__name__}: {exc}") from None
    print(result)
    return 0 if result.ok else 1
