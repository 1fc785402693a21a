r"""Names written as several symbols: ``D_{u} L`` (a directional derivative), ``\|g\|`` (a
gradient's length) declared ``% gradproof: scalar D_{u} L, \|g\|``.

Without the declaration ``D_{u} L`` reads as the product of D_u and L, and ``\|g\|`` as the norm
of a declared vector.  With it, the symbols are one name wherever they are written, so the name
can be defined (``define D_{u} L = …``) and assumed on (``assume \|g\| > 0``) like any other.
The match is on the classified tokens, with braces around a single symbol ignored (``D_u L``
is ``D_{u} L``).  A declared name followed by a subscript, superscript or prime (``D_{u} L^2``)
is an error: whether the script belongs to the last symbol or to the whole name is a guess
(after a closing bar a power is not: ``\|g\|^2`` is the square of ``\|g\|``; ``\|g\|_2`` is an error).
"""

from __future__ import annotations

from lark import Token

from gradproof.steps.source import Source

# what a name of several symbols may be made of
_PARTS = {"NAME", "NUM", "SUB", "SUP", "APOS", "LGROUP", "RGROUP", "NORML", "NORMR", "ABSL", "ABSR"}
_SCRIPTS = {"SUB", "SUP", "APOS"}
_OPENS = {"NORML": "NORMR", "ABSL": "ABSR"}
_CLOSES = {"NORMR", "ABSR"}


def _units(tokens: list[Token]) -> list[tuple[tuple[str, str], int, int]]:
    """``tokens`` as (key, first, last) units: ``{x}`` (one symbol in braces) is the unit x."""
    out, k = [], 0
    while k < len(tokens):
        t = tokens[k]
        if (t.type == "LGROUP" and k + 2 < len(tokens) and tokens[k + 2].type == "RGROUP"
                and tokens[k + 1].type not in ("LGROUP", "RGROUP")):  # fmt: skip
            inner = tokens[k + 1]
            out.append(((inner.type, str(inner.value)), k, k + 2))
            k += 3
            continue
        out.append(((t.type, str(t.value)), k, k))
        k += 1
    return out


def is_phrase(tokens: list[Token]) -> bool:
    r"""Whether a declared scalar's tokens are a name of several symbols (``D_{u} L``, ``\|g\|``),
    rather than one name with one subscript (``L_u``, ``M_{params}``), read by the grammar."""
    if len(tokens) < 2:
        return False
    if tokens[0].type == "NAME" and tokens[1].type == "SUB" and len(tokens) > 2:
        rest = tokens[2:]
        if len(rest) == 1 or (rest[0].type == "LGROUP" and _closing(rest, 0) == len(rest) - 1):
            return False
    return True


def _closing(tokens: list[Token], k: int) -> int:
    depth = 0
    for q in range(k, len(tokens)):
        if tokens[q].type == "LGROUP":
            depth += 1
        elif tokens[q].type == "RGROUP":
            depth -= 1
            if depth == 0:
                return q
    return -1


def check_phrase(source: Source, tokens: list[Token], offset: int) -> None:
    """A declared name of several symbols must be made of names, numbers, scripts, braces and
    bars, start with a name or a bar, and have balanced braces."""
    bad = next((t for t in tokens if t.type not in _PARTS), None)
    if bad is not None:
        raise source.error(bad.start_pos, f"{bad.value!r} in a scalar's name: a scalar declaration lists names "
                           "(L_u, D_{u} L, \\|g\\|) separated by commas")  # fmt: skip
    if _units(tokens)[0][0][0] not in ("NAME", "NORML", "ABSL"):  # {D}_{u} L as SymPy prints it is fine
        raise source.error(tokens[0].start_pos, "a scalar's name starts with a letter or a bar (D_{u} L, \\|g\\|)")
    first = _units(tokens)[0][0]
    if first in (("NAME", "e"), ("NAME", "pi")):  # e^{x} is exp(x), \pi_{a} b a product with π
        constant = "e" if first[1] == "e" else "\\pi"
        raise source.error(tokens[0].start_pos, f"a scalar's name cannot start with {constant}, a constant "
                           "(e^{x} is the exponential): start it with another letter")  # fmt: skip
    if tokens[-1].type in _SCRIPTS:
        raise source.error(tokens[-1].start_pos, f"{tokens[-1].value} with nothing after it ends a scalar's name")
    depth = 0
    bars: list[Token] = []  # the bars opened and not yet closed
    for t in tokens:
        depth += (t.type == "LGROUP") - (t.type == "RGROUP")
        if depth < 0:
            raise source.error(t.start_pos, "unbalanced } in a scalar's name")
        if t.type in _OPENS:
            bars.append(t)
        elif t.type in _CLOSES:
            if not bars or _OPENS[bars[-1].type] != t.type:
                raise source.error(t.start_pos, f"{t.value} closes no bar in a scalar's name")
            bars.pop()
    if depth:
        raise source.error(offset, "unbalanced { in a scalar's name")
    if bars:
        raise source.error(bars[-1].start_pos, f"{bars[-1].value} is not closed in a scalar's name (\\|g\\|, |x|)")


def declared_phrases(source: Source) -> dict[tuple, str]:
    """The names of several symbols the file's ``scalar`` declarations list: the unit keys of
    each (see :func:`_units`) → the name as declared (the symbol's name)."""
    cached = source._phrases
    if cached is not None:
        return cached
    source._phrases = {}  # the declarations themselves are read unmerged
    from gradproof.steps.tokens import _lex_text, classify

    found: dict[tuple, str] = {}
    where: dict[tuple, int] = {}
    for d in source.directives:
        if d.keyword != "scalar":
            continue
        if d.rest.rstrip().endswith(","):
            raise source.error(d.offset + d.rest.rstrip().rfind(","), "a comma with no name after it in a scalar declaration")
        tokens = classify(source, _lex_text(source, d.rest, d.offset, depth=0, at=None))
        for k, t in enumerate(tokens):
            if t.type == "SEP" and (k == 0 or tokens[k - 1].type == "SEP"):
                raise source.error(t.start_pos, "a comma with no name before it in a scalar declaration")
        for part in _split(tokens):
            if is_phrase(part):
                check_phrase(source, part, part[0].start_pos)
                text = source.text[part[0].start_pos : part[-1].end_pos]
                key = tuple(key for key, _, _ in _units(part))
                _no_overlap(source, key, " ".join(text.split()), part[0].start_pos, found)
                found[key] = " ".join(text.split())
                where[key] = part[0].start_pos
    source._phrases = found
    return found


def _no_overlap(source: Source, key: tuple, name: str, offset: int, found: dict[tuple, str]) -> None:
    """Two declared names that could cover the same symbols (one inside the other, or the end of
    one the start of the other: ``a b`` and ``b c`` in ``a b c``) make a formula's reading a guess."""
    for other, other_name in found.items():
        if other == key:
            raise source.error(offset, f"{name} is declared twice")
        short, long_ = sorted((key, other), key=len)
        inside = any(long_[k : k + len(short)] == short for k in range(len(long_) - len(short) + 1))
        ends = any(a[-k:] == b[:k] for a, b in ((key, other), (other, key)) for k in range(1, min(len(a), len(b))))
        if inside or ends:
            raise source.error(offset, f"the names {other_name} and {name} overlap (one could be read inside the "
                               "other, or across both): declare names that share no symbols at their ends")  # fmt: skip


def _split(tokens: list[Token]) -> list[list[Token]]:
    """Comma-separated parts at brace depth 0."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        depth += (t.type == "LGROUP") - (t.type == "RGROUP")
        if t.type == "SEP" and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def merge_phrases(source: Source, tokens: list[Token]) -> list[Token]:
    """``tokens`` with every declared name of several symbols replaced by one NAME token."""
    phrases = declared_phrases(source)
    if not phrases:
        return tokens
    units = _units(tokens)
    keys = [key for key, _, _ in units]
    out: list[Token] = []
    u = 0
    consumed = 0  # tokens before this index are already in ``out``
    while u < len(units):
        match = next((p for p in sorted(phrases, key=len, reverse=True) if tuple(keys[u : u + len(p)]) == p), None)
        if match is None:
            u += 1
            continue
        first, last = units[u][1], units[u + len(match) - 1][2]
        out += tokens[consumed:first]
        head, tail = tokens[first], tokens[last]
        name = phrases[match]
        closed = tail.type in ("NORMR", "ABSR")  # \|g\|^2: the bars make a power the whole name's
        after = tokens[last + 1].type if last + 1 < len(tokens) else None
        if after in _SCRIPTS and not (closed and after == "SUP"):
            script = tokens[last + 1]
            raise source.error(script.start_pos, f"a script right after the name {name}: write it in "
                               f"parentheses, ({name}){script.value}…, or as another name")  # fmt: skip
        out.append(Token("NAME", name, start_pos=head.start_pos, line=head.line, column=head.column,
                         end_pos=tail.end_pos))  # fmt: skip
        consumed = last + 1
        u += len(match)
    out += tokens[consumed:]
    return out


__all__ = ["declared_phrases", "is_phrase", "merge_phrases"]
