"""Targeted mutation testing of the checking core: does the test suite notice a one-line change?

Each mutation below replaces one exact piece of one line of ``gradproof/verify/`` or
``gradproof/derivations/prove.py`` — a tolerance loosened, a comparison flipped, a witness
ignored, a rewrite rule made unsound — in a temporary copy of the tree, and runs the tests that
should notice (``pytest -x``).  A mutant is *killed* when they fail, *survived* when they pass,
and *stale* when the line it targets no longer exists (the code moved on: update the list).

    python benchmarks/mutation.py                 # all mutations, 2 at a time
    python benchmarks/mutation.py --list          # what would run
    python benchmarks/mutation.py --only P1 V4    # some of them
    python benchmarks/mutation.py --jobs 1 --timeout 900
    python benchmarks/mutation.py --only P2 --tests tests/test_pins.py   # does this file alone kill it?

A full mutmut run over these modules takes hours on 2 cores; this list takes about 30-60 minutes
and says for each change which tests were run.  Survivors are listed at the end with the note
kept for each (why it is harmless) — a survivor without a note is a gap in the tests.
"""

# ruff: noqa: E501 - the mutation list quotes lines of source exactly, long ones included
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VERIFY_TESTS = ("tests/test_pins.py", "tests/test_verify_derivations.py")
CONFIRM_TESTS = (
    "tests/test_confirm.py",
    "tests/test_front_doors_confirm.py",
    "tests/test_pins_check.py",
    "tests/test_check_gradient_detection.py",
)
CHECK_TESTS = (
    "tests/test_pins_check.py",
    "tests/test_check_gradient.py",
    "tests/test_check_gradient_detection.py",
    "tests/test_check_gradient_properties.py",
    "tests/test_qa_regressions.py",
    "tests/test_honest_input.py",
)
PROVER_TESTS = ("tests/test_prover_soundness.py", "tests/test_pins.py", "tests/test_derivations_core.py")


@dataclass(frozen=True)
class Mutation:
    key: str
    path: str
    old: str  # must occur exactly once in the file
    new: str
    what: str
    tests: tuple[str, ...]
    note: str = ""  # for an expected survivor: why it is harmless


def _m(key, path, old, new, what, tests, note=""):
    return Mutation(key, path, old, new, what, tuple(tests), note)


DC = "gradproof/verify/derivation_check.py"
JU = "gradproof/verify/judge.py"
CK = "gradproof/verify/check.py"
EN = "gradproof/verify/engine.py"
CF = "gradproof/verify/confirm.py"
DI = "gradproof/verify/directional.py"
FD = "gradproof/verify/finite_diff.py"
OP = "gradproof/verify/options.py"
PA = "gradproof/verify/params.py"
KI = "gradproof/verify/kinks.py"
PR = "gradproof/derivations/prove.py"
SM = "gradproof/derivations/softmax.py"
LG = "gradproof/derivations/logic.py"
CO = "gradproof/derivations/common.py"
SA = "gradproof/derivations/sampling.py"
LOGIC_TESTS = ("tests/test_prover_soundness_logic.py", "tests/test_derivations_information.py")
MINIBATCH_TESTS = ("tests/test_derivations_minibatch.py",)

# fmt: off
# (each mutation quotes a line of source exactly, long lines included)
MUTATIONS = [
    # -- derivation witnesses (verify()): tolerances in judge.py, witnesses in derivation_check.py --------
    _m("V1", JU, "AUTOGRAD_RTOL = 1e-9", "AUTOGRAD_RTOL = 1e-4", "autograd tolerance 1e-9 -> 1e-4", VERIFY_TESTS),
    _m("V2", JU, "EVALUATION_RTOL = 1e-9", "EVALUATION_RTOL = 1e-4", "evaluation tolerance 1e-9 -> 1e-4", VERIFY_TESTS),
    _m("V3", JU, "FD_FLOOR_RTOL = 1e-7", "FD_FLOOR_RTOL = 1e-3", "finite-difference floor 1e-7 -> 1e-3", VERIFY_TESTS),
    _m("V4", DC, "        return all(w.ok for w in self.witnesses)",
       '        return all(w.ok for w in self.witnesses if w.method != "SymPy proof")',
       "verify().ok ignores the SymPy proof witness", VERIFY_TESTS),
    _m("V5", DC, "        Witness(\"SymPy proof\", proof.ok,", "        Witness(\"SymPy proof\", True,",
       "the SymPy proof witness always ok", VERIFY_TESTS),
    _m("V6", JU, "allowed = np.maximum(10.0 * fd_error,", "allowed = np.maximum(1e4 * fd_error,",
       "finite differences trust their error estimate 1000x less", VERIFY_TESTS),
    _m("V7", JU, "    if not np.any(excess > 0):", "    if not np.all(excess > 0):",
       "a comparison fails only when every entry is off", VERIFY_TESTS),
    _m("V8", JU, "_worst(diff - (AUTOGRAD_RTOL * scale + atol))", "_worst(diff - (AUTOGRAD_RTOL * scale + 1e6 * atol))",
       "autograd absolute slack 256 ulp -> 2.6e8 ulp", VERIFY_TESTS),
    _m("V9", JU, "        excess = (b - a) - tol\n", "        excess = (a - b) - tol\n", "'>=' claims judged as '<='",
       VERIFY_TESTS + ("tests/test_derivations_core.py",)),
    _m("V10", DC, "    return [base, {k: v + 1 for k, v in base.items()}]", "    return [base]",
       "numeric witnesses at one size only", VERIFY_TESTS),
    _m("V11", DC, '        ("adversarial", sample_inputs(d, sizes, rng, adversarial=True)),', "",
       "no adversarial points", VERIFY_TESTS),
    _m("V12", JU, "        excess = tol - np.abs(a - b)", "        excess = -tol - np.abs(a - b)",
       "'!=' holds even for values equal to rounding", VERIFY_TESTS),
    _m("V13", DC, "    if jobs <= 1 or len(names) <= 1", "    if jobs <= 0 or len(names) <= 0",
       "single derivations sent to a worker pool", VERIFY_TESTS),
    _m("V14", JU, "    scale = max(float(np.max(np.abs(derived), initial=0.0)), float(np.max(np.abs(autograd), initial=0.0)), SCALE_FLOOR)",
       "    scale = max(float(np.max(np.abs(derived), initial=0.0)), float(np.max(np.abs(autograd), initial=0.0)), 1.0)",
       "autograd compared on a scale of at least 1", VERIFY_TESTS),
    # -- check_gradient ------------------------------------------------------------------------------
    _m("C1", CK, "NONDETERMINISM = 1e-8", "NONDETERMINISM = 1e-2", "nondeterminism threshold 1e-8 -> 1e-2",
       CHECK_TESTS),
    _m("C2", CK, "LARGEST_CHECKABLE = 1e150", "LARGEST_CHECKABLE = 1e300", "overflow limit 1e150 -> 1e300",
       CHECK_TESTS),
    _m("C3", EN, "    if dirs.n_bad == 0 and (basis is None or basis.n_bad == 0):",
       "    if dirs.n_bad <= 1 and (basis is None or basis.n_bad <= 1):", "one disagreeing direction tolerated",
       CHECK_TESTS),
    _m("C4", CK, "    if spread > NONDETERMINISM *", "    if False and spread > NONDETERMINISM *",
       "nondeterminism never refused", CHECK_TESTS),
    _m("C5", EN, "            if np.isfinite(candidate).all() and all(run(candidate.reshape(x.shape)).ok):",
       "            if np.isfinite(candidate).all():", "any same-size gradient diagnosed as transposed", CHECK_TESTS),
    _m("C6", DI, "NOISE_SAFETY = 6.0", "NOISE_SAFETY = 600.0", "rounding-noise allowance 6 -> 600 sigma", CHECK_TESTS),
    _m("C7", DI, "        tol = math.hypot(2.0 * trunc, NOISE_SAFETY * noise_r) + extra",
       "        tol = math.hypot(2.0 * trunc, NOISE_SAFETY * noise_r) + extra + 1e-4 * scale_k",
       "directional tolerance plus 1e-4 relative", CHECK_TESTS),
    _m("C8", DI, "extra = 16.0 * grad_eps * gnorm * vnorm", "extra = 1e6 * grad_eps * gnorm * vnorm",
       "gradient precision term 16 -> 1e6 ulp", CHECK_TESTS),
    _m("C9", DI, "abs(rich) <= tol and math.isfinite(tol)", "abs(rich) <= tol", "an infinite tolerance passes",
       CHECK_TESTS),
    _m("C10", DI, "    rich = (4.0 * res[t / 2] - res[t]) / 3.0", "    rich = res[t]",
       "no Richardson extrapolation (plain central difference)", CHECK_TESTS),
    _m("C11", DI, "            accepted = _kink_retry(", "            accepted = None and _kink_retry(",
       "kinks never accepted", CHECK_TESTS),
    _m("C12", DI, "        return rng.standard_normal(shape)", "        return np.abs(rng.standard_normal(shape))",
       "non-negative directions (torch fast_mode's weakness)", CHECK_TESTS),
    _m("C13", KI, "        if smooth and abs(res) <= tol:", "        if abs(res) <= tol:",
       "one-sided derivative accepted without smoothness", CHECK_TESTS),
    _m("C14", KI, "    if sr and sl and rr * rl < 0:", "    if sr and sl and rr * rl <= 1e300:",
       "any gradient accepted between one-sided derivatives", CHECK_TESTS),
    _m("C15", OP, 'if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:',
       "if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:",
       "infinite rtol/atol accepted", CHECK_TESTS),
    _m("C16", PA, "        return np.array(array, dtype=dtype)  # always a fresh copy",
       "        return array if dtype is np.float64 else np.array(array, dtype=dtype)",
       "user code receives the master copy (no copy)", CHECK_TESTS),
    _m("C17", PA, "        if not np.isfinite(out):", "        if False:", "a non-finite loss accepted", CHECK_TESTS),
    _m("C18", FD, "        error[(...,) + idx] = np.abs(d_h - d_h2) + rounding",
       "        error[(...,) + idx] = 100 * (np.abs(d_h - d_h2) + rounding)",
       "finite-difference error bound 100x larger", VERIFY_TESTS + ("tests/test_finite_diff.py",)),
    _m("C19", FD, "        richardson = (4.0 * d_h2 - d_h) / 3.0", "        richardson = d_h",
       "finite differences without Richardson", VERIFY_TESTS + ("tests/test_finite_diff.py",)),
    # -- the prover ------------------------------------------------------------------------------------
    _m("P1", PR, 'EXACT_TOLERANCE = sp.Float("1e-40", 50)', 'EXACT_TOLERANCE = sp.Float("1e-3", 50)',
       "exact-point tolerance 1e-40 -> 1e-3", PROVER_TESTS),
    _m("P2", PR, "DEFAULT_PROOF_SIZES = (1, 2, 3, 4, 7, 20)", "DEFAULT_PROOF_SIZES = (3,)",
       "exact-point checks at one size", PROVER_TESTS),
    _m("P3", PR, "        return bool(a - b >= -EXACT_TOLERANCE * scale)", "        return bool(b - a >= -EXACT_TOLERANCE * scale)",
       "'>=' checked as '<='", PROVER_TESTS),
    _m("P4", PR, "        return bool(a < b)", "        return bool(a <= b)", "'<' checked as '<='", PROVER_TESTS,
       "at random exact rational points a strict inequality never meets equality; a claim that is "
       "equal at a measure-zero set cannot be told apart by sampling"),
    _m("P5", PR, "        return bool(abs(a - b) > EXACT_TOLERANCE * scale)", "        return True",
       "'!=' always holds", PROVER_TESTS),
    _m("P6", PR, "            if cond == sp.true:", "            if cond != sp.false:",
       "a summed-out delta drops its range condition", PROVER_TESTS),
    _m("P7", PR, "            if a == var and var not in b.free_symbols:", "            if a == var:",
       "delta summed out even when its other side contains the summation index", PROVER_TESTS),
    _m("P8", PR, "        if dep == 1 and count.is_nonnegative:", "        if dep == 1:",
       "Σ 1 = count even when the range may run backwards", PROVER_TESTS),
    _m("P9", PR, "    body = sp.expand(sp.expand_log(function), log=False)",
       "    body = sp.expand(sp.expand_log(function, force=True), log=False)",
       "log(ab) = log a + log b without positivity", PROVER_TESTS),
    _m("P10", PR, "            positive = bool(s.function.is_positive) and nonempty",
       "            positive = bool(s.function.is_positive)", "a possibly empty sum held positive", PROVER_TESTS),
    _m("P11", PR, "        if not unsure:\n            return e\n", "        if True:\n            return e\n",
       "Karr's convention for sums that may run backwards", PROVER_TESTS),
    _m("P12", PR, "        key = (lo, hi)\n", "        key = lo\n", "sums over different ranges merged", PROVER_TESTS),
    _m("P13", PR, "            if ok1 and ok2:", "            if ok1 or ok2:", "a case split needs only one case",
       PROVER_TESTS),
    _m("P14", PR, "if d.free_symbols <= free and not _bound_in(expr, d)]", "if d.free_symbols <= free]",
       "case split on deltas of summation indices", PROVER_TESTS),
    _m("P15", PR, "            if var.is_positive and not lo.is_positive:", "            if False:",
       "positive summation index from 0 not refused", PROVER_TESTS),
    _m("P16", PR, "            terms = [unroll(inner.subs(var, sp.Integer(v))) for v in range(int(lo), int(hi) + 1)]",
       "            terms = [unroll(inner.subs(var, sp.Integer(v))) for v in range(int(lo), int(hi))]",
       "unrolled sums lose their last term", PROVER_TESTS),
    _m("P17", PR, "        return self.statement_is_last_step and all(s.ok for s in self.steps)",
       "        return all(s.ok for s in self.steps)", "a proof need not end at its statement", PROVER_TESTS),
    _m("P18", PR, "MAX_INDEX_COMBINATIONS = 64", "MAX_INDEX_COMBINATIONS = 1", "one index combination per draw",
       PROVER_TESTS),
    _m("P19", PR, "    cond = sp.And(sp.Ge(value, lo), sp.Le(value, hi))", "    cond = sp.And(sp.Ge(value, lo - 1), sp.Le(value, hi))",
       "delta range off by one at the bottom", PROVER_TESTS),
    _m("P20", PR, "    if lo.is_positive:\n        return sp.Dummy(name, integer=True, positive=True)",
       "    if lo.is_nonnegative:\n        return sp.Dummy(name, integer=True, positive=True)",
       "indices from 0 renamed as positive", PROVER_TESTS),
    _m("P21", PR, "    if counts == 0:\n        return False,", "    if counts == 0:\n        return True,",
       "a step with nothing to evaluate counts as checked", PROVER_TESTS),
    _m("P22", PR, "        if rebinds & set(sub):\n            return e", "        if False:\n            return e",
       "an inner sum reusing an outer index renamed anyway", PROVER_TESTS),
    _m("P23", PR, "    if sp.simplify(opaque) == 0 or sp.simplify(sp.expand_log(opaque)) == 0:",
       "    if sp.simplify(opaque) == 0 or sp.simplify(sp.expand_log(opaque, force=True)) == 0:",
       "simplify with forced log expansion", PROVER_TESTS),
    _m("P24", PR, "    e = e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: sp.refine(x, facts))",
       "    e = e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: x.args[0][0])",
       "a Piecewise replaced by its first branch", PROVER_TESTS),
    # -- the confirmation stage (issue 8): the bound, its margin, the kink exclusion, the floor ----------
    _m("F1", CF, "MARGIN = 2.0  #", "MARGIN = 1.0  #", "confirmation margin 2 -> 1", CONFIRM_TESTS),
    _m("F2", CF, "ALPHA = 1e-6  #", "ALPHA = 1e-2  #", "false-alarm probability 1e-6 -> 1e-2", CONFIRM_TESTS),
    _m("F3", CF, "NOISE_POINTS = 25  #", "NOISE_POINTS = 7  #", "noise line of 7 points (2 degrees of freedom)",
       CONFIRM_TESTS),
    _m("F4", CF, "CENTRAL_NOISE = 3.8  #", "CENTRAL_NOISE = 0.38  #", "rounding std of R underestimated 10x",
       CONFIRM_TESTS),
    _m("F5", CF, "    bound = noise_c + (4.0 if seen else 2.0) * trunc + extra", "    bound = noise_c + extra",
       "truncation left out of the bound", CONFIRM_TESTS),
    _m("F6", CF, "    threshold = max(MARGIN * bound, bound + (1.0 if seen else 0.5) * MARGIN * jump_max)",
       "    threshold = MARGIN * bound", "kinks not excluded (slope jump ignored)", CONFIRM_TESTS),
    _m("F7", CF, "    quantile = t_quantile(ALPHA / (max(len(chosen), 1) * (RUNGS + 1)), fit.dof)",
       "    quantile = t_quantile(ALPHA, 10**6)", "normal quantile, no Bonferroni, noise fit's dof ignored",
       CONFIRM_TESTS),
    _m("F8", CF, "        if averaged.strength > 1.0:", "        if False:", "averaged repeats never confirm",
       CONFIRM_TESTS),
    _m("F9", EN, "    if opts.rtol is None and opts.atol is None:  # an explicit tolerance is the user's, unconfirmed",
       "    if False:", "screen failures reported unconfirmed", CONFIRM_TESTS),
    _m("F10", EN, "        if not confirmation.confirmed or _within_floor(confirmation, screens, opts):",
       "        if True:", "confirmation ignored: every screen failure passes", CONFIRM_TESTS),
    _m("F11", EN, "        if not confirmation.confirmed or _within_floor(confirmation, screens, opts):",
       "        if not confirmation.confirmed:", "the caller's floor not applied to confirmed errors", CONFIRM_TESTS),
    # -- a derivation's data: a step rewritten to another, still true, statement --------------------------
    _m("D1", SM, "Step(s[i] / s[j], sp.exp(z[i] - z[j]),", "Step(s[i] / s[j], sp.exp(z[i]) / sp.exp(z[j]),",
       "a softmax step rewritten to an equivalent statement", ("tests/test_pins.py", "tests/test_derivations_core.py")),
    _m("P25", LG, "    return sp.simplify(a.lhs - b.lhs) == 0 and sp.simplify(a.rhs - b.rhs) == 0",
       "    return sp.simplify(a.lhs - b.lhs) == 0", "the last step's right side need not be the statement's",
       PROVER_TESTS),
    # -- implications, witnesses, shown inequalities (derivations/logic.py) and their rewrites ------------
    _m("L1", LG, "        if not (g.is_zero is False and g.is_finite):", "        if not g.is_finite:",
       "rescaling by a factor that may be 0", LOGIC_TESTS,
       "survives, harmless: the rule derives conclusion from premise (dc = g*dp, so dp = 0 gives dc = 0 for any "
       "finite g, 0 included); each direction of an equivalence is checked as its own implication. Only the "
       "message 'a factor that is never 0' could then be inaccurate"),
    _m("L2", LG, "    ok, deps = nonnegative(derivation, plhs.function, earlier, {var: (lo, hi)})",
       "    ok, deps = True, []", "a zero sum forces zero terms even when they may be negative", LOGIC_TESTS),
    _m("L3", LG, "    if sp.simplify(ilo - lo) != 0 or sp.simplify(ihi - hi) != 0:", "    if False:",
       "a zero sum over part of the range forces every term", LOGIC_TESTS),
    _m("L4", LG, "    if not is_zero(sp.expand(h.xreplace({x: a})))[0]:", "    if False:",
       "unique zero without checking h(a) = 0", LOGIC_TESTS),
    _m("L5", LG, "    if dh.is_positive or dh.is_negative:", "    if True:",
       "every function taken as strictly monotone", LOGIC_TESTS),
    _m("L6", LG, "        if not premise_only & fixed:", "        if True:",
       "a chain may use a premise for every value of an index it fixes", LOGIC_TESTS),
    _m("L7", LG, "        if shared == set(indices):", "        if False:",
       "a premise about one entry substituted into every entry", LOGIC_TESTS),
    _m("L8", LG, "                    if not _index_within(derivation, got, want, ranges):", "                    if False:",
       "substitution ignores the premise's index range", LOGIC_TESTS),
    _m("L9", LG, "        elif var.is_positive and not derivation.expand_definitions(value).is_positive:", "        elif False:",
       "a fact for x > 0 instantiated at any real argument", LOGIC_TESTS),
    _m("L10", LG, "        if (fact_strict or not strict) and _instance_of(derivation, fact, e, ranges):",
       "        if _instance_of(derivation, fact, e, ranges):", "a fact F ≥ 0 used to show F > 0", LOGIC_TESTS),
    _m("L11", LG, "        if strict and not all((hi - lo).is_nonnegative for _, lo, hi in e.limits):", "        if False:",
       "a possibly empty sum shown positive", LOGIC_TESTS),
    _m("L12", LG, "        if not (g.is_positive and is_zero(sp.expand(dh - (x - a) * g))[0]):",
       "        if not is_zero(sp.expand(dh - (x - a) * g))[0]:", "a single critical point taken as a minimum",
       LOGIC_TESTS),
    _m("L13", LG, "    if step.lhs.args[1] != step.rhs.args[1]:", "    if False:",
       "a witness whose two sides are at different points", LOGIC_TESTS),
    _m("L14", LG, "        return _has_implication(part.lhs, part.rhs, steps) and _has_implication(part.rhs, part.lhs, steps)",
       "        return _has_implication(part.lhs, part.rhs, steps)", "an equivalence from one direction", LOGIC_TESTS),
    _m("L15", LG, "    if value.is_zero is False and value.is_finite:", "    if value.is_zero is not True:",
       "a closed '≠' shown when SymPy cannot tell", LOGIC_TESTS),
    _m("L16", LG, 'f: (1 - sp.Dummy("u", positive=True)) if high else sp.Dummy("f", nonnegative=True)',
       'f: sp.Dummy("f", nonnegative=True)', "frac(x) < 1 forgotten", LOGIC_TESTS + MINIBATCH_TESTS,
       "weakens the rule only: an inequality that needs frac < 1 is then checked at points, not shown "
       "(the tests see the method change)"),
    _m("L17", LG, "    if not strict and e.is_integer:", "    if not strict:",
       "d + 1 > 0 taken as d ≥ 0 for a non-integer d", LOGIC_TESTS),
    _m("L18", LG, "        free = {k: v for k, v in rule.items() if not self._is_bound(k) and not (",
       "        free = {k: v for k, v in rule.items() if True or not (", "At lets outer sizes reach its bound symbols",
       LOGIC_TESTS),
    _m("L19", LG, "        if not g.has(x - a) and (g.is_positive or g.is_negative) and is_zero",
       "        if not g.has(x - a) and is_zero", "a zero with a derivative changing sign anywhere taken as unique",
       LOGIC_TESTS),
    _m("L20", CO, "    return isinstance(e, sp.log) and isinstance(e.args[0], sp.Product) and bool(e.args[0].function.is_positive)",
       "    return isinstance(e, sp.log) and isinstance(e.args[0], sp.Product)", "log Π = Σ log for any sign",
       LOGIC_TESTS),
    _m("L21", CO, "        if not (c.is_Integer and 0 < c <= 4) or not (base - lo + 1).is_nonnegative:",
       "        if not (c.is_Integer and 0 < c <= 4):", "a sum that may run backwards split", LOGIC_TESTS),
    _m("L22", CO, "                    if (other - hi).is_positive or (lo - other).is_positive:",
       "                    if (other - hi).is_nonnegative or (lo - other).is_positive:",
       "δ(d, k) = 0 for k ≤ d (off by one)", LOGIC_TESTS),
    _m("L23", SA, "        return first, B * (B - 1) / (N * (N - 1)), first",
       "        return first, B * (B - 1) / N**2, first", "without-replacement pairs drawn as with replacement",
       MINIBATCH_TESTS),
    _m("L24", JU, "MONTE_CARLO_SIGMAS = 4.0", "MONTE_CARLO_SIGMAS = 40.0", "Monte Carlo bar 4 -> 40 standard errors",
       MINIBATCH_TESTS),
    _m("L25", LG, "        if not is_zero(case, facts)[0]:", "        if False:", "a binary case split that never fails",
       LOGIC_TESTS),
]
# -- the honesty of exit codes (issue 11): the verdict mapping, the child-process protocol, the console --
CLI, ISO, CON, CHK = "gradproof/cli.py", "gradproof/isolated.py", "gradproof/console.py", "gradproof/commands/check.py"
HONEST_TESTS = ("tests/test_qa_attack13.py", "tests/test_honest_exit.py", "tests/test_honest_output.py", "tests/test_cli_check.py")
MUTATIONS += [
    _m("H1", CHK, "    return 0 if result.ok else 1", "    return 0", "check exits 0 whatever the verdict", HONEST_TESTS),
    _m("H2", CLI, "            return 2 if code == 0 else code  # a mismatch stays a mismatch", "            return code",
       "output lost to a full device still exits 0", HONEST_TESTS),
    _m("H3", CLI, "            if exc.code in (0, None) and _lost_output():", "            if False:",
       "--help/--version into a full device exit 0", HONEST_TESTS),
    _m("H4", CLI, "        return 130", "        return 0", "Ctrl-C exits 0", HONEST_TESTS),
    _m("H5", ISO, "    if kind == \"ok\":", "    if True:", "an error from the child returned as a value", HONEST_TESTS),
    _m("H6", ISO, "        if fd <= 2:", "        if fd < 2:", "the result pipe may take fd 2 (stderr closed)", HONEST_TESTS),
    _m("H7", ISO, "    os._exit(0)", "    sys.exit(0)", "the child waits for the user's threads", HONEST_TESTS,
       "harmless: the parent kills the child's process group _GRACE (2 s) after the result arrives, so a lingering "
       "thread still cannot keep the command alive; only a timed test could see the 2 s"),
    _m("H8", ISO, "        os.killpg(proc.pid, signal.SIGKILL)", "        proc.kill()",
       "only the child is killed, not what it started", HONEST_TESTS),
    _m("H9", ISO, "        if deadline is not None and now >= deadline:", "        if deadline is not None and now >= deadline + 1e6:",
       "the time limit never expires", HONEST_TESTS),
    _m("H10", ISO, "    except BaseException as exc:  # noqa: BLE001 - one line in the parent, never a traceback",
       "    except Exception as exc:  # noqa: BLE001 - one line in the parent, never a traceback",
       "SystemExit/KeyboardInterrupt from the user's code escape the child's guard", HONEST_TESTS,
       "nearly harmless: SystemExit is caught where the user's code is called (usercode), KeyboardInterrupt by its own "
       "clause; only an exotic BaseException subclass reaches this line, and then the child dies with a traceback, "
       "which the parent reports as exit status 1: still exit 2, never a verdict"),
    _m("H11", CON, "    if isinstance(exc, BrokenPipeError):", "    if False:", "a reader that stops early counts as lost output",
       HONEST_TESTS),
    _m("H12", CON, "    except OSError as exc:  # BrokenPipeError (| head), or ENOSPC/EIO (>/dev/full)",
       "    except BrokenPipeError as exc:  # BrokenPipeError (| head), or ENOSPC/EIO (>/dev/full)",
       "say() lets ENOSPC through (a traceback)", HONEST_TESTS,
       "survives; harmless by reasoning, not by a test: the stdout wrapper (H13) still records the write error, "
       "so the CLI exits 2 either way; each guard backs up the other"),
    _m("H13", CON, "        sys.stdout = _PipeSafe(sys.stdout)", "        pass", "plain print() unguarded against a closed pipe",
       HONEST_TESTS,
       "survives; harmless by reasoning, not by a test: say() (H12) guards every line gradproof writes itself; "
       "only a plain print() in a command would reach the unguarded stream"),
    _m("H14", CON, "            stream.reconfigure(errors=ERRORS)", "            continue",
       "no ASCII fallback for plain print()", HONEST_TESTS),
    _m("H15", CON, "        os.dup2(devnull, fd)", "        pass", "a closed stdout is not pointed at /dev/null",
       HONEST_TESTS),
    _m("H16", CHK, "            if claimed > held:", "            if claimed > 1000 * held:",
       "an .npz header claiming more than the file holds is trusted", HONEST_TESTS + ("tests/test_honest_input.py",)),
    _m("H17", CHK, "    if not (math.isfinite(value) and value > 0):", "    if not (value > 0):",
       "--timeout inf accepted", HONEST_TESTS),
]
# -- the noise model (session 5): a probe that heard nothing, a dtype grid, kink or noise ---------------
HE = "gradproof/verify/hearing.py"
NOISE_TESTS = ("tests/test_noise_model.py", "tests/test_strategies.py", "tests/test_tiny_losses.py")
MUTATIONS += [
    _m("N1", DI, "    while all(v == f0 for v in vals.values()) and tau * WIDEN <= WIDEST * scale * (1 + 1e-9):",
       "    while False:", "a probe that heard nothing is trusted (never widened)", NOISE_TESTS),
    _m("N2", HE, "            if all(on_grid(v) for v in distinct):", "            if False:",
       "values on the float32 grid still read as float64 results", NOISE_TESTS),
    _m("N3", DI, "            silent = 2.0 * (tau / WIDEN if max(changes) > 0 else tau)", "            silent = 0.0",
       "a loss that never changed is judged with float64's rounding of its value", NOISE_TESTS),
    _m("N4", DI, "        assumed = EPS64 * max(fmax, scale)", "        assumed = EPS64 * fmax",
       "a silent loss assumed rounded only relative to its own value", NOISE_TESTS),
    _m("N5", DI, "        assumed = EPS64 * max(fmax, scale)", "        assumed = 1e-3 * max(fmax, scale)",
       "a silent loss assumed rounded 1e-3 (threshold loosened)", NOISE_TESTS),
    _m("N6", HE, "KINK_ALPHA = 1e-4", "KINK_ALPHA = 0.3", "kink test's false-positive rate 1e-4 -> 0.3", NOISE_TESTS),
    _m("N7", HE, "    return long_ / short > growth_threshold(m, alpha)", "    return True",
       "kink test always true (noise read as a kink)", NOISE_TESTS),
    _m("N8", HE, "    return long_ / short > growth_threshold(m, alpha)", "    return False",
       "kink test always false (a kink read as noise)", NOISE_TESTS),
    _m("N9", DI, "    if grows_with_step(short, long_):", "    if abs(long_[0]) > 2.5 * abs(short[0]):",
       "the old single-ratio kink test", NOISE_TESTS),
    _m("N10", EN, "        sigma_floor=max(output_eps * abs(f0) / np.sqrt(12.0), noise.floor, GRID64),",
       "        sigma_floor=max(target.output_eps * abs(f0) / np.sqrt(12.0), GRID64),",
       "the confirmation ignores the detected grid and the silent loss's assumed rounding", NOISE_TESTS),
    _m("N12", HE, "DISTINCT_AT_LEAST = 2", "DISTINCT_AT_LEAST = 1", "a grid inferred from one value", NOISE_TESTS),
    _m("N13", HE, "    return value != 0.0 and math.isfinite(value) and _on_float32(value) and not _on_float16(value)",
       "    return value != 0.0 and math.isfinite(value) and _on_float32(value)",
       "a round number (1.0) read as a float32 result", NOISE_TESTS),
    _m("N14", DI, "        elif max(changes) == 0.0 and output_eps < DTYPE_EPS[\"float32\"] and lone_float32(f0):",
       "        elif False:", "a float32 value never heard to change read as a silent float64 loss", NOISE_TESTS),
    _m("N15", DI, "    stencils = [[q(x + (s * step) * w) for s in STENCIL_AT] for step in (tau, GROWTH_RATIO * tau) for w in ws]",
       "    stencils = [[q(x + (s * step) * direction(rng, x.shape)) for s in STENCIL_AT] for step in (tau, GROWTH_RATIO * tau) for w in ws]",
       "the growth test's stencils along unpaired directions", NOISE_TESTS + ("tests/test_check_gradient.py",)),
    _m("N16", DI, "    sigma = max(pooled, floor, DTYPE_EPS[\"float32\"] * fmax / 3.0)",
       "    sigma = max(10 * pooled, floor, DTYPE_EPS[\"float32\"] * fmax / 3.0)",
       "noise overestimated 10x", NOISE_TESTS),
    _m("N17", DI, "    again = [(v, f(p)) for v, p in zip(values[worst], stencils[worst], strict=True)]", "    again = []",
       "the growth probe's largest stencil not evaluated again", NOISE_TESTS + ("tests/test_random_on_some_calls.py",)),
    _m("N18", DI, "        if 0.0 < max(changes) <= OWN_GRID_SILENCE * own_grid:", "        if 0.0 < max(changes):",
       "any change heard after widening counts as the loss's own grid", NOISE_TESTS),
    _m("N19", DI, "    own_grid = max(output_eps * fmax, GRID64) if fmax else 0.0", "    own_grid = max(EPS64 * fmax, GRID64) if fmax else 0.0",
       "a declared float32 loss's silence judged against float64's grid", NOISE_TESTS),
]
# fmt: on


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", "*.egg-info", "build", "dist")
    for name in ("gradproof", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):  # tests read the README's examples
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)


def run_one(m: Mutation, timeout: float) -> tuple[str, float, str]:
    """('killed' | 'survived' | 'stale' | 'timeout', seconds, first failing test or note)."""
    start = time.perf_counter()
    source = (ROOT / m.path).read_text(encoding="utf-8")
    if source.count(m.old) != 1:
        return "stale", 0.0, f"{m.path}: the targeted text occurs {source.count(m.old)} times"
    with tempfile.TemporaryDirectory(prefix=f"gradproof-mutant-{m.key}-") as tmp:
        tmp_path = Path(tmp)
        _copy_tree(tmp_path)
        (tmp_path / m.path).write_text(source.replace(m.old, m.new), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
        argv = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                *[t for t in m.tests if (tmp_path / t.split("::")[0]).exists()]]  # fmt: skip
        try:
            done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout", time.perf_counter() - start, f"tests ran past {timeout:g} s"
    seconds = time.perf_counter() - start
    if done.returncode == 0:
        return "survived", seconds, m.note
    if done.returncode in (2, 3, 4):  # interrupted, internal error, usage: the mutant broke collection
        return "killed", seconds, "(import or collection error)"
    failed = next((line.split(" - ")[0] for line in done.stdout.splitlines() if line.startswith("FAILED ")), "")
    return "killed", seconds, failed.replace("FAILED ", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", metavar="KEY", help="run only these mutations (e.g. P1 V4)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per mutant's tests (default 1800)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--tests", nargs="+", metavar="TEST", help="run these tests instead of each mutation's own")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.key in args.only]
    if args.tests:
        chosen = [Mutation(m.key, m.path, m.old, m.new, m.what, tuple(args.tests), m.note) for m in chosen]
    if args.list:
        for m in chosen:
            print(f"{m.key:4} {m.path}: {m.what}  [{', '.join(Path(t).name for t in m.tests)}]")
        return 0
    print(f"{len(chosen)} mutations, {args.jobs} at a time\n")
    print(f"{'key':4} {'verdict':9} {'seconds':>7}  mutation -> first failing test / note")
    results: dict[str, tuple[str, float, str]] = {}

    def task(m: Mutation) -> None:
        results[m.key] = verdict, seconds, detail = run_one(m, args.timeout)
        print(f"{m.key:4} {verdict:9} {seconds:7.0f}  {m.what} -> {detail}", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(task, chosen))
    counts = {v: sum(r[0] == v for r in results.values()) for v in ("killed", "survived", "stale", "timeout")}
    print("\n" + ", ".join(f"{n} {v}" for v, n in counts.items() if n))
    survivors = [m for m in chosen if results[m.key][0] == "survived"]
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {m.key} {m.path}: {m.what}\n      {m.note or 'NO NOTE: a gap in the tests'}")
    broken = [m for m in chosen if results[m.key][0] in ("stale", "timeout")]
    unexplained = [m for m in survivors if not m.note] + broken
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
