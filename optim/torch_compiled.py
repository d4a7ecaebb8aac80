"""The torch backend's compiled step: the traced update (``optim.replay``) written as torch code over
every param of a group and compiled by ``torch.compile`` (Inductor: C++ on the CPU, Triton on
the GPU), so that each tensor's whole update is one fused kernel.

The code is generated from the same trace as the NumPy fast paths, which records what the family's
``update`` computes, so it is the one definition, not a copy.  Its scalars (bias corrections,
``lr·λ``, …) are the replay's, recomputed each step from the state exactly as the update computes
them, and enter the compiled code as one float64 tensor, so a new learning rate or step count
never recompiles.  Each output is written in place with ``copy_`` inside the compiled graph.

All or nothing: the first time a compiled function meets a new layout of its arguments (which is
when torch compiles), it runs on copies of them first, so that a compilation error leaves every
param and state unchanged; the real call then only runs the compiled kernels.
"""
from __future__ import annotations

import torch

_OPERATIONS = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}", "pow": "{0} ** {1}",
    "neg": "-{0}", "sqrt": "torch.sqrt({0})", "abs": "torch.abs({0})", "sign": "torch.sign({0})",
    "maximum": "torch.maximum({0}, {1})", "minimum": "torch.minimum({0}, {1})",
    "gt": "{0} > {1}", "lt": "{0} < {1}", "ge": "{0} >= {1}", "le": "{0} <= {1}",
    "where": "torch.where({0}, {1}, {2})", "copy": "{0}.clone()", "full": "torch.empty_like(x0).fill_({0})",
}


class NotCompilable(TypeError):
    """The traced update uses an operation the torch code generator does not handle."""


# The eager backend's maximum and minimum of a tensor and a number are torch.clamp (optim.torch_backend):
# the same here, where the number is a 0-d tensor of the scalars.
_CLAMPS = {"maximum": "torch.clamp({0}, min={1})", "minimum": "torch.clamp({0}, max={1})"}


def source(tape, outputs: list) -> str:
    """A function ``step(rows, scalars)``: each row is one param's inputs (params, grads, the
    buffers the state has) then its destinations; ``scalars`` one float64 tensor."""
    n_inputs = len(tape.inputs)
    outs = [o for o in outputs if o is not None]
    lines = ["def step(rows, scalars):"]
    lines += [f"    s{j} = scalars[{j}]" for j in range(len(tape.scalars))]
    lines.append("    for row in rows:")
    lines += [f"        x{i} = row[{i}]" for i in range(n_inputs)]
    for position, (op, operands) in enumerate(tape.ops):
        if op not in _OPERATIONS:
            raise NotCompilable(f"no torch code for the traced operation {op}")
        names = [f"x{i}" if kind == "node" else f"s{i}" for kind, i in operands]
        expression = _OPERATIONS[op]
        if op in _CLAMPS and any(kind == "scalar" for kind, _ in operands):
            expression = _CLAMPS[op]
            names.sort(key=lambda name: name.startswith("s"))   # the tensor first, then the bound
        lines.append(f"        x{n_inputs + position} = {expression.format(*names)}")
    lines += [f"        row[{n_inputs + m}].copy_(x{node})" for m, node in enumerate(outs)]
    return "\n".join(lines)


class CompiledStep:
    """One traced program as a compiled torch function, and the argument layouts it has met."""

    def __init__(self, tape, outputs: list):
        namespace = {"torch": torch}
        exec(source(tape, outputs), namespace)   # generated from the traced update, not user input
        self.function = torch.compile(namespace["step"], dynamic=False)
        self.layouts: set = set()

    def prepare(self, rows: list, scalars: torch.Tensor) -> None:
        """Compile for this layout of the arguments, if torch has not yet: on copies of them, so
        that an error changes nothing (call it for every group before running any)."""
        layout = (tuple((t.shape, t.stride(), t.dtype, t.device) for row in rows for t in row),
                  tuple(tuple(id(t) == id(row[0]) for t in row) for row in rows),   # which alias the param
                  scalars.shape, scalars.dtype, scalars.device)
        if layout not in self.layouts:
            copies: dict = {}   # one copy per tensor: a row's param is its input and its destination
            self.function([[copies.setdefault(id(t), t.clone()) for t in row] for row in rows], scalars.clone())
            self.layouts.add(layout)

    def __call__(self, rows: list, scalars: torch.Tensor) -> None:
        self.function(rows, scalars)


_STEPS: dict = {}


def compiled_step(tape, outputs: list) -> CompiledStep:
    known = getattr(tape, "torch_steps", {})   # a replayed tape: looked up once, not every param and step
    if tuple(outputs) in known:
        return known[tuple(outputs)]
    key = tape.structure(tuple(outputs))
    step = _STEPS.get(key)
    if step is None:
        step = _STEPS[key] = CompiledStep(tape, outputs)
    tape.torch_steps = {**known, tuple(outputs): step}
    return step
