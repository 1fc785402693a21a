"""Writing to the terminal so that output never crashes a command and never changes its verdict.

Two things go wrong with a plain ``print`` from a command line tool:

* a terminal or pipe that cannot encode Unicode (``LC_ALL=C``, ``PYTHONIOENCODING=ascii`` or
  ``latin-1``) raises ``UnicodeEncodeError`` on the first ``≤``, ``∂`` or ``✓``;
* a reader that stops early (``gradproof check ... | head -1``, ``| true``) raises
  ``BrokenPipeError``, and a tool that treats that as success exits 0 after a FAILED check.

Every command prints through :func:`say` (or plain ``print``: :func:`install`, run once by the
CLI, gives ``sys.stdout`` and ``sys.stderr`` the same ASCII fallback).  A character the stream
cannot encode is written in an ASCII spelling (``≤`` → ``<=``, ``✓`` → ``ok``, ``σ`` →
``sigma``, ``é`` → ``e``); a closed stdout is silenced, so the command goes on and exits with
its own verdict.

>>> ascii_spelling("‖g‖ ≤ 1e-3 ✓, ∂L/∂σ ≈ 0")
'||g|| <= 1e-3 ok, dL/dsigma ~= 0'
"""

from __future__ import annotations

import codecs
import os
import sys
import unicodedata
from typing import Any, TextIO

__all__ = ["ascii_spelling", "install", "say"]

# characters whose ASCII spelling is not their decomposition (é → e is found by NFKD)
_SPELLING = {
    "✓": "ok", "✔": "ok", "✗": "x", "✘": "x", "≈": "~=", "≤": "<=", "≥": ">=", "≠": "!=", "≡": "==",
    "→": "->", "←": "<-", "↦": "|->", "⇒": "=>", "×": "x", "·": "*", "⋅": "*", "−": "-", "–": "-",
    "—": "--", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "′": "'", "″": "''", "∂": "d",
    "∑": "sum", "∏": "prod", "√": "sqrt", "∞": "inf", "∈": " in ", "∉": " not in ", "±": "+/-",
    "∓": "-/+", "∇": "grad ", "‖": "||", "⊙": "(.)", "⊗": "(x)", "⟨": "<", "⟩": ">", "ᵀ": "^T",
    "ℓ": "l", "∝": "~", "≪": "<<", "≫": ">>", "∀": "for all ", "∃": "exists ", "½": "1/2",
    "∫": "integral ", "°": " deg", "•": "*", "\u00a0": " ", "ß": "ss", "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ı": "i", "¹": "^1", "²": "^2",
    "³": "^3", "⁻": "^-", "µ": "mu", "Σ": "Sum", "Π": "Prod",
}  # fmt: skip
_SUPER = str.maketrans("⁰⁴⁵⁶⁷⁸⁹ⁿⁱ", "0456789ni")
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₗₘₙ", "0123456789ijklmn")


def _spell(ch: str) -> str:
    if ch.isascii():
        return ch
    if ch in _SPELLING:
        return _SPELLING[ch]
    if ch.translate(_SUPER) != ch:
        return "^" + ch.translate(_SUPER)
    if ch.translate(_SUB) != ch:
        return "_" + ch.translate(_SUB)
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK ") and " LETTER " in name:  # σ → sigma, Δ → Delta
        letter = name.split(" LETTER ", 1)[1].split()[0].lower()
        return letter.capitalize() if " CAPITAL " in name else letter
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return plain if plain and plain.isprintable() else "?"


def ascii_spelling(text: str) -> str:
    """``text`` with every non-ASCII character spelled in ASCII (``≤`` → ``<=``, ``σ`` →
    ``sigma``, ``é`` → ``e``, anything unknown → ``?``)."""
    return "".join(_spell(ch) for ch in str(text))


def _encode_error(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):  # pragma: no cover - registered for encoding only
        raise exc
    return ascii_spelling(exc.object[exc.start : exc.end]), exc.end


ERRORS = "gradproof-ascii"
codecs.register_error(ERRORS, _encode_error)


def _encodable(text: str, stream: Any) -> str:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        return text.encode(encoding, errors=ERRORS).decode(encoding)
    except LookupError:  # pragma: no cover - a stream naming an unknown codec
        return ascii_spelling(text)


def _silence(stream: Any) -> None:
    """After a broken pipe: point the stream's file descriptor at /dev/null, so neither later
    writes nor the flush at interpreter exit fail (which would turn the verdict into exit 120)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def say(*parts: Any, file: TextIO | None = None, end: str = "\n", sep: str = " ") -> None:
    """``print(*parts)``, flushed, with an ASCII spelling for what the stream cannot encode and a
    closed pipe ignored (the caller's exit code stays its verdict).  ``file`` defaults to stdout."""
    stream = sys.stdout if file is None else file
    if stream is None:  # pythonw, or a closed stream: nothing to print to
        return
    text = sep.join(str(p) for p in parts) + end
    try:
        stream.write(_encodable(text, stream))
        stream.flush()
    except BrokenPipeError:
        _silence(stream)


def flush() -> None:
    """Flush stdout and stderr, silencing a stream whose reader has gone."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            _silence(stream)
        except (OSError, ValueError):
            pass


def install() -> list[tuple[Any, str]]:
    """Give ``sys.stdout`` and ``sys.stderr`` the ASCII fallback for characters they cannot
    encode; returns what :func:`restore` needs to undo it."""
    previous = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors is None or errors == ERRORS or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(errors=ERRORS)
        except (AttributeError, OSError, ValueError):
            continue
        previous.append((stream, errors))
    return previous


def restore(previous: list[tuple[Any, str]]) -> None:
    for stream, errors in previous:
        try:
            stream.reconfigure(errors=errors)
        except (AttributeError, OSError, ValueError):
            pass
