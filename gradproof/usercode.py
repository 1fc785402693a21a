"""Loading the user's own code from ``MODULE:NAME`` on the command line, in one place.

``MODULE`` is a dotted module name (importable from the current folder, as for ``python -m``) or
a path to a ``.py`` file; ``NAME`` may be dotted (``obj.method``).  Whatever goes wrong — a
missing file, a syntax error, an exception while the module runs, a missing attribute — is an
:class:`~gradproof.InputError` that names the target, never a traceback.  Used by
``gradproof check`` and ``gradproof report --function``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from gradproof.errors import InputError

_LOADED: dict[tuple[str, int, int], Any] = {}  # (.py path, mtime, size) -> module, loaded once


def load_module(spec: str, *, where: str = "") -> Any:
    """The module named by ``spec`` (dotted name or ``.py`` path); ``where`` prefixes errors."""
    prefix = f"{where}: " if where else ""
    looks_like_path = spec.endswith(".py") or "/" in spec or "\\" in spec
    try:
        if looks_like_path:
            path = Path(spec)
            if path.is_dir():
                raise InputError(f"{prefix}{spec!r} is a folder, not a .py file")
            if not path.is_file():
                raise InputError(f"{prefix}module file {spec!r} does not exist")
            stat = path.stat()
            key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)  # an edited file is reloaded
            if key in _LOADED:  # loss and grad from one file share one module (and its globals)
                return _LOADED[key]
            # the file's own name, so reports read "mycode:softmax" (not registered in sys.modules)
            name = path.stem if path.stem.isidentifier() else "user_module"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise InputError(f"{prefix}cannot load {spec!r} as a Python module")
            module = importlib.util.module_from_spec(module_spec)
            sys.path.insert(0, str(Path(key[0]).parent))
            try:
                module_spec.loader.exec_module(module)
            finally:
                sys.path.pop(0)
            _LOADED[key] = module
            return module
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        return importlib.import_module(spec)
    except InputError:
        raise
    except BaseException as exc:  # noqa: BLE001 - user code: report it in one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"{prefix}cannot import {spec!r}: {type(exc).__name__}: {exc}") from None


def resolve(target: str, *, where: str = "", what: str = "MODULE:FUNCTION") -> Any:
    """The callable named by ``MODULE:NAME``."""
    prefix = f"{where}: " if where else ""
    module_spec, sep, attr = str(target).rpartition(":")
    if not sep or not module_spec or not attr:
        raise InputError(f"{prefix}expected {what}, got {target!r}")
    module = load_module(module_spec, where=where)
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{prefix}{module_spec!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"{prefix}{target!r} is not callable")
    return obj
