"""Pictures computed by gradproof: pgfplots in the reports, PDF/PNG/SVG through matplotlib.

>>> import gradproof
>>> [name for name in gradproof.reports.figures.names()][:2]
['ce-vs-mse-gradient', 'bias-variance']

``figure(name)`` computes one (a :class:`~gradproof.reports.figures.plot.Plot` with ``.save``,
``.tikz`` and the notebook hooks ``_repr_png_``/``_repr_svg_``); ``figures_for`` picks the ones a
report needs, each placed beside the first derivation it illustrates.  See :mod:`.catalog` for
how each is computed.
"""

from __future__ import annotations

from functools import cache

from gradproof.errors import InputError
from gradproof.reports.figures.catalog import (
    BIAS_VARIANCE_DEGREES,
    FIGURES,
    gradient_magnitudes,
)
from gradproof.reports.figures.plot import Plot, RefLine, Series

__all__ = [
    "BIAS_VARIANCE_DEGREES", "PACKAGES", "PREAMBLE", "Figure", "Plot", "RefLine", "Series", "anchor",
    "bias_variance_figure", "figure", "figures_for", "gradient_magnitude_figure", "gradient_magnitudes", "names",
    "titles",
]  # fmt: skip

PACKAGES = ("pgfplots",)
PREAMBLE = "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n"
#: what the report renderers receive (a computed figure with .title, .tikz, .caption)
Figure = Plot

_BY_NAME = {spec.name: spec for spec in FIGURES}


def names() -> list[str]:
    return list(_BY_NAME)


def titles() -> list[tuple[str, str]]:
    """(name, title) of every figure, in catalog order; computes nothing."""
    return [(spec.name, spec.title) for spec in FIGURES]


@cache
def figure(name: str) -> Plot:
    """The figure called ``name`` (see ``gradproof figure --list``), computed on first use; an
    unknown name raises an InputError naming the nearest."""
    if not isinstance(name, str):
        raise InputError(f"a figure is named by a string (see 'gradproof figure --list'), got {name!r}")
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in _BY_NAME:
        import difflib

        near = difflib.get_close_matches(key, list(_BY_NAME), n=1, cutoff=0.3)
        hint = f"; did you mean {near[0]!r}?" if near else "; see 'gradproof figure --list'"
        raise InputError(f"unknown figure {name!r}{hint}")
    spec = _BY_NAME[key]
    plot = spec.build()
    if plot.name != spec.name or plot.illustrates:
        raise RuntimeError(f"figure {spec.name}: its builder made {plot.name!r}")  # pragma: no cover
    from dataclasses import replace

    return replace(plot, illustrates=spec.illustrates)


def anchor(fig: Plot, slugs: list[str]) -> str | None:
    """The derivation among ``slugs`` that ``fig`` goes beside: the first it illustrates."""
    for slug in fig.illustrates:
        if slug in slugs:
            return slug
    return None


def figures_for(names_: list[str], *, whole_catalog: bool) -> list[Plot]:
    """The figures that illustrate these derivations (every one for the whole catalog), in
    catalog order."""
    wanted = set(names_)
    return [figure(spec.name) for spec in FIGURES if whole_catalog or wanted & set(spec.illustrates)]


# the two figures of the first reports, by their old names
def gradient_magnitude_figure() -> Plot:
    return figure("ce-vs-mse-gradient")


def bias_variance_figure() -> Plot:
    return figure("bias-variance")
