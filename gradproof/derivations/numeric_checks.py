"""Numeric experiments a derivation asks for beyond its claims, described as data.

Some results cannot be checked by evaluating the derivation's own expressions: backprop run on
whole networks of several depths, an expectation taken over every minibatch.  A derivation
describes such an experiment — which cases, what the derived formula gives at each, and the
forward computation to differentiate — and says nothing about tolerances or verdicts:
:mod:`gradproof.verify.numeric_checks` runs every case against finite differences,
autograd or plain evaluation, judged by the same rules as the derivation's claims.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np


@dataclass(frozen=True)
class GradientCase:
    """A derived gradient at one point.

    ``point`` maps each parameter's name to its value; ``gradient`` maps the same names to the
    gradient the derived formulas give there (each of its parameter's shape).  ``loss`` is the
    forward computation in NumPy float64 (for finite differences); ``torch_loss`` the same
    computation on float64 tensors (for autograd).  ``where`` names the case in a failure
    message, e.g. ``"tanh, 2 hidden layer(s)"``.
    """

    where: str
    point: Mapping[str, np.ndarray]
    gradient: Mapping[str, np.ndarray]
    loss: Callable[[Mapping[str, np.ndarray]], float]
    torch_loss: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class EqualityCase:
    """Two arrays the derivation says are equal: ``derived`` (computed from the derived result)
    and ``expected`` (computed independently), compared to float64 rounding."""

    where: str
    derived: np.ndarray
    expected: np.ndarray


@dataclass(frozen=True)
class MonteCarloCase:
    """A derived expectation against random draws: ``samples`` (draws × entries, or one column)
    are independent draws whose mean estimates ``derived`` (one value per entry).  The verdict
    (how many standard errors apart is too many) belongs to gradproof.verify."""

    where: str
    derived: np.ndarray
    samples: np.ndarray


Case = Union[GradientCase, EqualityCase, MonteCarloCase]


@dataclass(frozen=True)
class NumericExperiment:
    """``cases(seed)`` builds the cases (seeded, so a run can be repeated); ``description`` says
    what they show, e.g. "backprop from the derived recursion on 9 random networks"."""

    description: str
    cases: Callable[[int], Sequence[Case]]
