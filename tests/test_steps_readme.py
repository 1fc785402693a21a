"""The README's check-steps example is real: its file, checked now, prints exactly the output the
README shows, and exits 1."""

from __future__ import annotations

import sys
from pathlib import Path

from gradproof.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Checking a hand-written derivation: `gradproof check-steps`"):]
    source = section[section.index("```latex\n") + 9 : section.index("```\n", section.index("```latex"))]
    console = section[section.index("$ gradproof check-steps ce-slip.tex\n") :]
    shown = console[console.index("\n") + 1 : console.index("$ echo $?")]
    return source, shown


def test_readme_example_is_the_actual_output(tmp_path, monkeypatch, capsys):
    source, shown = _example()
    (tmp_path / "ce-slip.tex").write_text(source, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["gradproof"])
    assert main(["check-steps", "ce-slip.tex"]) == 1
    assert capsys.readouterr().out == shown
