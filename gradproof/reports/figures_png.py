"""The report figures as PNG files (matplotlib), for Markdown course pages.

The same data as the pgfplots figures of :mod:`gradproof.reports.figures` (computed by gradproof,
nothing typed in); rendered with the Agg backend and without a timestamp, so the same input gives
the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from gradproof.reports.figures import BIAS_VARIANCE_DEGREES, gradient_magnitudes

#: pixels per inch of the PNG files (a 6.4-inch figure is 960 pixels wide)
DPI = 150


@dataclass(frozen=True)
class PngFigure:
    name: str  # a file-name part: the file is <stem>-<name>.png
    title: str
    caption: str  # marked-up prose ($…$ math)
    png: bytes


def _render(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6.4, 3.6), layout="constrained")


def gradient_magnitude_png() -> PngFigure:
    probs, g_bce, g_mse, _ = gradient_magnitudes()
    fig, ax = _figure()
    ax.plot(probs, g_bce, color="tab:blue", lw=2, label="cross-entropy")
    ax.plot(probs, g_mse, color="tab:red", lw=2, ls="--", label=r"squared error $\frac{1}{2}(p - y)^2$")
    ax.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="predicted probability $p$ (true label $y = 1$)",
           ylabel=r"$|\partial L / \partial z|$")
    ax.grid(True, alpha=0.4)
    ax.legend(loc="upper right")
    caption = (
        r"Gradient with respect to the logit $z$ for a positive example ($y = 1$): cross-entropy gives "
        r"$|p - y|$, squared error $|(p - y)\,p\,(1 - p)|$, which vanishes where the model is most wrong "
        r"($p \to 0$)."
    )
    return PngFigure("gradient-magnitude", "Cross-entropy versus squared error: gradient magnitude", caption,
                     _render(fig))


def bias_variance_png(degrees=BIAS_VARIANCE_DEGREES, n_datasets: int = 300, seed: int = 0) -> PngFigure:
    from gradproof.experiments.bias_variance import bias_variance_experiment

    result = bias_variance_experiment(degrees=tuple(degrees), n_datasets=n_datasets, seed=seed, device="cpu")
    rows = result.rows
    deg = [r.degree for r in rows]
    fig, ax = _figure()
    ax.plot(deg, [r.bias2 for r in rows], "o-", color="tab:blue", ms=4, label="bias$^2$")
    ax.plot(deg, [r.variance for r in rows], "s-", color="tab:red", ms=4, label="variance")
    ax.plot(deg, [r.noise for r in rows], "--", color="gray", label=r"noise $\sigma^2$")
    ax.plot(deg, [r.expected_error for r in rows], "^-", color="black", ms=4, lw=2,
            label="expected error (measured)")
    ax.set(yscale="log", xlim=(0, max(deg) + 1), xlabel="polynomial degree", ylabel="mean squared error")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="major", alpha=0.4)
    ax.legend(loc="upper center", ncols=2, fontsize="small")
    caption = (
        f"Bias–variance decomposition measured on {n_datasets} training sets of {result.n_train} points each "
        f"from $f(x) = 4x^4 - 4x^2 + x$ with noise $\\sigma = {result.noise_std:g}$ (seed {seed}): low degrees "
        r"underfit (high bias$^2$), high degrees overfit (high variance); the measured error follows "
        r"bias$^2$ + variance + $\sigma^2$."
    )
    return PngFigure("bias-variance", "Bias–variance trade-off", caption, _render(fig))


def png_figures_for(names: list[str], *, whole_catalog: bool) -> list[PngFigure]:
    """The figures that belong with these derivations (the same choice as the LaTeX reports)."""
    out = []
    if whole_catalog or any("entropy" in n or "bce" in n or "sigmoid" in n for n in names):
        out.append(gradient_magnitude_png())
    if whole_catalog or any("bias-variance" in n for n in names):
        out.append(bias_variance_png())
    return out
