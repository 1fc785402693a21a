"""Pictures computed by gradproof, typeset as pgfplots (no image files, no numbers typed in).

* :func:`gradient_magnitude_figure` — |∂L/∂z| against the predicted probability p for a positive
  example (y = 1): binary cross-entropy gives |p − y|, squared error ½(p − y)² gives
  |(p − y) p (1 − p)|, which vanishes exactly where the model is most wrong.  Both come from
  SymPy ``diff`` of the losses written in terms of the logit z.
* :func:`bias_variance_figure` — bias², variance, noise and the measured expected error against
  polynomial degree, from :func:`gradproof.bias_variance_experiment`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradproof.derivations.latex import to_latex

PACKAGES = ("pgfplots",)
PREAMBLE = "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n"

#: degrees swept for the figure: dense where the curve turns, sparse in the overfitting tail
BIAS_VARIANCE_DEGREES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20)


@dataclass(frozen=True)
class Figure:
    title: str
    tikz: str  # a tikzpicture with its axis and data
    caption: str  # LaTeX


def _coords(xs, ys) -> str:
    return " ".join(f"({x:.6g},{y:.6g})" for x, y in zip(xs, ys))


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


def gradient_magnitude_figure() -> Figure:
    probs, g_bce, g_mse, (e_bce, e_mse) = gradient_magnitudes()
    tikz = (
        "\\begin{tikzpicture}\n"
        "\\begin{axis}[width=0.8\\linewidth, height=0.45\\linewidth, xmin=0, xmax=1, ymin=0, ymax=1.05,\n"
        "  xlabel={predicted probability $p$ (true label $y = 1$)}, ylabel={$|\\partial L / \\partial z|$},\n"
        "  legend pos=north east, legend cell align=left, grid=major]\n"
        f"\\addplot[thick, blue] coordinates {{{_coords(probs, g_bce)}}};\n"
        "\\addlegendentry{cross-entropy}\n"
        f"\\addplot[thick, red, dashed] coordinates {{{_coords(probs, g_mse)}}};\n"
        "\\addlegendentry{squared error $\\tfrac12 (p - y)^2$}\n"
        "\\end{axis}\n\\end{tikzpicture}\n"
    )
    caption = (
        "Gradient with respect to the logit $z$, from SymPy's derivatives of the two losses: "
        f"cross-entropy gives $\\partial L/\\partial z = {to_latex(e_bce)}$, squared error gives "
        f"${to_latex(e_mse)}$; plotted for a positive example ($y = 1$). Squared error stops "
        "learning where the model is most wrong ($p \\to 0$)."
    )
    return Figure("Cross-entropy versus squared error: gradient magnitude", tikz, caption)


def bias_variance_figure(degrees=BIAS_VARIANCE_DEGREES, n_datasets: int = 300, seed: int = 0) -> Figure:
    from gradproof.experiments.bias_variance import bias_variance_experiment

    # cpu: the same bytes on every machine
    result = bias_variance_experiment(degrees=tuple(degrees), n_datasets=n_datasets, seed=seed, device="cpu")
    rows = result.rows
    deg = [r.degree for r in rows]
    series = [
        ("bias$^2$", "blue, mark=*", [r.bias2 for r in rows]),
        ("variance", "red, mark=square*", [r.variance for r in rows]),
        ("noise $\\sigma^2$", "gray, dashed", [r.noise for r in rows]),
        ("expected error (measured)", "black, thick, mark=triangle*", [r.expected_error for r in rows]),
    ]
    plots = "".join(
        f"\\addplot[{style}, mark size=1.5pt] coordinates {{{_coords(deg, ys)}}};\n\\addlegendentry{{{label}}}\n"
        for label, style, ys in series
    )
    tikz = (
        "\\begin{tikzpicture}\n"
        "\\begin{axis}[width=0.8\\linewidth, height=0.5\\linewidth, ymode=log,\n"
        f"  xmin=0, xmax={max(deg) + 1}, xlabel={{polynomial degree}}, ylabel={{mean squared error}},\n"
        "  legend cell align=left, legend columns=2, grid=major,\n"
        "  legend style={font=\\small, at={(0.5,-0.22)}, anchor=north}]\n" + plots + "\\end{axis}\n\\end{tikzpicture}\n"
    )
    caption = (
        f"Bias--variance decomposition measured on {n_datasets} training sets of {result.n_train} points "
        f"each from $f(x) = 4x^4 - 4x^2 + x$ with noise $\\sigma = {result.noise_std:g}$ (seed {seed}): "
        "low degrees underfit (high bias$^2$), high degrees overfit (high variance); the measured "
        "error follows bias$^2$ + variance + $\\sigma^2$."
    )
    return Figure("Bias--variance trade-off", tikz, caption)


def figures_for(names: list[str], *, whole_catalog: bool) -> list[Figure]:
    """The figures that belong with these derivations (all of them for the whole catalog)."""
    out = []
    if whole_catalog or any("entropy" in n or "bce" in n or "sigmoid" in n for n in names):
        out.append(gradient_magnitude_figure())
    if whole_catalog or any("bias-variance" in n for n in names):
        out.append(bias_variance_figure())
    return out
