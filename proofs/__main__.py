"""``python -m proofs [FILE ...] [-k PATTERN] [--time-limit S] [--jobs N] [--out DIR]``

Proves the library's theorems (or those of the given theorem files), prints one line per
theorem as it finishes and the totals, and writes ``proofs.md``, ``proofs.json`` and
``proofs.html`` to the output folder.

This process never imports a theorem file: each file is imported, and each theorem built,
in a child process under the time limit; the obligations come back as JSON data and are
decided in a separate child that never ran theorem code (see ``proofs.runner``).

Exit codes:
  0  every verdict is the expected one
  1  some verdict is not the expected one
  2  usage error: bad arguments, an output folder that cannot be written, a missing
     theorem file, no theorem matching -k
  3  a theorem file cannot be loaded: syntax error, import error, exception or timeout while
     importing it, or no @theorem in it
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from proofs.report import console_line, console_totals, write_reports
from proofs.runner import DEFAULT_TIME_LIMIT, TheoremFileError, default_jobs, list_theorems, run_all, select

OK, NOT_AS_EXPECTED, USAGE, BROKEN_THEOREM_FILE = 0, 1, 2, 3


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite positive number of seconds, got {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    summary, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(prog="python -m proofs", description=rest.split("\n\nExit codes:")[0],
                                     epilog="exit codes:" + __doc__.split("Exit codes:")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="theorem files to prove instead of the library")
    parser.add_argument("-k", "--select", metavar="PATTERN",
                        help="only theorems whose name contains PATTERN (or matches it as a glob)")
    parser.add_argument("--time-limit", type=_seconds, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                        help=f"limit per theorem, and for importing each file (default {DEFAULT_TIME_LIMIT:g})")
    parser.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                        help="theorems proved at the same time (default: the number of usable CPUs)")
    parser.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                        help="folder for proofs.md, proofs.json and proofs.html (default: reports)")
    return parser


def _writable(folder: Path) -> str | None:
    """None if reports can be written into ``folder`` (created if missing), else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".proofs-write-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return error.strerror or str(error)
    return None


def _error(message: str) -> None:
    print("error: " + " ".join(str(message).split()), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    problem = _writable(args.out)
    if problem:
        _error(f"cannot write reports to {args.out}: {problem}")
        return USAGE
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        _error(f"no such theorem file: {missing[0]}")
        return USAGE
    try:
        theorems = list_theorems(args.files, args.time_limit)
    except TheoremFileError as error:
        _error(error)
        return BROKEN_THEOREM_FILE
    theorems = select(theorems, args.select)
    if not theorems:
        _error(f"no theorem matches {args.select!r}")
        return USAGE

    start = time.perf_counter()
    results = run_all(theorems, args.time_limit, lambda r: print(console_line(r), flush=True),
                      jobs=args.jobs or default_jobs())
    try:
        totals = write_reports(results, time.perf_counter() - start, args.out)
    except OSError as error:
        _error(f"cannot write reports to {args.out}: {error.strerror or error}")
        return USAGE
    print(console_totals(totals))
    print(f"reports: {args.out / 'proofs.md'}, {args.out / 'proofs.json'}, {args.out / 'proofs.html'}")
    return OK if not totals["unexpected"] else NOT_AS_EXPECTED


if __name__ == "__main__":
    sys.exit(main())
