"""Numbers: finite differences, PyTorch autograd, comparison and diagnosis.

``gradproof.verify`` is also callable — ``gradproof.verify("softmax-jacobian")`` checks a
derivation by all its witnesses (see :func:`gradproof.verify.derivation_check.verify_derivation`).
The module object itself is made callable so that importing one of its submodules (which
rebinds the attribute ``gradproof.verify`` to this module) can never hide the function.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    def __call__(self, name_or_derivation: Any, device: str = "auto", **options: Any) -> Any:
        from gradproof.verify.derivation_check import verify_derivation

        return verify_derivation(name_or_derivation, device=device, **options)


sys.modules[__name__].__class__ = _CallableModule
