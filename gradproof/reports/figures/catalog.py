"""The figures, each computed by gradproof: from a derivation's own expressions (compiled as for
its worked examples), from SymPy derivatives, or from the experiments.  Nothing is typed in.

:data:`FIGURES` is the one registry: name, title, the derivations a figure illustrates, and its
builder.  Listing the names and titles computes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from gradproof.reports.figures.plot import Plot, RefLine, Series

#: degrees swept for the bias–variance and train/test figures: dense where the curves turn
BIAS_VARIANCE_DEGREES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20)
BIAS_VARIANCE_DATASETS = 300


@dataclass(frozen=True)
class FigureSpec:
    name: str
    title: str
    illustrates: tuple[str, ...]
    build: Callable[[], Plot]


def _curve(slug: str, expr, sizes: dict, values: dict, name: str, xs: Sequence[float], index=()) -> np.ndarray:
    """``expr`` of derivation ``slug`` at each x of ``xs`` given to input ``name`` (others fixed)."""
    from gradproof.derivations.numeric import tabulate
    from gradproof.derivations.registry import derivation

    d = derivation(slug)
    out = []
    for x in xs:
        point = {**{k: np.asarray(v, dtype=float) for k, v in values.items()}, name: np.asarray(x, dtype=float)}
        out.append(np.asarray(tabulate(d, expr, index, sizes, point), dtype=float))
    return np.array(out)


# -- from the derivations -----------------------------------------------------------------------


def gradient_magnitudes(n: int = 49) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """p in (0, 1) and |∂L/∂z| for BCE and for ½(p − y)² at y = 1, from SymPy derivatives."""
    import sympy as sp

    z, y = sp.symbols("z y", real=True)
    p = 1 / (1 + sp.exp(-z))
    bce = -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
    mse = (p - y) ** 2 / 2
    d_bce, d_mse = sp.simplify(sp.diff(bce, z)), sp.diff(mse, z)
    f_bce, f_mse = (sp.lambdify((z, y), e, "numpy") for e in (d_bce, d_mse))
    probs = np.linspace(0.01, 0.99, n)
    logits = np.log(probs / (1 - probs))
    ps = sp.Symbol("p")
    shown = (
        sp.simplify(d_bce.subs(sp.exp(-z), 1 / ps - 1).subs(z, sp.log(ps / (1 - ps)))),
        sp.factor(sp.simplify(d_mse.subs(z, sp.log(ps / (1 - ps))))),
    )
    return probs, np.abs(f_bce(logits, 1.0)), np.abs(f_mse(logits, 1.0)), shown


def ce_vs_mse_gradient() -> Plot:
    from gradproof.derivations.latex import to_latex

    probs, g_bce, g_mse, (e_bce, e_mse) = gradient_magnitudes()
    caption = (
        "Gradient with respect to the logit $z$, from SymPy's derivatives of the two losses: "
        f"cross-entropy gives $\\partial L/\\partial z = {to_latex(e_bce)}$, squared error gives "
        f"${to_latex(e_mse)}$; plotted for a positive example ($y = 1$). Squared error stops "
        "learning where the model is most wrong ($p \\to 0$)."
    )
    return Plot(
        "ce-vs-mse-gradient", "Cross-entropy versus squared error: gradient magnitude", caption,
        "predicted probability $p$ (true label $y = 1$)", "$|\\partial L / \\partial z|$",
        (Series("cross-entropy", probs, g_bce, "line", "blue"),
         Series("squared error $\\frac{1}{2} (p - y)^2$", probs, g_mse, "dashed", "red")),
        (0.0, 1.0), (0.0, 1.05),
    )  # fmt: skip


def sigmoid_derivative() -> Plot:
    from gradproof.derivations import logistic

    d_slug = "sigmoid-derivative"
    from gradproof.derivations.registry import derivation

    d = derivation(d_slug)
    zs = np.linspace(-6.0, 6.0, 121)
    sigma = _curve(d_slug, logistic.sigma(logistic.t), {}, {}, "z", zs)
    slope = _curve(d_slug, d.result[0], {}, {}, "z", zs)
    bound = next(c.rhs for c in d.claims if getattr(c, "relation", "=") == "<=")  # the claim σ' ≤ 1/4
    top = float(bound)
    caption = (
        "The sigmoid $\\sigma(z) = 1/(1 + e^{-z})$ and its derivative $\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))$, "
        "both evaluated from the derivation sigmoid-derivative. The derivative is largest at $z = 0$, "
        f"where it is ${float(slope[60]):g}$ (the claim $\\sigma' \\le {top:g}$), and vanishes as $\\sigma$ "
        "saturates: a squared error through a sigmoid learns slowly from confident mistakes."
    )
    return Plot(
        "sigmoid-derivative", "The sigmoid and its derivative", caption, "logit $z$", "",
        (Series("$\\sigma(z)$", zs, sigma, "line", "blue"),
         Series("$\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))$", zs, slope, "dashed", "red")),
        (-6.0, 6.0), (0.0, 1.05), legend="north west", lines=(RefLine("y", top, f"$\\sigma' \\le {top:g}$"),),
        notes=(f"max sigma' = {float(slope.max()):.6g}",),
    )  # fmt: skip


def log_loss() -> Plot:
    from gradproof.derivations import likelihood

    ps = np.linspace(0.005, 0.995, 199)
    logits = np.log(ps / (1 - ps))
    one = {"y": [1.0]}
    sizes = {likelihood.N: 1}
    ell = likelihood.ell[likelihood.a]
    label1 = _curve("bce-maximum-likelihood", ell, sizes, one, "z", [[z] for z in logits], (likelihood.a,))[:, 0]
    label0 = _curve("bce-maximum-likelihood", ell, sizes, {"y": [0.0]}, "z", [[z] for z in logits], (likelihood.a,))[:, 0]
    caption = (
        "The binary cross-entropy $-[y \\log p + (1 - y) \\log(1 - p)]$, the negative log-likelihood of a "
        "Bernoulli label (bce-maximum-likelihood), against the predicted probability $p$ of label 1: for "
        "$y = 1$ it is $-\\log p$, for $y = 0$ it is $-\\log(1 - p)$. It is 0 for a certain, correct "
        "prediction and grows without bound for a confident mistake."
    )
    return Plot(
        "log-loss", "Log loss for label 1 and label 0", caption, "predicted probability $p$ of label 1", "loss",
        (Series("$y = 1$: $-\\log p$", ps, label1, "line", "blue"),
         Series("$y = 0$: $-\\log(1 - p)$", ps, label0, "dashed", "red")),
        (0.0, 1.0), (0.0, 5.0), legend="north east",
        notes=(f"loss at p=0.5: {float(label1[99]):.6g}",),
    )  # fmt: skip


def loss_zoo() -> Plot:
    from gradproof.derivations import losses

    slug = "loss-function-derivatives"
    yhats = np.linspace(-2.0, 3.0, 200)  # an even count: ŷ = 0, where sign(ŷ) = 0, is not sampled
    fixed = {"y": 1.0, "c": 1.0, "z": [0.0, 0.0, 0.0]}
    sizes = {losses.n: 3}
    curves = [_curve(slug, sym, sizes, fixed, "yhat", yhats) for sym in
              (losses.ell_1, losses.ell_2, losses.ell_hinge, losses.ell_01)]
    caption = (
        "The losses of loss-function-derivatives for a target $y = 1$ (class $+1$) against the prediction "
        "$\\hat{y}$: L1 $|\\hat{y} - y|$ grows linearly, L2 $(\\hat{y} - y)^2$ quadratically, the hinge "
        "$\\max(0, 1 - y\\hat{y})$ is 0 once the margin $y\\hat{y}$ reaches 1, and the zero-one loss "
        "$1[\\operatorname{sign} \\hat{y} \\ne y]$ is flat on both sides of $\\hat{y} = 0$: its derivative "
        "is 0 wherever it exists, so no gradient can train it."
    )
    return Plot(
        "loss-zoo", "L1, L2, hinge and zero-one losses", caption, "prediction $\\hat{y}$ (target $y = 1$)", "loss",
        (Series("L1", yhats, curves[0], "line", "blue"), Series("L2", yhats, curves[1], "dashed", "red"),
         Series("hinge", yhats, curves[2], "line", "teal", thick=True),
         Series("zero-one", yhats, curves[3], "steps", "black")),
        (-2.0, 3.0), (0.0, 4.0), legend="north east",
    )  # fmt: skip


def gd_step_sizes(a: float = 1.0, steps: int = 15) -> Plot:
    """Gradient descent on L(w) = (a/2) w², with the gradient from SymPy: w ← w − α L'(w)."""
    import sympy as sp

    w, curvature = sp.symbols("w a", real=True)
    loss = curvature * w**2 / 2
    grad = sp.lambdify((w, curvature), sp.diff(loss, w), "math")
    rates = ((0.3, "converges", "blue", "line+marks"), (1.7, "oscillates", "orange", "line+marks"),
             (2.1, "diverges", "red", "line+marks"))  # fmt: skip
    series, factors = [], []
    for alpha, word, color, style in rates:
        path = [1.0]
        for _ in range(steps):
            path.append(path[-1] - alpha * grad(path[-1], a))
        factors.append(path[1] / path[0])
        series.append(Series(f"$\\alpha = {alpha:g}$: {word}", range(steps + 1), path, style, color))
    caption = (
        f"Gradient descent on $L(w) = \\frac{{a}}{{2}} w^2$ with $a = {a:g}$ from $w_0 = 1$; the gradient "
        "$aw$ comes from SymPy, so each step is $w \\leftarrow (1 - \\alpha a) w$, a factor of "
        + ", ".join(f"${f:.2g}$" for f in factors)
        + " here. A step size below $1/a$ converges monotonically, between $1/a$ and $2/a$ it overshoots and "
        "oscillates while converging, above $2/a$ every step overshoots further and the iterates diverge."
    )
    return Plot(
        "gd-step-sizes", "Gradient descent on a quadratic: three step sizes", caption, "iteration $t$",
        "parameter $w_t$", tuple(series), (0.0, float(steps)), (-4.5, 4.5), legend="below", height=0.5,
        lines=(RefLine("y", 0.0, ""),), notes=tuple(f"factor {f:.6g}" for f in factors),
    )  # fmt: skip


def softmax_stability() -> Plot:
    from gradproof.derivations import common

    shifts = np.linspace(0.0, 800.0, 161)
    logits = [[c, c - 1.0, c - 2.0] for c in shifts]
    stable = _curve("softmax-shift-invariance", common.s[common.i], {common.n: 3}, {"c": 0.0}, "z", logits,
                    (common.i,))[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        exps = np.exp(np.array(logits))
        naive = exps[:, 0] / exps.sum(axis=1)  # the textbook formula, as float64 computes it
    first_nan = float(shifts[np.argmax(np.isnan(naive))]) if np.any(np.isnan(naive)) else math.nan
    overflow = math.log(np.finfo(np.float64).max)
    caption = (
        "The first softmax output for logits $(c, c - 1, c - 2)$ as $c$ grows. Computed as "
        "$e^{z_1}/\\sum_k e^{z_k}$ in float64 it is NaN from $c = "
        f"{first_nan:g}$ on: $e^{{c}}$ overflows to $\\infty$ beyond $c \\approx {overflow:.1f}$ and "
        "$\\infty/\\infty$ is NaN. The stable form, with the maximum subtracted (softmax-shift-invariance), "
        f"stays at ${float(stable[0]):.4f}$ for every $c$."
    )
    return Plot(
        "softmax-stability", "Naive and stable softmax on large logits", caption, "logit scale $c$",
        "$s_1$ for logits $(c, c - 1, c - 2)$",
        (Series("stable: maximum subtracted", shifts, stable, "line", "blue", thick=True),
         Series("naive: $e^{z_1} / \\sum_k e^{z_k}$", shifts, naive, "dashed", "red", thick=True)),
        (0.0, 800.0), (0.0, 1.0), legend="south west",
        lines=(RefLine("x", overflow, "NaN beyond"),), notes=(f"first NaN at c = {first_nan:g}",),
    )  # fmt: skip


def dropout_kept_count(units: int = 1000, keep: float = 0.5) -> Plot:
    """P(K = k) for K ~ Binomial(units, keep): exact, from binomial coefficients."""
    from fractions import Fraction

    p = Fraction(keep).limit_denominator(1000)
    mean = units * float(p)
    sd = math.sqrt(units * float(p) * float(1 - p))
    ks = np.arange(int(mean - 4 * sd), int(mean + 4 * sd) + 1)
    pmf = [float(math.comb(units, int(k)) * p ** int(k) * (1 - p) ** (units - int(k))) for k in ks]
    within = sum(q for k, q in zip(ks, pmf) if abs(k - mean) <= 2 * sd)
    caption = (
        f"The number $K$ of units dropout keeps out of {units:,} with keep probability {float(p):g}: "
        f"$P(K = k) = \\binom{{{units}}}{{k}} p^k (1 - p)^{{{units} - k}}$, computed exactly. "
        f"On average {mean:g} units are kept (each unit's mask has mean $p$, dropout-expectation), but not "
        f"exactly {mean:g} in every iteration: the standard deviation is $\\sqrt{{np(1 - p)}} \\approx {sd:.1f}$, "
        f"and {within:.0%} of iterations keep between {math.ceil(mean - 2 * sd)} and {math.floor(mean + 2 * sd)}."
    ).replace("%", "\\%")
    top = max(pmf)
    return Plot(
        "dropout-kept-count", f"How many of {units:,} units dropout keeps", caption,
        f"units kept $K$ (of {units:,})", "probability $P(K = k)$",
        (Series("", ks, pmf, "stems", "blue"),),
        (float(ks[0]), float(ks[-1])), (0.0, 1.15 * top), legend="north east",
        lines=(RefLine("x", mean, f"mean {mean:g}"), RefLine("x", mean - 2 * sd, "$-2$ sd"),
               RefLine("x", mean + 2 * sd, "$+2$ sd")),
        notes=(f"mean {mean:g}", f"sd {sd:.6g}", f"within 2 sd {within:.6g}"),
    )  # fmt: skip


# -- from the experiments -------------------------------------------------------------------------


@cache
def _bias_variance_result():
    from gradproof.experiments.bias_variance import bias_variance_experiment

    # cpu: the same bytes on every machine
    return bias_variance_experiment(degrees=BIAS_VARIANCE_DEGREES, n_datasets=BIAS_VARIANCE_DATASETS, seed=0,
                                    device="cpu")


def bias_variance() -> Plot:
    result = _bias_variance_result()
    rows = result.rows
    deg = [r.degree for r in rows]
    caption = (
        f"Bias--variance decomposition measured on {result.n_datasets} training sets of {result.n_train} points "
        f"each from $f(x) = 4x^4 - 4x^2 + x$ with noise $\\sigma = {result.noise_std:g}$ (seed {result.seed}): "
        "low degrees underfit (high bias$^2$), high degrees overfit (high variance); the measured "
        "error follows bias$^2$ + variance + $\\sigma^2$."
    )
    return Plot(
        "bias-variance", "Bias--variance trade-off", caption, "polynomial degree", "mean squared error",
        (Series("bias$^2$", deg, [r.bias2 for r in rows], "line+marks", "blue"),
         Series("variance", deg, [r.variance for r in rows], "line+marks", "red"),
         Series("noise $\\sigma^2$", deg, [r.noise for r in rows], "dashed", "gray"),
         Series("expected error (measured)", deg, [r.expected_error for r in rows], "line+marks", "black", thick=True)),
        (0.0, max(deg) + 1.0), _log_range([r.bias2 for r in rows] + [r.variance for r in rows]
                                          + [r.expected_error for r in rows]),
        ymode="log", legend="below", height=0.5,
    )  # fmt: skip


def _log_range(values: Sequence[float]) -> tuple[float, float]:
    positive = [v for v in values if v > 0]
    return 10 ** math.floor(math.log10(min(positive))), 10 ** math.ceil(math.log10(max(positive)))


def train_test_error() -> Plot:
    result = _bias_variance_result()
    rows = result.rows
    deg = [r.degree for r in rows]
    best = min(rows, key=lambda r: r.expected_error)
    caption = (
        f"Mean squared error on the training sets and on fresh test targets, averaged over {result.n_datasets} "
        f"training sets of {result.n_train} points (the bias--variance experiment, seed {result.seed}). The training "
        "error only falls as the degree grows; the test error falls while the model gains the capacity it needs, "
        f"is lowest at degree {best.degree}, and rises again when the fit follows the noise. The gap between the "
        "two curves is the overfitting."
    )
    return Plot(
        "train-test-error", "Training and test error against polynomial degree", caption, "polynomial degree",
        "mean squared error",
        (Series("training error", deg, [r.train_error for r in rows], "line+marks", "blue"),
         Series("test error", deg, [r.expected_error for r in rows], "line+marks", "red", thick=True),
         Series("noise $\\sigma^2$", deg, [r.noise for r in rows], "dashed", "gray")),
        (0.0, max(deg) + 1.0), _log_range([r.train_error for r in rows] + [r.expected_error for r in rows]),
        ymode="log", legend="north west", notes=(f"best degree {best.degree}",),
    )  # fmt: skip


def polynomial_fits() -> Plot:
    from gradproof.experiments.polynomial_fits import polynomial_fits as fits

    r = fits((1, 4, 20))
    styles = {1: ("blue", "dashed"), 4: ("teal", "line"), 20: ("red", "line")}
    series = [Series("true $f(x)$", r.grid, r.truth, "dotted", "black", thick=True),
              Series("training data", r.x_train, r.y_train, "marks", "gray")]
    for degree, curve in r.curves.items():
        color, style = styles[degree]
        series.append(Series(f"degree {degree}", r.grid, curve, style, color))
    errors = "; ".join(f"degree {k}: training {r.train_error[k]:.3g}, test {r.test_error[k]:.3g}" for k in r.curves)
    caption = (
        f"One training set of {len(r.x_train)} points from $f(x) = 4x^4 - 4x^2 + x$ with noise "
        f"$\\sigma = {r.noise_std:g}$ (seed {r.seed}), fitted by least squares at degrees 1, 4 and 20. Mean squared "
        f"errors: {errors}. Degree 1 underfits, degree 4 follows $f$, degree 20 chases the noise between "
        "the points."
    )
    return Plot(
        "polynomial-fits", "Polynomial fits of degree 1, 4 and 20", caption, "$x$", "$y$", tuple(series),
        (-1.0, 1.0), (-2.0, 2.0), legend="below", height=0.55,
        notes=tuple(f"degree {k}: train {r.train_error[k]:.6g} test {r.test_error[k]:.6g}" for k in r.curves),
    )  # fmt: skip


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("ce-vs-mse-gradient", "Cross-entropy versus squared error: gradient magnitude",
               ("mse-sigmoid-gradient", "bce-sigmoid-gradient"), ce_vs_mse_gradient),
    FigureSpec("bias-variance", "Bias–variance trade-off", ("bias-variance-decomposition",), bias_variance),
    FigureSpec("sigmoid-derivative", "The sigmoid and its derivative", ("sigmoid-derivative",), sigmoid_derivative),
    FigureSpec("log-loss", "Log loss for label 1 and label 0", ("bce-maximum-likelihood", "bce-sigmoid-gradient"),
               log_loss),
    FigureSpec("loss-zoo", "L1, L2, hinge and zero-one losses", ("loss-function-derivatives",), loss_zoo),
    FigureSpec("polynomial-fits", "Polynomial fits of degree 1, 4 and 20", ("bias-variance-decomposition",),
               polynomial_fits),
    FigureSpec("train-test-error", "Training and test error against polynomial degree",
               ("bias-variance-decomposition",), train_test_error),
    FigureSpec("gd-step-sizes", "Gradient descent on a quadratic: three step sizes",
               ("steepest-descent-direction", "linear-regression-gradient"), gd_step_sizes),
    FigureSpec("softmax-stability", "Naive and stable softmax on large logits", ("softmax-shift-invariance",),
               softmax_stability),
    FigureSpec("dropout-kept-count", "How many of 1,000 units dropout keeps", ("dropout-expectation",),
               dropout_kept_count),
)  # fmt: skip
