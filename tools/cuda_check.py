"""The PyTorch backend on a GPU: train a small model with ours and with torch.optim on CUDA and
report the largest parameter difference per optimizer; time one Adam step at 10M parameters.
Run where CUDA is available: ``python tools/cuda_check.py`` (prints a Markdown table)."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from optim import torch_backend  # noqa: E402

SETTINGS = {"SGD": dict(lr=0.05, momentum=0.9, nesterov=True), "Adam": dict(lr=1e-2, amsgrad=True),
            "AdamW": dict(lr=1e-2), "Adadelta": dict(lr=1.0), "Adagrad": dict(lr=0.05),
            "RMSprop": dict(lr=1e-3, centered=True, momentum=0.5), "Adamax": dict(lr=1e-2),
            "NAdam": dict(lr=1e-2), "RAdam": dict(lr=1e-2), "Rprop": dict(lr=1e-2), "ASGD": dict(lr=1e-2)}


def train(make, device, steps=50):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).to(device)
    data = torch.randn(32, 4, device=device)
    target = data.sum(dim=1, keepdim=True).sin()
    opt = make(model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(data), target).backward()
        opt.step()
    return model


def timed(step, rounds=20):
    step()
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[rounds // 2] * 1e3


def main():
    device = "cuda"
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}\n")
    print("| optimizer | max |ours − torch.optim| after 50 steps (float32, CUDA) |\n| --- | ---: |")
    for name, settings in SETTINGS.items():
        ours = train(lambda p: getattr(torch_backend, name)(p, **settings), device)
        theirs = train(lambda p: getattr(torch.optim, name)(p, foreach=False, **settings), device)
        diff = max(float((a - b).abs().max()) for a, b in zip(ours.parameters(), theirs.parameters()))
        print(f"| {name} | {diff:.2e} |")
    n = 10_000_000
    print("\n| Adam step, 10M float32 on CUDA | ms |\n| --- | ---: |")
    for label, make in [("ours (torch backend)", lambda p: torch_backend.Adam([p], lr=1e-3)),
                        ("torch single", lambda p: torch.optim.Adam([p], lr=1e-3, foreach=False)),
                        ("torch foreach", lambda p: torch.optim.Adam([p], lr=1e-3, foreach=True)),
                        ("torch fused", lambda p: torch.optim.Adam([p], lr=1e-3, fused=True))]:
        p = torch.randn(n, device=device, requires_grad=True)
        p.grad = torch.randn(n, device=device)
        opt = make(p)
        print(f"| {label} | {timed(opt.step):.3f} |")


if __name__ == "__main__":
    main()
