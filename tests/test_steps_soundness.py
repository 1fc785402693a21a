"""What the step checker adds to the prover must never make a wrong step hold: the symbols it
makes carry only the assumptions their declarations give, and the points it checks at respect
(and only respect) the declared domains.  Each test pairs a false step that an unsound version
would pass with the true step beside it."""

from __future__ import annotations

import sympy as sp

from gradproof.steps.check import analyse
from gradproof.steps.source import read_source
from tests.steps_helpers import statuses, tex


def test_summation_index_from_zero_is_not_positive():
    # \max(k, 1) = k only for k >= 1: an index summed from 0 must not be made positive
    got = statuses(r"\sum_{k=0}^{n} \max(k, 1) &= \sum_{k=0}^{n} k \\ \sum_{k=1}^{n} \max(k, 1) &= \sum_{k=1}^{n} k")
    assert got == ["failed", "proved"]


def test_free_index_gets_exactly_its_declared_range():
    assert statuses(r"\max(i, 1) &= i", "index i = 0..n-1") == ["failed"]
    assert statuses(r"\max(i, 1) &= i", "index i = 1..n") in (["proved"], ["checked"])
    a = analyse(read_source(tex(r"z_i &= z_i", "index i = 0..n-1")))
    (i,) = [s for s in a.derivation.index_ranges if str(s) == "i"]
    assert i.is_integer and i.is_nonnegative and not i.is_positive
    assert a.derivation.index_range(i) == (0, sp.Symbol("n", integer=True, positive=True) - 1)


def test_bound_indices_carry_only_integer_and_their_lower_limit():
    a = analyse(read_source(tex(r"\sum_{k=-2}^{n} z_k + \sum_{l=0}^{n} z_l + \sum_{m=1}^{n} z_m &= 0")))
    sums = sorted(a.built[0].lhs.atoms(sp.Sum), key=lambda s: s.limits[0][1])
    k, l, m = (s.limits[0][0] for s in sums)
    assert k.is_integer and k.is_nonnegative is None and k.is_positive is None
    assert l.is_nonnegative and l.is_positive is None
    assert m.is_positive


def test_inputs_are_real_and_positive_only_when_assumed():
    a = analyse(read_source(tex(r"x + p_i &= 0", "index i = 1..n", "assume p_i > 0")))
    x = next(s for s in a.built[0].lhs.free_symbols if str(s) == "x")
    assert x.is_real and x.is_positive is None
    p = next(e for e in a.built[0].lhs.atoms(sp.Indexed))
    assert p.is_positive
    # without the assumption, log(x^2) = 2 log x is false (x < 0)
    assert statuses(r"\log(x^2) &= 2 \log x") == ["failed"]
    assert statuses(r"\log(x^2) &= 2 \log x", "assume x > 0") == ["proved"]


def test_points_respect_the_declared_domain():
    # p^2 < p needs 0 < p < 1: checked at points drawn from that interval, failed without it
    assert statuses(r"p^2 &< p", "assume 0 < p < 1") == ["checked"]
    assert statuses(r"p^2 &< p", "assume p > 0") == ["failed"]
    assert statuses(r"y (1 - y) &= 0", r"assume y \in \{0, 1\}") in (["checked"], ["proved"])
    assert statuses(r"c^2 &= 1", r"assume c \in \{-1, 1\}") in (["checked"], ["proved"])


def test_points_respect_an_assumed_sum():
    # entropy is non-negative on the simplex: needs y_i >= 0 and the sum 1
    body = r"-\sum_{i=1}^{n} y_i \log y_i &\ge 0"
    simplex = ("index i = 1..n", r"assume y_i > 0", r"assume \sum_{i=1}^{n} y_i = 1")
    assert statuses(body, *simplex) == ["checked"]
    assert statuses(body, *simplex[:2]) == ["failed"]


def test_a_claim_false_only_for_large_sizes_fails():
    got = statuses(r"\sum_{k=1}^{n} k &= \frac{n(n+1)}{2} + \binom{n-1}{4}")
    assert got == ["failed"]


def test_unknown_functions_are_tested_against_a_concrete_one():
    # f'(x) = 0 would hold for a constant f; the random smooth f is not constant
    assert statuses(r"\frac{d}{dx} f(x) &= 0", "function f(x)") == ["failed"]
    assert statuses(r"\frac{d}{dx} (2 f(x)) &= 2 f'(x)", "function f(x)") in (["proved"], ["checked"])


def test_checked_is_never_reported_as_proved():
    # e^x > 0 is shown by the sign rules of gradproof.derivations.logic (issue 14); an inequality
    # no rule decides stays checked (tests/test_prover_soundness.py: z_j² − z_j + 1 > 0)
    assert statuses(r"e^{x} &> 0") == ["proved"]
