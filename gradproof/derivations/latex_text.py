"""Plain-text reasons and titles as LaTeX that pdflatex accepts.

Reasons are written for people in plain text with a little Unicode (``∂``, ``Σ``, ``≥``) and
sub/superscript tokens (``z_j``, ``e^{a+b}``); :func:`text_to_latex` turns them into LaTeX,
escaping everything else so no text can inject commands.  :func:`escape_text` is the plain
escaper for user-supplied names and titles.
"""

from __future__ import annotations

import re
import unicodedata

from gradproof.errors import InputError

_UNICODE_MATH = {
    "∂": r"\partial ", "Σ": r"\sum ", "∑": r"\sum ", "≥": r"\geq ", "≤": r"\leq ", "≠": r"\neq ",
    "→": r"\to ", "←": r"\leftarrow ", "‖": r"\| ", "σ": r"\sigma ", "≈": r"\approx ", "λ": r"\lambda ",
    "η": r"\eta ", "α": r"\alpha ", "ε": r"\varepsilon ", "δ": r"\delta ", "μ": r"\mu ", "θ": r"\theta ",
    "·": r"\cdot ", "×": r"\times ", "−": "-", "²": "^{2}", "³": "^{3}", "ᵀ": "^{\\top}", "ŷ": r"\hat{y}",
    "Ŷ": r"\hat{Y}", "∞": r"\infty ", "∈": r"\in ", "⊙": r"\odot ", "√": r"\sqrt ", "∇": r"\nabla ",
    "ℓ": r"\ell ", "π": r"\pi ", "ρ": r"\rho ", "τ": r"\tau ", "φ": r"\phi ", "∝": r"\propto ",
    "Δ": r"\Delta ", "⟨": r"\langle ", "⟩": r"\rangle ", "₁": "_{1}", "₂": "_{2}", "≡": r"\equiv ", "∀": r"\forall ",
    "±": r"\pm ", "½": r"\tfrac{1}{2}", "∓": r"\mp ", "≪": r"\ll ", "≫": r"\gg ", "⋅": r"\cdot ",
}
# every Greek letter, so a title or an author may use any of them (capitals that look Latin are Latin)
_GREEK = dict(zip("αβγδεζηθικλμνξοπρςστυφχψωϑϕϖϱϵϰµ", (
    r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi o \pi \rho "
    r"\varsigma \sigma \tau \upsilon \varphi \chi \psi \omega \vartheta \phi \varpi \varrho \epsilon \varkappa \mu"
).split()))  # fmt: skip
_GREEK.update(zip("ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ", (
    r"\mathrm{A} \mathrm{B} \Gamma \Delta \mathrm{E} \mathrm{Z} \mathrm{H} \Theta \mathrm{I} \mathrm{K} \Lambda "
    r"\mathrm{M} \mathrm{N} \Xi \mathrm{O} \Pi \mathrm{P} \Sigma \mathrm{T} \Upsilon \Phi \mathrm{X} \Psi \Omega"
).split()))  # fmt: skip
_UNICODE_MATH.update({ch: command + " " for ch, command in _GREEK.items() if ch not in _UNICODE_MATH})
# √ on its own in text: \sqrt would take the next character (or a closing brace) as its argument
_UNICODE_MATH.update({"√": r"\surd ", "∏": r"\prod "})
#: the math characters a title or author may contain, for messages
TITLE_MATH = "√ ∑ ∏ ≤ ≥ ≠ ± × · ∂ ∇ ∞ → ∈"
# typographic characters of plain text and their LaTeX spelling (pdflatex without inputenc setup)
_TEXT_UNICODE = {
    "–": "--", "—": "---", "…": r"\ldots{}", "‘": "`", "’": "'", "“": "``", "”": "''", "′": "'", "\u00a0": "~",
}
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    # OT1 text fonts print these as ¡ ¿ — : take them from math
    "<": r"\ensuremath{<}", ">": r"\ensuremath{>}", "|": r"\ensuremath{|}",
}
# Greek and operator letters that may carry a subscript in plain-text reasons (Σ_k, σ_i)
_MATH_LETTERS = "ΣσλθημαεδπρτφℓŷŶ"
# tokens such as z_j, e^{a+b}, x^2, s_{ij}, Σ_k, M_train: typeset as math
_MATH_TOKEN = re.compile(
    rf"[A-Za-z0-9{_MATH_LETTERS}]*(?:[_^](?:\{{[^{{}}\\$]*\}}|[A-Za-z0-9{_MATH_LETTERS}]+))+"
)
# names from code (gradproof.bias_variance_experiment, two_class_softmax): typewriter, not math
_CODE_TOKEN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?|[A-Za-z]\w*_\w+_\w+(?:\(\))?")
# a multi-character script without braces: M_train → M_{train}
_BARE_SCRIPT = re.compile(r"([_^])([^{}_^\\\s]{2,})")
# inside a token's braces also a few operators that map to plain math (h_{l−1}, W^{l·k})
_SAFE_TOKEN = re.compile(rf"[A-Za-z0-9_^{{}}+\-=,{_MATH_LETTERS}−·×ᵀ]*")
# LaTeX-ish commands authors write in assumption and definition texts ("y_i \ge 0"); anything
# else keeps its backslash escaped, so no text can run a command
_TEXT_COMMANDS = {
    "ge": "≥", "geq": "≥", "le": "≤", "leq": "≤", "neq": "≠", "ne": "≠", "sum": "Σ", "log": "log",
    "ln": "ln", "exp": "exp", "max": "max", "min": "min", "|": "‖", "cdot": "·", "times": "×",
    "partial": "∂", "sigma": "σ", "lambda": "λ", "theta": "θ", "eta": "η", "mu": "μ", "alpha": "α",
    "epsilon": "ε", "varepsilon": "ε", "delta": "δ", "pi": "π", "to": "→", "approx": "≈",
    "infty": "∞", "in": "∈", "odot": "⊙", "nabla": "∇", "ell": "ℓ", "top": "ᵀ", "sqrt": "√",
}
_TEXT_COMMAND = re.compile(r"\\(\||[A-Za-z]+)")


# combining accents (after NFD) that pdflatex spells with a command in its default OT1 encoding
_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c",
}
# letters without a decomposition, spelled as text commands
_LETTERS = {
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}", "Ø": r"\O{}",
    "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}", "¡": "!`", "¿": "?`",
}  # fmt: skip


def _latin(ch: str) -> str | None:
    """LaTeX for a non-ASCII Latin letter (é → \\'{e}, ü → \\"{u}, ß → \\ss{}), or None."""
    if ch in _LETTERS:
        return _LETTERS[ch]
    base, *marks = unicodedata.normalize("NFD", ch)
    if not marks or not base.isascii() or not base.isalpha() or any(m not in _ACCENTS for m in marks):
        return None
    out = {"i": r"\i{}", "j": r"\j{}"}.get(base, base)
    for mark in marks:
        accent = _ACCENTS[mark]
        out = f"\\{accent}{{{out}}}"
    return out


def untypesettable(text: str) -> list[str]:
    """The characters of ``text`` that :func:`escape_text` cannot spell for pdflatex."""
    bad = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ord(ch) < 128 or ch in _TEXT_ESCAPES or ch in _UNICODE_MATH or ch in _TEXT_UNICODE:
            continue
        if _latin(ch) is None and ch not in bad:
            bad.append(ch)
    return bad


def check_typesettable(text: str, option: str) -> None:
    """InputError naming the characters of a user's text (a title, an author) that pdflatex
    cannot typeset, rather than printing them as "?" on a handout."""
    bad = untypesettable(text)
    if bad:
        listed = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:5])
        raise InputError(
            f"{option} {str(text)!r}: pdflatex cannot typeset {listed}; accented Latin letters, Greek "
            f"letters and the math symbols {TITLE_MATH} are fine"
        )


def escape_text(text: str) -> str:
    """Escape arbitrary text for LaTeX text mode (user-supplied names, titles, labels)."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch in _UNICODE_MATH:
            out.append(r"\ensuremath{" + _UNICODE_MATH[ch] + "}")
        elif ch in _TEXT_UNICODE:
            out.append(_TEXT_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch if ch.isprintable() else " ")
        else:
            # never emit raw bytes: accented Latin letters as accent commands (é → \\'{e}); for
            # anything else a compatibility form (ﬁ → fi) or "?".  User titles and authors are
            # checked first (check_typesettable), so only catalog text can reach the "?".
            latin = _latin(ch)
            if latin is not None:
                out.append(latin)
                continue
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(escape_text(plain) if plain and plain.isprintable() else "?")
    return "".join(out)


def _math_token(token: str) -> str:
    token = _BARE_SCRIPT.sub(lambda m: f"{m.group(1)}{{{m.group(2)}}}", token)
    body = "".join(_UNICODE_MATH.get(ch, ch) for ch in token)
    return r"\ensuremath{" + body + "}"


def _code_token(token: str) -> str:
    return r"\texttt{" + escape_text(token) + "}"


def _plain(text: str) -> str:
    """Known LaTeX-ish commands (``\\ge``, ``\\sum``) → their Unicode letters; others untouched."""

    def repl(m: re.Match) -> str:
        return _TEXT_COMMANDS.get(m.group(1), m.group(0))

    return _TEXT_COMMAND.sub(repl, str(text))


def text_to_latex(text: str) -> str:
    """A reason, summary or note → safe LaTeX text.  ``$…$`` segments (the markup of
    :mod:`gradproof.derivations.markup`) are typeset as math after their commands are checked
    against the whitelist of :mod:`gradproof.derivations.texmath`; the text between them is
    escaped (with the plain-text conventions below for text written without the markup)."""
    from gradproof.derivations import markup, texmath

    out = []
    for seg in markup.segments(text):
        if seg.kind == "math":
            texmath.check(seg.value)
            out.append(f"${seg.value}$")
        else:
            out.append(_plain_text_to_latex(seg.value))
    return "".join(out)


def _plain_text_to_latex(text: str) -> str:
    """Plain text → safe LaTeX text with math tokens (z_j, e^{a+b}) in math mode."""
    text = _plain(text)
    pieces, last = [], 0
    for m in _TOKENS.finditer(text):
        pieces.append(_prose(text[last : m.start()]))
        token = m.group(0)
        if m.lastgroup == "code":
            pieces.append(_code_token(token))
        else:  # only braces, letters, digits and sub/superscripts reach math mode: nothing executable
            pieces.append(_math_token(token) if _SAFE_TOKEN.fullmatch(token) else escape_text(token))
        last = m.end()
    pieces.append(_prose(text[last:]))
    return "".join(pieces)


_TOKENS = re.compile(f"(?P<code>{_CODE_TOKEN.pattern})|(?P<math>{_MATH_TOKEN.pattern})")


def _prose(text: str) -> str:
    """Plain text between math tokens; a `` - `` between spaces is a minus sign, not a hyphen."""
    return escape_text(text).replace(" - ", r" \ensuremath{-} ")
