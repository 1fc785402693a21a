"""The two tiers of gradproof errors.

* ``GradproofError`` — the package's own verdicts and limits (a proof that cannot be
  completed, a device that is not available, a TeX run that failed).
* ``InputError`` — input that cannot be checked as given: it also subclasses ``ValueError``
  so callers that already catch bad arguments keep working.  Its message says *what* is wrong
  and *where* (which parameter, which function, which file).
"""

from __future__ import annotations


class GradproofError(Exception):
    """A limit or verdict of gradproof itself."""


class InputError(GradproofError, ValueError):
    """Input that cannot be checked: says what is wrong and where."""


class UnknownDerivationError(InputError, KeyError):
    """A derivation slug that is not in the catalog; the message names the closest slugs."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class DeviceError(GradproofError, ValueError):
    """A device was asked for that this machine does not have."""


class CoarseCheckWarning(UserWarning):
    """A check passed, but at a precision where a sizeable gradient error could have passed
    unseen (low-precision outputs, e.g. bfloat16): the pass says less than it seems."""
