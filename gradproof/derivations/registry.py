"""The one registry of derivations.

Adding a derivation is adding one module to :data:`MODULES` whose ``DERIVATIONS`` builds them;
modules are imported (and SymPy with them) only when the catalog is first used.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from gradproof.errors import UnknownDerivationError

if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation

# module in gradproof.derivations -> its derivations, in catalog order
MODULES = (
    "softmax",
    "cross_entropy",
    "logistic",
    "regression",
    "mlp",
    "regularization",
    "losses",
    "counting",
    "bias_variance",
    "information",
    "likelihood",
    "minibatch",
    "descent",
    "linear_models",
)


@cache
def _all() -> dict[str, Derivation]:
    out: dict[str, Derivation] = {}
    for module_name in MODULES:
        module = importlib.import_module(f"gradproof.derivations.{module_name}")
        for d in module.build():
            if d.name in out:  # pragma: no cover - a programming error
                raise RuntimeError(f"duplicate derivation slug {d.name!r}")
            out[d.name] = d
    return out


def catalog() -> list[Derivation]:
    """All derivations, in lecture order."""
    return list(_all().values())


def names() -> list[str]:
    return list(_all())


def derivation(name: str) -> Derivation:
    """The derivation with slug ``name``; an unknown slug raises an error naming the closest."""
    from gradproof.derivations.model import Derivation, closest

    if isinstance(name, Derivation):
        return name
    if not isinstance(name, str):
        raise UnknownDerivationError(
            f"a derivation is named by its slug (a string, see 'gradproof list'), got {type(name).__name__} {name!r}"
        )
    table = _all()
    if name in table:
        return table[name]
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    if key in table:
        return table[key]
    near = closest(key, list(table))
    hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else "; see 'gradproof list'"
    raise UnknownDerivationError(f"unknown derivation {name!r}{hint}")
