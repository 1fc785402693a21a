"""Compiling a report with the system's TeX: shell escape off, a time limit, and the first LaTeX
error reported with the offending line.

``pdflatex`` runs in a temporary folder (so auxiliary files never litter the user's folder) at
most twice (Beamer needs a second run for its navigation); the PDF is moved next to the .tex
atomically.  ``latexmk`` is not used: a ``latexmkrc`` in the user's folder could turn shell
escape back on.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gradproof.errors import GradproofError
from gradproof.reports.output import write_atomic

#: seconds one pdflatex run may take
TIME_LIMIT = 180
#: lines from the end of the log shown when pdflatex fails without a "!" error
LOG_LINES = 12
FLAGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error")


class TexNotFoundError(GradproofError):
    """No pdflatex on PATH."""


class TexError(GradproofError):
    """pdflatex failed; the message gives the first error and the offending line."""


@dataclass(frozen=True)
class CompileResult:
    pdf: Path
    runs: int
    overfull: int  #: Overfull \\hbox/\\vbox warnings in the last run
    log: str


def find_tex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        raise TexNotFoundError(
            "no TeX installation found (pdflatex is not on PATH); the .tex file was written — install "
            "TeX Live (e.g. apt-get install texlive-latex-recommended texlive-pictures) or compile it elsewhere"
        )
    return exe


def first_error(log: str, tex_lines: list[str]) -> str:
    """The first ``!`` error of a pdflatex log with its line number and the offending source line."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(?:\./)?[^:\s]*\.tex:(\d+): (.*)$", line)
        if line.startswith("! ") or m:
            message = line[2:] if line.startswith("! ") else m.group(2)
            number = int(m.group(1)) if m else None
            if number is None:
                for follow in lines[i + 1 : i + 30]:
                    lm = re.match(r"^l\.(\d+)", follow)
                    if lm:
                        number = int(lm.group(1))
                        break
            if number is not None and 1 <= number <= len(tex_lines):
                source = tex_lines[number - 1].strip()
                return f"line {number}: {message.strip()}\n  {source[:200]}"
            return message.strip()
    tail = [line for line in lines if line.strip()][-LOG_LINES:]
    if not tail:
        return "pdflatex failed without writing a log or any output"
    return "pdflatex failed without an error message; the end of its log:\n  " + "\n  ".join(tail)


def _run_tex(argv: list[str], cwd: str, env: dict, time_limit: float, tex_path: Path) -> str:
    """One pdflatex run in its own process group; at the time limit the whole group is killed
    (pdflatex's children, e.g. a font generator, must not outlive it).  Returns its terminal output."""
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise TexError(f"{tex_path}: pdflatex did not finish within {time_limit:g} s") from None
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        _kill_group(proc, only_stragglers=True)
    return out.decode("latin-1")


def _kill_group(proc: subprocess.Popen, *, only_stragglers: bool = False) -> None:
    """Kill pdflatex's process group: everything it started (or, after a normal exit, whatever
    it left behind)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not only_stragglers:
        try:
            proc.communicate(timeout=5)
        except (subprocess.TimeoutExpired, ValueError):
            pass


def count_overfull(log: str) -> int:
    return len(re.findall(r"^Overfull \\[hv]box", log, flags=re.M))


def compile_pdf(tex_path: str | os.PathLike, *, time_limit: int = TIME_LIMIT) -> CompileResult:
    """Compile ``tex_path`` to a PDF beside it; raises TexNotFoundError or TexError."""
    exe = find_tex()
    tex_path = Path(tex_path)
    source = tex_path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="gradproof-tex-") as tmp:
        work = Path(tmp) / "report.tex"
        work.write_text(source, encoding="utf-8")
        env = {**os.environ, "openout_any": "p", "shell_escape": "f"}
        log, runs = "", 0
        for _ in (1, 2):
            runs += 1
            output = _run_tex([exe, *FLAGS, "report.tex"], tmp, env, time_limit, tex_path)
            log_file = Path(tmp) / "report.log"
            log = log_file.read_text(encoding="latin-1") if log_file.exists() else ""
            pdf = Path(tmp) / "report.pdf"
            if not pdf.exists() or re.search(r"^! ", log, flags=re.M):
                # the temporary folder (and its log) is gone once we return: show what matters now
                detail = first_error(log or output, source.splitlines())
                where = "" if detail.startswith("pdflatex failed") else "LaTeX error at "
                raise TexError(f"{tex_path}: {where}{detail}")
            if "{beamer}" not in source and "Rerun to get" not in log:
                break  # an article without cross-references is done in one run
        target = write_atomic(tex_path.with_suffix(".pdf"), pdf.read_bytes())
        return CompileResult(target, runs, count_overfull(log), log)
