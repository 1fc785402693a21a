"""From rows to the relations a derivation claims.

* Rows end at ``\\\\``.  A row ``A &= B`` states A = B; a following row ``&= C`` states B = C; a
  row with its own left side starts a new chain; ``A = B = C`` on one row is two steps.
* A row with no relation continues the expression before it (a long right-hand side over two
  lines), or, before any relation, is a left side whose ``&=`` comes on the next row.
* In Markdown, a ``$$`` block that starts with a relation continues the previous block's chain.
* The first row of a chain whose left side is a name with no definition (``L &= …``) defines it;
  so does ``:=`` anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from gradproof.steps.parse import parse_tokens
from gradproof.steps.source import Source
from gradproof.steps.tokens import MAX_ROW_TOKENS, Row, _has_relation, block_rows

# how each relation is written when a step is shown
REL_LATEX = {"=": "=", "<": "<", ">": ">", "<=": r"\le", ">=": r"\ge", "!=": r"\neq", ":=": ":=",
             "≈": r"\approx", "∝": r"\propto", "=>": r"\Longrightarrow"}  # fmt: skip


@dataclass
class LogicalRow:
    """Rows joined where an expression continues over ``\\\\``: the tokens of one statement."""

    tokens: list[Token]
    offset: int  # of its first character in the file
    rows: list[Row] = field(default_factory=list)
    block: int = 0
    tree: Tree | None = None

    @property
    def leads(self) -> bool:
        """True when the row has its own left side (does not start with a relation)."""
        return bool(self.tokens) and self.tokens[0].type != "REL"


@dataclass
class Relation:
    """One claimed relation ``lhs ⋈ rhs``; ``starts_chain`` when ``lhs`` is a written left side."""

    lhs: Any  # parse tree
    relation: str
    rhs: Any
    offset: int  # of the row it is on
    line: int
    latex: str
    lhs_latex: str
    rhs_latex: str
    starts_chain: bool
    chain: int
    row: LogicalRow
    defines: str | None = None  # the name it defines (status "defined")


def logical_rows(source: Source) -> list[LogicalRow]:
    out: list[LogicalRow] = []
    for number, block in enumerate(source.blocks):
        pending: LogicalRow | None = None
        current: LogicalRow | None = None
        for row in block_rows(source, block):
            tokens = row.tokens
            stacked = bool(tokens) and tokens[0].type == "STACK"
            if stacked:  # \rlap{$A$}: the braces go, and A waits for its relation on the next row
                tokens = tokens[2:-1] if len(tokens) > 2 and tokens[1].type == "LGROUP" else tokens[1:]
            if not tokens:
                continue
            if stacked:
                if pending is not None:
                    raise source.error(row.offset, "a second left side set on its own row (\\rlap) before "
                                       "the first one's relation")  # fmt: skip
                pending = LogicalRow(list(tokens), row.offset, [row], number)
                continue
            if not _has_relation(tokens):
                if current is not None and pending is None:
                    current.tokens += tokens  # a long expression continued on the next row
                    current.rows.append(row)
                elif pending is not None:
                    pending.tokens += tokens
                    pending.rows.append(row)
                else:
                    pending = LogicalRow(list(tokens), row.offset, [row], number)
                continue
            if pending is not None:
                current = LogicalRow(pending.tokens + list(tokens), pending.offset, pending.rows + [row], number)
                pending = None
            else:
                current = LogicalRow(list(tokens), row.offset, [row], number)
            out.append(current)
        if pending is not None and _has_relation(pending.tokens):  # a stacked row ending the block
            out.append(pending)
        # a block's trailing expression with no relation states nothing to check
    for lrow in out:
        if len(lrow.tokens) > MAX_ROW_TOKENS:
            raise source.error(lrow.offset, f"a formula of {len(lrow.tokens)} symbols, more than the "
                               f"{MAX_ROW_TOKENS} the checker reads in one row (split it into steps)")  # fmt: skip
        lrow.tree = parse_tokens(source, lrow.tokens, end_offset=lrow.offset)
    return out


def _implications(source: Source, lrow: LogicalRow, kids: list) -> list:
    """A row with ⟹: its parts as relations joined by ``=>`` tokens, in the shape of an ordinary
    row whose sides are ``statement`` trees (lhs tree, relation token, rhs tree)."""
    segments: list[list] = [[]]
    arrows = []
    for kid in kids:
        if isinstance(kid, Token) and kid.type == "REL" and str(kid.value) == "=>":
            segments.append([])
            arrows.append(kid)
        else:
            segments[-1].append(kid)
    out: list = []
    for q, seg in enumerate(segments):
        if q == 0 and not seg:
            continue  # the row starts with ⟹: its premise is the statement before it
        if len(seg) != 3 or not isinstance(seg[0], Tree) or not isinstance(seg[2], Tree):
            at = seg[0] if seg and isinstance(seg[0], Token) else arrows[max(q - 1, 0)]
            raise source.error(getattr(at, "start_pos", lrow.offset), "each side of ⟹ is one relation (a = b ⟹ c = d)")
        if str(seg[1].value) == "=>":  # pragma: no cover - split above
            raise source.error(seg[1].start_pos, "⟹ needs a relation on each side")
        statement = Tree("statement", list(seg))
        if out or q > 0:
            out.append(arrows[q - 1])
        out.append(statement)
    return out


def relations(source: Source, rows: list[LogicalRow]) -> list[Relation]:
    """The relations claimed, chained as described in the module docstring."""
    out: list[Relation] = []
    previous_rhs: tuple | None = None  # (tree, latex)
    chain = -1
    for lrow in rows:
        kids = lrow.tree.children
        line, _ = source.position(lrow.offset)
        if any(isinstance(k, Token) and k.type == "REL" and str(k.value) == "=>" for k in kids):
            kids = _implications(source, lrow, kids)
        elif previous_rhs is not None and _is_statement(previous_rhs[0]) and not (kids and isinstance(kids[0], Tree)):
            raise source.error(lrow.offset, "this row continues an implication's conclusion with a relation "
                               "between numbers: write ⟹ and a relation, or start a new row with its left side")  # fmt: skip
        if kids and isinstance(kids[0], Tree):
            lhs = (kids[0], display(source, _tree_tokens(kids[0])))
            pairs = kids[1:]
            chain += 1
            starts = True
        else:
            if previous_rhs is None:
                raise source.error(lrow.offset, "this row starts with a relation, but no formula comes before it")
            lhs = previous_rhs
            pairs = kids
            starts = False
        for q in range(0, len(pairs), 2):
            rel_token, rhs_tree = pairs[q], pairs[q + 1]
            rhs = (rhs_tree, display(source, _tree_tokens(rhs_tree)))
            rel = str(rel_token.value)
            latex = f"{lhs[1]} {REL_LATEX.get(rel, rel)} {rhs[1]}"
            out.append(Relation(lhs[0], rel, rhs[0], lrow.offset, line, latex, lhs[1], rhs[1],
                                starts and q == 0, chain, lrow))  # fmt: skip
            lhs = rhs
        previous_rhs = lhs
    return out


def _is_statement(tree: Any) -> bool:
    return isinstance(tree, Tree) and tree.data == "statement"


def statement_of(tree: Any) -> tuple | None:
    """(lhs tree, relation, rhs tree) of a side of an implication, or None for an ordinary side."""
    if not _is_statement(tree):
        return None
    lhs, rel, rhs = tree.children
    return lhs, str(rel.value), rhs


def _tree_tokens(tree: Any) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    out: list[Token] = []
    for c in tree.children:
        if c is not None:
            out += _tree_tokens(c)
    return out


def display(source: Source, tokens: list[Token]) -> str:
    """The LaTeX of a formula as the user wrote it: the source of its tokens, with what was
    dropped (spacing, ``\\left``, reasons) left out and a macro shown by its name."""
    pieces: list[str] = []
    last_end: int | None = None
    last_macro: int | None = None
    for t in tokens:
        start, end = t.start_pos, t.end_pos
        if end == start:  # from a macro's replacement: the macro's name, once
            if last_macro != start:
                pieces.append((" " if pieces else "") + _macro_name(source.text, start))
                last_macro = start
            last_end = None
            continue
        last_macro = None
        if last_end is None:
            start = _sizing_before(source.text, start)
        text = source.text[start:end]
        if last_end is not None and start > last_end:
            gap = source.text[last_end:start]
            pieces.append(gap if _harmless(gap) else " ")
        elif last_end is None and pieces:
            pieces.append(" ")
        pieces.append(text)
        last_end = end
    out = "".join(pieces)
    return " ".join(out.split())


# what may stay between two tokens of a displayed formula: spacing and sizing, not a row or
# cell break, a comment, a label or a reason
_BREAKS = ("&", "\\\\", "%", "\\label", "\\tag", "\\text", "\\nonumber", "\\notag", "\\intertext", "\n")


def _sizing_before(text: str, start: int) -> int:
    """Include a ``\\left`` (or ``\\bigl``) just before a run's first token."""
    from gradproof.steps.tokens import _SIZES

    q = start
    while q > 0 and text[q - 1] in " \t":
        q -= 1
    for cmd in _SIZES:
        if text.startswith(cmd, q - len(cmd)) and (q - len(cmd) == 0 or text[q - len(cmd) - 1] != "\\"):
            return q - len(cmd)
    return start


def _harmless(gap: str) -> bool:
    return not any(b in gap for b in _BREAKS)


def _macro_name(text: str, k: int) -> str:
    q = k + 1
    while q < len(text) and text[q].isalpha():
        q += 1
    return text[k:q]
