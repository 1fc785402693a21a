"""Shared helpers for the report tests: golden files with a deliberate regenerate flag."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("GRADPROOF_REGEN_GOLDEN") == "1"


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; GRADPROOF_REGEN_GOLDEN=1 rewrites it instead."""
    __tracebackhide__ = True
    path = GOLDEN / name
    if REGEN:
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with GRADPROOF_REGEN_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from the golden file; if intended, GRADPROOF_REGEN_GOLDEN=1"
