"""``gradproof check-steps FILE [FILE…] [--json]``: check a hand-written derivation line by line.

Exit 0 when every row of every file holds, 1 when some row failed or could not be established,
2 for a usage or parse error (one line naming the file, line and column); with several files,
the largest of their codes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-steps",
        help="check a hand-written derivation (.tex or .md) line by line",
        description=(
            "Check every step of the derivations in FILE (.tex: align*, equation, \\[…\\]; .md: $$…$$ "
            "and ```math blocks).  Each relation is proved symbolically (✓), or checked at exact random "
            "points (≈, not proved), or it fails (✗) with a counterexample and a likely slip.  Declare "
            "indices and definitions in comments: % gradproof: index i, j = 1..n.  Exit 0 every row "
            "holds, 1 some row failed or is unestablished, 2 usage or parse error."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".tex or .md file")
    parser.add_argument("--json", action="store_true", help="one JSON object per file (a list for several files)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gradproof.errors import InputError
    from gradproof.steps.check import check_steps
    from gradproof.steps.result import StepReport

    from gradproof.console import say

    reports = []
    code = 0
    for name in args.files:
        try:
            report = check_steps(Path(name))
        except InputError as exc:  # the file itself cannot be read (missing, a folder): a usage error
            from gradproof.steps.errors import StepsSyntaxError

            report = StepReport(file=name, error=StepsSyntaxError(str(exc).removeprefix(f"{name}: "), file=name,
                                                                  line=1, column=1))  # fmt: skip
        reports.append(report)
        code = max(code, report.exit_code)
        if not args.json:
            if report.error is not None:
                say(f"gradproof: error: {report.error}", file=sys.stderr)
            else:
                say(str(report))
    if args.json:
        payload = [r.as_json() for r in reports]
        say(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False))
    return code
