"""From a math block's text to the classified tokens of its rows.

The grammar's lexer (``grammar.lark``, rule ``tokens``) cuts the block into raw tokens; this
module expands argument-free macros, splits rows at ``\\\\`` and cells at ``&``, drops what is
decoration (spacing, ``\\left``/``\\right``, ``\\tag``, ``\\label``, reasons in ``\\text{…}``),
and gives every token the type the row grammar reads (``\\sum`` → SUM, ``\\log`` → FUNC, ``|``
→ ABSL or ABSR).  Every token keeps its offset in the file for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from gradproof.steps.source import Block, Source

GRAMMAR = Path(__file__).with_name("grammar.lark")

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho", "sigma", "varsigma",
    "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell", "imath", "jmath",
}  # fmt: skip
# function names read as calls (\log x, \operatorname{sign}(x), \text{softmax}(z)_k)
FUNCTION_WORDS = {
    "log": "log", "ln": "log", "exp": "exp", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
    "sinh": "sinh", "cosh": "cosh", "sign": "sign", "sgn": "sign", "max": "max", "min": "min",
    "softmax": "softmax", "relu": "relu", "ReLU": "relu", "sigmoid": "sigmoid", "arctan": "atan",
}  # fmt: skip
EXPECT_WORDS = {"E", "Exp", "EE"}
VARIANCE_WORDS = {"Var", "var", "Variance", "VAR"}
RELATIONS = {
    "=": "=", "<": "<", ">": ">", "\\le": "<=", "\\leq": "<=", "\\leqslant": "<=", "\\ge": ">=",
    "\\geq": ">=", "\\geqslant": ">=", "\\ne": "!=", "\\neq": "!=", "\\lt": "<", "\\gt": ">",
    "\\coloneqq": ":=", "\\triangleq": ":=", "\\equiv": "=", "\\approx": "≈", "\\simeq": "≈",
    "\\cong": "≈", "\\propto": "∝", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "≈",
    # an implication between two relations (a = b ⟹ c = d), read by chains.py
    "\\Longrightarrow": "=>", "\\implies": "=>", "\\Rightarrow": "=>", "⟹": "=>", "⇒": "=>",
}  # fmt: skip
# commands dropped with nothing else
_DROP = {
    "\\,", "\\;", "\\:", "\\!", "\\ ", "\\quad", "\\qquad", "\\enspace", "\\thinspace", "\\medspace",
    "\\thickspace", "\\negthinspace", "\\negmedspace", "\\negthickspace", "\\displaystyle",
    "\\textstyle", "\\scriptstyle", "\\scriptscriptstyle", "\\limits", "\\nolimits", "\\nonumber",
    "\\notag", "\\allowbreak", "\\mathstrut", "\\strut", "\\nobreak", "\\relax", "\\middle",
    "\\hfill", "\\qed", "\\newline",
}  # fmt: skip
# commands dropped with their {…} argument
_DROP_ARG = {"\\label", "\\tag", "\\tag*", "\\phantom", "\\hphantom", "\\vphantom", "\\color",
             "\\hspace", "\\hspace*", "\\vspace", "\\vspace*", "\\eqref", "\\ref"}  # fmt: skip
# commands whose {…} argument is kept as a group
_KEEP_ARG = {"\\boxed", "\\mathrlap", "\\mathllap", "\\mathclap", "\\rlap", "\\llap", "\\clap",
             "\\smash", "\\underline", "\\displaylines", "\\bbox", "\\fbox", "\\cancelto"}  # fmt: skip
# a left side set on a row of its own, its relation on the next row: &\rlap{$\displaystyle A$} \\ &= B
_STACK = {"\\rlap", "\\mathrlap"}
_SIZES = {"\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\Biggl",
          "\\Biggr", "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigm", "\\Bigm"}  # fmt: skip
_TEXT = {"\\text", "\\textrm", "\\textit", "\\textbf", "\\textsf", "\\texttt", "\\textnormal", "\\mbox",
         "\\textup", "\\emph", "\\hbox"}  # fmt: skip
_UPRIGHT = {"\\mathrm", "\\operatorname", "\\operatorname*", "\\mathit", "\\mathsf", "\\mathtt"}
_BOLD = {"\\mathbf", "\\boldsymbol", "\\bm", "\\mathbfit", "\\pmb", "\\vb", "\\vec", "\\bold"}
_BLACKBOARD = {"\\mathbb", "\\mathds", "\\mathbbm", "\\Bbb"}
_SCRIPT_FONTS = {"\\mathcal": "\\mathcal", "\\mathscr": "\\mathscr", "\\mathfrak": "\\mathfrak", "\\cal": "\\mathcal"}
_ACCENTS = {"\\hat": "hat", "\\widehat": "hat", "\\bar": "bar", "\\overline": "bar", "\\tilde": "tilde",
            "\\widetilde": "tilde", "\\dot": "dot", "\\ddot": "ddot", "\\check": "check",
            "\\breve": "breve", "\\acute": "acute", "\\grave": "grave"}  # fmt: skip
_INNER_ENVS = {"aligned", "alignedat", "split", "gathered", "multlined"}
_SIMPLE = {
    "\\cdot": "TIMES", "\\times": "TIMES", "\\ast": "TIMES", "\\cdotp": "TIMES", "\\div": "DIV",
    "\\odot": "ODOT", "\\circ": "ODOT", "\\pm": "PM", "\\mp": "PM", "\\frac": "FRAC", "\\tfrac": "FRAC",
    "\\dfrac": "FRAC", "\\cfrac": "FRAC", "\\sqrt": "SQRT", "\\binom": "BINOM", "\\dbinom": "BINOM",
    "\\tbinom": "BINOM", "\\sum": "SUM", "\\prod": "PROD", "\\partial": "PARTIAL", "\\nabla": "NABLA",
    "\\lim": "LIM", "\\infty": "INFTY", "\\dots": "DOTS", "\\ldots": "DOTS", "\\cdots": "DOTS",
    "\\in": "IN", "\\to": "TO", "\\rightarrow": "TO", "\\longrightarrow": "TO", "\\sim": "SIM",
    "\\{": "LSET", "\\}": "RSET", "\\lbrace": "LSET", "\\rbrace": "RSET", "\\substack": "SUBSTACK",
    "\\lceil": "LCEIL", "\\rceil": "RCEIL", "\\lfloor": "LFLOOR", "\\rfloor": "RFLOOR",
    "\\prime": "APOS", "\\top": "NAME", "\\intercal": "NAME", "\\mid": "SEP", "\\parallel": "SEP",
}  # fmt: skip
_UNICODE = {
    "−": ("MINUS", "-"), "·": ("TIMES", "\\cdot"), "×": ("TIMES", "\\times"), "⋅": ("TIMES", "\\cdot"),
    "∂": ("PARTIAL", "\\partial"), "∑": ("SUM", "\\sum"), "Σ": ("SUM", "\\sum"), "∇": ("NABLA", "\\nabla"),
    "∞": ("INFTY", "\\infty"), "∈": ("IN", "\\in"), "→": ("TO", "\\to"), "⊙": ("ODOT", "\\odot"),
    "σ": ("NAME", "sigma"), "λ": ("NAME", "lambda"), "η": ("NAME", "eta"), "α": ("NAME", "alpha"),
    "θ": ("NAME", "theta"), "μ": ("NAME", "mu"), "ε": ("NAME", "varepsilon"), "δ": ("NAME", "delta"),
    "ℓ": ("NAME", "ell"), "π": ("NAME", "pi"), "φ": ("NAME", "phi"), "ρ": ("NAME", "rho"),
    "τ": ("NAME", "tau"), "β": ("NAME", "beta"), "γ": ("NAME", "gamma"), "ω": ("NAME", "omega"),
    "ξ": ("NAME", "xi"), "ψ": ("NAME", "psi"), "χ": ("NAME", "chi"), "ν": ("NAME", "nu"),
    "κ": ("NAME", "kappa"), "ζ": ("NAME", "zeta"), "Δ": ("NAME", "Delta"), "Φ": ("NAME", "Phi"),
    "′": ("APOS", "'"), "ᵀ": ("TRANSPOSE", "T"),
}  # fmt: skip
# significant tokens after which a | opens (before anything else it closes, if one is open)
_OPENS_AFTER = {None, "REL", "PLUS", "MINUS", "TIMES", "DIV", "ODOT", "PM", "LGROUP", "LPAREN", "LBRACK",
                "LSET", "SEP", "FUNC", "SUM", "PROD", "ABSL", "NORML", "LCEIL", "LFLOOR", "SUB", "SUP", "IN", "TO", "SIM",
                "ROWSEP", "FRAC", "SQRT", "BINOM", "LIM"}  # fmt: skip
# English words that make a \text{…} a reason or a condition, never a name
_PROSE_WORDS = {"if", "for", "where", "since", "and", "or", "by", "with", "when", "as", "so", "then",
                "otherwise", "else", "all", "each", "every", "because", "hence", "thus", "using",
                "from", "at", "of", "on", "in", "is", "are", "def", "definition", "note", "i.e.", "e.g."}  # fmt: skip


@cache
def _lexer() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), start="tokens", parser="lalr", lexer="basic")


@dataclass
class Cell:
    """The tokens of one ``&`` cell, classified; ``offset`` is where the cell starts."""

    tokens: list[Token]
    offset: int


@dataclass
class Row:
    """One ``\\\\``-separated row: its math cells (reasons dropped) and where it starts."""

    cells: list[Cell]
    offset: int
    text: str  # the row's source, for display
    end: int = 0  # offset just after its last token

    @property
    def tokens(self) -> list[Token]:
        return [t for c in self.cells for t in c.tokens]


# the most symbols (after \newcommands are expanded) read in one math block, and in one row
MAX_BLOCK_TOKENS = 50_000
MAX_ROW_TOKENS = 2_000


def lex(source: Source, start: int, end: int, *, depth: int = 0, at: int | None = None) -> list[Token]:
    """Raw tokens of ``source.clean[start:end]`` with offsets into the file, macros expanded.
    Tokens of a macro's replacement text carry the position ``at`` of the macro's use."""
    text = source.clean[start:end] if at is None else None
    return _lex_text(source, text, start, depth=depth, at=at)


def _lex_text(source: Source, text: str | None, base: int, *, depth: int, at: int | None, body: str = "") -> list[Token]:
    text = body if text is None else text
    try:
        raw = list(_lexer().lex(text))
    except UnexpectedInput as exc:  # pragma: no cover - OTHER matches any character
        raise source.error((at if at is not None else base + exc.pos_in_stream), "unreadable character") from None
    out: list[Token] = []
    for tok in raw:
        pos = at if at is not None else base + tok.start_pos
        if tok.type == "CMD" and tok.value in source.macros:
            macro = source.macros[tok.value]
            if macro.arguments:
                raise source.error(
                    pos, f"{tok.value} takes {macro.arguments} argument(s); only \\newcommands without "
                    "arguments are expanded (write the formula out, or define it without arguments)"
                )  # fmt: skip
            if depth > 20:
                raise source.error(pos, f"{tok.value} expands forever (a \\newcommand that uses itself)")
            out += _lex_text(source, None, 0, depth=depth + 1, at=pos, body=macro.body)
        else:
            out.append(_at(tok.type, tok.value, source, pos, len(tok.value) if at is None else 0))
        if len(out) > MAX_BLOCK_TOKENS:  # a huge block, or \newcommands that double at each level
            raise source.error(pos, f"more than {MAX_BLOCK_TOKENS} symbols in one math block, more than the "
                               "checker reads (split the derivation into several blocks)")  # fmt: skip
    return out


def _at(type_: str, value: str, source: Source, pos: int, length: int = 0) -> Token:
    """A token at file offset ``pos`` spanning ``length`` characters (0: from a macro)."""
    line, column = source.position(pos)
    return Token(type_, value, start_pos=pos, line=line, column=column, end_pos=pos + length)


def _retype(tok: Token, type_: str, value: str | None = None, end: Token | None = None) -> Token:
    """``tok`` with a new type (and value); ``end``: the last raw token of a construct it stands
    for (``\\mathbb{1}``), so its span covers the whole construct."""
    end_pos = tok.end_pos if end is None or end.end_pos <= tok.start_pos else end.end_pos
    return Token(type_, tok.value if value is None else value, start_pos=tok.start_pos, line=tok.line,
                 column=tok.column, end_pos=end_pos)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# rows and cells


def block_rows(source: Source, block: Block) -> list[Row]:
    """The rows of a math block, each with its math cells classified."""
    tokens = lex(source, block.start, block.end)
    rows: list[Row] = []
    current: list[list[Token]] = [[]]
    depth = 0
    k = 0
    row_start: list[int] = []  # the row's first character, & included
    opened: list[int] = []  # where each { still open was opened

    def close_row(end: int) -> None:
        cells = [c for c in current]
        if any(cells):
            first = row_start[0] if row_start else next(t for c in cells for t in c).start_pos
            last = max(_token_end(source, t) for c in cells for t in c)
            rows.append(_make_row(source, block, cells, first, max(last, first)))

    while k < len(tokens):
        tok = tokens[k]
        if tok.type == "LBRACE":
            depth += 1
            opened.append(tok.start_pos)
        elif tok.type == "RBRACE":
            depth -= 1
            if depth < 0:
                raise source.error(tok.start_pos, "} closes a group that was never opened")
            opened.pop()
        if depth == 0 and tok.type == "CMD" and tok.value in ("\\\\", "\\cr", "\\newline"):
            close_row(tok.start_pos)
            current = [[]]
            row_start.clear()
            k = _skip_row_options(tokens, k + 1)
            continue
        if not row_start:
            row_start.append(tok.start_pos)
        if depth == 0 and tok.type == "CMD" and tok.value in ("\\begin", "\\end"):
            k = _inner_environment(source, tokens, k)
            continue
        if depth == 0 and tok.type == "AMP":
            current.append([])
            k += 1
            continue
        current[-1].append(tok)
        k += 1
    if depth > 0:
        raise source.error(opened[-1], "this { is never closed in its math block")
    close_row(block.end)
    return rows


def _token_end(source: Source, tok: Token) -> int:
    """Where a token's source ends; a token from a macro's replacement ends with the macro's name."""
    if tok.end_pos > tok.start_pos:
        return tok.end_pos
    from gradproof.steps.source import _command_at

    return tok.start_pos + len(_command_at(source.text, tok.start_pos))


def _skip_row_options(tokens: list[Token], k: int) -> int:
    """After ``\\\\``: an optional ``*`` and ``[1em]``."""
    if k < len(tokens) and tokens[k].type == "STAR":
        k += 1
    if k < len(tokens) and tokens[k].type == "LSQB":
        while k < len(tokens) and tokens[k].type != "RSQB":
            k += 1
        k += 1
    return k


def _inner_environment(source: Source, tokens: list[Token], k: int) -> int:
    """``\\begin{aligned}`` (and split, gathered) inside a block only groups rows: dropped.
    Other environments (cases, matrices) are not read."""
    name_tokens = []
    q = k + 1
    if q < len(tokens) and tokens[q].type == "LBRACE":
        q += 1
        while q < len(tokens) and tokens[q].type != "RBRACE":
            name_tokens.append(tokens[q].value)
            q += 1
        q += 1
    name = "".join(name_tokens)
    if name.rstrip("*") not in _INNER_ENVS:
        raise source.error(tokens[k].start_pos, f"the step checker does not read \\begin{{{name}}} inside a formula")
    if tokens[k].value == "\\begin":
        if q < len(tokens) and tokens[q].type == "LSQB":  # \begin{aligned}[t]
            while q < len(tokens) and tokens[q].type != "RSQB":
                q += 1
            q += 1
        if name == "alignedat" and q < len(tokens) and tokens[q].type == "LBRACE":
            while q < len(tokens) and tokens[q].type != "RBRACE":
                q += 1
            q += 1
    return q


def _make_row(source: Source, block: Block, cells: list[list[Token]], start: int, end: int) -> Row:
    text = source.text[start:end]
    math_cells: list[Cell] = []
    pairs = block.env.rstrip("*") in ("align", "aligned", "flalign", "alignat", "split", "$$", "math", "\\[")
    if block.env.rstrip("*") == "eqnarray" or not pairs or len(cells) <= 2:
        groups = [cells]
    else:  # align: columns pair up as (left & right); a pair with an empty left is a reason column
        groups = [cells[q : q + 2] for q in range(0, len(cells), 2)]
    for n_group, group in enumerate(groups):
        classified = [classify(source, c) for c in group]
        if n_group > 0:
            if not classified[0] or not any(_has_relation(c) for c in classified):
                continue  # && \text{reason}, or & (see above): not math to check
            raise source.error(
                group[0][0].start_pos,
                "a second equation in the same row (a & column after the first equation); "
                "put it on its own row",
            )
        for c, raw in zip(classified, group):
            if c:
                math_cells.append(Cell(c, raw[0].start_pos if raw else start))
    return Row(math_cells, start, text, end)


def _has_relation(tokens: list[Token]) -> bool:
    depth = 0
    for t in tokens:
        if t.type in ("LGROUP", "LPAREN", "LBRACK", "LSET", "ABSL", "NORML", "LCEIL", "LFLOOR"):
            depth += 1
        elif t.type in ("RGROUP", "RPAREN", "RBRACK", "RSET", "ABSR", "NORMR", "RCEIL", "RFLOOR"):
            depth -= 1
        elif t.type == "REL" and depth == 0:
            return True
    return False


# ----------------------------------------------------------------------------------------------
# classifying one cell


def _group_end(tokens: list[Token], k: int) -> int:
    """Index of the ``}`` matching the ``{`` at ``tokens[k]``."""
    depth = 0
    for q in range(k, len(tokens)):
        if tokens[q].type == "LBRACE":
            depth += 1
        elif tokens[q].type == "RBRACE":
            depth -= 1
            if depth == 0:
                return q
    return len(tokens) - 1


def _argument(tokens: list[Token], k: int) -> tuple[int, int]:
    """The argument starting at ``tokens[k]``: a brace group (start, end inclusive) or one token."""
    if k >= len(tokens):
        return k, k - 1
    if tokens[k].type == "LBRACE":
        return k, _group_end(tokens, k)
    return k, k


def _raw_text(source: Source, tokens: list[Token], a: int, b: int) -> str:
    """The source text of tokens a..b (a brace group's inside when tokens[a] is ``{``)."""
    if a > b:
        return ""
    if tokens[a].type == "LBRACE":
        a, b = a + 1, b - 1
    if a > b:
        return ""
    first, last = tokens[a], tokens[b]
    if first.end_pos == first.start_pos or last.end_pos == last.start_pos:  # from a macro
        return "".join(t.value for t in tokens[a : b + 1])
    return source.text[first.start_pos : last.end_pos]


def classify(source: Source, raw: list[Token]) -> list[Token]:
    """Decoration dropped, reasons cut, every token typed for the row grammar."""
    out: list[Token] = []
    bars: list[str] = []  # open | and \| (innermost last)
    hint: str | None = None  # "open"/"close" from \left, \right, \bigl, \bigr
    raw = _split_digit_arguments(source, raw)
    eval_bars: set[int] = set()  # positions in raw of the \right of \left. … \right|_{…}
    k = 0

    def emit(tok: Token) -> None:
        nonlocal hint
        out.append(tok)
        hint = None  # \left and \right size the delimiter right after them, nothing later

    while k < len(raw):
        tok = raw[k]
        typ, val = tok.type, tok.value
        if typ == "CMD":
            if val in _DROP:
                k += 1
                continue
            if val in _SIZES:
                nxt = raw[k + 1] if k + 1 < len(raw) else None
                if k in eval_bars:  # \right|_{x = a}: the bar of an evaluation at a point
                    emit(_retype(tok, "EVALR", "|", raw[k + 1]))
                    k += 2
                    continue
                if nxt is not None and nxt.type == "OTHER" and nxt.value == ".":
                    closer = _evaluation_bar(raw, k) if val == "\\left" else None
                    if closer is not None:  # \left. f(x) \right|_{x = a}
                        eval_bars.add(closer)
                        emit(_retype(tok, "EVALL", ".", nxt))
                    k += 2  # otherwise \left. and \right. mark nothing
                    continue
                hint = "open" if val in ("\\left",) or val.endswith("l") else "close" if (
                    val == "\\right" or val.endswith("r")) else None  # fmt: skip
                k += 1
                continue
            if val in _DROP_ARG:
                _, end = _argument(raw, k + 1)
                k = end + 1
                continue
            if val == "\\textcolor":
                _, end = _argument(raw, k + 1)
                k = end + 1
                continue
            if val in _STACK and not _significant(out) and _argument(raw, k + 1)[1] == len(raw) - 1:
                # a whole cell \rlap{$…$}: a left side set on a row of its own (its relation
                # comes on the next row); chains.py reads the mark
                emit(_retype(tok, "STACK"))
                k += 1
                continue
            if val == "\\resizebox":  # \resizebox{width}{height}{…}: a display wrapper
                _, end = _argument(raw, k + 1)
                _, end = _argument(raw, end + 1)
                k = end + 1
                continue
            if val in _KEEP_ARG:
                if val == "\\bbox" and k + 1 < len(raw) and raw[k + 1].type == "LSQB":
                    while k < len(raw) and raw[k].type != "RSQB":
                        k += 1
                k += 1
                continue
            if val in ("\\underbrace", "\\overbrace"):
                a, b = _argument(raw, k + 1)
                inner = classify(source, raw[a : b + 1])
                out.extend(inner)
                k = b + 1
                if k < len(raw) and raw[k].type in ("USCORE", "CARET"):
                    _, end = _argument(raw, k + 1)
                    k = end + 1
                continue
            if val in ("\\overset", "\\underset", "\\stackrel"):
                _, end = _argument(raw, k + 1)
                k = end + 1  # the annotation goes; the symbol under it stays
                continue
            if val in ("\\intertext", "\\shortintertext"):
                return []
            if val in _TEXT or val in _UPRIGHT:
                a, b = _argument(raw, k + 1)
                content = _raw_text(source, raw, a, b).strip()
                word = _word(content)
                if word is None or (val in _TEXT and word.lower() in _PROSE_WORDS):
                    if val in _UPRIGHT and word is None and content:
                        raise source.error(tok.start_pos, f"{val}{{{content}}} is not a name the step checker reads")
                    # a reason or a condition: the math of this cell ends here
                    if not _significant(out):
                        k = b + 1
                        continue
                    return _finish(source, _cut_to_depth0(out), bars)
                emit(_word_token(tok, word, val, raw[b] if b >= k + 1 else None))
                k = b + 1
                continue
            if val in _BOLD or val in _BLACKBOARD or val in _SCRIPT_FONTS or val in _ACCENTS:
                a, b = _argument(raw, k + 1)
                content = _raw_text(source, raw, a, b).strip()
                emit(_font_token(source, tok, val, content, raw[b] if b >= k + 1 else None))
                k = b + 1
                continue
            if val in ("\\begin", "\\end"):
                k = _inner_environment(source, raw, k)
                continue
            if val in ("\\\\", "\\cr"):
                emit(_retype(tok, "ROWSEP"))
                k = _skip_row_options(raw, k + 1)
                continue
            if val in RELATIONS:
                emit(_retype(tok, "REL", RELATIONS[val]))
                k += 1
                continue
            if val in ("\\vert", "\\lvert", "\\rvert", "\\|", "\\Vert", "\\lVert", "\\rVert"):
                kind = "NORM" if val in ("\\|", "\\Vert", "\\lVert", "\\rVert") else "ABS"
                local = "open" if val in ("\\lvert", "\\lVert") else "close" if val in ("\\rvert", "\\rVert") else hint
                emit(_bar(source, tok, kind, local, out, bars))
                hint = None
                k += 1
                continue
            if val[1:] in GREEK:
                emit(_retype(tok, "NAME", val[1:]))
                k += 1
                continue
            if val[1:] in FUNCTION_WORDS:
                emit(_retype(tok, "FUNC", FUNCTION_WORDS[val[1:]]))
                k += 1
                continue
            if val in _SIMPLE:
                typ2 = _SIMPLE[val]
                emit(_retype(tok, typ2, "T" if val in ("\\top", "\\intercal") else val))
                k += 1
                continue
            if val in ("\\langle", "\\rangle", "\\cases", "\\matrix", "\\over", "\\choose", "\\cancel"):
                raise source.error(tok.start_pos, f"the step checker does not read {val}")
            raise source.error(tok.start_pos, f"unknown command {val}")
        if typ == "LBRACE" and k + 1 < len(raw) and raw[k + 1].type == "RBRACE":
            k += 2  # {} is typography ({}+ keeps a binary plus), not math
            continue
        if typ == "LBRACE":
            emit(_retype(tok, "LGROUP"))
        elif typ == "RBRACE":
            emit(_retype(tok, "RGROUP"))
        elif typ == "LPAR":
            emit(_retype(tok, "LPAREN"))
        elif typ == "RPAR":
            emit(_retype(tok, "RPAREN"))
        elif typ == "LSQB":
            emit(_retype(tok, "LBRACK"))
        elif typ == "RSQB":
            emit(_retype(tok, "RBRACK"))
        elif typ in ("PLUS", "MINUS"):
            emit(_retype(tok, typ, "+" if typ == "PLUS" else "-"))
        elif typ == "STAR":
            emit(_retype(tok, "TIMES", "*"))
        elif typ == "SLASH":
            emit(_retype(tok, "DIV", "/"))
        elif typ == "CARET":
            # ^{\prime}, ^\prime and ^{\top}: primes and transposes, not powers
            a, b = _argument(raw, k + 1)
            inner = [t for t in raw[a : b + 1] if t.type not in ("LBRACE", "RBRACE")]
            if inner and all(t.type == "CMD" and t.value == "\\prime" or t.type == "PRIME" for t in inner):
                for t in inner:
                    emit(_retype(t, "APOS", "'"))
                k = b + 1
                continue
            emit(_retype(tok, "SUP"))
            k += 1
            continue
        elif typ == "USCORE":
            emit(_retype(tok, "SUB"))
            k += 1
            continue
        elif typ == "EQ":
            if out and out[-1].type == "COLONTMP":
                out[-1] = _retype(out[-1], "REL", ":=")
            else:
                emit(_retype(tok, "REL", "="))
        elif typ == "COLON":
            emit(_retype(tok, "COLONTMP"))
        elif typ in ("LT", "GT"):
            emit(_retype(tok, "REL", tok.value))
        elif typ == "COMMA":
            emit(_retype(tok, "SEP"))
        elif typ == "PRIME":
            emit(_retype(tok, "APOS"))
        elif typ == "BANG":
            emit(_retype(tok, "FACT"))
        elif typ == "BAR":
            emit(_bar(source, tok, "ABS", hint, out, bars))
            hint = None
        elif typ == "LETTER":
            emit(_retype(tok, "NAME"))
        elif typ == "DIGITS":
            emit(_retype(tok, "NUM"))
        elif typ == "AMP":
            raise source.error(tok.start_pos, "& inside a group { … }")
        elif typ == "OTHER":
            if val == "$" or val == "~":
                k += 1
                continue
            if val in _UNICODE:
                t2, v2 = _UNICODE[val]
                emit(_retype(tok, t2, v2))
            elif val in RELATIONS:
                emit(_retype(tok, "REL", RELATIONS[val]))
            elif val in (".", ";") :
                emit(_retype(tok, "PUNCT"))
            else:
                raise source.error(tok.start_pos, f"unexpected character {val!r}")
        else:  # pragma: no cover - every raw type is handled above
            raise source.error(tok.start_pos, f"unexpected {val!r}")
        k += 1
    return _finish(source, out, bars)


def _evaluation_bar(raw: list[Token], k: int) -> int | None:
    """For ``\\left.`` at ``raw[k]``: the position of its matching ``\\right`` when that is
    ``\\right|_`` (or ``\\right\\vert_``), an evaluation at a point; else None."""
    depth = 0
    for q in range(k, len(raw)):
        t = raw[q]
        if t.type == "CMD" and t.value == "\\left":
            depth += 1
        elif t.type == "CMD" and t.value == "\\right":
            depth -= 1
            if depth == 0:
                bar = raw[q + 1] if q + 1 < len(raw) else None
                is_bar = bar is not None and (bar.type == "BAR" or (bar.type == "CMD" and bar.value in ("\\vert", "\\rvert")))
                after = raw[q + 2] if q + 2 < len(raw) else None
                return q if is_bar and after is not None and after.type == "USCORE" else None
    return None


_TWO_ARGUMENTS = {"\\frac", "\\tfrac", "\\dfrac", "\\cfrac", "\\binom", "\\dbinom", "\\tbinom"}


def _split_digit_arguments(source: Source, raw: list[Token]) -> list[Token]:
    """x^23 is x^2·3 and \\frac12 is 1/2: an unbraced argument is one character, so a run of
    digits in an argument's place gives its first digit."""
    out = list(raw)
    k = 0
    while k < len(out):
        t = out[k]
        count = 1 if t.type in ("CARET", "USCORE") or t.value == "\\sqrt" else 2 if t.value in _TWO_ARGUMENTS else 0
        q = k + 1
        for _ in range(count):
            if q >= len(out):
                break
            if out[q].type == "LBRACE":
                q = _group_end(out, q) + 1
                continue
            d = out[q]
            if d.type == "DIGITS" and len(d.value) > 1 and "." not in d.value:
                length = 1 if d.end_pos > d.start_pos else 0
                first = _at("DIGITS", d.value[0], source, d.start_pos, length)
                rest = _at("DIGITS", d.value[1:], source, d.start_pos + length, length * (len(d.value) - 1))
                out[q : q + 1] = [first, rest]
            q += 1
        k += 1
    return out


def _significant(out: list[Token]) -> bool:
    return any(t.type not in ("PUNCT", "SEP") for t in out)


def _cut_to_depth0(out: list[Token]) -> list[Token]:
    """The tokens before the outermost open bracket (the reason ``(\\text{since …})`` sat in)."""
    depth, cut = 0, len(out)
    for q, t in enumerate(out):
        if t.type in ("LGROUP", "LPAREN", "LBRACK", "LSET"):
            if depth == 0:
                cut = q
            depth += 1
        elif t.type in ("RGROUP", "RPAREN", "RBRACK", "RSET"):
            depth -= 1
            if depth == 0:
                cut = len(out)
    return out[:cut] if depth > 0 else out


def _unmatched_bars_separate(out: list[Token]) -> list[Token]:
    """A bar with no partner inside its brackets separates arguments: KL(p \\| q), P(A | B)."""
    stack: list[int] = []  # positions of open brackets and bars
    for q, t in enumerate(out):
        if t.type in ("LPAREN", "LBRACK", "LGROUP", "LSET", "ABSL", "NORML", "LCEIL", "LFLOOR"):
            stack.append(q)
        elif t.type in ("ABSR", "NORMR"):
            want = "ABSL" if t.type == "ABSR" else "NORML"
            if stack and out[stack[-1]].type == want:
                stack.pop()
        elif t.type in ("RPAREN", "RBRACK", "RGROUP", "RSET", "RCEIL", "RFLOOR"):
            while stack and out[stack[-1]].type in ("ABSL", "NORML"):
                pos = stack.pop()
                out[pos] = _retype(out[pos], "SEP")
            if stack:
                stack.pop()
    return out


def _spelled_functions(source: Source, out: list[Token]) -> None:
    """``ln(x)`` without a backslash reads as l·n·x in LaTeX: refuse it rather than misread it."""
    q = 0
    while q < len(out):
        run = [out[q]]
        while (q + len(run) < len(out) and run[-1].type == "NAME" and len(str(run[-1].value)) == 1
               and out[q + len(run)].type == "NAME" and len(str(out[q + len(run)].value)) == 1
               and out[q + len(run)].start_pos == run[-1].end_pos):  # fmt: skip
            run.append(out[q + len(run)])
        word = "".join(str(t.value) for t in run)
        called = q + len(run) < len(out) and out[q + len(run)].type == "LPAREN"
        for name in sorted(FUNCTION_WORDS, key=len, reverse=True):
            if called and len(name) > 1 and word.endswith(name) and run[0].type == "NAME":
                at = run[word.index(name)]
                raise source.error(at.start_pos, f"'{name}' without a backslash reads as a product of letters: write \\{name}")
        q += len(run)


def _minus_after_big_operators(out: list[Token]) -> list[Token]:
    """``\\sum_j^C -\\frac{y_j}{p_j}``: a minus right after a sum's limits starts its body."""
    for q, t in enumerate(out):
        if t.type not in ("SUM", "PROD"):
            continue
        k = q + 1
        while k < len(out) and out[k].type in ("SUB", "SUP"):
            k += 1
            if k < len(out) and out[k].type == "LGROUP":
                depth = 0
                while k < len(out):
                    depth += out[k].type == "LGROUP"
                    depth -= out[k].type == "RGROUP"
                    k += 1
                    if depth == 0:
                        break
            else:
                k += 1
        if k < len(out) and out[k].type == "MINUS":
            out[k] = _retype(out[k], "NEGATE")
    return out


def _finish(source: Source, out: list[Token], bars: list[str]) -> list[Token]:
    from gradproof.steps.phrases import merge_phrases

    out = merge_phrases(source, _minus_after_big_operators(_unmatched_bars_separate(out)))
    _spelled_functions(source, out)
    # trailing punctuation ends a sentence, and a lone ':' is not math
    while out and out[-1].type in ("PUNCT", "SEP"):
        out.pop()
    for t in out:
        if t.type == "COLONTMP":
            raise source.error(t.start_pos, "unexpected ':' (write := for a definition)")
        if t.type == "PUNCT":
            raise source.error(t.start_pos, f"unexpected {t.value!r} inside a formula")
    return out


def _word(content: str) -> str | None:
    """A single word (letters and digits), or None for prose or math."""
    word = content.replace("\\,", "").replace(" ", "") if content.count(" ") == 0 else None
    if word and word.replace("_", "").replace("/", "").isalnum() and word[0].isalpha():
        return word
    return None


def _word_token(tok: Token, word: str, command: str, end: Token | None) -> Token:
    if word in FUNCTION_WORDS:
        return _retype(tok, "FUNC", FUNCTION_WORDS[word], end)
    if word in EXPECT_WORDS and command != "\\mathit":
        return _retype(tok, "EXPECT", "E", end)
    if word in VARIANCE_WORDS:
        return _retype(tok, "VAROP", "Var", end)
    if len(word) == 1:
        return _retype(tok, "NAME", word, end)  # \mathrm{d}, \text{x}: the letter
    return _retype(tok, "NAME", f"\\mathrm{{{word}}}", end)


def _font_token(source: Source, tok: Token, command: str, content: str, end: Token | None) -> Token:
    letter = content[1:] if content.startswith("\\") else content
    is_letter = (len(content) == 1 and content.isalnum()) or (content.startswith("\\") and letter in GREEK)
    if command in _BLACKBOARD or command in _BOLD:
        if content == "1" or (command in _BLACKBOARD and content == "I"):
            return _retype(tok, "INDICATOR", "1", end)
        if command in _BLACKBOARD and content == "E":
            return _retype(tok, "EXPECT", "E", end)
        if command in _BLACKBOARD and content == "V":
            return _retype(tok, "VAROP", "Var", end)
        if command in _BLACKBOARD and content in ("R", "N", "Z", "Q", "C"):
            return _retype(tok, "NAME", f"\\mathbb{{{content}}}", end)
    if not is_letter:
        raise source.error(tok.start_pos, f"{command}{{{content}}}: only a single letter is read here")
    if command in _BOLD:  # bold x is the vector x
        return _retype(tok, "NAME", letter, end)
    if command in _SCRIPT_FONTS:
        return _retype(tok, "NAME", f"{_SCRIPT_FONTS[command]}{{{content}}}", end)
    if command in _BLACKBOARD:
        return _retype(tok, "NAME", f"\\mathbb{{{content}}}", end)
    accent = _ACCENTS[command]
    return _retype(tok, "NAME", f"\\{accent}{{{content}}}", end)


def _bar(source: Source, tok: Token, kind: str, hint: str | None, out: list[Token], bars: list[str]) -> Token:
    """Pair | (and \\|): an opener after an operator or at the start, else the closer of the
    innermost open one."""
    previous = out[-1].type if out else None
    if hint == "open" or (hint is None and (previous in _OPENS_AFTER or kind not in bars)):
        bars.append(kind)
        return _retype(tok, kind + "L")
    if kind not in bars:
        raise source.error(tok.start_pos, f"this {tok.value} closes nothing")
    while bars and bars[-1] != kind:
        bars.pop()
    bars.pop()
    return _retype(tok, kind + "R")
