"""``gradproof report``: LaTeX for the catalog (article, Beamer or fragment), or for the user's own
function beside the derived formula; ``--pdf`` compiles it with the system's pdflatex."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gradproof.commands.check import add_timeout_option, checked_timeout
from gradproof.console import say
from gradproof.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write lecture-ready LaTeX: an article, Beamer slides or a paste-ready fragment",
        description=(
            "Write the named derivations (all when none is named) as LaTeX, or as Markdown for course "
            "sites (--format markdown). Exit 0 when written "
            "(and compiled with --pdf), 1 when the PDF build fails, 2 on a usage or input error."
        ),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="derivation slugs (default: all)")
    parser.add_argument(
        "--steps", metavar="FILE", default=None,
        help="typeset your own derivation (.tex or .md) with a mark per row and the counterexample under "
        "the first wrong row (exit codes as check-steps)",
    )  # fmt: skip
    parser.add_argument("-o", "--output", required=True, metavar="FILE.tex",
                        help="where to write the LaTeX (FILE.md with --format markdown)")
    parser.add_argument("--format", choices=("article", "beamer", "fragment", "markdown"), default="article",
                        help="markdown: $$ math for course sites (KaTeX/MathJax), figures as PNG files beside it")
    parser.add_argument("--title", default=None, help="document title (escaped: typeset as given)")
    parser.add_argument("--author", default="", help="author line (escaped)")
    parser.add_argument("--pdf", action="store_true", help="also compile FILE.pdf with pdflatex")
    parser.add_argument("--no-verify", action="store_true", help="leave out the verified boxes (faster)")
    parser.add_argument("--no-figures", action="store_true", help="leave out the pgfplots figures")
    parser.add_argument("--device", default="auto", help="device for verification: auto, cpu or cuda")
    parser.add_argument(
        "--function", metavar="MODULE:FUNC", default=None,
        help="typeset your function with latexify-py (refused where it would print a wrong formula)",
    )  # fmt: skip
    parser.add_argument("--against", metavar="NAME", default=None, help="with --function: the derived result")
    add_timeout_option(parser, "importing and typesetting --function")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gradproof.reports.output import check_output_path, write_atomic

    out = check_output_path(args.output)
    if args.steps is not None and args.format != "article":
        raise InputError("--steps: the checked derivation is an article (no --format)")
    if args.format == "markdown":
        return _run_markdown(args, out)
    if out.suffix != ".tex":
        raise InputError(f"-o {args.output!r}: the output must be a .tex file (.md only with --format markdown)")
    if args.pdf:
        # every usage error before anything is written: a refused run must leave files alone
        if args.format == "fragment":
            raise InputError("--pdf: a fragment has no preamble to compile; use --format article or beamer")
        check_output_path(out.with_suffix(".pdf"), option="--pdf")
    if args.steps is not None:
        return _run_steps(args, out)
    if args.function is not None:
        if args.names:
            raise InputError("--function: give no derivation names with --function (use --against NAME)")
        if args.format != "article":
            raise InputError("--function: only --format article is supported")
        from gradproof.isolated import run_isolated

        # the user's module runs when it is imported: in a child process (see gradproof.isolated)
        tex = run_isolated(
            "gradproof.reports.code:function_report",
            {"spec": args.function, "against": args.against, "title": args.title, "author": args.author},
            timeout=checked_timeout(args.timeout),
            what="report --function",
        )
    else:
        if args.against is not None:
            raise InputError("--against: only meaningful with --function MODULE:FUNC")
        from gradproof.reports.build import build_report

        tex = build_report(
            args.names, format=args.format, title=args.title, author=args.author,
            verify=not args.no_verify, figures=not args.no_figures, device=args.device,
        )  # fmt: skip
    write_atomic(out, tex)
    say(f"wrote {out}")
    if not args.pdf:
        return 0
    from gradproof.reports.compile import TexError, TexNotFoundError, compile_pdf

    try:
        result = compile_pdf(out)
    except (TexError, TexNotFoundError) as exc:
        say(f"gradproof: PDF not built: {exc}", file=sys.stderr)
        return 1
    say(f"wrote {result.pdf} ({result.overfull} overfull box warning(s))")
    return 0


def _run_steps(args: argparse.Namespace, out: Any) -> int:
    """``report --steps FILE``: written whatever the verdict (not on a parse error); exits like
    ``check-steps`` (0 every row holds, 1 a row failed or is unestablished, 2 a usage or parse
    error), and 1 when --pdf cannot build the PDF of a file whose rows all hold."""
    from pathlib import Path

    if args.names or args.function is not None or args.against is not None:
        raise InputError("--steps: give no derivation names, --function or --against with --steps")
    if args.format != "article":
        raise InputError("--steps: the checked derivation is an article (no --format)")
    from gradproof.reports.output import write_atomic
    from gradproof.reports.steps import steps_document
    from gradproof.steps.check import checked_source

    source, report = checked_source(Path(args.steps))
    if report.error is not None:
        say(f"gradproof: error: {report.error}", file=sys.stderr)
        return 2
    write_atomic(out, steps_document(source, report))
    say(str(report))
    say(f"wrote {out}")
    code = report.exit_code
    if not args.pdf:
        return code
    from gradproof.reports.compile import TexError, TexNotFoundError, compile_pdf

    try:
        result = compile_pdf(out)
    except (TexError, TexNotFoundError) as exc:
        say(f"gradproof: PDF not built: {exc}", file=sys.stderr)
        return max(code, 1)
    say(f"wrote {result.pdf} ({result.overfull} overfull box warning(s))")
    return code


def _run_markdown(args: argparse.Namespace, out) -> int:
    from gradproof.reports.output import check_output_path, write_atomic

    if out.suffix != ".md":
        raise InputError(f"-o {args.output!r}: --format markdown writes a .md file")
    if args.pdf:
        raise InputError("--pdf: a Markdown page is not compiled; use --format article or beamer for a PDF")
    if args.function is not None or args.against is not None:
        raise InputError("--function/--against: only --format article is supported")
    from gradproof.reports.markdown import markdown_report

    report = markdown_report(
        args.names, title=args.title, author=args.author, verify=not args.no_verify,
        figures=not args.no_figures, device=args.device, figure_stem=out.stem,
    )  # fmt: skip
    for filename, data in report.figures.items():
        check_output_path(out.parent / filename)
    for filename, data in report.figures.items():
        path = write_atomic(out.parent / filename, data)
        print(f"wrote {path}")
    write_atomic(out, report.text)
    print(f"wrote {out}")
    return 0
