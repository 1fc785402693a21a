"""``gradproof check-steps``: exit codes, the text report, --json, several files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradproof.cli import main

GOOD = r"""% gradproof: index i, j = 1..n
% gradproof: define s_i = \frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}}
% gradproof: assume \sum_{i=1}^{n} y_i = 1
\begin{align*}
L &= -\sum_{i=1}^{n} y_i \log s_i \\
\frac{\partial L}{\partial z_j} &= -\sum_{i=1}^{n} y_i \frac{\partial \log s_i}{\partial z_j} \\
  &= -\sum_{i=1}^{n} y_i (\delta_{ij} - s_j) \\
  &= s_j \sum_{i=1}^{n} y_i - y_j \\
  &= s_j - y_j
\end{align*}
"""
# the same chain with a sign slip on line 7
BAD = GOOD.replace(r"&= -\sum_{i=1}^{n} y_i (\delta_{ij} - s_j)", r"&= \sum_{i=1}^{n} y_i (\delta_{ij} - s_j)")
BROKEN = "\\begin{align*}\n a &= (b + \n\\end{align*}\n"


@pytest.fixture
def files(tmp_path: Path) -> dict:
    out = {}
    for name, text in (("good.tex", GOOD), ("bad.tex", BAD), ("broken.tex", BROKEN)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        out[name] = str(tmp_path / name)
    return out


def test_good_file_exits_0(files, capsys):
    assert main(["check-steps", files["good.tex"]]) == 0
    out = capsys.readouterr().out
    assert "all 4 step(s) hold" in out and "✓ proved" in out


def test_bad_file_exits_1_and_names_the_first_wrong_step(files, capsys):
    assert main(["check-steps", files["bad.tex"]]) == 1
    out = capsys.readouterr().out
    assert "first wrong step: line 7" in out
    assert "counterexample: at n = " in out and "left side" in out and "right side" in out
    assert "likely slip (sign)" in out
    assert "does not follow from the last correct step" in out or "follows from the last correct step" in out


def test_parse_error_exits_2_with_one_line(files, capsys):
    assert main(["check-steps", files["broken.tex"]]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"gradproof: error: {files['broken.tex']}:2:")
    assert "Traceback" not in captured.err


def test_several_files_exit_with_the_largest_code(files, capsys):
    assert main(["check-steps", files["good.tex"], files["bad.tex"]]) == 1
    assert main(["check-steps", files["good.tex"], files["broken.tex"], files["bad.tex"]]) == 2


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["check-steps", str(tmp_path / "nope.tex")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_json_for_one_file(files, capsys):
    assert main(["check-steps", files["bad.tex"], "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"file", "ok", "error", "steps", "first_failure"}
    assert data["ok"] is False and data["error"] is None
    assert [s["status"] for s in data["steps"]] == ["defined", "proved", "failed", "failed", "proved"] or (
        data["steps"][2]["status"] == "failed")  # fmt: skip
    for s in data["steps"]:
        assert set(s) <= {"line", "status", "latex", "follows_from_last_correct"}
        assert "&" not in s["latex"] and "\\\\" not in s["latex"]
    first = data["first_failure"]
    assert first["line"] == 7 and first["status"] == "failed"
    assert first["latex"] == r"-\sum_{i=1}^{n} y_i \frac{\partial \log s_i}{\partial z_j} = \sum_{i=1}^{n} y_i (\delta_{ij} - s_j)"
    ce = first["counterexample"]
    assert set(ce) == {"sizes", "indices", "values", "lhs", "rhs"}
    assert set(ce["sizes"]) == {"n"} and set(ce["indices"]) == {"j"}
    assert all(isinstance(v, str) for v in ce["values"].values())
    assert first["diagnosis"]["kind"] == "sign"
    after = data["steps"][3:]
    assert all("follows_from_last_correct" in s for s in after)
    assert "follows_from_last_correct" not in data["steps"][1]


def test_json_for_several_files_is_a_list(files, capsys):
    assert main(["check-steps", files["good.tex"], files["broken.tex"], "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and len(data) == 2
    assert data[0]["ok"] is True and data[0]["first_failure"] is None
    assert data[1]["ok"] is False and data[1]["steps"] == []
    assert set(data[1]["error"]) == {"line", "column", "message"} and data[1]["error"]["line"] == 2


def test_cli_in_a_subprocess(files):
    proc = subprocess.run([sys.executable, "-m", "gradproof", "check-steps", files["bad.tex"]],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "✗" in proc.stdout and "Traceback" not in proc.stderr


def test_help_lists_the_command():
    proc = subprocess.run([sys.executable, "-m", "gradproof", "check-steps", "--help"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0
    assert "Exit 0 every row holds, 1 some row failed" in " ".join(proc.stdout.split())
