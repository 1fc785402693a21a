"""The LaTeX mathematics of reasons, read and printed as terminal text.

Reasons carry their mathematics as LaTeX in ``$…$`` segments (:mod:`gradproof.derivations.markup`).
This module reads the subset of LaTeX the catalog uses and prints it the way the terminal printer
prints SymPy expressions: ``\\frac{\\partial s_i}{\\partial z_j}`` → ``∂s_i/∂z_j``,
``\\delta_{ij}`` → ``δ_ij``, ``\\sum_{k=1}^{n} e^{z_k}`` → ``Σ_{k=1..n} e^{z_k}``,
``\\lim_{h \\to 0^+}`` → ``lim_{h→0⁺}``.  A command outside the subset raises
:class:`~gradproof.derivations.markup.MarkupError`: the same whitelist guards what the LaTeX and
Markdown outputs pass through, so every command in a reason is one that pdflatex, KaTeX and
MathJax know, and the terminal never shows a raw ``\\frac``.

>>> to_text(r"\\frac{d}{dx}\\log x = \\frac{1}{x}")
'd/dx log x = 1/x'
>>> to_text(r"\\sigma'(z) = \\sigma(z)(1 - \\sigma(z)) \\leq \\tfrac{1}{4}")
'σ′(z) = σ(z)(1 − σ(z)) ≤ 1/4'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gradproof.derivations.markup import MarkupError

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ",
    "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω",
}  # fmt: skip
#: symbols printed as they are, joined to their neighbours
SYMBOLS = {
    "partial": "∂", "nabla": "∇", "infty": "∞", "ell": "ℓ", "top": "ᵀ", "prime": "′", "ldots": "…",
    "dots": "…", "cdots": "⋯", "langle": "⟨", "rangle": "⟩", "|": "‖", "lVert": "‖", "rVert": "‖",
    "lvert": "|", "rvert": "|", "{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
    "emptyset": "∅", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
}  # fmt: skip
#: binary operators and relations: spaced at top level, tight in sub- and superscripts
OPERATORS = {
    "cdot": "·", "times": "×", "odot": "⊙", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "gets": "←", "in": "∈", "notin": "∉", "sim": "~", "mid": "|", "equiv": "≡", "propto": "∝",
    "ll": "≪", "gg": "≫", "Rightarrow": "⇒", "mapsto": "↦", "subseteq": "⊆", "cap": "∩", "cup": "∪",
}  # fmt: skip
#: operator names printed as words
NAMED = {"log", "ln", "exp", "max", "min", "lim", "sup", "inf", "det", "tanh", "sin", "cos", "arg", "Pr"}
#: spacing commands
SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "quad": "  ", "qquad": "   ", "!": ""}
#: commands that change only how something looks: their argument is printed as it is
STYLES = {"mathrm", "mathit", "mathbf", "boldsymbol", "operatorname", "mathcal", "mathsf", "mathbb"}
TEXT = {"text", "textrm", "textit", "textbf", "mbox"}
ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307", "widehat": "\u0302"}
IGNORED = {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "biggl", "biggr", "displaystyle",
           "limits", "nolimits"}  # fmt: skip
FRACTIONS = {"frac", "tfrac", "dfrac"}
BIG = {"sum": "Σ", "prod": "Π"}

#: every command this module reads (and so every command allowed in a reason's math)
KNOWN = (
    set(GREEK) | set(SYMBOLS) | set(OPERATORS) | NAMED | set(SPACES) | STYLES | TEXT | set(ACCENTS)
    | IGNORED | FRACTIONS | set(BIG) | {"sqrt", "binom", "mathbb", "not"}
)

#: commands without arguments (a space after them is TeX's word separator, not a space)
_BARE = set(GREEK) | set(SYMBOLS) | set(OPERATORS) | NAMED | IGNORED

_SUPERSCRIPTS = dict(zip("0123456789+−-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱ"))
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
_RELATION_CHARS = set("=<>≤≥≠≈→←∈∉~≡∝⇒↦⊆")
_BINARY_CHARS = set("+−±∓·×⊙") | _RELATION_CHARS


@dataclass
class _Piece:
    text: str
    kind: str = "atom"  # atom | op (binary/relation) | space | word (a named operator) | open | close
    # | prefix (∂, ∇: joined to what follows) | frac


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _TOKEN.findall(source)
        self.pos = 0

    def error(self, message: str) -> MarkupError:
        return MarkupError(f"{message} in ${self.source}$")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> str:
        tok = self.peek()
        if tok is None:
            raise self.error("unexpected end")
        self.pos += 1
        return tok

    def skip_space(self) -> None:
        while (tok := self.peek()) is not None and tok.isspace():
            self.pos += 1

    def group_tokens(self) -> list[str]:
        """The raw tokens of the next argument: a ``{…}`` group or one token."""
        self.skip_space()
        tok = self.next()
        if tok == "}":
            raise self.error("unbalanced '}'")
        if tok != "{":
            return [tok]
        depth, out = 1, []
        while True:
            tok = self.next()
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0:
                    return out
            out.append(tok)


def _convert(tokens: list[str], source: str, *, tight: bool) -> str:
    reader = _Reader(source)
    reader.tokens = tokens
    pieces = _read_sequence(reader, tight=tight)
    return _join(pieces, tight=tight)


def _arg(reader: _Reader, *, tight: bool = False) -> str:
    return _convert(reader.group_tokens(), reader.source, tight=tight)


def _is_compound(text: str) -> bool:
    """Whether ``text`` needs brackets to be read as one factor (a fraction's part, an argument)."""
    depth = 0
    for ch in text:
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and (ch == " " or ch in _BINARY_CHARS or ch in "/,"):
            return True
    return False


def _wrap(text: str) -> str:
    return f"({text})" if _is_compound(text) else text


def _script(marker: str, text: str) -> str:
    """``_i``, ``_{l−1}``, ``²``, ``^{−z}``: a sub- or superscript in the terminal's notation."""
    if marker == "^":
        if text == "ᵀ" or text == "′":
            return text
        if text and all(ch in _SUPERSCRIPTS for ch in text) and len(text) <= 3 and not text.isalpha():
            return "".join(_SUPERSCRIPTS[ch] for ch in text)
    if len(text) == 1 or (text.isalnum() and text.isascii()):
        return f"{marker}{text}"
    return f"{marker}{{{text}}}"


def _accent(mark: str, text: str) -> str:
    if len(text) == 1:
        return unicodedata.normalize("NFC", text + mark)
    return text + mark  # a combining mark over the last letter of a longer name


def _read_sequence(reader: _Reader, *, tight: bool) -> list[_Piece]:
    pieces: list[_Piece] = []
    while (tok := reader.peek()) is not None:
        reader.pos += 1
        if tok.isspace():
            if not (pieces and pieces[-1].kind == "prefix"):  # ∂ z_j reads as ∂z_j
                pieces.append(_Piece(" ", "space"))
        elif tok == "{":
            reader.pos -= 1
            pieces.append(_Piece(_arg(reader, tight=tight)))
        elif tok == "}":
            raise reader.error("unbalanced '}'")
        elif tok in ("_", "^"):
            reader.skip_space()
            bare = (reader.peek() or "")[1:] in _BARE and reader.peek().startswith("\\")
            text = _arg(reader, tight=True)
            if bare:  # x^\top y: the space ends the control word
                reader.skip_space()
            base = pieces.pop() if pieces and pieces[-1].kind in ("atom", "word", "close", "prefix") else _Piece("")
            base.text += _script(tok, text)
            pieces.append(base)
        elif tok == "'":
            if pieces and pieces[-1].kind in ("atom", "word", "close"):
                pieces[-1].text += "′"
            else:
                pieces.append(_Piece("′"))
        elif tok.startswith("\\"):
            pieces.extend(_command(reader, tok[1:], tight=tight))
            if tok[1:] in _BARE:  # TeX ignores the spaces after a control word
                reader.skip_space()
        elif tok == "-":
            pieces.append(_Piece("−", "op"))
        elif tok in "+=<>":
            pieces.append(_Piece(tok, "op"))
        elif tok in "([":
            pieces.append(_Piece(tok, "open"))
        elif tok in ")]":
            pieces.append(_Piece(tok, "close"))
        elif tok == "&" or tok == "#" or tok == "%" or tok == "~" or tok == "$":
            raise reader.error(f"'{tok}' is not allowed")
        else:
            pieces.append(_Piece(tok))
    return pieces


def _command(reader: _Reader, name: str, *, tight: bool) -> list[_Piece]:
    if name not in KNOWN:
        raise reader.error(f"unsupported LaTeX command '\\{name}'")
    if name in GREEK:
        return [_Piece(GREEK[name])]
    if name in SYMBOLS:
        text = SYMBOLS[name]
        kind = "open" if name in ("langle", "{", "lfloor", "lceil") else "atom"
        if name in ("partial", "nabla"):
            kind = "prefix"
        if name in ("rangle", "}", "rfloor", "rceil"):
            kind = "close"
        return [_Piece(text, kind)]
    if name in OPERATORS:
        return [_Piece(OPERATORS[name], "op")]
    if name in NAMED:
        return [_Piece(name, "word")]
    if name in SPACES:
        return [_Piece(SPACES[name], "space")] if SPACES[name] else []
    if name in IGNORED:
        if name in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "biggl", "biggr"):
            reader.skip_space()
            delim = reader.peek()
            if delim == ".":  # \left. is no delimiter at all
                reader.pos += 1
        return []
    if name in STYLES:
        if name == "mathbb":
            text = _arg(reader, tight=True)
            return [_Piece({"R": "ℝ", "N": "ℕ", "Z": "ℤ"}.get(text, text))]
        text = _arg(reader, tight=True)
        return [_Piece(text, "word" if name == "operatorname" else "atom")]
    if name in TEXT:
        text = "".join(reader.group_tokens())
        if "\\" in text or "$" in text:
            raise reader.error(f"'\\{name}{{{text}}}': no commands or '$' inside text")
        return [_Piece(text)]
    if name in ACCENTS:
        return [_Piece(_accent(ACCENTS[name], _arg(reader, tight=True)))]
    if name in FRACTIONS:
        num_tokens = reader.group_tokens()
        den_tokens = reader.group_tokens()
        num = _convert(num_tokens, reader.source, tight=tight)
        den = _convert(den_tokens, reader.source, tight=tight)
        derivative = num_tokens[:1] == ["\\partial"] or num in ("d", "∂") or num.startswith(("d ", "∂ "))
        return [_Piece(f"{num if derivative else _wrap(num)}/{_wrap(den)}", "word" if derivative else "frac")]
    if name == "binom":
        return [_Piece(f"binom({_arg(reader)}, {_arg(reader)})")]
    if name == "sqrt":
        return [_Piece("√" + _wrap(_arg(reader)))]
    if name == "not":
        reader.skip_space()
        tok = reader.next()
        negated = {"=": "≠", "\\in": "∉", "\\leq": "≰", "\\geq": "≱"}.get(tok)
        if negated is None:
            raise reader.error(f"'\\not{tok}' is not supported")
        return [_Piece(negated, "op")]
    if name in BIG:
        sign, lower, upper = BIG[name], None, None
        reader.skip_space()
        while reader.peek() in ("_", "^", "\\limits"):
            marker = reader.next()
            if marker == "\\limits":
                continue
            text = _arg(reader, tight=True)
            lower, upper = (text, upper) if marker == "_" else (lower, text)
            reader.skip_space()
        if lower is not None and upper is not None:
            limits = f"_{{{lower}..{upper}}}"
        elif lower is not None:
            limits = _script("_", lower)
        elif upper is not None:
            limits = f"^{{{upper}}}"
        else:
            limits = ""
        return [_Piece(sign + limits, "word")]
    raise reader.error(f"unsupported LaTeX command '\\{name}'")  # pragma: no cover - KNOWN covers all


def _join(pieces: list[_Piece], *, tight: bool) -> str:
    """Pieces joined with lecture spacing: binary operators spaced (tight in scripts), a named
    operator separated from its operand, the source's own spaces kept (collapsed).  A fraction
    multiplied by what follows is bracketed: (1/2)(σ − y)², not 1/2(σ − y)²."""
    solid = [p for p in pieces if p.kind != "space"]
    for k, piece in enumerate(solid):
        if piece.kind == "frac":
            following = solid[k + 1] if k + 1 < len(solid) else None
            if following is not None and following.kind not in ("op", "close"):
                piece.text = f"({piece.text})"
            piece.kind = "atom"
    out = ""
    previous: _Piece | None = None
    for piece in pieces:
        if piece.kind == "space":
            if out and not out.endswith(" ") and not tight:
                out += " "
            continue
        if piece.kind == "op":
            unary = previous is None or previous.kind in ("op", "open")
            if tight:
                out = out.rstrip(" ") + piece.text
            elif unary and piece.text in "−+±":
                out += piece.text
            else:
                out = out.rstrip(" ") + f" {piece.text} "
            previous = piece
            continue
        if previous is not None and not out.endswith(" ") and not tight:
            if out.endswith(("/", "(", "[")):
                pass
            elif previous.kind == "word" and piece.kind not in ("open", "close"):
                out += " "
            elif piece.kind == "word" and previous.kind in ("atom", "close", "word", "prefix"):
                out += " "
        out += piece.text
        previous = piece
    return out.strip()


def to_text(latex: str) -> str:
    """A LaTeX math string (the subset above) as one line of terminal text.  Raises
    :class:`MarkupError` naming the command or brace at fault."""
    reader = _Reader(latex)
    pieces = _read_sequence(reader, tight=False)
    text = _join(pieces, tight=False)
    return re.sub(r" {2,}", lambda m: m.group(0) if len(m.group(0)) <= 3 else "   ", text)


def check(latex: str) -> None:
    """Raise :class:`MarkupError` unless ``latex`` is in the subset (used by the LaTeX and
    Markdown outputs before they pass a segment through)."""
    to_text(latex)
