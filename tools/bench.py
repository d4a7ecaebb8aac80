"""``make bench``: every optimizer against torch.optim, side by side, in one process.

For each optimizer and size (1M and 10M float32, 1M float64) it times one step of
  ours: the default path (trace replayed in place into a bounded workspace) and the fused path
        (numba), and
  torch: single-tensor (torch's CPU default), foreach and fused (where torch has them),
in alternation (one step of each variant per round, so drifts in machine speed hit all alike),
and reports medians over the rounds and the ratios ours/torch.  It also reports the peak extra
memory of our steps (tracemalloc: NumPy allocations beyond params and state), the memory
bandwidth floor measured on this machine (a numba loop that reads and writes what a fused step
must: the least traffic possible) and each optimizer's fused time against that floor, and the
time of each theorem from the last ``make prove``.  Writes ``bench.md`` and ``bench.json``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optim  # noqa: E402
from optim.stateful import TORCH_OPTIMIZERS  # noqa: E402

try:
    import torch
except ImportError:  # the comparison needs torch; make bench installs it
    torch = None

SIZES = [("1M", 1_000_000, np.float32), ("10M", 10_000_000, np.float32), ("1M", 1_000_000, np.float64)]
SETTINGS = {"SGD": dict(lr=1e-3, momentum=0.9)}  # momentum: the common use, with a buffer


def _timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _ours(name, n, dtype, execution, rng):
    params = rng.standard_normal(n).astype(dtype)
    grads = rng.standard_normal(n).astype(dtype)
    opt = TORCH_OPTIMIZERS[name]([params], execution=execution, **SETTINGS.get(name, {}))
    opt.step([grads])  # state created, kernels compiled, workspace allocated
    step = lambda: opt.step([grads])  # noqa: E731
    step.workspace_bytes = opt._workspace.nbytes  # held between steps, bounded by the block size
    return step


def _torch(name, n, dtype, mode, rng):
    p = torch.tensor(rng.standard_normal(n).astype(dtype), requires_grad=True)
    p.grad = torch.tensor(rng.standard_normal(n).astype(dtype))
    options = {"single": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[mode]
    try:
        opt = getattr(torch.optim, name)([p], **options, **SETTINGS.get(name, {}))
        opt.step()
    except (RuntimeError, TypeError, ValueError):
        return None  # torch has no such implementation for this optimizer on the CPU
    return opt.step


def _peak_extra_bytes(step) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return max(0, peak - before)


def bandwidth_floor(n: int = 10_000_000) -> float:
    """Bytes per second of a loop that reads 4 float32 arrays and writes 3 (Adam's minimum)."""
    import numba

    @numba.njit(parallel=True, fastmath=False)
    def touch(p, m, v, g):
        for i in numba.prange(p.size):
            gi = g[i]
            m[i] = m[i] + gi
            v[i] = v[i] + gi
            p[i] = p[i] + gi

    arrays = [np.ones(n, np.float32) for _ in range(4)]
    touch(*arrays)
    seconds = statistics.median(_timed(lambda: touch(*arrays)) for _ in range(15))
    return 7 * 4 * n / seconds


def traffic_bytes(name: str, n: int, dtype) -> int:
    """What a fused step must read and write: params, grads and every state tensor."""
    params = np.zeros(8, dtype)
    opt = TORCH_OPTIMIZERS[name]([params], **SETTINGS.get(name, {}))
    opt.step([np.ones(8, dtype)])
    buffers = sum(isinstance(v, np.ndarray) and v.size == 8 for v in vars(opt.state[0]).values())
    return (2 + buffers + 1 + buffers) * np.dtype(dtype).itemsize * n  # read p, g, state; write p, state


def bench(rounds: int, names: list[str]) -> dict:
    rng = np.random.default_rng(0)
    floor = bandwidth_floor()
    rows = []
    for label, n, dtype in SIZES:
        for name in names:
            variants = {"ours default": _ours(name, n, dtype, "workspace", rng),
                        "ours fused": _ours(name, n, dtype, "fused", rng)}
            if torch is not None:
                for mode in ("single", "foreach", "fused"):
                    step = _torch(name, n, dtype, mode, rng)
                    if step is not None:
                        variants[f"torch {mode}"] = step
            times = {k: [] for k in variants}
            for _ in range(rounds):
                for key, step in variants.items():
                    times[key].append(_timed(step))
            medians = {k: statistics.median(v) * 1e3 for k, v in times.items()}
            row = {"optimizer": name, "size": label, "n": n, "dtype": np.dtype(dtype).name,
                   "ms": medians,
                   "extra_memory_bytes": {k: _peak_extra_bytes(variants[k]) for k in ("ours default", "ours fused")},
                   "workspace_bytes": variants["ours default"].workspace_bytes(),
                   "floor_ms": traffic_bytes(name, n, dtype) / floor * 1e3}
            row["ratios"] = {f"{ours} / {theirs}": medians[ours] / medians[theirs]
                             for ours in ("ours default", "ours fused") for theirs in medians if theirs.startswith("torch")}
            row["ratios"]["ours fused / floor"] = medians["ours fused"] / row["floor_ms"]
            rows.append(row)
            print(_console(row), flush=True)
    return {"bandwidth_GBps": floor / 1e9, "rounds": rounds, "rows": rows,
            "torch": None if torch is None else torch.__version__, "numpy": np.__version__}


def _console(row) -> str:
    ms = "  ".join(f"{k} {v:7.2f}" for k, v in row["ms"].items())
    return f"{row['optimizer']:<9} {row['size']:>3} {row['dtype']:<8} ms: {ms}"


def proof_times() -> list:
    report = ROOT / "reports" / "proofs.json"
    if not report.exists():
        return []
    theorems = json.loads(report.read_text())["theorems"]
    return sorted(({"name": t["name"], "seconds": t["seconds"]} for t in theorems), key=lambda t: -t["seconds"])


def markdown(result: dict) -> str:
    out = ["# Benchmark", "",
           f"One step, median of {result['rounds']} alternating rounds; torch {result['torch']}, "
           f"numpy {result['numpy']}. Bandwidth floor measured here: {result['bandwidth_GBps']:.1f} GB/s "
           "(a loop reading 4 and writing 3 float32 arrays); *floor* is the time to move the bytes a step "
           "must read and write at that bandwidth. *Extra MB per step*: NumPy allocations during a step "
           "(tracemalloc) beyond params and state; the default path's block workspace is held between "
           "steps instead.", "",
           "| optimizer | size | dtype | ours default ms | ours fused ms | torch single | torch foreach | torch fused "
           "| default/foreach | fused/torch fused | fused/floor | extra MB per step | workspace MB held |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        ms, ratio = r["ms"], r["ratios"]

        def cell(key, table=ms, fmt="{:.2f}"):
            return fmt.format(table[key]) if key in table else "—"

        out.append(f"| {r['optimizer']} | {r['size']} | {r['dtype']} | {cell('ours default')} | {cell('ours fused')} "
                   f"| {cell('torch single')} | {cell('torch foreach')} | {cell('torch fused')} "
                   f"| {cell('ours default / torch foreach', ratio)} | {cell('ours fused / torch fused', ratio)} "
                   f"| {cell('ours fused / floor', ratio)} | {r['extra_memory_bytes']['ours default'] / 1e6:.1f} "
                   f"| {r['workspace_bytes'] / 1e6:.1f} |")
    proofs = result.get("proofs", [])
    if proofs:
        out += ["", f"## Proof time per theorem (last `make prove`): {sum(t['seconds'] for t in proofs):.1f} s in all, "
                f"slowest {proofs[0]['name']} ({proofs[0]['seconds']:.2f} s)", "", "| theorem | seconds |", "| --- | ---: |"]
        out += [f"| {t['name']} | {t['seconds']:.3f} |" for t in proofs]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("-k", "--select", help="only optimizers whose name contains this")
    args = parser.parse_args()
    names = [n for n in TORCH_OPTIMIZERS if not args.select or args.select in n]
    result = bench(args.rounds, names)
    result["proofs"] = proof_times()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(result, indent=2))
    (args.out / "bench.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
