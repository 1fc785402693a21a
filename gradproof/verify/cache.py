"""A cache of derivation verifications, so that ``gradproof verify`` with nothing changed is instant.

A verification depends on the package's code, the libraries that compute it, the seed of its
random points and the device.  The cache key is a hash of all of them: every file of the
``gradproof`` package, the versions of Python, SymPy, NumPy and PyTorch (read from their
installed metadata, without importing them), the machine's architecture, the seed and the
requested device (with ``CUDA_VISIBLE_DEVICES`` for ``auto``).  Change any of them and the
cache misses.

Only verifications that passed are stored: a failure is computed again every time, with its
full diagnosis.  Entries are JSON files (never pickles: reading the cache runs no code),
written to a temporary file and renamed into place, so concurrent runs (``--jobs`` workers,
two terminals) never see half a file; the last writer of identical content wins.  An
unreadable, corrupt or unwritable cache is treated as empty — the cache can make a run
faster, never make it fail or change its verdict.

Where: ``$XDG_CACHE_HOME/gradproof`` when set, else the platform's cache folder
(``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows).
Reading from the cache imports neither SymPy nor PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import asdict
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from gradproof.derivations.proof import ProofResult, StepRecord
from gradproof.verify.verification import DerivationVerification, Witness

#: bump when the stored format changes
FORMAT = 1
#: cache folders of other keys (older code, other seeds) kept besides the one in use
KEEP_OTHER_KEYS = 8
_PACKAGE = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/gradproof``, else the platform's user cache folder."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        base = Path(xdg)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path.home() / ".cache"
    return base / "gradproof"


@cache
def source_hash() -> str:
    """SHA-256 of every file of the installed ``gradproof`` package (paths and contents)."""
    digest = hashlib.sha256()
    files = sorted(
        p for p in _PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    )
    for path in files:
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def cache_key(seed: int, device: str) -> str:
    """The key of verifications at ``seed`` on the requested ``device`` with this code."""
    parts = {
        "format": FORMAT,
        "source": source_hash(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "sympy": _version("sympy"),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "seed": int(seed),
        "device": str(device),
        # which GPUs "auto" can see decides where it runs
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES", "") if str(device) == "auto" else "",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _to_record(result: DerivationVerification) -> dict[str, Any]:
    steps = [{"index": s.index, "reason": s.reason, "method": s.method, "detail": s.detail}
             for s in result.proof.steps]
    return {
        "name": result.name,
        "title": result.title,
        "device": result.device,
        "seconds": result.seconds,
        "proof": {"name": result.proof.name, "steps": steps,
                  "statement_is_last_step": result.proof.statement_is_last_step},
        "witnesses": [asdict(w) for w in result.witnesses],
    }


def _from_record(record: dict[str, Any]) -> DerivationVerification:
    proof = record["proof"]
    steps = tuple(StepRecord(int(s["index"]), str(s["reason"]), str(s["method"]), str(s["detail"]))
                  for s in proof["steps"])
    witnesses = tuple(
        Witness(str(w["method"]), bool(w["ok"]), w["max_error"], w["tolerance"], str(w["detail"]))
        for w in record["witnesses"]
    )
    return DerivationVerification(
        str(record["name"]), str(record["title"]),
        ProofResult(str(proof["name"]), steps, bool(proof["statement_is_last_step"])),
        witnesses, str(record["device"]), float(record["seconds"]), cached=True,
    )


class ResultCache:
    """Verifications of one key (see :func:`cache_key`) in ``root/<key>/``."""

    def __init__(self, key: str, root: Path | None = None) -> None:
        self.root = cache_root() if root is None else Path(root)
        self.folder = self.root / key
        self._pruned = False

    @classmethod
    def open(cls, seed: int, device: str, root: Path | None = None) -> ResultCache:
        return cls(cache_key(seed, device), root)

    def _read(self, filename: str) -> Any:
        try:
            return json.loads((self.folder / filename).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, filename: str, data: Any) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{filename}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f)
                os.replace(tmp, self.folder / filename)  # atomic: readers see the old file or the new
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only or full disk: the run goes on without the cache

    def get(self, name: str) -> DerivationVerification | None:
        """The stored verification of ``name``, or None (never stored, or unreadable)."""
        record = self._read(f"{name}.json")
        try:
            result = _from_record(record) if record is not None else None
        except (KeyError, TypeError, ValueError):
            return None
        if result is None or result.name != name or not result.ok:
            return None
        return result

    def put(self, result: DerivationVerification) -> None:
        """Store ``result`` if it passed (a failure is always computed afresh)."""
        if result.ok and not result.cached:
            self._write(f"{result.name}.json", _to_record(result))
            self._forget_old_keys()

    def catalog_names(self) -> list[str] | None:
        """The names of the whole catalog for this code, when a run stored them."""
        names = self._read("catalog.json")
        if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
            return names
        return None

    def put_catalog_names(self, names: list[str]) -> None:
        self._write("catalog.json", list(names))

    def _forget_old_keys(self) -> None:
        """Keep the folders of the :data:`KEEP_OTHER_KEYS` most recently written other keys
        (another run may be deleting them at the same time: whatever is gone is gone)."""
        if self._pruned:
            return
        self._pruned = True
        others = []
        try:
            for path in self.root.iterdir():
                if path.is_dir() and path != self.folder:
                    others.append((path.stat().st_mtime, path))
        except OSError:
            return
        others.sort(reverse=True)
        for _, old in others[KEEP_OTHER_KEYS:]:
            shutil.rmtree(old, ignore_errors=True)
