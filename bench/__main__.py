"""Run every benchmark under bench/, print one line each, write bench/results.json.

Usage: python -m bench [--quick] [NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit 1 if any missed its goal."""
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. sandbox)")
    args = parser.parse_args(argv)
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.names:
        modules = [m for m in modules if m.removeprefix("bench_") in args.names]
    results = []
    for name in modules:
        module = importlib.import_module(f"bench.{name}")
        for result in module.run(quick=args.quick):
            results.append(result.as_dict())
            print(result.line(), flush=True)
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
