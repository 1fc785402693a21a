"""Layers point down: a lower layer never imports a higher one, not even inside a function.

Every module of the package is parsed (not imported) and every ``import``/``from … import`` in
it — at module level, inside functions, under ``TYPE_CHECKING`` — and every
``importlib.import_module("…")`` with a literal name is checked against the table below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gradproof

PACKAGE = Path(gradproof.__file__).resolve().parent

# bottom (0) to top; a module may import its own layer and those below it
LAYERS = {
    "gradproof.errors": 0,
    "gradproof.usercode": 0,
    "gradproof.console": 0,  # printing with an ASCII fallback: any layer may print through it
    "gradproof.isolated": 0,  # running user code in a child process (commands use it)
    "gradproof.display": 0,  # Markdown and HTML tables for notebook displays of results
    "gradproof.derivations": 1,
    "gradproof.verify": 2,
    "gradproof.steps": 2,
    "gradproof.experiments": 3,
    "gradproof.reports": 4,
    "gradproof.commands": 5,
    "gradproof.pytest_plugin": 5,
    "gradproof.strategies": 5,
    "gradproof.cli": 5,
    "gradproof.__main__": 5,
    "gradproof": 5,  # the package's own __init__: its lazy table reaches every layer
}


def layer_of(module: str) -> tuple[str, int] | None:
    """(the layer's name, its rank) for a module of the package; None outside the package."""
    if module != "gradproof" and not module.startswith("gradproof."):
        return None
    best = None
    for name, rank in LAYERS.items():
        covers = module == name or (name != "gradproof" and module.startswith(name + "."))
        if covers and (best is None or len(name) > len(best[0])):
            best = (name, rank)
    if best is None:
        raise AssertionError(f"{module}: no layer in tests/test_layers.py's table; add it there")
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import in ``source``; ``from a import b`` gives ``a.b`` (judged as
    the deepest module of the package it names), relative imports resolved against ``module``."""
    out = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # each name may be a submodule (judged as one) or an attribute (judged as ``target``)
            out += [(node.lineno, f"{target}.{alias.name}" if alias.name != "*" else target) for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.lineno, node.args[0].value))
    return out


def upward_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    here = layer_of(module)
    bad = []
    for line, target in imported_modules(source, module, is_package):
        if target != "gradproof" and not target.startswith("gradproof."):
            continue
        # "from gradproof.derivations import model" names a module; "from gradproof import X" a
        # lazily loaded name of the top package: both are judged by the deepest known module
        there = layer_of(_existing(target))
        if there[1] > here[1]:
            bad.append(f"{module}:{line} imports {target} ({here[0]} → {there[0]}, upward)")
    return bad


def _existing(target: str) -> str:
    """``target`` or, when it names an attribute rather than a module, its parent module."""
    parts = target.split(".")
    while len(parts) > 1:
        path = PACKAGE.parent.joinpath(*parts)
        if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
            break
        parts.pop()
    return ".".join(parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_no_module_imports_a_higher_layer(path):
    problems = upward_imports(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    assert not problems, "\n".join(problems)


def test_every_top_level_module_has_a_layer():
    for child in PACKAGE.iterdir():
        if child.name.startswith(("_", ".")) and child.name != "__main__.py":
            continue
        if child.suffix == ".py" or (child / "__init__.py").exists():
            assert layer_of(module_name(child if child.suffix == ".py" else child / "__init__.py"))


@pytest.mark.parametrize(
    "module, source",
    [
        ("gradproof.derivations.model", "def latex(self):\n    from gradproof.reports.fragment import derivation_align\n"),
        ("gradproof.derivations.mlp", "from gradproof.verify.derivation_check import Witness\n"),
        ("gradproof.derivations.mlp", "import gradproof.verify.finite_diff\n"),
        ("gradproof.verify.check", "if TYPE_CHECKING:\n    from gradproof.reports import build_report\n"),
        ("gradproof.reports.build", "import importlib\nimportlib.import_module('gradproof.commands.verify')\n"),
        ("gradproof.derivations.text", "from ..verify import judge\n"),
        ("gradproof.verify.check", "from gradproof import cli\n"),
        ("gradproof.derivations.model", "from gradproof import verify\n"),
    ],
)
def test_the_check_catches_upward_imports(module, source):
    assert upward_imports(source, module), source


@pytest.mark.parametrize(
    "module, source",
    [
        ("gradproof.reports.build", "from gradproof.derivations.fragment import PACKAGES\n"),
        ("gradproof.verify.check", "from gradproof.errors import InputError\nfrom . import judge\n"),
        ("gradproof.derivations.mlp", "import numpy as np\nfrom gradproof.derivations.model import Step\n"),
    ],
)
def test_the_check_allows_downward_and_sideways_imports(module, source):
    assert upward_imports(source, module) == []


def test_an_unknown_package_must_be_placed():
    with pytest.raises(AssertionError, match="no layer"):
        layer_of("gradproof.newthing.module")
