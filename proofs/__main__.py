"""``python -m proofs [FILE ...] [-k PATTERN] [--time-limit S] [--out DIR]``

Proves the library's theorems (or those of the given theorem files), prints one line per
theorem as it finishes and the totals, writes ``proofs.md`` and ``proofs.json`` to the
output folder, and exits 0 only if every verdict is the expected one.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from proofs.report import console_line, console_totals, write_reports
from proofs.runner import DEFAULT_TIME_LIMIT, load_file, load_library, run_all, select


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs", description=__doc__.split("\n\n")[1])
    parser.add_argument("files", nargs="*", help="theorem files to prove instead of the library")
    parser.add_argument("-k", "--select", metavar="PATTERN",
                        help="only theorems whose name contains PATTERN (or matches it as a glob)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                        help=f"limit per theorem (default {DEFAULT_TIME_LIMIT:g})")
    parser.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                        help="folder for proofs.md and proofs.json (default: reports)")
    args = parser.parse_args(argv)
    if args.time_limit <= 0:
        parser.error("--time-limit must be positive")

    try:
        theorems = [t for f in args.files for t in load_file(f)] if args.files else load_library()
    except (OSError, ValueError, SyntaxError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    theorems = select(theorems, args.select)
    if not theorems:
        print(f"error: no theorem matches {args.select!r}", file=sys.stderr)
        return 2

    start = time.perf_counter()
    results = run_all(theorems, args.time_limit, lambda r: print(console_line(r), flush=True))
    totals = write_reports(results, time.perf_counter() - start, args.out)
    print(console_totals(totals))
    print(f"reports: {args.out / 'proofs.md'}, {args.out / 'proofs.json'}")
    return 0 if not totals["unexpected"] else 1


if __name__ == "__main__":
    sys.exit(main())
