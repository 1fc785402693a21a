"""Where the wrong entries are: the border of a spatial tensor, indices used more than once, a sign region.

Each test looks only at entries that were differenced one by one (:mod:`~gradproof.verify.localize`)
and claims a pattern only when every wrong entry fits it *and* differenced entries outside it were
found right — so the claim is about what was measured, never a guess.
"""

from __future__ import annotations

import numpy as np

from gradproof.verify.capture import Captured
from gradproof.verify.localize import Entries

MIN_CLEAN = 4  # differenced entries outside the pattern that must agree


def _edges(i: np.ndarray, j: np.ndarray, h: int, w: int, band: int) -> str:
    """The fewest edges whose bands hold every wrong entry (greedy), in words."""
    near = {"top": i < band, "bottom": i >= h - band, "left": j < band, "right": j >= w - band}
    left = np.ones(len(i), dtype=bool)
    sides = []
    while left.any():
        side = max(near, key=lambda s: int(np.sum(near[s] & left)))
        sides.append(side)
        left &= ~near[side]
    order = ["top", "bottom", "left", "right"]
    return " and ".join(sorted(sides, key=order.index))


def border(shape: tuple[int, ...], entries: Entries) -> str | None:
    """'confined to the border …' when the wrong entries all lie near the edges of the last two axes."""
    if len(shape) < 3 or min(shape[-2:]) < 6:
        return None
    h, w = shape[-2:]
    bad = entries.bad
    if not bad.any():
        return None
    spatial = np.unravel_index(entries.index, shape)
    i, j = spatial[-2], spatial[-1]
    dist = np.minimum(np.minimum(i, h - 1 - i), np.minimum(j, w - 1 - j))
    band = int(dist[bad].max()) + 1
    if band > min(3, min(h, w) // 4):
        return None
    interior = dist >= band
    if int(np.sum(interior & ~bad)) < MIN_CLEAN:
        return None
    where = _edges(i[bad], j[bad], h, w, band)
    return (
        f"the mismatch is confined to the border of the spatial dimensions ({int(bad.sum())} wrong entries, all "
        f"within {band} of the {where} edge{'s' if ' and ' in where else ''}; the interior entries differenced "
        "agree): "
        "padding is handled differently in the backward than in the forward"
    )


def repeated_indices(shape: tuple[int, ...], entries: Entries, arrays: list[Captured]) -> str | None:
    """'confined to the rows indexed more than once by `ids`' for a scatter that loses repeats."""
    if len(shape) not in (1, 2) or shape[0] < 2:
        return None
    bad = entries.bad
    if not bad.any():
        return None
    rows = entries.index // (shape[1] if len(shape) == 2 else 1)
    bad_rows = np.unique(rows[bad])
    seen: set[bytes] = set()
    for arr in arrays:
        ids = arr.value
        if ids.dtype.kind not in "iu" or ids.ndim < 1 or ids.size < 2 or ids.min() < 0 or ids.max() >= shape[0]:
            continue
        key = ids.tobytes()
        if key in seen:
            continue
        seen.add(key)
        counts = np.bincount(ids.reshape(-1), minlength=shape[0])
        if np.any(counts[bad_rows] < 2):
            continue
        once = counts[rows] == 1
        if int(np.sum(once & ~bad)) < 1 or int(np.sum(counts[rows] >= 2)) == 0:
            continue
        name = arr.name
        return (
            f"the mismatch is confined to the rows indexed more than once by `{name}` ({len(bad_rows)} such rows "
            "wrong; rows indexed once agree): a scatter with fancy-index `+=` keeps one update per repeated "
            "index — accumulate with np.add.at (or index_add_)"
        )
    return None


def sign_region(name: str, x: np.ndarray, entries: Entries, arrays: list[Captured]) -> str | None:
    """'confined to the entries where `t` < 0' for a same-shaped tensor t the code had (or x itself)."""
    bad = entries.bad
    if not bad.any() or bad.all():
        return None
    candidates = [(name, x)] + [(a.name, a.value) for a in arrays if a.value.shape == x.shape and a.value.dtype.kind == "f"]
    for label, t in candidates[:16]:
        negative = t.reshape(-1)[entries.index] < 0
        if not np.all(negative[bad]):
            continue
        if int(np.sum(~negative & ~bad)) < MIN_CLEAN or np.mean(bad[negative]) < 0.8:
            continue
        return (
            f"the mismatch is confined to the entries where `{label}` < 0 ({int(bad.sum())} of "
            f"{int(negative.sum())} such entries differenced are wrong; the others agree): the negative side "
            "of an activation (its slope there) is handled wrongly"
        )
    return None
