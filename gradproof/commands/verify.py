"""``gradproof verify [NAME ...]``: every witness for every named derivation (all by default)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from gradproof.console import say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="prove and numerically verify derivations (all when none named)")
    p.add_argument("names", nargs="*", metavar="NAME", help="derivation slugs (default: the whole catalog)")
    p.add_argument("--device", default="auto", help="'auto' (CUDA when available), 'cpu' or 'cuda'")
    p.add_argument("--seed", type=int, default=0, help="seed for the random test points (default 0)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--jobs", "-j", type=int, default=None, metavar="N",
        help="worker processes (default: one per CPU core, at most 4, and one per 6 derivations to "
        "compute; 1 runs in this process; never more than there are derivations)",
    )
    p.add_argument(
        "--no-cache", action="store_true",
        help="compute every result afresh, neither reading nor writing the result cache "
        "(default: passing results are cached, keyed by the package's code, the SymPy, NumPy and "
        "PyTorch versions, the seed and the device)",
    )
    p.set_defaults(run=run)


def _cell(w) -> str:  # a witness's table cell
    if w is None:
        return "—"
    if w.max_error is None:
        return "ok" if w.ok else "FAIL"
    return f"{'ok' if w.ok else 'FAIL'} {w.max_error:.0e}"


def run(args: argparse.Namespace) -> int:
    from gradproof.errors import InputError
    from gradproof.verify.batch import resolve_targets, verify_catalog
    from gradproof.verify.cache import ResultCache

    from gradproof import commands

    start = commands.process_started if commands.process_started is not None else time.perf_counter()
    if str(args.device).strip().lower() not in ("auto", "cpu"):
        from gradproof.verify.device import resolve_device

        resolve_device(args.device)  # a bad device is a usage error before any work starts
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")
    device = str(args.device).strip().lower()
    cache = None if args.no_cache else ResultCache.open(args.seed, device)
    targets = resolve_targets(args.names, cache)
    progress = sys.stderr.isatty() and not args.json
    done = []

    def report(result) -> None:
        done.append(result)
        if progress:
            say(f"\r[{len(done)}/{len(targets)}] {result.name} done".ljust(70), end="", file=sys.stderr)

    results = verify_catalog(targets, device=device, seed=args.seed, jobs=args.jobs, cache=cache, on_done=report)
    if progress:
        say("\r" + " " * 70 + "\r", end="", file=sys.stderr)
    wall = time.perf_counter() - start
    cached = sum(r.cached for r in results)

    if args.json:
        say(json.dumps({"ok": all(r.ok for r in results), "wall_seconds": round(wall, 3),
                        "results": [r.to_dict() for r in results]}, indent=2))
    else:
        methods = ("SymPy proof", "finite differences", "autograd", "evaluation")
        width = max(len(r.name) for r in results)
        columns = ("proof", "fin. diff.", "autograd", "evaluation")
        head = f"{'derivation':<{width}}  " + " ".join(f"{c:<11}" for c in columns) + f" {'device':<8} {'time':>6}"
        say(head)
        say("-" * len(head))
        for r in results:
            proof = r.witness("SymPy proof")
            proof_cell = f"{r.proof.shown}+{r.proof.checked}" if proof and proof.ok else "FAIL"
            cells = [_cell(r.witness(m)) for m in methods[1:]]
            say(f"{r.name:<{width}}  {proof_cell:<11} {cells[0]:<11} {cells[1]:<11} {cells[2]:<11} "
                  f"{r.device.split(' ')[0]:<8} {r.seconds:5.2f}s")
        failed = [r for r in results if not r.ok]
        say()
        say("proof a+b: a steps shown symbolically, b checked at exact random points; errors are relative "
              "to the gradient's scale")
        for r in failed:
            say()
            say(r)
        from_cache = f" ({cached} from the cache; --no-cache to recompute)" if cached else ""
        say(f"{len(results) - len(failed)}/{len(results)} derivations verified in {wall:.1f} s{from_cache}")
    return 0 if all(r.ok for r in results) else 1
