"""pytest plugin (``pytest11`` entry point ``gradproof``): check hand-written gradients in tests.

Thin on purpose: importing it loads neither torch nor SymPy.

* ``--gradproof-device`` — device for PyTorch parameters (``auto``, ``cpu``, ``cuda``);
* ``gradproof_options`` fixture — a :class:`~gradproof.verify.options.CheckOptions` carrying it;
* ``gradproof_assert`` fixture — :func:`gradproof.assert_gradient` bound to those options.

A failing check raises ``AssertionError`` whose message is the full report; the frames inside
gradproof are hidden from the traceback.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradproof", "gradproof gradient checks")
    group.addoption(
        "--gradproof-device",
        action="store",
        default=None,
        metavar="DEVICE",
        help="device for PyTorch parameters in gradient checks: auto, cpu or cuda (default: their own)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """A bad or unavailable ``--gradproof-device`` stops the run at once with one line (a usage
    error), instead of erroring in every test or being ignored by NumPy-only checks."""
    device = config.getoption("--gradproof-device", default=None)
    if device is None:
        return
    from gradproof.errors import GradproofError
    from gradproof.verify.device import resolve_device

    try:
        resolve_device(device)
    except GradproofError as exc:
        raise pytest.UsageError(f"--gradproof-device: {exc}") from None


@pytest.fixture
def gradproof_options(request: pytest.FixtureRequest) -> Any:
    """Options for :func:`gradproof.check_gradient`, with the ``--gradproof-device`` choice."""
    from gradproof.verify.options import CheckOptions

    return CheckOptions(device=request.config.getoption("--gradproof-device"))


@pytest.fixture
def gradproof_assert(gradproof_options: Any) -> Any:
    """``gradproof_assert(loss, grad, params, **overrides)``: assert_gradient with the options."""
    from gradproof.verify.check import assert_gradient

    def check(loss: Any, grad: Any, params: Any, **overrides: Any) -> Any:
        __tracebackhide__ = True
        return assert_gradient(loss, grad, params, gradproof_options, **overrides)

    return check
