"""Targeted mutation testing of ``gradproof check-steps`` (issue 10): one-line changes to the
step checker — a rule made unsound, the point sizes reduced, a diagnosis ignoring its confirming
test, a verdict mislabelled — that the step tests must notice.  Same machinery and verdicts as
``benchmarks/mutation.py`` (killed / survived / stale), with its own list.

    python benchmarks/mutation_steps.py               # all, 2 at a time
    python benchmarks/mutation_steps.py --only S1 S4  # some
    python benchmarks/mutation_steps.py --list
"""

# ruff: noqa: E501 - the mutation list quotes lines of source exactly
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutation  # noqa: E402 - the shared runner
from mutation import _m  # noqa: E402

STEPS = (
    "tests/test_steps_soundness.py",
    "tests/test_steps_diagnosis.py",
    "tests/test_steps_notation.py",
    "tests/test_steps_chains.py",
    "tests/test_steps_errors.py",
)
PT = "gradproof/steps/points.py"
CH = "gradproof/steps/check.py"
EX = "gradproof/steps/explain.py"
PA = "gradproof/steps/parse.py"
CX = "gradproof/steps/context.py"
DE = "gradproof/steps/declarations.py"
PH = "gradproof/steps/phrases.py"
DI = "gradproof/derivations/directives.py"
DESCENT = ("tests/test_steps_descent.py",)
MB = "gradproof/steps/minibatch.py"
SA = "gradproof/derivations/sampling.py"  # the moment rules, shared with the catalog
BATCH = ("tests/test_steps_minibatch.py",)
EXT = "gradproof/steps/extents.py"
GUARDS = ("tests/test_steps_guards.py",)  # the attack of session 4: S36-S51

# fmt: off
MUTATIONS = [
    _m("S1", PT, "        sizes = [s for s in super().proof_sizes(values) if", "        sizes = [s for s in super().proof_sizes(values)[:3] if",
       "exact points at sizes 1-3 only (a claim false from n = 4 passes)", STEPS),
    _m("S2", CH, '    if record.method == CHECKED:\n        return "checked"', '    if record.method == CHECKED:\n        return "proved"',
       "a step checked at points reported as proved", STEPS),
    _m("S3", PT, "        value = _rational(rng, -scale, scale)", "        value = _rational(rng, 0, scale)",
       "inputs without a declared domain drawn positive only", STEPS),
    _m("S4", PA, "            body = body * (1 - sp.KroneckerDelta(var, other))", "            body = body",
       "\\sum_{k \\neq i} keeps the term k = i (an unsound reading)", STEPS),
    _m("S5", EX, "    if _close(sp.N(ce.lhs, 50), -sp.N(ce.rhs, 50)) and _holds(analysis, lhs, -rhs):",
       "    if _close(sp.N(ce.lhs, 50), -sp.N(ce.rhs, 50)):", "sign diagnosis without its confirming check", STEPS),
    _m("S6", EX, "        if _holds(analysis, lhs, c * rhs):", "        if True:",
       "factor diagnosis without its confirming check", STEPS),
    _m("S7", EX, "            if swapped != rhs and _screen(analysis, lhs, swapped, ce) and _holds(analysis, lhs, swapped):",
       "            if swapped != rhs and _screen(analysis, lhs, swapped, ce):", "index-swap diagnosis without its confirming check", STEPS),
    _m("S8", EX, "        if _screen(analysis, lhs, rhs - t, ce) and _holds(analysis, lhs, rhs - t):",
       "        if _screen(analysis, lhs, rhs - t, ce):", "extra-term diagnosis without its confirming check", STEPS),
    _m("S9", EX, "            if _holds(analysis, lhs, rhs, op, derivation=variant):", "            if True:",
       "an assumption offered without checking that it makes the step hold", STEPS),
    _m("S10", CH, "            holds = again is not None and again.method in (SHOWN, CHECKED)", "            holds = True",
       "every row after the first failure 'follows from the last correct one'", STEPS),
    _m("S11", CX, "        if name in self.indices:\n            return self.indices[name].symbol\n        if name in self.sizes:\n            return self.sizes[name]\n        hint",
       "        if name in self.indices:\n            return self.indices[name].symbol\n        if True:\n            return sp.Symbol(name, integer=True)\n        hint",
       "an undeclared free index silently read as an integer", STEPS),
    _m("S12", PT, "                    raw[-1] = target - sum(raw[:-1])", "                    raw[-1] = target - sum(raw[:-2])",
       "a vector with an assumed sum drawn with the wrong sum", STEPS),
    # the steepest-descent fragment: names of several symbols, unit vectors, hypotheses on defined names
    _m("S13", PT, "        return [v * sp.sqrt(total) for v in unit]", "        return unit",
       "a sum of squares drawn on the unit sphere whatever its stated value", DESCENT),
    _m("S14", PT, "            unit = [abs(v) for v in unit]", "            unit = unit",
       "a sphere drawn with mixed signs where the entries are assumed \\ge 0", DESCENT),
    _m("S15", PT, "        unit = [2 * v / (s + 1) for v in t] + [(s - 1) / (s + 1)]", "        unit = [2 * v / (s + 1) for v in t] + [(s + 1) / (s + 1)]",
       "a 'unit' vector off the sphere", DESCENT),
    _m("S16", DE, "            entry, power = entry.base, 2", "            entry, power = entry.base, 1",
       "Σ u_l² = 1 read as Σ u_l = 1 (an unsound rewrite)", DESCENT),
    _m("S17", CX, "        if fact.power != 1:", "        if False:",
       "an assumed sum of squares never used by the prover", DESCENT),
    _m("S18", CX, "    return SumFact(f.base.base, lo, hi, d.target**2, d.text, power=2)", "    return None",
       "a defined length never read back where its definition was expanded", DESCENT),
    _m("S19", CX, "                self._symbols[name] = sp.Symbol(name, **assumed.assumptions()) if assumed else sp.Symbol(name)",
       "                self._symbols[name] = sp.Symbol(name)", "a hypothesis on a defined name (\\|g\\| > 0) ignored by the prover", DESCENT),
    _m("S20", PT, "                self._draw_until(definition, domain, values, sizes)", "                pass",
       "points drawn where a hypothesis on a defined name fails", DESCENT),
    _m("S21", PT, "            if _inside(value, domain):", "            if True:",
       "the hypothesis on a defined name never tested at the point", DESCENT),
    _m("S22", PH, "        if after in _SCRIPTS and not (closed and after == \"SUP\"):", "        if False:",
       "D_{u} L^2 read silently as the square of the whole name", DESCENT),
    _m("S23", CH, "    with shared_forms(analysis.derivation):", "    with shared_forms(None):",
       "premise and conclusion normalised apart (their sums renamed differently)", DESCENT),
    _m("S24", CH, "        return build(tree)", "        return builder.expr(tree, {})",
       "a sum written twice (a row and its \\rlap) read as two expressions", DESCENT),
    _m("S25", DE, "            raise self.source.error(d.offset, f\"{name} has an assumed sum of squares and another assumption \"", "            if 0: raise self.source.error(d.offset, f\"{name} has an assumed sum of squares and another assumption \"",
       "a sum of squares with an assumption it cannot be drawn with accepted", DESCENT),
    _m("S26", DI, "            out.append(f\"assume {lhs} > 0\")  # ‖g‖ > 0: a hypothesis (g ≠ 0), not a consequence", "            pass",
       "the printer leaves out the hypothesis \\|g\\| > 0", DESCENT),
    # expectations over how a minibatch is drawn
    _m("S27", SA, "        return first, B * (B - 1) / (N * (N - 1)), first", "        return first, B * (B - 1) / N**2, first",
       "without replacement, E[K_a K_b] taken from sampling with replacement", BATCH),
    _m("S28", SA, "        return first, B * (B - 1) / N**2, B * (B - 1) / N**2 + B / N", "        return first, B * (B - 1) / N**2, first",
       "with replacement, E[K_a²] = E[K_a] (as if K_a ∈ {0, 1})", BATCH),
    _m("S29", MB, "            ways = math.comb(n - m, batch - sum(inside)) if batch - sum(inside) >= 0 else 0", "            ways = math.comb(n - m, batch) if batch - sum(inside) >= 0 else 0",
       "the exact law without replacement counts the batches wrongly", BATCH),
    _m("S30", MB, "        p = Fraction(ways) * Fraction(1, n) ** sum(counts) * Fraction(n - m, n) ** rest", "        p = Fraction(ways) * Fraction(1, n) ** sum(counts) * Fraction(n - 1, n) ** rest",
       "the exact law with replacement gives the other samples the wrong probability", BATCH),
    _m("S31", MB, "        if sp.sympify(batch.samples).is_Integer:", "        if False:",
       "the point checks evaluate expectations with the same rules the prover uses", BATCH),
    _m("S32", CX, "            self._check_sample(token, indices, builder)", "            pass",
       "K indexed beyond the samples it counts (the rules then claim what is undefined)", BATCH),
    _m("S33", PT, "        values[batch.size] = sp.Integer(size)", "        values[batch.size] = sp.Integer(1)",
       "the batch size at a point is not the size of the batch drawn", BATCH),
    _m("S34", SA, "    raise NotImplementedError(\"moments of the counts beyond the second\")", "    return const * first",
       "a third moment of the counts taken as the first (an unsound rule)", BATCH),
    _m("S35", SA, "            return const * diag", "            return const * off",
       "E[K_a²] read as E[K_a K_b] for a ≠ b", BATCH),
    # the attack of session 4: entries beyond a range, rows redefining declared names, malformed
    # scalar declarations, undefined points, the extreme points of the sphere and the simplex
    _m("S36", EXT, "        if low < first or high > last:", "        if False:",
       "an entry beyond a vector's entries (u_5 of u_1..u_d) drawn freely", GUARDS),
    _m("S37", CH, "    _mark_definitions(rels, ctx, decl.reserved())", "    _mark_definitions(rels, ctx, set())",
       "a row about a declared name (K_a &= 1) read as its definition", GUARDS),
    _m("S38", DE, "            out |= {self._minibatch[1], self._minibatch[3]}", "            pass",
       "the minibatch's counts and batch size redefinable by a row", GUARDS),
    _m("S39", DE, "            out |= set().union(*[_tree_names(t) for t in body]) - _tree_names(head)", "            pass",
       "a vector with an assumed sum redefinable by a row", GUARDS),
    _m("S40", CH, "    if not isinstance(definition.target, sp.IndexedBase):", "    if True:",
       "a row defining entries p_k against p_i > 0 not checked for the contradiction", GUARDS),
    _m("S41", PH, "    if bars:", "    if False:", "an unclosed bar in a scalar's name accepted", GUARDS),
    _m("S42", PH, "        if inside or ends:", "        if inside:", "scalar names overlapping at their ends accepted", GUARDS),
    _m("S43", PH, "    if first in ((\"NAME\", \"e\"), (\"NAME\", \"pi\")):", "    if False:",
       "scalar e^{x} accepted as a name", GUARDS),
    _m("S44", PH, "        if d.rest.rstrip().endswith(\",\"):", "        if False:",
       "a trailing comma in a scalar declaration accepted", GUARDS),
    _m("S45", PT, "        if out.has(sp.nan, sp.zoo) or out in (sp.oo, -sp.oo):", "        if False:",
       "an undefined side compared as a number (SymPy's TypeError leaked; zoo a 'counterexample')", GUARDS),
    _m("S46", CH, "                derivation.skip.append(exc.sizes)", "                break",
       "a point where a side is undefined ends the check: nothing else is checked", GUARDS),
    _m("S47", PT, "            if point is not None and all(_inside(sp.N(v, 50), domain) for v in point):", "            if False:",
       "no extreme points of the sphere or the simplex", GUARDS),
    _m("S48", PT, "            even(lambda rng: [-1] * count), even(lambda rng: [1] * count), axis(-1), axis(1),",
       "            even(lambda rng: [1] * count), even(lambda rng: [1] * count), axis(1), axis(1),",
       "the sphere's negative corners left out", GUARDS),
    _m("S49", PT, "    return [centre] if strict else [vertex, centre]", "    return [centre]",
       "the simplex's vertices left out", GUARDS),
    _m("S50", PT, "            out += [size_set] * (1 + -(-most // per_copy))", "            out += [size_set]",
       "the extreme points crowd out the random ones", GUARDS + DESCENT),
    _m("S51", CH, "                kind = \"constrained\"", "                pass",
       "a vector with an assumed sum listed as a free real input", GUARDS),
]
# fmt: on

if __name__ == "__main__":
    mutation.MUTATIONS = MUTATIONS
    sys.exit(mutation.main())
