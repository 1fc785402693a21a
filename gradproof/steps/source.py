"""Finding the math in a LaTeX or Markdown file: math blocks, ``gradproof:`` declarations and
argument-free ``\\newcommand``s, each with its offset in the file so every later error can name
a line and column.

Only the document's structure is scanned here (comments, environments, fences); the math itself
is read by the grammar (``grammar.lark``).  Comments are blanked to spaces rather than cut, so an
offset into the cleaned text is an offset into the file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from gradproof.steps.errors import StepsSyntaxError

# environments whose body is math the checker reads
MATH_ENVIRONMENTS = (
    "align", "align*", "aligned", "equation", "equation*", "gather", "gather*", "gathered",
    "multline", "multline*", "flalign", "flalign*", "eqnarray", "eqnarray*", "split",
)  # fmt: skip
# environments whose body is never LaTeX to scan
_VERBATIM = ("verbatim", "verbatim*", "lstlisting", "minted", "comment", "Verbatim")
_DEFINERS = ("\\newcommand", "\\renewcommand", "\\providecommand", "\\DeclareMathOperator", "\\def")


@dataclass(frozen=True)
class Block:
    """One math block: ``clean[start:end]`` is its body; ``env`` names its kind (``align*``,
    ``$$``, ``math`` for a Markdown fence, ``\\[``)."""

    env: str
    start: int
    end: int


@dataclass(frozen=True)
class Directive:
    """A ``gradproof: KEYWORD rest`` comment: ``offset`` is where ``rest`` starts in the file."""

    keyword: str
    rest: str
    offset: int
    line: int


@dataclass(frozen=True)
class Macro:
    """An argument-free ``\\newcommand`` (``body`` is its replacement text), or one with arguments
    (``arguments`` > 0), which is an error where it is used."""

    name: str
    body: str
    arguments: int
    offset: int  # of the body in the file (for errors inside the replacement)


@dataclass
class Source:
    """A file's text with comments blanked, its math blocks, declarations and macros."""

    text: str
    clean: str
    name: str
    format: str  # "tex" or "md"
    blocks: list[Block] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    macros: dict[str, Macro] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # names of several symbols declared by ``scalar`` (see gradproof.steps.phrases), once read
    _phrases: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._line_starts = [0] + [k + 1 for k, ch in enumerate(self.text) if ch == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def error(self, offset: int, message: str) -> StepsSyntaxError:
        line, column = self.position(offset)
        return StepsSyntaxError(message, file=self.name, line=line, column=column)


def read_source(text: str, *, name: str = "<string>", format: str = "auto") -> Source:
    """Scan ``text`` (LaTeX or Markdown) for math blocks, declarations and macros."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if format == "auto":
        format = _guess_format(text, name)
    if format not in ("tex", "md"):
        raise ValueError(f"format must be 'auto', 'tex' or 'md', got {format!r}")
    if format == "md":
        return _scan_markdown(text, name)
    return _scan_tex(text, name)


def _guess_format(text: str, name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".md", ".markdown")):
        return "md"
    if lowered.endswith((".tex", ".ltx", ".latex")):
        return "tex"
    # a string: Markdown if it has Markdown's math blocks and no LaTeX environment
    if ("$$" in text or "```math" in text or "<!-- gradproof:" in text) and "\\begin{" not in text:
        return "md"
    return "tex"


# ----------------------------------------------------------------------------------------------
# LaTeX


def _blank_tex_comments(text: str, source: Source | None = None, base: int = 0) -> str:
    """``%`` to the end of the line replaced by spaces (``\\%`` is a percent sign).  With a
    ``source``, ``% gradproof:`` comments are collected as declarations."""
    out = list(text)
    k = 0
    while k < len(text):
        ch = text[k]
        if ch == "\\":
            k += 2
            continue
        if ch == "%":
            end = text.find("\n", k)
            end = len(text) if end < 0 else end
            if source is not None:
                _maybe_directive(source, text[k + 1 : end], base + k + 1)
            for q in range(k, end):
                out[q] = " "
            k = end
            continue
        k += 1
    return "".join(out)


def _maybe_directive(source: Source, comment: str, offset: int) -> None:
    """``comment`` is the text after ``%`` (or inside ``<!-- -->``) starting at ``offset``."""
    stripped = comment.lstrip()
    lead = len(comment) - len(stripped)
    if not stripped.startswith("gradproof:"):
        return
    body = stripped[len("gradproof:") :]
    rest = body.lstrip()
    keyword, _, after = rest.partition(" ")
    start = offset + lead + len("gradproof:") + (len(body) - len(rest)) + len(keyword)
    after_stripped = after.strip()
    start += len(after) - len(after.lstrip()) + (1 if after else 0)
    line, _ = source.position(offset)
    source.directives.append(Directive(keyword, after_stripped, start, line))


def _scan_tex(text: str, name: str) -> Source:
    source = Source(text=text, clean="", name=name, format="tex")
    clean = _blank_tex_comments(text, source)
    source.clean = clean
    k, n = 0, len(clean)
    while k < n:
        ch = clean[k]
        if ch == "\\":
            word = _command_at(clean, k)
            if word == "\\begin":
                env, body_start = _env_name(clean, k + len(word))
                if env in _VERBATIM:
                    k = _find_end(source, env, body_start, k)
                    continue
                if env in MATH_ENVIRONMENTS:
                    end = _find_end(source, env, body_start, k)
                    source.blocks.append(Block(env, body_start, clean.rfind("\\end", 0, end)))
                    k = end
                    continue
                k = body_start
                continue
            if word == "\\[":
                close = clean.find("\\]", k + 2)
                if close < 0:
                    raise source.error(k, "\\[ is never closed by \\]")
                source.blocks.append(Block("\\[", k + 2, close))
                k = close + 2
                continue
            if word in _DEFINERS:
                k = _read_macro(source, k, word)
                continue
            if word == "\\verb":
                delim = clean[k + 5 : k + 6]
                close = clean.find(delim, k + 6) if delim else -1
                k = close + 1 if close > 0 else n
                continue
            k += max(len(word), 2)
            continue
        if clean.startswith("$$", k):
            close = clean.find("$$", k + 2)
            if close < 0:
                raise source.error(k, "$$ is never closed")
            source.blocks.append(Block("$$", k + 2, close))
            k = close + 2
            continue
        k += 1
    return source


def _command_at(text: str, k: int) -> str:
    """The control sequence starting at ``text[k] == '\\\\'``: ``\\frac``, ``\\[``, ``\\\\``."""
    q = k + 1
    while q < len(text) and text[q].isalpha():
        q += 1
    if q == k + 1:
        return text[k : k + 2]
    return text[k:q]


def _env_name(text: str, k: int) -> tuple[str, int]:
    """``{name}`` after ``\\begin``: the name and the offset just after the closing brace."""
    while k < len(text) and text[k] in " \t":
        k += 1
    if k >= len(text) or text[k] != "{":
        return "", k
    close = text.find("}", k)
    if close < 0:
        return "", k
    return text[k + 1 : close].strip(), close + 1


def _find_end(source: Source, env: str, start: int, begin_offset: int) -> int:
    """Offset just after ``\\end{env}``; an unclosed environment is an error at its ``\\begin``."""
    k = start
    while True:
        k = source.clean.find("\\end", k)
        if k < 0:
            raise source.error(begin_offset, f"\\begin{{{env}}} is never closed by \\end{{{env}}}")
        name, after = _env_name(source.clean, k + 4)
        if name == env:
            return after
        k += 4


def _braced(text: str, k: int) -> tuple[str, int] | None:
    """The brace group starting at ``text[k] == '{'`` (after spaces): its content and the offset
    after it; None when there is no group there or it never closes."""
    while k < len(text) and text[k] in " \t\n":
        k += 1
    if k >= len(text) or text[k] != "{":
        return None
    depth, q = 0, k
    while q < len(text):
        ch = text[q]
        if ch == "\\":
            q += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[k + 1 : q], q + 1
        q += 1
    return None


def _read_macro(source: Source, k: int, definer: str) -> int:
    clean = source.clean
    q = k + len(definer)
    if definer == "\\def":
        while q < len(clean) and clean[q] in " \t":
            q += 1
        name = _command_at(clean, q) if q < len(clean) and clean[q] == "\\" else ""
        if not name:
            return q
        q += len(name)
        params = 0
        while q < len(clean) and clean[q] == "#":  # \def\x#1#2{…}
            params += 1
            q += 2
        group = _braced(clean, q)
        if group is None:
            raise source.error(k, f"\\def{name} has no {{…}} replacement text")
        body, after = group
        _add_macro(source, name, body, params, after - len(body) - 1, k)
        return after
    star = clean.startswith("*", q)
    q += 1 if star else 0
    group = _braced(clean, q)
    if group is not None:
        name, q = group
        name = name.strip()
    else:
        while q < len(clean) and clean[q] in " \t":
            q += 1
        name = _command_at(clean, q) if q < len(clean) and clean[q] == "\\" else ""
        q += len(name)
    if not name.startswith("\\"):
        raise source.error(k, f"{definer} needs a command name such as \\R")
    params = 0
    while q < len(clean) and clean[q] in " \t":
        q += 1
    if definer != "\\DeclareMathOperator" and q < len(clean) and clean[q] == "[":
        close = clean.find("]", q)
        count = clean[q + 1 : close].strip() if close > 0 else ""
        params = int(count) if count.isdigit() else 1
        q = close + 1
        if q < len(clean) and clean[q] == "[":  # an optional argument's default
            params = max(params, 1)
            q = clean.find("]", q) + 1
    group = _braced(clean, q)
    if group is None:
        raise source.error(k, f"{definer}{{{name}}} has no {{…}} replacement text")
    body, after = group
    if definer == "\\DeclareMathOperator":
        body = "\\operatorname{" + body + "}"
    _add_macro(source, name, body, params, after - len(group[0]) - 1, k)
    return after


def _add_macro(source: Source, name: str, body: str, params: int, body_offset: int, at: int) -> None:
    if name in source.macros and source.macros[name].body != body:
        line, _ = source.position(at)
        source.warnings.append(f"line {line}: {name} is defined again; the last definition is used")
    source.macros[name] = Macro(name, body, params, body_offset)


# ----------------------------------------------------------------------------------------------
# Markdown


def _scan_markdown(text: str, name: str) -> Source:
    source = Source(text=text, clean="", name=name, format="md")
    clean = list(text)
    n = len(text)
    k = 0
    line_start = True
    while k < n:
        if line_start:
            fence = _fence_at(text, k)
            if fence is not None:
                ticks, info, body_start = fence
                close = _fence_close(text, body_start, ticks)
                body_end = n if close < 0 else close
                if info == "math":
                    source.blocks.append(Block("math", body_start, body_end))
                else:
                    for q in range(body_start, body_end):  # code is never math
                        if clean[q] != "\n":
                            clean[q] = " "
                after = n if close < 0 else text.find("\n", close)
                k = n if after < 0 else after + 1
                line_start = True
                continue
        ch = text[k]
        if text.startswith("<!--", k):
            close = text.find("-->", k + 4)
            if close < 0:
                raise source.error(k, "<!-- is never closed by -->")
            _maybe_directive(source, text[k + 4 : close], k + 4)
            for q in range(k, close + 3):
                if clean[q] != "\n":
                    clean[q] = " "
            k = close + 3
            line_start = False
            continue
        if ch == "`":
            run = 0
            while k + run < n and text[k + run] == "`":
                run += 1
            close = text.find("`" * run, k + run)
            k = (close + run) if close >= 0 else k + run
            line_start = False
            continue
        if ch == "\\" and k + 1 < n:
            k += 2
            line_start = False
            continue
        if text.startswith("$$", k):
            close = text.find("$$", k + 2)
            if close < 0:
                raise source.error(k, "$$ is never closed")
            source.blocks.append(Block("$$", k + 2, close))
            k = close + 2
            line_start = False
            continue
        line_start = ch == "\n"
        k += 1
    joined = "".join(clean)
    # LaTeX comments inside math blocks (MathJax reads them too)
    for block in source.blocks:
        body = _blank_tex_comments(joined[block.start : block.end])
        joined = joined[: block.start] + body + joined[block.end :]
    source.clean = joined
    return source


def _fence_at(text: str, k: int) -> tuple[str, str, int] | None:
    """A code fence opening at line start ``k`` (up to 3 spaces of indent): its backticks or
    tildes, its info word and the offset of its body."""
    q = k
    while q < len(text) and q - k < 3 and text[q] == " ":
        q += 1
    if not (text.startswith("```", q) or text.startswith("~~~", q)):
        return None
    mark = text[q]
    run = 0
    while q + run < len(text) and text[q + run] == mark:
        run += 1
    end = text.find("\n", q)
    end = len(text) if end < 0 else end
    info = text[q + run : end].strip().split(" ")[0].lower() if end > q + run else ""
    return mark * run, info, min(end + 1, len(text))


def _fence_close(text: str, k: int, ticks: str) -> int:
    """Offset of the line that closes a fence opened with ``ticks`` (−1: never closed)."""
    while k < len(text):
        end = text.find("\n", k)
        end = len(text) if end < 0 else end
        if text[k:end].strip().startswith(ticks) and set(text[k:end].strip()) == {ticks[0]}:
            return k
        k = end + 1
    return -1
