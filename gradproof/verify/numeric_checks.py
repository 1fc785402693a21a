"""Running a derivation's numeric experiments (:mod:`gradproof.derivations.numeric_checks`) and
judging them by the same rules as its claims (:mod:`gradproof.verify.judge`).

Every :class:`~gradproof.derivations.numeric_checks.GradientCase` is compared, parameter by
parameter, with Richardson finite differences of its NumPy loss and with PyTorch autograd of its
torch loss; every :class:`~gradproof.derivations.numeric_checks.EqualityCase` is evaluated.
One witness per method, worst error over all cases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradproof.derivations.numeric_checks import EqualityCase, GradientCase, MonteCarloCase, NumericExperiment
from gradproof.verify import finite_diff
from gradproof.verify.autograd import autograd_gradients
from gradproof.verify.judge import (
    AUTOGRAD_RTOL,
    EVALUATION_RTOL,
    FD_FLOOR_RTOL,
    MONTE_CARLO_SIGMAS,
    Tally,
    Witness,
    judge_autograd,
    judge_fd,
    judge_monte_carlo,
    judge_values,
)


def _gradient_case(case: GradientCase, fd: Tally, ag: Tally, device: Any) -> None:
    point = {k: np.asarray(v, dtype=np.float64) for k, v in case.point.items()}
    loss_value = case.loss(point)
    auto = autograd_gradients(case.torch_loss, point, device)
    for name, value in point.items():
        derived = np.asarray(case.gradient[name], dtype=np.float64)
        if derived.shape != value.shape:
            raise ValueError(f"{case.where}: the derived gradient for {name} has shape {derived.shape}, "
                             f"the parameter {value.shape}")
        estimate = finite_diff.jacobian(lambda v, name=name: case.loss({**point, name: v}), value)
        verdict = judge_fd(derived, estimate.value.reshape(derived.shape), estimate.error.reshape(derived.shape))
        fd.add(verdict, f"at {case.where}, ∂L/∂{name}")
        verdict = judge_autograd(derived, auto[name].reshape(derived.shape), loss_value)
        ag.add(verdict, f"at {case.where}, ∂L/∂{name}")


def _equality_case(case: EqualityCase, tally: Tally) -> None:
    a, b = np.asarray(case.derived, dtype=np.float64), np.asarray(case.expected, dtype=np.float64)
    if a.shape != b.shape:
        tally.fail(f"at {case.where}: shapes {a.shape} and {b.shape}")
    elif not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        tally.fail(f"at {case.where}: a non-finite value")
    else:
        verdict = judge_values(a, b)
        tally.add(verdict, f"at {case.where}, entry {verdict.bad}")


def _monte_carlo_case(case: MonteCarloCase, tally: Tally) -> None:
    samples = np.asarray(case.samples, dtype=np.float64)
    if len(samples) < 2 or not np.all(np.isfinite(samples)):
        tally.fail(f"at {case.where}: fewer than two draws, or a non-finite one")
        return
    verdict = judge_monte_carlo(case.derived, samples)
    tally.add(verdict, f"at {case.where} ({len(samples)} draws; gap in standard errors)")


def run_numeric_check(check: NumericExperiment, *, seed: int = 0, device: Any = "cpu") -> list[Witness]:
    """Run every case of ``check`` (seeded by ``seed``) on ``device``; one witness per method used."""
    fd, ag = Tally("finite differences", FD_FLOOR_RTOL), Tally("autograd", AUTOGRAD_RTOL)
    evaluation = Tally("evaluation", EVALUATION_RTOL)
    monte_carlo = Tally("Monte Carlo", MONTE_CARLO_SIGMAS)
    used = set()
    cases = list(check.cases(seed))
    if not cases:
        return [Witness("evaluation", False, None, None, f"{check.description}: the experiment has no cases")]
    for case in cases:
        if isinstance(case, GradientCase):
            _gradient_case(case, fd, ag, device)
            used |= {"fd", "ag"}
        elif isinstance(case, EqualityCase):
            _equality_case(case, evaluation)
            used.add("evaluation")
        elif isinstance(case, MonteCarloCase):
            _monte_carlo_case(case, monte_carlo)
            used.add("monte_carlo")
        else:  # pragma: no cover - a programming error in a derivation module
            raise TypeError(f"{check.description}: unknown case type {type(case).__name__}")
    tallies = {"fd": fd, "ag": ag, "evaluation": evaluation, "monte_carlo": monte_carlo}
    keys = ("fd", "ag", "evaluation", "monte_carlo")
    return [tallies[key].witness(check.description) for key in keys if key in used]
