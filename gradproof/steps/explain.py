"""Counterexamples and diagnoses for a failed step."""

from __future__ import annotations

from typing import Any

import sympy as sp


def value_text(value: Any) -> str:
    value = sp.sympify(value)
    if value.is_Rational:
        return str(value)
    return str(sp.N(value, 15))


def name_text(atom: Any) -> str:
    if isinstance(atom, sp.Indexed):
        idx = ",".join(str(i) for i in atom.indices)
        label = str(atom.base.label)
        return f"{label}_{idx}" if len(atom.indices) == 1 and len(idx) == 1 else f"{label}_{{{idx}}}"
    return str(atom)


def counterexample_json(ce: Any) -> dict:
    return {
        "sizes": {str(k): int(v) for k, v in ce.sizes.items()},
        "indices": {str(k): int(v) for k, v in ce.indices.items()},
        "values": {name_text(k): value_text(v) for k, v in sorted(ce.values.items(), key=lambda kv: sp.default_sort_key(kv[0]))},
        "lhs": value_text(ce.lhs),
        "rhs": value_text(ce.rhs),
    }


def diagnose(analysis: Any, built: Any, record: Any) -> dict | None:
    return None
