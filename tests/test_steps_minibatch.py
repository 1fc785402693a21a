r"""Expectations over how a minibatch is drawn (``% gradproof: minibatch K : B of 1..N``): the exact
laws the point checks use against a list of every minibatch, the moment rules the prover uses
against the exact laws, and false steps — a moment of one scheme used for the other, a variance
off by a factor — that must fail, each beside its true twin."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradproof.steps.check import check_steps
from gradproof.steps.minibatch import WITH, WITHOUT, BatchExpect, batches, monomial_moment, moments, tracked_law
from tests.steps_helpers import statuses, tex

BATCH = ("index a, b, c = 1..N", "minibatch K : B of 1..N")
VARIANCE = BATCH + (
    r"scalar V_{with}, V_{without}, \sigma^{2}",
    r"define \bar{g} = \frac{1}{N} \sum_{c=1}^{N} g_c",
    r"define \hat{g} = \frac{1}{B} \sum_{a=1}^{N} K_a g_a",
    r"define \sigma^{2} = \frac{1}{N} \sum_{c=1}^{N} (g_c - \bar{g})^2",
    r"define V_{with} = \mathbb{E}_{\text{with}}[(\hat{g} - \bar{g})^2]",
    r"define V_{without} = \mathbb{E}_{\text{without}}[(\hat{g} - \bar{g})^2]",
)


def _error(text: str):
    report = check_steps(text)
    assert report.error is not None, str(report)
    return report.error


# -- the exact laws against every minibatch listed ----------------------------------------------


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 6), data=st.data())
def test_the_joint_law_of_a_few_counts_matches_every_minibatch_listed(n, data):
    batch = data.draw(st.integers(1, n))
    scheme = data.draw(st.sampled_from(["with", "without"]))
    exponents = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=min(3, n))))
    listed = batches(scheme, n, batch)
    assert sum(p for _, p in listed) == 1
    brute = sum((p * math.prod(c[i] ** e for i, e in enumerate(exponents)) for c, p in listed), Fraction(0))
    assert monomial_moment(scheme, n, batch, exponents) == brute
    assert sum(p for _, p in tracked_law(scheme, n, batch, len(exponents))) == 1


@pytest.mark.parametrize("scheme", [WITH, WITHOUT])
@pytest.mark.parametrize(("n", "batch"), [(2, 1), (2, 2), (5, 3), (7, 7), (9, 4)])
def test_the_moment_rules_match_the_exact_laws(scheme, n, batch):
    first, off, diag = moments(scheme, sp.Integer(n), sp.Integer(batch))
    assert first == sp.Rational(monomial_moment(str(scheme), n, batch, (1,)))
    assert off == sp.Rational(monomial_moment(str(scheme), n, batch, (1, 1)))
    assert diag == sp.Rational(monomial_moment(str(scheme), n, batch, (2,)))


def test_at_concrete_sizes_the_rules_are_left_to_the_exact_laws():
    K = sp.IndexedBase("K")
    e = BatchExpect(K[1] * K[2], WITH, sp.Integer(1), sp.Integer(5), sp.Symbol("B"), K)
    assert isinstance(e.doit(), BatchExpect)  # the point checks do not reuse the rules they test
    n = sp.Symbol("N", integer=True, positive=True)
    assert not BatchExpect(K[1], WITH, sp.Integer(1), n, sp.Symbol("B"), K).doit().has(BatchExpect)


# -- the moments of each scheme, and the other scheme's used by mistake -------------------------

WITH_SQUARE = r"\frac{B(B-1)}{N^2} + \frac{B}{N}"


def test_first_and_second_moments_of_each_scheme():
    assert statuses(r"\mathbb{E}_{\text{without}}[K_a] &= \frac{\binom{N-1}{B-1}}{\binom{N}{B}}", *BATCH) == ["proved"]
    assert statuses(r"\mathbb{E}_{\text{with}}[K_a] &= \frac{B}{N}", *BATCH) == ["proved"]
    assert statuses(r"\mathbb{E}_{\text{with}}[K_a] &= \frac{B}{N - 1}", *BATCH) == ["failed"]
    assert statuses(r"\mathbb{E}_{\text{without}}[K_a^2] &= \frac{B}{N}", *BATCH) == ["proved"]
    assert statuses(rf"\mathbb{{E}}_{{\text{{with}}}}[K_a^2] &= {WITH_SQUARE}", *BATCH) == ["proved"]
    # the with-replacement second moment used for sampling without, and the other way round
    assert statuses(rf"\mathbb{{E}}_{{\text{{without}}}}[K_a^2] &= {WITH_SQUARE}", *BATCH) == ["failed"]
    assert statuses(r"\mathbb{E}_{\text{with}}[K_a^2] &= \frac{B}{N}", *BATCH) == ["failed"]
    pair = r"\frac{B(B-1)}{N(N-1)}"
    assert statuses(rf"\mathbb{{E}}_{{\text{{without}}}}[K_a K_b] &= {pair} + \delta_{{ab}} \left(\frac{{B}}{{N}} - {pair}\right)",
                    *BATCH) == ["proved"]  # fmt: skip
    assert statuses(rf"\mathbb{{E}}_{{\text{{without}}}}[K_a K_b] &= {pair}", *BATCH) == ["failed"]  # a = b forgotten
    assert statuses(r"\mathbb{E}_{\text{with}}[K_a K_b] &= \frac{B(B-1)}{N^2} + \delta_{ab} \frac{B}{N}", *BATCH) == ["proved"]
    assert statuses(rf"\mathbb{{E}}_{{\text{{with}}}}[K_a K_b] &= {pair} + \delta_{{ab}} \frac{{B}}{{N}}", *BATCH) == ["failed"]


def test_what_the_rules_do_not_cover_is_checked_at_exact_laws_never_proved():
    # K_a ∈ {0, 1} without replacement, so every power of K_a has mean B/N; not with replacement
    assert statuses(r"\mathbb{E}_{\text{without}}[K_a^3] &= \frac{B}{N}", *BATCH) == ["checked"]
    assert statuses(r"\mathbb{E}_{\text{with}}[K_a^3] &= \frac{B}{N}", *BATCH) == ["failed"]
    # not a polynomial in the counts: the joint law of the counts it involves
    assert statuses(r"\mathbb{E}_{\text{without}}[e^{K_a}] &= 1 + (e - 1) \frac{B}{N}", *BATCH) == ["checked"]
    assert statuses(r"\mathbb{E}_{\text{with}}[e^{K_a}] &= 1 + (e - 1) \frac{B}{N}", *BATCH) == ["failed"]


def test_the_minibatch_gradient_variance_and_a_variance_off_by_a_factor():
    without = r"\frac{\sigma^{2}}{B} \frac{N - B}{N - 1}"
    assert statuses(rf"V_{{without}} &= {without}", *VARIANCE) == ["proved"]
    assert statuses(r"V_{with} &= \frac{\sigma^{2}}{B}", *VARIANCE) == ["proved"]
    assert statuses(r"V_{without} &= \frac{\sigma^{2}}{B}", *VARIANCE) == ["failed"]  # the factor (N − B)/(N − 1) missing
    assert statuses(rf"V_{{with}} &= {without}", *VARIANCE) == ["failed"]  # the factor where it does not belong
    assert statuses(r"V_{without} &= \frac{\sigma^{2}}{B} \frac{B - 1}{N - 1}", *VARIANCE) == ["failed"]
    assert statuses(r"\mathbb{E}_{\text{with}}[\hat{g}] &= \bar{g}", *VARIANCE) == ["proved"]
    assert statuses(r"\operatorname{Var}_{\text{with}}[\hat{g}] &= \frac{\sigma^{2}}{B}", *VARIANCE) == ["proved"]
    assert statuses(r"\operatorname{Var}_{\text{with}}[\hat{g}] &= \frac{\sigma^{2}}{B - 1}", *VARIANCE) == ["failed"]
    assert statuses(r"\mathbb{E}_{\text{with}}[\hat{g}^2] &= \bar{g}^2", *VARIANCE) == ["failed"]


def test_the_counts_outside_an_expectation_are_one_minibatch_of_either_scheme():
    assert statuses(r"\sum_{a=1}^{N} K_a &= B", *BATCH) == ["proved"]
    assert statuses(r"\sum_{a=1}^{N} K_a &= N", *BATCH) == ["failed"]
    assert statuses(r"\sum_{a=1}^{N} K_a^2 &\le B^2", *BATCH) == ["checked"]
    assert statuses(r"\sum_{a=1}^{N} K_a^2 &\le B", *BATCH) == ["failed"]  # equality only without replacement
    assert statuses(r"K_a^2 &= K_a", *BATCH) == ["failed"]


def test_bad_minibatch_input_is_an_error_with_its_place():
    err = _error(tex(r"\mathbb{E}_{\text{with}}[K_{a+1}] &= \frac{B}{N}", *BATCH))
    assert err.line == 4 and "index of K" in err.message
    err = _error(tex(r"\sum_{a=1}^{N+1} K_a &= B", *BATCH))
    assert err.line == 4 and "beyond the samples" in err.message
    err = _error(tex(r"\mathbb{E}_{\text{with}}[x] &= x", "index a = 1..N"))
    assert err.line == 3 and "minibatch K : B of 1..N" in err.message
    err = _error(tex(r"\mathbb{E}_{\text{with}}[K] &= B", *BATCH))
    assert err.line == 4 and "sample's index" in err.message
    err = _error(tex("x &= x", *BATCH, "random K"))
    assert err.line == 2 and "declared twice" in err.message
    for bad in ("minibatch K", "minibatch K : B", "minibatch K, L : B of 1..N", "minibatch K : 3 of 1..N",
                "minibatch K : N of 1..N"):
        err = _error(tex("x &= x", bad))
        assert err.line == 1 and "minibatch" in err.message, bad
    err = _error(tex("x &= x", *BATCH, "minibatch L : B of 1..N"))
    assert err.line == 3 and "one minibatch" in err.message


def test_the_printer_declares_the_minibatch():
    from gradproof.derivations.directives import directive_lines
    from gradproof.derivations.registry import catalog

    d = next(x for x in catalog() if x.name == "minibatch-gradient-variance")
    lines = directive_lines(d)
    assert "minibatch K : B of 1..N" in lines
    assert r"scalar V_{without}, V_{with}, \sigma^{2}" in lines


def test_a_batch_size_bounding_a_sum_is_named_as_such():
    # the attack's file: "B is declared twice" named nothing declared twice
    text = (
        "% gradproof: index a = 1..N\n% gradproof: size N\n% gradproof: minibatch K : B of 1..N\n"
        "\\begin{align*}\n\\sum_{l=1}^{B} K_l &= B\n\\end{align*}\n"
    )
    report = check_steps(text)
    assert report.error is not None and "batch size B is also a size" in report.error.message
