"""gradproof: gradients you can trust and teach.

Three stages, one folder each:

* ``gradproof.derivations`` — SymPy derives the results a deep-learning course teaches, step by
  step with a reason per step, and proves every step;
* ``gradproof.verify`` — finite differences and PyTorch autograd check each derived result, and a
  user's own hand-written backward pass;
* ``gradproof.reports`` — LaTeX an instructor can put in front of a class.

Heavy libraries load lazily: ``import gradproof`` imports neither SymPy nor PyTorch.

>>> import gradproof
>>> gradproof.derivation("softmax-jacobian").title
'Jacobian of the softmax'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gradproof.errors import CoarseCheckWarning, DeviceError, GradproofError, InputError, UnknownDerivationError

__version__ = "0.1.0"

__all__ = [
    "CheckOptions",
    "Derivation",
    "CoarseCheckWarning",
    "DeviceError",
    "GradcheckFailure",
    "GradproofError",
    "InputError",
    "UnknownDerivationError",
    "assert_gradient",
    "bias_variance_experiment",
    "assert_steps",
    "catalog",
    "check_gradient",
    "check_jacobian",
    "check_module",
    "check_steps",
    "derivation",
    "figure",
    "gradcheck",
    "gradgradcheck",
    "verify",
]

# public name -> module that defines it; loaded on first access so that `import gradproof`
# stays fast and torch/sympy are only imported by the paths that need them.
_LAZY = {
    "Derivation": "gradproof.derivations.model",
    "catalog": "gradproof.derivations.registry",
    "derivation": "gradproof.derivations.registry",
    "figure": "gradproof.reports.figures",
    # `gradproof.verify` is both the subpackage and the function: the subpackage module is
    # callable (see gradproof/verify/__init__.py), so importing a submodule of it cannot
    # shadow the function.
    "verify": "gradproof",
    "check_gradient": "gradproof.verify.check",
    "CheckOptions": "gradproof.verify.options",
    "assert_gradient": "gradproof.verify.check",
    "bias_variance_experiment": "gradproof.experiments.bias_variance",
    "check_steps": "gradproof.steps.check",
    "assert_steps": "gradproof.steps.check",
    # vector-valued functions on the same engine; the torch front doors import torch on first use
    "check_jacobian": "gradproof.verify.jacobian",
    "check_module": "gradproof.verify.module",
    "gradcheck": "gradproof.verify.torch_front",
    "gradgradcheck": "gradproof.verify.torch_front",
    "GradcheckFailure": "gradproof.verify.torch_rules",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gradproof' has no attribute {name!r}")
    if name == "verify":
        value = importlib.import_module("gradproof.verify")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from gradproof.derivations.model import Derivation
    from gradproof.derivations.registry import catalog, derivation
    from gradproof.reports.figures import figure
    from gradproof.experiments.bias_variance import bias_variance_experiment
    from gradproof.steps.check import assert_steps, check_steps
    from gradproof.verify.check import assert_gradient, check_gradient
    from gradproof.verify.derivation_check import verify_derivation as verify
    from gradproof.verify.jacobian import check_jacobian
    from gradproof.verify.module import check_module
    from gradproof.verify.torch_front import gradcheck, gradgradcheck
    from gradproof.verify.torch_rules import GradcheckFailure
    from gradproof.verify.options import CheckOptions
