"""``gradproof list`` and ``gradproof show NAME``."""

from __future__ import annotations

import argparse

from gradproof.console import say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the derivations (slug and title)")
    p.set_defaults(run=run_list)
    p = sub.add_parser("show", help="show a derivation: statement, steps with reasons, worked examples")
    p.add_argument("name", help="derivation slug (see 'gradproof list')")
    p.add_argument("--latex", action="store_true", help="print the paste-ready LaTeX fragment instead")
    p.add_argument(
        "--directives", action="store_true",
        help="with --latex: add the %% gradproof: declarations that 'gradproof check-steps' needs to check it",
    )  # fmt: skip
    p.set_defaults(run=run_show)


def run_list(args: argparse.Namespace) -> int:
    from gradproof.derivations.registry import catalog

    items = catalog()
    width = max(len(d.name) for d in items)
    for d in items:
        say(f"{d.name:<{width}}  {d.title}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from gradproof import console
    from gradproof.derivations.registry import derivation

    d = derivation(args.name)
    if args.directives and not args.latex:
        from gradproof.errors import InputError

        raise InputError("--directives: only with --latex (the declarations go into the LaTeX fragment)")
    if args.latex and args.directives:
        from gradproof.derivations.directives import with_directives

        say(with_directives(d, d.latex()), end="")
        return 0
    if args.latex:
        say(d.latex(), end="")
        return 0
    from gradproof.derivations.text import render_text

    say(render_text(d, width=console.width(), ascii=console.wants_ascii()))
    return 0
