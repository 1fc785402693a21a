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
its own verdict.  Output lost for another reason (``>/dev/full``) is remembered
(:func:`lost_output`): the CLI then says so and never exits 0.

>>> ascii_spelling("‖g‖ ≤ 1e-3 ✓, ∂L/∂σ ≈ 0")
'||g|| <= 1e-3 ok, dL/dsigma ~= 0'

The mathematics printer (``gradproof show``) lays its text out in ASCII *before* wrapping when
the terminal cannot encode Unicode (:func:`wants_ascii`, :func:`to_ascii`: ``Σ_{l=1..n}`` →
``sum_{l=1..n}``, ``λw`` → ``lambda w``, ``δ_ij`` → ``delta_ij``), since the ASCII spellings are
longer, and to the terminal's :func:`width`.

>>> print(to_ascii("∂s_i/∂z_j = s_i(δ_ij − s_j) ≤ ¼; λw, αλ, σ′(z)"))
ds_i/dz_j = s_i(delta_ij - s_j) <= 1/4; lambda w, alpha lambda, sigma'(z)
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import sys
import unicodedata
from typing import Any, TextIO

__all__ = ["ascii_spelling", "echo", "install", "lost_output", "say", "to_ascii", "wants_ascii", "width"]

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


_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ"
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ᵢⱼₖₗₘₙ"
_SCRIPT_RUN = re.compile(f"[{_SUPERSCRIPTS}]+|[{_SUBSCRIPTS}]+")
_SCRIPT_PLAIN = str.maketrans(_SUPERSCRIPTS + _SUBSCRIPTS, "0123456789+-=()ni" + "0123456789+-=()ijklmn")


def _scripts(text: str) -> str:
    """Runs of superscripts and subscripts as one exponent or index: ``u⁻²`` → ``u^-2`` (not
    ``u^-^2``), ``L⁽ⁱ⁾`` → ``L^(i)``, ``x₁₂`` → ``x_12``."""

    def plain(run: re.Match[str]) -> str:
        mark = "^" if run.group()[0] in _SUPERSCRIPTS else "_"
        return mark + run.group().translate(_SCRIPT_PLAIN)

    return _SCRIPT_RUN.sub(plain, text)


def ascii_spelling(text: str) -> str:
    """``text`` with every non-ASCII character spelled in ASCII (``≤`` → ``<=``, ``σ`` →
    ``sigma``, ``é`` → ``e``, ``u⁻²`` → ``u^-2``, anything unknown → ``?``)."""
    return "".join(_spell(ch) for ch in _scripts(str(text)))


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
    stream = getattr(stream, "_stream", stream)  # a _PipeSafe: the stream it wraps
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


#: the first error (other than a reader that went away) met writing the output, since install()
_LOST: list[OSError] = []


def _failed(stream: Any, exc: OSError) -> None:
    """A write to ``stream`` failed: silence the stream so nothing later fails on it, and remember
    an error that lost output the user did not choose to stop reading (``>/dev/full``: ENOSPC, EIO),
    so that the command cannot report success (:func:`lost_output`).  A broken pipe is the
    reader's choice (``| head``) and changes nothing; a failing stderr only loses messages."""
    _silence(stream)
    if isinstance(exc, BrokenPipeError):
        return
    inner = getattr(stream, "_stream", stream)
    if inner is sys.stderr or inner is sys.__stderr__:
        return
    if not _LOST:
        _LOST.append(exc)


def lost_output() -> OSError | None:
    """The error that lost part of the output since :func:`install`, or None."""
    return _LOST[0] if _LOST else None


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
    except OSError as exc:  # BrokenPipeError (| head), or ENOSPC/EIO (>/dev/full)
        _failed(stream, exc)


def flush() -> None:
    """Flush stdout and stderr, silencing a stream whose reader has gone."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except OSError as exc:
            _failed(stream, exc)
        except ValueError:  # a closed stream
            pass


class _PipeSafe:
    """``sys.stdout`` for the length of a command: a plain ``print`` to a reader that went away
    (``| head``) is silenced like :func:`say`'s, instead of raising BrokenPipeError and losing the
    command's verdict.  Everything else is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            _failed(self._stream, exc)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            _failed(self._stream, exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install() -> list[tuple[Any, Any]]:
    """Give ``sys.stdout`` and ``sys.stderr`` the ASCII fallback for characters they cannot
    encode, and make a closed stdout harmless to plain ``print``; returns what :func:`restore`
    needs to undo both."""
    previous: list[tuple[Any, Any]] = []
    _LOST.clear()
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors is None or errors == ERRORS or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(errors=ERRORS)
        except (AttributeError, OSError, ValueError):
            continue
        previous.append((stream, errors))
    if sys.stdout is not None and not isinstance(sys.stdout, _PipeSafe):
        previous.append((None, sys.stdout))
        sys.stdout = _PipeSafe(sys.stdout)
    return previous


def restore(previous: list[tuple[Any, Any]]) -> None:
    for stream, value in previous:
        if stream is None:  # the stdout that _PipeSafe wrapped
            sys.stdout = value
            continue
        try:
            stream.reconfigure(errors=value)
        except (AttributeError, OSError, ValueError):
            pass


#: columns assumed when the output is not a terminal (a pipe, a file, a notebook)
DEFAULT_WIDTH = 100
#: narrower terminals are laid out at this width (lines then overflow rather than becoming unreadable)
MIN_WIDTH = 40

# ASCII spellings.  Words (Greek letters, "sum") are separated from a following letter or digit by
# a space when written out (λw → "lambda w"), see to_ascii.
_WORDS = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "eps", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda",
    "Ξ": "Xi", "Π": "Pi", "Σ": "sum", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "∑": "sum", "∏": "prod",
    "ℓ": "ell", "∇": "grad", "∞": "inf", "√": "sqrt", "∈": "in", "∉": "not in", "∀": "for all",
}  # fmt: skip
_SYMBOLS = {
    "∂": "d", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~", "→": "->", "←": "<-", "⇒": "=>", "↦": "|->",
    "−": "-", "–": "-", "—": "--", "·": "*", "⋅": "*", "×": "x", "⊙": "(.)", "‖": "||", "⟨": "<",
    "⟩": ">", "…": "...", "′": "'", "″": "''", "ᵀ": "^T", "²": "^2", "³": "^3", "¹": "^1", "⁰": "^0",
    "⁴": "^4", "⁻": "^-", "⁺": "^+", "⁻¹": "^-1", "₀": "_0", "₁": "_1", "₂": "_2", "½": "1/2",
    "¼": "1/4", "±": "+/-", "∓": "-/+", "≡": "==", "∝": "~", "≪": "<<", "≫": ">>", "“": '"', "”": '"',
    "‘": "'", "’": "'", "\u00a0": " ", "✓": "ok", "✗": "x", "ŷ": "y_hat", "Ŷ": "Y_hat", "ḡ": "g_bar",
    "⁎": "*", "∘": "o", "∣": "|", "⌊": "floor(", "⌋": ")", "⌈": "ceil(", "⌉": ")", "𝔼": "E",
    "𝟙": "1", "ℝ": "R", "ℕ": "N", "∅": "{}", "∩": "&", "∪": "|", "⊂": "<", "⊆": "<=",
}  # fmt: skip


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def to_ascii(text: str) -> str:
    """``text`` with every non-ASCII character spelled in ASCII (see the module docstring):
    known math symbols by name, accented letters without their accents (é → e), anything else
    as ``?``."""
    text = _scripts(str(text))
    out: list[str] = []
    for k, ch in enumerate(text):
        if ord(ch) < 128:
            out.append(ch)
            continue
        if ch in _WORDS:
            word = _WORDS[ch]
            if out and out[-1] and _is_word_char(out[-1][-1]):
                word = " " + word
            nxt = text[k + 1] if k + 1 < len(text) else ""
            if _is_word_char(nxt) or nxt in _WORDS:
                word += " "
            out.append(word)
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
        else:
            out.append(_spell(ch))
    return "".join(out)


def encoding_of(stream: TextIO | None = None) -> str:
    stream = sys.stdout if stream is None else stream
    return getattr(stream, "encoding", None) or "ascii"


def can_encode(text: str, stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stdout) can write ``text`` as it is."""
    try:
        str(text).encode(encoding_of(stream))
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def wants_ascii(stream: TextIO | None = None) -> bool:
    """True when ``stream`` cannot encode gradproof's Unicode mathematics (probe: Σ∂δ≤→′ᵀ⊙)."""
    return not can_encode("Σ∂δσλ≤≥≠→′ᵀ⊙−·ŷ", stream)


def width(stream: TextIO | None = None) -> int:
    """Columns to lay text out in: the terminal's width (``COLUMNS`` wins when set), 100 when the
    output is not a terminal, never fewer than :data:`MIN_WIDTH`."""
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, columns if columns > 0 else DEFAULT_WIDTH)


def echo(text: str = "", *, file: TextIO | None = None, end: str = "\n") -> None:
    """:func:`say` for one text: ASCII spellings where the stream cannot encode it, a closed pipe
    ignored (callers that wrap text to a width ask :func:`wants_ascii` first)."""
    say(text, file=file, end=end)
