"""``make bench``: every optimizer against torch.optim on real model shapes, side by side, in one process.

Models (shape lists only, no downloads): a 1M-parameter MLP (20 tensors), ResNet-50 (25.6M in
161 tensors), GPT-2 small (124M in 148 tensors) and one 10M tensor, all float32.  For each
optimizer and model it times one step of
  ours:  the default path (traced once, replayed in place into a bounded workspace), the fused
         path (one numba kernel per group) and the torch backend (``optim.torch_backend``, eager
         and compiled), and
  torch: foreach and fused (where torch has them),
in alternation (one step of each variant per round, so drifts in machine speed hit all alike),
and reports medians over the rounds, the ratios ours/torch, the peak extra memory of a step
(the resident-set high-water mark above the resident set before it, both read from
/proc/self/status; ours counts the workspace it holds between steps too), the memory-bandwidth
floor of each step on this machine, and each optimizer's proof time from the last
``make prove``; then one ``scheduler.step()`` of each of the 15 lr schedulers, ours and torch's.
Writes ``bench.md``, ``bench.json`` and ``bench.png`` (step time against parameter count, one
panel per optimizer).
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import optim  # noqa: E402
from optim.stateful import CLASSES  # noqa: E402

# Every optimizer but the seed's MomentumSGD (SGD with momentum, without torch's options).
BENCHED = [name for name in CLASSES if name != "MomentumSGD"]

try:
    import torch
    from optim import torch_backend
except ImportError:  # the comparison needs torch; make bench installs it
    torch = torch_backend = None

# Each timed step starts on an idle machine: an OpenMP runtime keeps its threads spinning a while
# after a parallel region (torch's kernels, Inductor's and numba's each run one), and a step that
# started while another variant's threads still spin would share the two cores with them.
IDLE_S = 0.05

SETTINGS = {"SGD": dict(lr=1e-3, momentum=0.9)}  # momentum: the common use, with a buffer
# Muon steps matrices only (torch's constructor refuses the rest): the model's 2-d tensors; and
# not GPT-2 small or the 10M tensor, whose Newton–Schulz products (the 50257×768 embedding: about
# 6·10¹¹ flops a step) take tens of seconds a step on this 2-core machine, in torch too.
SKIPPED = {"Muon": {"GPT-2 small": "Newton–Schulz on the 50257×768 embedding: ~10¹² flops a step",
                    "one 10M tensor": "a vector: Muon takes matrices only"}}


def model_shapes(name: str, shapes: list) -> list:
    """The tensors of a model that ``name`` steps: a matrix-only family (Muon) its 2-d ones."""
    ranks = getattr(CLASSES[name].family, "RANKS", None)
    return [s for s in shapes if ranks is None or len(s) in ranks]


def mlp_1m() -> list:
    """784 → 1024 → 128 → (128 → 128) × 7 → 10: 1.05M parameters in 20 tensors."""
    widths = [784, 1024, 128] + [128] * 7 + [10]
    return [s for a, b in zip(widths, widths[1:]) for s in ((b, a), (b,))]


def resnet50() -> list:
    """torchvision's resnet50: 25,557,032 parameters in 161 tensors (convolutions, batch norms, fc)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    channels = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for block in range(blocks):
            for out, into, k in ((width, channels, 1), (width, width, 3), (4 * width, width, 1)):
                shapes += [(out, into, k, k), (out,), (out,)]
            if block == 0:
                shapes += [(4 * width, channels, 1, 1), (4 * width,), (4 * width,)]
            channels = 4 * width
    return shapes + [(1000, 2048), (1000,)]


def gpt2_small() -> list:
    """GPT-2 small (Hugging Face's layout): 124,439,808 parameters in 148 tensors."""
    d = 768
    layer = [(d,), (d,), (d, 3 * d), (3 * d,), (d, d), (d,), (d,), (d,), (d, 4 * d), (4 * d,), (4 * d, d), (d,)]
    return [(50257, d), (1024, d)] + layer * 12 + [(d,), (d,)]


MODELS = {"MLP 1M": mlp_1m(), "ResNet-50": resnet50(), "GPT-2 small": gpt2_small(), "one 10M tensor": [(10_000_000,)]}


def _timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _training(opt):
    """The optimizer ready to step: a schedule-free one in train mode."""
    if hasattr(opt, "train"):
        opt.train()
    return opt


def _ours(name, params, grads, execution):
    params = [p.copy() for p in params]
    opt = _training(CLASSES[name](params, execution=execution, **SETTINGS.get(name, {})))
    step = lambda: opt.step(grads)  # noqa: E731
    step.held = lambda: opt._workspace.nbytes()  # noqa: E731
    return step


def _torch(name, params, grads, mode):
    tensors = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g)
    if mode.startswith("ours torch"):
        execution = "compiled" if mode.endswith("compiled") else "eager"
        opt = _training(torch_backend.CLASSES[name](tensors, execution=execution, **SETTINGS.get(name, {})))
    else:
        option = {"foreach": dict(foreach=True), "fused": dict(fused=True), "for-loop": dict()}[mode]
        if not hasattr(torch.optim, name):
            return None  # torch.optim has no such optimizer (Lion)
        try:
            opt = getattr(torch.optim, name)(tensors, **option, **SETTINGS.get(name, {}))
            opt.step()
        except (RuntimeError, TypeError, ValueError):
            return None  # torch has no such implementation for this optimizer on the CPU
    step = opt.step
    return step


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def peak_extra_bytes(step) -> int | None:
    """The resident-set high-water mark during one step above the resident set before it (Linux:
    writing 5 to /proc/self/clear_refs resets the mark); None where that cannot be read."""
    try:
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")
        before = _status("VmRSS")
        step()
        return max(0, _status("VmHWM") - before)
    except (OSError, KeyError):
        return None


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


def traffic_bytes(name: str, n: int) -> int:
    """What a fused step must read and write: params, grads and every state tensor."""
    shape = (2, 4) if getattr(CLASSES[name].family, "RANKS", None) else (8,)   # Muon: a matrix
    params = np.zeros(shape, np.float32)
    opt = _training(CLASSES[name]([params], **SETTINGS.get(name, {})))
    opt.step([np.ones(shape, np.float32)])
    buffers = sum(isinstance(v, np.ndarray) and v.size == 8 for v in vars(opt.state[0]).values())
    return (2 + buffers + 1 + buffers) * 4 * n  # read p, g, state; write p, state


def _variants(name, params, grads) -> dict:
    variants = {"ours default": _ours(name, params, grads, "workspace"),
                "ours fused": _ours(name, params, grads, "fused")}
    if torch is not None:
        for mode in ("ours torch eager", "ours torch compiled", "torch foreach", "torch fused"):
            step = _torch(name, params, grads, mode.removeprefix("torch "))
            if step is not None:
                variants[mode] = step
        if "torch foreach" not in variants and hasattr(torch.optim, name):   # Muon: torch's for-loop only
            step = _torch(name, params, grads, "for-loop")
            if step is not None:
                variants["torch for-loop"] = step
    return variants


def bench_one(name: str, model: str, shapes: list, rounds: int, floor: float, rng) -> dict:
    params = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    n = sum(p.size for p in params)
    variants = _variants(name, params, grads)
    for step in variants.values():   # state created, traced, kernels compiled, workspace allocated
        step()
        step()
    times = {k: [] for k in variants}
    for _ in range(rounds):
        for key, step in variants.items():
            time.sleep(IDLE_S)   # the other variants' threads (two OpenMP runtimes here) back at rest
            times[key].append(_timed(step))
    ms = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    memory = {k: peak_extra_bytes(step) for k, step in variants.items()}
    for key in ("ours default", "ours fused"):
        if memory[key] is not None:
            memory[key] += variants[key].held()
    ratios = {f"{ours} / {theirs}": ms[ours] / ms[theirs] for ours in ms if ours.startswith("ours")
              for theirs in ms if theirs.startswith("torch")}
    floor_ms = traffic_bytes(name, n) / floor * 1e3
    ratios["ours fused / floor"] = ms["ours fused"] / floor_ms
    return {"optimizer": name, "model": model, "tensors": len(shapes), "n": n, "ms": ms,
            "extra_memory_bytes": memory, "floor_ms": floor_ms, "ratios": ratios}


def bench(rounds: int, names: list[str], models: list[str]) -> dict:
    rng = np.random.default_rng(0)
    floor = bandwidth_floor()
    rows = []
    for model in models:
        for name in names:
            if model in SKIPPED.get(name, {}):
                continue
            rows.append(bench_one(name, model, model_shapes(name, MODELS[model]), rounds, floor, rng))
            print(_console(rows[-1]), flush=True)
            gc.collect()
    return {"bandwidth_GBps": floor / 1e9, "rounds": rounds, "rows": rows,
            "torch": None if torch is None else torch.__version__, "numpy": np.__version__,
            "threads": None if torch is None else torch.get_num_threads()}


def bench_schedulers(steps: int = 500, rounds: int = 5) -> list:
    """The time of one ``scheduler.step()``, ours (on optim.SGD) and torch's (on torch.optim.SGD),
    for the first case of each of the 15 schedulers in tests/test_lr_scheduler.py: median over
    rounds of ``steps`` steps, or the case's own count where it is smaller (the schedule's own
    cost: the optimizer is not stepped between)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_lr_scheduler as schedules

    def timed(lib, make, kind, steps) -> float:
        opt = schedules.torch_optimizer(kind) if lib is schedules.theirs else schedules.our_optimizer(kind)
        schedules.optimizer_step(opt, 0)
        scheduler = make(lib, opt)
        plateau = isinstance(scheduler, lib.ReduceLROnPlateau)
        with warnings.catch_warnings():   # torch's "step() before optimizer.step()": not timed
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for t in range(steps):
                scheduler.step(schedules.metric(t, "min")) if plateau else scheduler.step()
            return (time.perf_counter() - start) / steps * 1e6

    rows, seen = [], set()
    for case, (make, kind, case_steps) in schedules.CASES.items():
        name = case.split("-")[0]
        if name in seen:
            continue
        seen.add(name)
        n = min(steps, case_steps - 1)   # OneCycleLR refuses to step past its total_steps
        ours_us = statistics.median(timed(schedules.ours, make, kind, n) for _ in range(rounds))
        torch_us = statistics.median(timed(schedules.theirs, make, kind, n) for _ in range(rounds))
        rows.append({"scheduler": name, "case": case, "ours_us": ours_us, "torch_us": torch_us,
                     "ratio": ours_us / torch_us})
        print(f"{name:28s} ours {ours_us:8.1f} µs  torch {torch_us:8.1f} µs  ratio {ours_us / torch_us:5.2f}", flush=True)
    return rows


def merged(earlier: dict, later: dict) -> dict:
    """The later run's rows, and the earlier run's for every (optimizer, model) it did not
    measure, in the registry's order; ``merged`` names the later run's optimizers."""
    measured = {(r["optimizer"], r["model"]) for r in later["rows"]}
    rows = [r for r in earlier["rows"] if (r["optimizer"], r["model"]) not in measured] + later["rows"]
    order = {name: i for i, name in enumerate(BENCHED)}
    models = list(MODELS)
    rows.sort(key=lambda r: (models.index(r["model"]), order.get(r["optimizer"], len(order))))
    names = sorted({r["optimizer"] for r in later["rows"]}, key=lambda n: order.get(n, len(order)))
    return {**later, "rows": rows, "merged": names, "earlier_rounds": earlier.get("rounds")}


def _console(row) -> str:
    ms = "  ".join(f"{k} {v:8.2f}" for k, v in row["ms"].items())
    return f"{row['optimizer']:<9} {row['model']:<15} ms: {ms}"


def proof_times() -> list:
    report = ROOT / "reports" / "proofs.json"
    if not report.exists():
        return []
    theorems = json.loads(report.read_text())["theorems"]
    return sorted(({"name": t["name"], "seconds": t["seconds"]} for t in theorems), key=lambda t: -t["seconds"])


COLUMNS = ["ours default", "ours fused", "ours torch eager", "ours torch compiled", "torch foreach", "torch fused",
           "torch for-loop"]
RATIOS = ["ours default / torch foreach", "ours fused / torch fused", "ours torch compiled / torch fused"]
TARGETS = {"ours default / torch foreach": 1.0, "ours fused / torch fused": 1.1, "ours torch compiled / torch fused": 1.2}


def markdown(result: dict) -> str:
    out = ["# Benchmark", "",
           f"One step, median of {result['rounds']} alternating rounds, float32; torch {result['torch']} "
           f"({result['threads']} threads), numpy {result['numpy']}. Bandwidth floor measured here: "
           f"{result['bandwidth_GBps']:.1f} GB/s (a loop reading 4 and writing 3 float32 arrays); *floor* is the "
           "time to move the bytes a step must read and write at that bandwidth. *Extra MB*: the resident set's "
           "high-water mark during a step above the resident set before it (ours: plus the workspace held between "
           "steps). Targets (issue 11): " + ", ".join(f"{k} ≤ {v}" for k, v in TARGETS.items()) + "; a ratio "
           "over its target is **bold**. *torch for-loop*: torch's only CPU path where it has neither foreach nor "
           "fused (Muon, whose Newton–Schulz runs in bfloat16 there; ours at float32). Muon steps the model's "
           "2-d tensors only; " + "; ".join(f"{n} is not run on {m}: {why}" for n, skipped in SKIPPED.items()
                                            for m, why in skipped.items()) + "."
           + (f" The rows of {', '.join(result['merged'])} come from a later run (`--merge`, {result['rounds']} "
              f"rounds) than the others ({result.get('earlier_rounds')} rounds), on the same machine."
              if result.get("merged") else ""), "",
           "| optimizer | model | tensors | " + " | ".join(f"{c} ms" for c in COLUMNS) + " | "
           + " | ".join(RATIOS) + " | fused / floor | " + " | ".join(f"extra MB {c}" for c in COLUMNS) + " |",
           "| --- | --- | ---: | " + " | ".join("---:" for _ in COLUMNS + RATIOS + ["floor"] + COLUMNS) + " |"]
    for r in result["rows"]:
        def cell(table, key, fmt="{:.2f}"):
            return fmt.format(table[key]) if table.get(key) is not None else "—"

        def ratio(key):
            text = cell(r["ratios"], key)
            return f"**{text}**" if key in r["ratios"] and r["ratios"][key] > TARGETS[key] else text

        memory = {k: None if v is None else v / 1e6 for k, v in r["extra_memory_bytes"].items()}
        out.append(f"| {r['optimizer']} | {r['model']} | {r['tensors']} | "
                   + " | ".join(cell(r["ms"], c) for c in COLUMNS) + " | "
                   + " | ".join(ratio(k) for k in RATIOS) + f" | {cell(r['ratios'], 'ours fused / floor')} | "
                   + " | ".join(cell(memory, c, "{:.1f}") for c in COLUMNS) + " |")
    if result.get("schedulers"):
        out += ["", "## LR schedulers: one `scheduler.step()`", "",
                "Ours on `optim.SGD` (NumPy), torch's on `torch.optim.SGD`, two param groups; median of 5 rounds "
                "of 500 steps (fewer where the case has fewer: OneCycleLR's 99; the optimizer is not stepped between, so "
                "this is the schedule's own cost). The "
                "lr sequences are bit for bit torch's (`make conformance`).", "",
                "| scheduler | case | ours µs | torch µs | ours / torch |", "| --- | --- | ---: | ---: | ---: |"]
        out += [f"| {r['scheduler']} | {r['case']} | {r['ours_us']:.1f} | {r['torch_us']:.1f} | {r['ratio']:.2f} |"
                for r in result["schedulers"]]
    proofs = result.get("proofs", [])
    if proofs:
        per_family: dict = {}
        for t in proofs:
            family = t["name"].split(".")[1] if t["name"].count(".") >= 2 else t["name"]
            per_family[family] = per_family.get(family, 0.0) + t["seconds"]
        out += ["", f"## Proof time (last `make prove`): {sum(t['seconds'] for t in proofs):.1f} s in all, "
                f"slowest {proofs[0]['name']} ({proofs[0]['seconds']:.2f} s)", "",
                "| optimizer | theorems' seconds |", "| --- | ---: |"]
        out += [f"| {k} | {v:.2f} |" for k, v in sorted(per_family.items(), key=lambda kv: -kv[1])]
    return "\n".join(out) + "\n"


def plot(result: dict, path: Path) -> None:
    """Step time against parameter count, one panel per optimizer, a line per variant."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(dict.fromkeys(r["optimizer"] for r in result["rows"]))
    columns = min(4, len(names))
    rows_ = (len(names) + columns - 1) // columns
    figure, axes = plt.subplots(rows_, columns, figsize=(4 * columns, 3.2 * rows_), squeeze=False)
    for axis, name in zip(axes.flat, names):
        rows = sorted((r for r in result["rows"] if r["optimizer"] == name), key=lambda r: r["n"])
        for variant in COLUMNS:
            points = [(r["n"], r["ms"][variant]) for r in rows if variant in r["ms"]]
            if points:
                axis.plot(*zip(*points), marker="o", label=variant, linestyle="-" if variant.startswith("ours") else "--")
        axis.set(xscale="log", yscale="log", title=name, xlabel="parameters", ylabel="ms per step")
        axis.grid(True, which="both", alpha=0.3)
    for axis in list(axes.flat)[len(names):]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7)
    models = dict.fromkeys(r["model"] for r in result["rows"])
    figure.suptitle("One optimizer step, float32 (models: " + ", ".join(models) + ")")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("-k", "--select", help="only these optimizers (names separated by commas)")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--no-schedulers", action="store_true", help="leave out the lr schedulers' timings")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other optimizers' rows of the existing bench.json (the report says so)")
    args = parser.parse_args()
    names = [n for n in BENCHED if not args.select or n in args.select.split(",")]
    result = bench(args.rounds, names, args.models)
    if args.merge and (args.out / "bench.json").exists():
        earlier = json.loads((args.out / "bench.json").read_text())
        result = merged(earlier, result)
        result.setdefault("schedulers", earlier.get("schedulers"))
    if torch is not None and not args.no_schedulers:
        result["schedulers"] = bench_schedulers()
    result["proofs"] = proof_times()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(result, indent=2))
    (args.out / "bench.md").write_text(markdown(result))
    plot(result, args.out / "bench.png")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
