"""``gradproof verify [NAME ...]``: every witness for every named derivation (all by default)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="prove and numerically verify derivations (all when none named)")
    p.add_argument("names", nargs="*", metavar="NAME", help="derivation slugs (default: the whole catalog)")
    p.add_argument("--device", default="auto", help="'auto' (CUDA when available), 'cpu' or 'cuda'")
    p.add_argument("--seed", type=int, default=0, help="seed for the random test points (default 0)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run)


def _cell(w) -> str:  # a witness's table cell
    if w is None:
        return "—"
    if w.max_error is None:
        return "ok" if w.ok else "FAIL"
    return f"{'ok' if w.ok else 'FAIL'} {w.max_error:.0e}"


def run(args: argparse.Namespace) -> int:
    from gradproof.derivations.registry import catalog, derivation
    from gradproof.verify.derivation_check import verify_derivation
    from gradproof.verify.device import resolve_device

    resolve_device(args.device)  # a bad device is a usage error before any work starts
    targets = [derivation(n) for n in args.names] if args.names else catalog()
    results = []
    progress = sys.stderr.isatty() and not args.json
    for k, d in enumerate(targets, 1):
        if progress:
            print(f"\r[{k}/{len(targets)}] {d.name} ...".ljust(70), end="", file=sys.stderr, flush=True)
        results.append(verify_derivation(d, device=args.device, seed=args.seed))
    if progress:
        print("\r" + " " * 70 + "\r", end="", file=sys.stderr, flush=True)

    if args.json:
        print(json.dumps({"ok": all(r.ok for r in results), "results": [r.to_dict() for r in results]}, indent=2))
    else:
        methods = ("SymPy proof", "finite differences", "autograd", "evaluation")
        width = max(len(r.name) for r in results)
        columns = ("proof", "fin. diff.", "autograd", "evaluation")
        head = f"{'derivation':<{width}}  " + " ".join(f"{c:<11}" for c in columns) + f" {'device':<8} {'time':>6}"
        print(head)
        print("-" * len(head))
        for r in results:
            proof = r.witness("SymPy proof")
            proof_cell = f"{r.proof.shown}+{r.proof.checked}" if proof and proof.ok else "FAIL"
            cells = [_cell(r.witness(m)) for m in methods[1:]]
            print(f"{r.name:<{width}}  {proof_cell:<11} {cells[0]:<11} {cells[1]:<11} {cells[2]:<11} "
                  f"{r.device.split(' ')[0]:<8} {r.seconds:5.2f}s")
        failed = [r for r in results if not r.ok]
        print()
        print("proof a+b: a steps shown symbolically, b checked at exact random points; errors are relative "
              "to the gradient's scale")
        for r in failed:
            print()
            print(r)
        total = sum(r.seconds for r in results)
        print(f"{len(results) - len(failed)}/{len(results)} derivations verified in {total:.1f} s")
    return 0 if all(r.ok for r in results) else 1
