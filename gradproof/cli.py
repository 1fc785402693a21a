"""The ``gradproof`` command line: a thin layer over the public API.

Each subcommand lives in ``gradproof/commands/<name>.py`` with ``add_parser(subparsers)`` and
``run(args) -> int``.  Exit codes: 0 all good, 1 a check failed, 2 usage or input error.  Errors
that come from the user's input print one line on stderr, never a traceback.

The exit code is the verdict whatever happens to the output: commands print through
:func:`gradproof.console.say`, which spells in ASCII what the terminal cannot encode and ignores
a reader that went away (``| head``), so ``run`` always returns its verdict.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from gradproof.console import flush, install, lost_output, restore, say
from gradproof.errors import GradproofError, InputError

# subcommand -> module in gradproof.commands; one line per command
COMMANDS = {
    "list": "catalog",
    "show": "catalog",
    "verify": "verify",
    "check": "check",
    "bias-variance": "bias_variance",
    "report": "report",
    "check-steps": "check_steps",
    "figure": "figure",
}


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (no usage dump, no traceback), and prints
    help through :func:`~gradproof.console.say`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"gradproof: error: {message} (see 'gradproof --help')\n")

    def _print_message(self, message: str, file=None) -> None:  # type: ignore[override]
        if message:
            say(message, file=file or sys.stderr, end="")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradproof",
        description="Derive, verify and typeset the gradients a deep-learning course teaches.",
    )
    from gradproof import __version__

    parser.add_argument("--version", action="version", version=f"gradproof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    seen = set()
    for module_name in COMMANDS.values():
        if module_name in seen:
            continue
        seen.add(module_name)
        importlib.import_module(f"gradproof.commands.{module_name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    previous = install()
    try:
        try:
            code = _main(argv)
        except SystemExit as exc:  # argparse: --help, --version and usage errors
            if exc.code in (0, None) and _lost_output():
                raise SystemExit(2) from None
            raise
        if _lost_output():
            return 2 if code == 0 else code  # a mismatch stays a mismatch
        return code
    finally:
        flush()
        restore(previous)


def _lost_output() -> bool:
    """Whether writing the output failed (``>/dev/full``): said in one line on stderr.  A reader
    that went away (``| head``) is not a failure; output that could not be written is, so the
    command does not exit 0 for work the user never received."""
    flush()
    error = lost_output()
    if error is None:
        return False
    say(f"gradproof: error: could not write the output: {error.strerror or error}", file=sys.stderr)
    return True


# commands that run no code of the user's: after them the process may end without the
# interpreter's teardown (see script)
_NO_USER_CODE = frozenset({"verify", "list", "show"})
_ran: list[str] = []  # the command main() ran, for script()


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    _ran.append(args.command)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        say("gradproof: interrupted", file=sys.stderr)
        return 130
    except (InputError, GradproofError) as exc:
        say(f"gradproof: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # a print that bypassed console.say met a closed stdout before the command reached its
        # verdict: never report success for work that did not finish
        flush()
        say("gradproof: error: the output was closed before the command finished", file=sys.stderr)
        return 2


def _since_process_start() -> float:
    """Seconds since this process started (the interpreter's own start-up and the imports before
    :func:`script` included), from /proc on Linux; 0.0 where that cannot be read."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start time after boot
    except (OSError, ValueError, IndexError):
        return 0.0
    return min(max(uptime - started, 0.0), 60.0)  # a clock oddity must not inflate the summary


def script() -> None:
    """The ``gradproof`` executable: :func:`main`, then the exit.

    After ``verify``, ``list`` or ``show`` with PyTorch or SymPy loaded (a cold ``gradproof
    verify``), the process ends with ``os._exit`` once the output is flushed and the ``atexit``
    handlers have run: the interpreter's teardown of those modules costs about a second (torch
    alone ~1 CPU-second here) and does nothing the exit would not.  The other commands keep the
    ordinary exit (they gain little, and ``check``/``report`` hand the user's code to a child
    process of their own)."""
    from gradproof import commands

    commands.process_started = time.perf_counter() - _since_process_start()
    code = main()
    if _ran and _ran[-1] in _NO_USER_CODE and ("torch" in sys.modules or "sympy" in sys.modules):
        import atexit

        atexit._run_exitfuncs()  # noqa: SLF001 - what sys.exit would run before the teardown
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):  # lost output was already reported by main()
                pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    script()
