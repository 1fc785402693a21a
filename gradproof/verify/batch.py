"""Verifying many derivations: from the result cache where it can, in worker processes where it
must.  This is what ``gradproof verify`` runs.

Everything up to the first derivation that has to be computed imports neither SymPy nor
PyTorch: names are resolved against the catalog's names stored in the cache, and a run where
every result comes from the cache never loads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from gradproof.verify.cache import ResultCache
from gradproof.verify.verification import DerivationVerification

#: a spawned worker costs seconds of imports (torch, SymPy, the catalog): one per this many
#: derivations to compute
DERIVATIONS_PER_WORKER = 6


def default_jobs(count: int) -> int:
    """Workers for ``count`` derivations: one per CPU core, at most 4, one per
    :data:`DERIVATIONS_PER_WORKER` derivations, at least 1."""
    return max(1, min(4, os.cpu_count() or 1, count // DERIVATIONS_PER_WORKER))


def _resolve(names: Sequence[str], known: list[str] | None) -> list[str]:
    """Catalog slugs for ``names``: looked up in ``known`` (the cached list of names) when it has
    them, else in the catalog itself (which builds it, and raises a clear error for a name that
    is not there)."""
    out = []
    for name in names:
        key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
        if known is not None and name in known:
            out.append(name)
        elif known is not None and key in known:
            out.append(key)
        else:
            from gradproof.derivations.registry import derivation

            out.append(derivation(name).name)
    return out


def resolve_targets(names: Sequence[str] = (), cache: ResultCache | None = None) -> list[str]:
    """The catalog slugs to verify: ``names`` resolved (the whole catalog when empty), through the
    catalog's names stored in ``cache`` when it has them, so that no SymPy is imported."""
    known = cache.catalog_names() if cache is not None else None
    if known is not None:
        return _resolve(names, known) if names else list(known)
    from gradproof.derivations.registry import names as catalog_names

    targets = _resolve(names, None) if names else catalog_names()
    if cache is not None:
        cache.put_catalog_names(catalog_names())  # the catalog is built now: remember its names
    return targets


def verify_catalog(
    targets: Sequence[str],
    device: str = "auto",
    *,
    seed: int = 0,
    jobs: int | None = None,
    cache: ResultCache | None = None,
    on_done: Callable[[DerivationVerification], Any] | None = None,
) -> list[DerivationVerification]:
    """Verify the derivations named by the slugs ``targets`` (see :func:`resolve_targets`),
    results in that order.

    With a ``cache``, a derivation verified before with the same code, libraries, seed and
    device is read back (marked ``cached``) and each new passing result is stored.  ``jobs``:
    worker processes for the derivations left to compute (default :func:`default_jobs`; never
    more than there are of them).  ``on_done(result)`` is called as each result is ready.
    """
    results: dict[str, DerivationVerification] = {}
    for name in targets:
        hit = cache.get(name) if cache is not None else None
        if hit is not None and name not in results:
            results[name] = hit
            if on_done:
                on_done(hit)
    missing = list(dict.fromkeys(n for n in targets if n not in results))
    if missing:
        from gradproof.verify import derivation_check

        def done(result: DerivationVerification) -> None:
            if cache is not None:
                cache.put(result)
            if on_done:
                on_done(result)

        workers = default_jobs(len(missing)) if jobs is None else min(int(jobs), len(missing))
        computed = derivation_check.verify_many(missing, device=device, seed=seed, jobs=workers, on_done=done)
        results.update(zip(missing, computed))
    return [results[name] for name in targets]
