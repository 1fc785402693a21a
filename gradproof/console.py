"""Writing to a terminal: its width, and ASCII spellings where it cannot encode Unicode.

gradproof prints mathematics in Unicode (Σ, ∂, δ_ij, ≤, σ′).  A terminal or pipe whose encoding
cannot hold those characters (``LC_ALL=C``, ``PYTHONIOENCODING=ascii`` or ``latin-1``) gets ASCII
spellings instead (``sum``, ``d``, ``delta_ij``, ``<=``, ``sigma'``), never a
``UnicodeEncodeError``.  Every command prints through :func:`echo`; text that is laid out to a
width (``gradproof show``) is spelled in ASCII *before* it is wrapped (:func:`wants_ascii`), since
the ASCII spellings are longer.

>>> print(to_ascii("∂s_i/∂z_j = s_i(δ_ij − s_j) ≤ ¼; λw, αλ, σ′(z)"))
ds_i/dz_j = s_i(delta_ij - s_j) <= 1/4; lambda w, alpha lambda, sigma'(z)
"""

from __future__ import annotations

import shutil
import sys
import unicodedata
from typing import TextIO

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
_SUPERSCRIPT_MINUS_ONE = "⁻¹"


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def to_ascii(text: str) -> str:
    """``text`` with every non-ASCII character spelled in ASCII (see the module docstring):
    known math symbols by name, accented letters without their accents (é → e), anything else
    as ``?``."""
    text = str(text).replace(_SUPERSCRIPT_MINUS_ONE, "^-1")
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
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain if plain and plain.isprintable() else "?")
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
    """``print(text, end=end, file=file)``, with ASCII spellings where the stream cannot encode
    the text (a safety net: callers that wrap text ask :func:`wants_ascii` first)."""
    file = sys.stdout if file is None else file
    text = str(text) + end
    if not can_encode(text, file):
        text = to_ascii(text)
    file.write(text)
