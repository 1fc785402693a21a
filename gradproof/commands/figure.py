"""``gradproof figure NAME -o FILE.{tex,pdf,png,svg}`` and ``gradproof figure --list``."""

from __future__ import annotations

import argparse
import sys

from gradproof.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "figure",
        help="write a figure: .tex (pgfplots) or .pdf/.png/.svg (matplotlib)",
        description=(
            "Write a figure computed by gradproof. The format follows the suffix of -o: .tex is a "
            "tikzpicture needing only pgfplots; .pdf, .png and .svg are drawn by matplotlib "
            "(pip install 'gradproof[plots]'). Without -o the .tex form is printed. "
            "Exit 0 when written, 2 on a usage or input error (or matplotlib missing)."
        ),
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="figure name (see --list)")
    parser.add_argument("-o", "--output", metavar="FILE", help="FILE.tex, FILE.pdf, FILE.png or FILE.svg")
    parser.add_argument("--list", action="store_true", help="list the figures (name and title)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gradproof.reports.figures import figure, titles

    if args.list:
        if args.name or args.output:
            raise InputError("--list: give no figure name or -o with --list")
        items = titles()
        width = max(len(name) for name, _ in items)
        for name, title in items:
            print(f"{name:<{width}}  {title}")
        return 0
    if not args.name:
        raise InputError("figure: name a figure (see 'gradproof figure --list')")
    if args.output is None:
        sys.stdout.write(figure(args.name).tex())
        return 0
    from gradproof.reports.figures.plot import FORMATS
    from gradproof.reports.output import check_output_path

    target = check_output_path(args.output)
    if target.suffix.lower() not in FORMATS:  # before computing anything
        raise InputError(f"-o {args.output!r}: use a .tex, .pdf, .png or .svg file")
    written = figure(args.name).save(target)
    print(f"wrote {written}")
    return 0
