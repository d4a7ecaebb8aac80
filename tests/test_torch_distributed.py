"""The torch backend under DistributedDataParallel and FSDP (fully_shard): two processes on the CPU
(gloo) train one model on two halves of a batch; the gradients are averaged, each process steps
its own optimizer (FSDP: on its shard of each param, a DTensor).

Under DDP both processes must hold the same params bit for bit after every step (each applies the
same averaged gradient with the same definition); under both, the params must be what one
process training on the whole batch gets with torch.optim (float64; the only difference is the
order in which the all-reduce sums the two halves' gradients, so a tolerance of a few ulps per
step suffices).

Every wait is bounded: a CI run once hung here until its 90-minute limit, with nothing printed.
The process group is formed over the loopback interface (gloo otherwise binds to whatever the
host name resolves to, which differs between machines), each rank gives up on a collective after
COLLECTIVE_S, and the test kills both ranks after RUN_S and says which stage they reached.
"""
import datetime
import os
import socket
import time

import pytest

torch = pytest.importorskip("torch") if os.environ.get("CI") != "true" else __import__("torch")

import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

STEPS = 5
COLLECTIVE_S = 60
RUN_S = 240


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


def _batch():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(16, 4, dtype=torch.float64, generator=generator)
    return x, x.sum(dim=1, keepdim=True).sin()


def _rank(rank: int, port: int, name: str, execution: str, wrap: str, out: str) -> None:
    # Inductor compiles in this process, not in a pool of worker processes: a rank that had
    # finished its steps once hung past RUN_S on a loaded machine (its exit joins that pool).
    os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = "1"
    from optim import torch_backend
    if "lo" in {name for _, name in socket.if_nameindex()}:
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=COLLECTIVE_S))
    _reached(out, rank, "the process group formed")
    try:
        if wrap == "fsdp":
            from torch.distributed.fsdp import fully_shard
            model = _model()
            fully_shard(model)
        else:
            model = torch.nn.parallel.DistributedDataParallel(_model())
        opt = torch_backend.OPTIMIZERS[name](model.parameters(), lr=1e-2, execution=execution)
        x, y = _batch()
        half = slice(8 * rank, 8 * rank + 8)
        history = []
        for _ in range(STEPS):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x[half]), y[half]).backward()
            opt.step()
            history.append([p.full_tensor() if wrap == "fsdp" else p.detach().clone() for p in model.parameters()])
            _reached(out, rank, f"step {len(history)} done")
        torch.save(history, f"{out}/rank{rank}.pt")
        _reached(out, rank, "history saved")
    finally:
        dist.destroy_process_group()
    _reached(out, rank, "process group destroyed, exiting")


def _reached(out: str, rank: int, stage: str) -> None:
    with open(f"{out}/rank{rank}.stage", "w") as f:
        f.write(stage)


def _stages(out) -> str:
    return "; ".join(f"rank {r}: " + ((out / f"rank{r}.stage").read_text() if (out / f"rank{r}.stage").exists()
                                      else "the process group not formed") for r in (0, 1))


def _run_two_ranks(*args, out) -> None:
    """Both ranks to the end, or both killed and the test failed with the stage each reached."""
    context = mp.start_processes(_rank, args=(_free_port(), *args, str(out)), nprocs=2, join=False,
                                 start_method="spawn")
    deadline = time.monotonic() + RUN_S
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
                process.join()
            pytest.fail(f"the two gloo processes did not finish within {RUN_S} s ({_stages(out)})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name,execution,wrap", [("Adam", "eager", "ddp"), ("SGD", "compiled", "ddp"),
                                                ("Adam", "eager", "fsdp"), ("Adam", "compiled", "fsdp")])
def test_two_processes_match_one_process_on_the_whole_batch(name, execution, wrap, tmp_path):
    _run_two_ranks(name, execution, wrap, out=tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    model = _model()
    reference = getattr(torch.optim, name)(model.parameters(), lr=1e-2)
    x, y = _batch()
    for step in range(STEPS):
        reference.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        reference.step()
        for a, b, expected in zip(ranks[0][step], ranks[1][step], model.parameters()):
            assert torch.equal(a, b), f"the two processes disagree at step {step + 1}"
            torch.testing.assert_close(a, expected.detach(), rtol=1e-12, atol=1e-14)
