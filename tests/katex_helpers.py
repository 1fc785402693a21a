"""Render math blocks with a real KaTeX 0.19 (npm package in tests/katex), throwOnError: true."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

KATEX_DIR = Path(__file__).parent / "katex"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: KaTeX (an npm package) cannot run here")
    return node


def _ensure_katex() -> None:
    if (KATEX_DIR / "node_modules" / "katex" / "package.json").exists():
        return
    npm = shutil.which("npm")
    assert npm is not None, "node is installed but npm is not: cannot install KaTeX (cd tests/katex && npm install)"
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=KATEX_DIR, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"npm install of KaTeX failed (cd tests/katex && npm install):\n{proc.stderr}"


def katex_errors(blocks: list[tuple[str, bool]]) -> tuple[str, list[str]]:
    """(KaTeX's version, an error line per block KaTeX rejects)."""
    node = _node()
    _ensure_katex()
    payload = json.dumps([{"tex": tex, "display": display} for tex, display in blocks])
    proc = subprocess.run([node, str(KATEX_DIR / "render.js")], input=payload, capture_output=True, text=True,
                          cwd=KATEX_DIR, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["count"] == len(blocks)
    return result["version"], [f"{blocks[e['index']][0]!r}: {e['error']}" for e in result["errors"]]
