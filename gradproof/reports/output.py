"""Writing report files without ever leaving a half-written or clobbered file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradproof.errors import InputError


def check_output_path(path: str | os.PathLike, *, option: str = "-o") -> Path:
    """The output path, refused (InputError) when it is a directory or its folder is missing."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{option} {str(p)!r}: is a directory; give a file name such as notes.tex")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{option} {str(p)!r}: folder {str(parent)!r} does not exist")
    return p


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so a
    reader sees the old file or the new one, never a mix."""
    p = check_output_path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    except OSError as exc:  # a read-only or special folder: one line, the old file untouched
        raise InputError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        if p.exists():
            os.chmod(tmp, p.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # disk full, permissions: say so, never a traceback
            raise InputError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
        raise
    return p


def comment_line(text: str) -> str:
    """Text made safe for a LaTeX ``%`` comment: one line, printable ASCII (a newline in a title
    would otherwise end the comment and run what follows)."""
    return "".join(ch if 32 <= ord(ch) < 127 else " " for ch in str(text)).strip()
