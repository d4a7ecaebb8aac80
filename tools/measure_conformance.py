"""Measure how closely every optimizer follows torch.optim, as a Markdown table.

    /tmp/venv/bin/python tools/measure_conformance.py [--cases]

For each optimizer and dtype: the worst normwise relative error,
max|ours − torch| / max(max|torch|, tiny), over all its grid cases, over the params and every
state entry, at every checkpoint.  The grid, the runs and the error measure are those of
``tests/test_torch_conformance.py`` (imported from there, so they are defined once).
``--cases`` adds one row per grid case, naming the tensor and step of the worst error.
Then the lr schedulers: for each, the steps whose lrs differ from torch's (bit for bit).
Exit status: 0 when every case is within the test's tolerance, 1 when one is not, 2 without torch.
"""
from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="also print the worst error of every grid case")
    args = parser.parse_args()
    try:
        import test_torch_conformance as conformance
    except BaseException as error:   # pytest.skip at import raises a BaseException (no torch)
        print(f"cannot measure: {error}", file=sys.stderr)
        return 2

    dtypes = list(conformance.DTYPES)
    table: dict[str, dict[str, float]] = {}
    rows = []
    for name, label, kwargs in conformance.CASES:
        for dtype_name in dtypes:
            worst = conformance.run_case(name, kwargs, conformance.DTYPES[dtype_name])
            what, (err, step) = max(worst.items(), key=lambda item: item[1][0])
            cell = table.setdefault(name, {})
            cell[dtype_name] = max(cell.get(dtype_name, 0.0), err)
            rows.append((name, label, dtype_name, err, what, step))

    def fmt(err: float, dtype_name: str) -> str:
        mark = "" if err <= conformance.TOL[dtype_name] else " **FAIL**"
        return ("0" if err == 0 else f"{err:.2e}") + mark

    print(f"Worst normwise relative error vs torch {conformance.torch.__version__} "
          f"(foreach=False), {conformance.STEPS} steps, params and every state entry; "
          f"tolerance float64 {conformance.TOL['float64']:g}, float32 {conformance.TOL['float32']:g}.\n")
    print("| optimizer | " + " | ".join(dtypes) + " |")
    print("|---|" + "---:|" * len(dtypes))
    for name, cells in table.items():
        print(f"| {name} | " + " | ".join(fmt(cells[d], d) for d in dtypes) + " |")
    if args.cases:
        print("\n| case | dtype | worst error | tensor | step |")
        print("|---|---|---:|---|---:|")
        for name, label, dtype_name, err, what, step in rows:
            print(f"| {name}-{label} | {dtype_name} | {fmt(err, dtype_name)} | {what} | {step} |")
    failed = any(err > conformance.TOL[d] for _, _, d, err, _, _ in rows)
    return 1 if failed or not schedulers() else 0


def schedulers() -> bool:
    """The 15 lr schedulers: the cases of ``tests/test_lr_scheduler.py`` (every branch of each),
    run on torch.optim and on ours; a row per scheduler class with its cases and the steps whose
    snapshot (the last lrs, each group's lr, momentum and betas, as exact bits) differs: 0 is
    bit for bit.  True when every one is."""
    import test_lr_scheduler as schedules

    table: dict[str, list] = {}
    for case, (make, kind, steps) in schedules.CASES.items():
        expected, _, _ = schedules.run(schedules.theirs, make, kind, steps)
        got, _, _ = schedules.run(schedules.ours, make, kind, steps)
        differing = sum(a != b for a, b in zip(got, expected)) + abs(len(got) - len(expected))
        row = table.setdefault(case.split("-")[0], [0, 0, 0])
        row[0] += 1
        row[1] += len(expected)
        row[2] += differing
    print(f"\nLR schedulers vs torch {schedules.torch.__version__}.lr_scheduler: every case of "
          "tests/test_lr_scheduler.py, the snapshot after each step (last lrs; each group's lr, momentum, "
          "betas) compared bit for bit.\n")
    print("| scheduler | cases | steps | steps that differ |")
    print("|---|---:|---:|---:|")
    for name, (cases, steps, differing) in table.items():
        print(f"| {name} | {cases} | {steps} | {differing}{' **FAIL**' if differing else ''} |")
    return not any(row[2] for row in table.values())


if __name__ == "__main__":
    sys.exit(main())
