"""Fast execution generated from the single definition.

The update of ``optim/<family>.py`` runs on *trace* tensors: a third backend of the same
context, whose tensors record each elementwise operation, in execution order, on a tape.  Its
scalars — bias corrections and other hyperparameter arithmetic — are either computed in Python as
usual and enter the tape as scalar operands, or, for a trace that is replayed on later steps
(``optim.replay``), traced too (``ScalarTape``: their arithmetic, and every truth value the update
took on them as a guard).  The tape is executed in one of two ways, for all the tensors of a group
at once:

* ``run_workspace_group``: the same NumPy ufuncs in the same order and dtype as the plain
  functional run (so bit-identical to it), each writing with ``out=`` into a workspace of buffers
  that is allocated once and reused between steps (buffers are recycled as soon as their value
  is dead); large tensors in blocks, small ones packed into shared blocks.
* ``prepare_fused_group``: the tape compiled by numba into one parallel loop over the elements of
  every tensor, reading every input once and writing every output once (no temporaries at all).
  It applies only where every operation is one the code generator knows; otherwise
  ``NotFusable`` is raised, never a silent fallback.

A tape's *structure* (operations and operands, not scalar values) is the same every step unless
a branch depends on values (RAdam's regime), so compiled kernels are cached by structure.
"""
from __future__ import annotations

import functools
import operator
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from optim.context import register_context


class NotFusable(TypeError):
    """The traced update uses an operation the fused code generator does not handle."""


# -----------------------------------------------------------------------------------------
# Tracing.

class Tape:
    def __init__(self, shape: tuple, dtype: np.dtype):
        self.shape, self.dtype = shape, np.dtype(dtype)
        self.inputs: list[np.ndarray] = []      # node i < len(inputs) is input i
        self.ops: list[tuple] = []              # (op, operands): operand = ("node", i) | ("scalar", j)
        self.scalars: list = []
        self.bools: set[int] = set()            # nodes holding booleans (comparisons)
        self.scalar_tape: ScalarTape | None = None   # how the scalars were computed, when traced
        self.compiled: dict | None = None             # (outputs, in place) -> the fused kernel, once compiled

    def input(self, array: np.ndarray) -> "TraceTensor":
        if self.ops:
            raise RuntimeError("inputs must be declared before any operation")
        self.inputs.append(array)
        return TraceTensor(self, len(self.inputs) - 1)

    def operand(self, x) -> tuple:
        if isinstance(x, TraceTensor):
            if x.tape is not self:
                raise ValueError("tensors from two different traces")
            return ("node", x.index)
        if isinstance(x, TraceScalar):   # a value of the scalar tape, recomputed on replay
            self.scalars.append(x)
            return ("scalar", len(self.scalars) - 1)
        if isinstance(x, (np.ndarray, np.generic)) and np.ndim(x) > 0:
            raise NotFusable("an array that is not part of the trace entered the update")
        self.scalars.append(x.item() if isinstance(x, np.generic) else x)
        return ("scalar", len(self.scalars) - 1)

    def record(self, op: str, *operands, boolean: bool = False) -> "TraceTensor":
        self.ops.append((op, tuple(self.operand(x) for x in operands)))
        index = len(self.inputs) + len(self.ops) - 1
        if boolean:
            self.bools.add(index)
        return TraceTensor(self, index)

    def structure(self, outputs: tuple) -> tuple:
        """What the compiled kernel depends on: everything but the scalar values."""
        return (self.dtype.str, len(self.inputs), tuple(self.ops), outputs)


class AnyShape:
    """The shape of a trace that is replayed on tensors of every shape: all the tensors of one
    trace share it, so it equals itself; anything else asked of it (its length, an entry, a
    comparison with a tuple) would make the trace depend on the shape, so it raises
    ``Untraceable`` and the step is traced with its real shape instead."""
    __slots__ = ()

    def _refuse(self, *args):
        raise Untraceable("the update uses the shape of its tensors: traced for each shape")

    def __eq__(self, other):
        return other is self or self._refuse()

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None
    __len__ = __iter__ = __getitem__ = __bool__ = __index__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse

    def __repr__(self):
        return "AnyShape()"


ANY_SHAPE = AnyShape()


class Untraceable(TypeError):
    """The update did something with a traced scalar that cannot be replayed (``float()`` of it):
    the caller traces every step with concrete scalars instead (slower, never different)."""


class ScalarTape:
    """The update's Python scalar arithmetic (bias corrections, ``1 - β``, ``lr·λ``), recorded on
    symbolic stand-ins for the state's scalars so that a cached trace can recompute it for new
    values (``evaluate``).  Each truth value the update took is a *guard*: a replay whose guards
    come out otherwise would take another path, so it is refused and the step traced afresh."""

    def __init__(self):
        self.nodes: list[tuple] = []     # ("input", k) | ("const", value) | ("op", function, operand nodes)
        self.values: list = []           # each node's value in the traced step
        self.guards: list[tuple] = []    # (node, the truth value the update took)
        self.inputs = 0

    def input(self, value) -> "TraceScalar":
        self.inputs += 1
        return self._node(("input", self.inputs - 1), value)

    def _node(self, source: tuple, value) -> "TraceScalar":
        self.nodes.append(source)
        self.values.append(value)
        return TraceScalar(self, len(self.nodes) - 1)

    def node_of(self, x) -> int:
        if isinstance(x, TraceScalar):
            return x.index
        return self._node(("const", x), x).index

    def apply(self, function, *operands) -> "TraceScalar":
        nodes = tuple(self.node_of(x) for x in operands)
        return self._node(("op", function, nodes), function(*(self.values[n] for n in nodes)))

    def evaluate(self, inputs: tuple) -> list | None:
        """Every node's value for new inputs, or None when a guard differs (another path) or the
        arithmetic raises (the fresh trace then raises it where the update does)."""
        values = []
        try:
            for source in self.nodes:
                kind = source[0]
                if kind == "op":
                    values.append(source[1](*(values[n] for n in source[2])))
                else:
                    values.append(inputs[source[1]] if kind == "input" else source[1])
        except (ArithmeticError, TypeError, ValueError):
            return None
        for node, taken in self.guards:
            if bool(values[node]) is not taken:
                return None
        return values


def _scalar_operator(function, reverse=False):
    def apply(self, other):
        if isinstance(other, TraceTensor) or (isinstance(other, np.ndarray) and other.ndim > 0):
            return NotImplemented   # a tensor operand: the tensor records the operation
        if isinstance(other, TraceScalar) and other.tape is not self.tape:
            raise ValueError("scalars from two different traces")
        operands = (other, self) if reverse else (self, other)
        return self.tape.apply(function, *operands)
    return apply


class TraceScalar:
    """A scalar of the traced update (a hyperparameter, the step, a bias correction): its value
    in the traced step plus how it was computed.  Taking its truth value records a guard."""
    __slots__ = ("tape", "index")

    def __init__(self, tape: ScalarTape, index: int):
        self.tape, self.index = tape, index

    @property
    def value(self):
        return self.tape.values[self.index]

    def __bool__(self):
        taken = bool(self.value)
        self.tape.guards.append((self.index, taken))
        return taken

    def _refuse(self, *args):
        raise Untraceable("a traced scalar was converted to a Python number; the step is traced "
                          "with concrete scalars instead")

    __float__ = __int__ = __index__ = __complex__ = __round__ = __trunc__ = _refuse
    __hash__ = None

    __add__, __radd__ = _scalar_operator(operator.add), _scalar_operator(operator.add, True)
    __sub__, __rsub__ = _scalar_operator(operator.sub), _scalar_operator(operator.sub, True)
    __mul__, __rmul__ = _scalar_operator(operator.mul), _scalar_operator(operator.mul, True)
    __truediv__, __rtruediv__ = _scalar_operator(operator.truediv), _scalar_operator(operator.truediv, True)
    __pow__, __rpow__ = _scalar_operator(operator.pow), _scalar_operator(operator.pow, True)
    __lt__, __le__ = _scalar_operator(operator.lt), _scalar_operator(operator.le)
    __gt__, __ge__ = _scalar_operator(operator.gt), _scalar_operator(operator.ge)
    __eq__, __ne__ = _scalar_operator(operator.eq), _scalar_operator(operator.ne)

    def __neg__(self):
        return self.tape.apply(operator.neg, self)

    def __abs__(self):
        return self.tape.apply(abs, self)

    def __repr__(self):
        return f"TraceScalar({self.value!r})"


class TraceTensor:
    __slots__ = ("tape", "index")
    __array_priority__ = 1000

    def __init__(self, tape: Tape, index: int):
        self.tape, self.index = tape, index

    @property
    def shape(self):
        return self.tape.shape

    @property
    def dtype(self):
        return self.tape.dtype

    def _op(self, op, other=None, reverse=False, boolean=False):
        operands = (self,) if other is None else ((other, self) if reverse else (self, other))
        return self.tape.record(op, *operands, boolean=boolean)

    def __add__(self, o): return self._op("add", o)
    def __radd__(self, o): return self._op("add", o, True)
    def __sub__(self, o): return self._op("sub", o)
    def __rsub__(self, o): return self._op("sub", o, True)
    def __mul__(self, o): return self._op("mul", o)
    def __rmul__(self, o): return self._op("mul", o, True)
    def __truediv__(self, o): return self._op("div", o)
    def __rtruediv__(self, o): return self._op("div", o, True)
    def __pow__(self, o): return self._op("pow", o)
    def __rpow__(self, o): return self._op("pow", o, True)
    def __neg__(self): return self._op("neg")
    def __gt__(self, o): return self._op("gt", o, boolean=True)
    def __lt__(self, o): return self._op("lt", o, boolean=True)
    def __ge__(self, o): return self._op("ge", o, boolean=True)
    def __le__(self, o): return self._op("le", o, boolean=True)

    def __bool__(self):
        raise TypeError("a traced tensor has no truth value")


class TraceContext:
    name = "trace"

    def _unary(op):
        def apply(self, x):
            if isinstance(x, TraceTensor):
                return x.tape.record(op, x)
            return x.tape.apply(SCALAR[op], x) if isinstance(x, TraceScalar) else SCALAR[op](x)
        return apply

    sqrt, abs, sign = _unary("sqrt"), _unary("abs"), _unary("sign")

    def square(self, x):
        return x * x

    def _binary(op):
        def apply(self, x, y):
            tensor = x if isinstance(x, TraceTensor) else y
            if isinstance(tensor, TraceTensor):
                return tensor.tape.record(op, x, y)
            scalar = x if isinstance(x, TraceScalar) else y
            return scalar.tape.apply(SCALAR[op], x, y) if isinstance(scalar, TraceScalar) else SCALAR[op](x, y)
        return apply

    maximum, minimum = _binary("maximum"), _binary("minimum")

    def where(self, condition, x, y):
        return condition.tape.record("where", condition, x, y)

    def select(self, condition, if_true, if_false):
        return if_true() if condition else if_false()

    def round_float32(self, x):
        return x.tape.apply(_round_float32, x) if isinstance(x, TraceScalar) else _round_float32(x)

    def copy(self, x):
        return x.tape.record("copy", x)

    def zeros_like(self, x):
        return x.tape.record("full", 0.0)

    def full_like(self, x, value):
        return x.tape.record("full", value)

    def total(self, x):
        # A reduction is no elementwise program: an update that sums runs untraced.
        raise Untraceable("a reduction (total) is not traced")

    def scalar_max(self, bound, x):
        return max(bound, x)

    def _not_elementwise(what):
        def refuse(self, *args):
            raise Untraceable(f"{what} is not elementwise: the update runs untraced")
        return refuse

    sum = _not_elementwise("a sum along an axis")
    matmul = _not_elementwise("a matrix product")
    transpose = _not_elementwise("a transpose")
    zeros = _not_elementwise("a buffer not shaped like the params")

    def machine_epsilon(self, like):
        return float(np.finfo(like.dtype).eps)

    def shape(self, x):
        return x.shape

    def dtype(self, x):
        return str(x.dtype)

    def check_tensor(self, x, role):
        if not isinstance(x, TraceTensor):
            raise TypeError(f"{role} must be a traced tensor, got {type(x).__name__}")


def _round_float32(x):
    return float(np.float32(x))


SCALAR = {"sqrt": lambda x: x**0.5, "abs": abs, "sign": lambda x: float((x > 0) - (x < 0)),
          "maximum": max, "minimum": min}
TRACE = TraceContext()
register_context(TraceTensor, TRACE)


def trace(update, state, params: np.ndarray, grads: np.ndarray, tensor_fields: list[str],
          scalar_fields: tuple = (), shape: tuple | AnyShape | None = None):
    """Run ``update`` on trace tensors (and, for ``scalar_fields``, trace scalars: then
    ``tape.scalar_tape`` records their arithmetic and the new state holds trace scalars).
    ``shape``: what the traced tensors say their shape is (default: the params'; ``ANY_SHAPE``
    for a trace replayed on every shape).  Returns the tape, the output nodes (params first, then
    each tensor field of the new state, or None) and the new state."""
    from dataclasses import replace

    tape = Tape(params.shape if shape is None else shape, params.dtype)
    p, g = tape.input(params), tape.input(grads)
    traced = {name: tape.input(getattr(state, name)) for name in tensor_fields
              if getattr(state, name) is not None}
    tape.scalar_tape = ScalarTape()
    traced.update({name: tape.scalar_tape.input(getattr(state, name)) for name in scalar_fields})
    new_state, new_params = update(replace(state, **traced), p, g)
    outputs = [new_params] + [getattr(new_state, name) for name in tensor_fields]
    for out in outputs:
        if out is not None and not isinstance(out, TraceTensor):
            raise NotFusable("an output of the update is not a traced tensor")
    return tape, [None if o is None else o.index for o in outputs], new_state


# -----------------------------------------------------------------------------------------
# Executing a tape with NumPy ufuncs into a reused workspace.

def _sign(x, out):
    np.sign(x, out=out)
    np.copyto(out, 0, where=np.isnan(out))  # torch.sign(nan) is 0 on the CPU
    return out


UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
          "pow": np.power, "neg": np.negative, "sqrt": np.sqrt, "abs": np.absolute,
          "maximum": np.maximum, "minimum": np.minimum, "gt": np.greater, "lt": np.less,
          "ge": np.greater_equal, "le": np.less_equal}


class Workspace:
    """Buffers reused between steps, keyed by (lane, shape, dtype); recycled when a value is dead."""

    def __init__(self):
        self.pool: dict[tuple, list[np.ndarray]] = {}

    def take(self, shape, dtype, lane: int = 0) -> np.ndarray:
        free = self.pool.get((lane, shape, np.dtype(dtype)))
        return free.pop() if free else np.empty(shape, dtype)

    def give(self, array: np.ndarray, lane: int = 0) -> None:
        self.pool.setdefault((lane, array.shape, array.dtype), []).append(array)

    def nbytes(self) -> int:
        return sum(a.nbytes for arrays in self.pool.values() for a in arrays)


_THREADS = max(1, os.cpu_count() or 1)
_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="optlaws")
    return _POOL


CHUNK = 1 << 17  # elements per block: small enough for cache, large enough to amortise Python


def _identities(tape: Tape, scalars: list) -> dict:
    """Nodes that are x·1 for a traced x: IEEE x·1 is x, bit for bit, so they alias x (decided
    on this step's scalars: a replayed tape's 1 may be another number next step)."""
    first_op, alias = len(tape.inputs), {}
    for position, (op, operands) in enumerate(tape.ops):
        nodes = [i for kind, i in operands if kind == "node"]
        ones = [i for kind, i in operands if kind == "scalar" and type(scalars[i]) in (int, float)
                and scalars[i] == 1]
        if op == "mul" and len(nodes) == 1 and len(ones) == 1:
            alias[first_op + position] = alias.get(nodes[0], nodes[0])
    return alias


def _in_place_targets(destinations: list, outputs: list) -> tuple[list, list]:
    """Where each output is computed: the destination itself when its memory is one C-order
    block (a flat view of it is the array), else a C-order scratch copied into it at the end
    (a transpose, a Fortran-order array, a strided or reversed view, …): no layout is
    ever skipped, whatever its strides."""
    targets, late = [], []
    for destination, node in zip(destinations, outputs):
        if node is None or destination is None or destination.flags.c_contiguous:
            targets.append(destination)
        else:
            scratch = np.empty(destination.shape, destination.dtype)
            targets.append(scratch)
            late.append((destination, scratch))
    return targets, late


PACK_BELOW = 1 << 14   # elements: a smaller tensor shares its block with other small ones


def run_workspace(tape: Tape, outputs: list, workspace: Workspace, destinations: list,
                  chunk: int = CHUNK, inputs: list | None = None, scalars: list | None = None) -> None:
    """One tensor's step (see ``run_workspace_group``); ``inputs`` and ``scalars``: this step's,
    when the tape is replayed (default: the traced step's)."""
    inputs = tape.inputs if inputs is None else inputs
    scalars = tape.scalars if scalars is None else scalars
    run_workspace_group(tape, outputs, workspace, [(inputs, destinations, scalars)], chunk)


def run_workspace_group(tape: Tape, outputs: list, workspace: Workspace, jobs: list, chunk: int = CHUNK) -> None:
    """Write the output nodes of every job — (inputs, destinations, scalars), one per tensor —
    into its destinations (arrays of any layout), block by block: the same ufuncs, order and
    dtype as the functional run (so the same bits), with block-sized buffers reused between
    blocks and steps, so the workspace is bounded whatever the parameter size.  A large tensor
    is cut into blocks; small tensors that share their scalars share a block (gathered into it,
    computed, scattered back), so a tensor costs a few copies, not a pass of Python over the
    whole tape.  The blocks of all the jobs run on the threads together."""
    late, units, small = [], [], {}
    for inputs, destinations, scalars in jobs:
        targets, later = _in_place_targets(destinations, outputs)
        late += later
        job = _Job(tape, outputs, inputs, targets, scalars)
        if len(jobs) > 1 and job.size < min(PACK_BELOW, chunk):
            small.setdefault(id(scalars), []).append(job)
        else:
            units += [(job, slice(start, min(start + chunk, job.size))) for start in range(0, max(job.size, 1), chunk)]
    for same in small.values():
        units += [(pack, None) for pack in _packs(same, chunk)]
    lanes = max(1, min(len(units), _THREADS))

    def run_lane(lane: int) -> None:  # blocks are independent: lanes run them in parallel
        for job, block in units[lane::lanes]:
            if block is None:   # a pack of small jobs
                _run_pack(job, workspace, lane, chunk)
            else:
                job.run_block(block, workspace, lane, chunk)

    if lanes <= 1:
        run_lane(0)
    else:  # NumPy's ufuncs release the GIL, so lanes use every core as torch's kernels do
        list(_pool().map(run_lane, range(lanes)))
    for destination, scratch in late:
        np.copyto(destination, scratch)


class _Schedule:
    """What the tape's buffers need for one set of scalars: the nodes that alias another (x·1),
    the last use of each value, the values kept (outputs)."""

    def __init__(self, tape: Tape, outputs: list, scalars: list):
        first_op = len(tape.inputs)
        self.alias = _identities(tape, scalars)
        self.last_use = {}   # of each value, through its aliases too
        for position, (_, operands) in enumerate(tape.ops):
            for kind, index in operands:
                if kind == "node":
                    self.last_use[self.root(index)] = first_op + position
        self.keep = {self.root(o) for o in outputs if o is not None}

    def root(self, i: int) -> int:
        return self.alias.get(i, i)


def _schedule(tape: Tape, outputs: list, scalars: list) -> _Schedule:
    """Kept on the tape for the last scalars list (replayed steps of a group share that object)."""
    last = getattr(tape, "schedule", None)
    if last is not None and last[0] is scalars and last[1] == outputs:
        return last[2]
    schedule = _Schedule(tape, outputs, scalars)
    tape.schedule = (scalars, list(outputs), schedule)
    return schedule


class _Job:
    """One tensor's step: its flat inputs and outputs, and the outputs that may be computed
    straight into their destination."""

    def __init__(self, tape: Tape, outputs: list, inputs: list, destinations: list, scalars: list):
        self.tape, self.outputs, self.scalars = tape, outputs, scalars
        self.schedule = _schedule(tape, outputs, scalars)
        self.flat_inputs = [a.reshape(-1) for a in inputs]
        self.flat_outputs = [None if o is None else d.reshape(-1) for d, o in zip(destinations, outputs)]
        for flat, d in zip(self.flat_outputs, destinations):
            if flat is not None and d.size and not np.shares_memory(flat, d):  # never a silent copy
                raise AssertionError("a workspace output is not a view of its destination")
        self.direct = _direct_outputs(tape, inputs, outputs, destinations, self.flat_outputs,
                                      self.schedule.last_use, self.schedule.alias)
        self.size = self.flat_inputs[0].size

    def run_block(self, block: slice, workspace: Workspace, lane: int, chunk: int) -> None:
        width = max(1, min(chunk, self.size))  # every buffer has this length; the last block uses a prefix
        direct = {node: flat[block] for node, flat in self.direct.items()}
        values, buffers = _run_ops(self.tape, self.schedule, self.scalars, [a[block] for a in self.flat_inputs],
                                   direct, width, workspace, lane)
        for destination, node in zip(self.flat_outputs, self.outputs):
            if node is not None and node not in direct:
                np.copyto(destination[block], values[self.schedule.root(node)])
        for buffer in buffers.values():  # every block buffer goes back to the pool
            workspace.give(buffer, lane)


def _packs(jobs: list, chunk: int) -> list:
    """Small jobs in groups of at most ``chunk`` elements in all."""
    packs, current, total = [], [], 0
    for job in jobs:
        if current and total + job.size > chunk:
            packs.append(tuple(current))
            current, total = [], 0
        current.append(job)
        total += job.size
    return packs + ([tuple(current)] if current else [])


def _run_pack(pack: tuple, workspace: Workspace, lane: int, chunk: int) -> None:
    """Small jobs sharing their tape and scalars, computed in one block: each input gathered
    into a buffer, the tape run once, each output scattered back (elementwise: the same bits)."""
    first, total = pack[0], sum(job.size for job in pack)
    width = min(chunk, 1 << max(0, total - 1).bit_length())   # few distinct buffer lengths in the pool
    gathered = []
    for i in range(len(first.flat_inputs)):
        buffer = workspace.take((width,), first.tape.dtype, lane)
        np.concatenate([job.flat_inputs[i] for job in pack], out=buffer[:total])
        gathered.append(buffer)
    values, buffers = _run_ops(first.tape, first.schedule, first.scalars, [b[:total] for b in gathered],
                               {}, width, workspace, lane)
    for k, node in enumerate(first.outputs):
        if node is None:
            continue
        value, offset = values[first.schedule.root(node)], 0
        for job in pack:
            np.copyto(job.flat_outputs[k], value[offset:offset + job.size])
            offset += job.size
    for buffer in gathered + list(buffers.values()):
        workspace.give(buffer, lane)


def _run_ops(tape: Tape, schedule: _Schedule, scalars: list, block_inputs: list, direct: dict, width: int,
             workspace: Workspace, lane: int) -> tuple[dict, dict]:
    """Run the tape's operations on one block; returns the values by node and the buffers still
    held (the outputs' among them)."""
    first_op, root, last_use, keep = len(tape.inputs), schedule.root, schedule.last_use, schedule.keep
    values = dict(enumerate(block_inputs))
    length = block_inputs[0].size
    buffers = {}
    for position, (op, operands) in enumerate(tape.ops):
        node = first_op + position
        if node in schedule.alias:
            values[node] = values[schedule.alias[node]]
            continue
        args = [values[root(i)] if kind == "node" else scalars[i] for kind, i in operands]
        if node in direct:  # computed straight into its destination: no copy afterwards
            out = direct[node]
        else:
            buffers[node] = workspace.take((width,), bool if node in tape.bools else tape.dtype, lane)
            out = buffers[node][:length]
        values[node] = out
        _apply(op, args, out)
        for index in {root(i) for kind, i in operands if kind == "node"}:
            if index in buffers and last_use.get(index) == node and index not in keep:
                workspace.give(buffers.pop(index), lane)  # dead: its buffer serves the next operation
    return values, buffers


def _direct_outputs(tape: Tape, inputs: list, outputs: list, destinations: list, flat_outputs: list,
                    last_use: dict, alias: dict) -> dict:
    """Output nodes that may be written straight into their destination: every input that
    may share memory with that destination (the old value of the same buffer) is read for
    the last time before the node is computed."""
    first_op = len(tape.inputs)
    direct = {}
    for destination, flat, node in zip(destinations, flat_outputs, outputs):
        if node is None or node < first_op or node in direct or node in tape.bools or node in alias:
            continue
        aliases = [j for j, a in enumerate(inputs) if np.may_share_memory(a, destination)]
        if all(last_use.get(j, -1) < node for j in aliases):
            direct[node] = flat
    return direct


def _apply(op: str, args: list, out: np.ndarray) -> None:
    if op in UFUNCS:
        UFUNCS[op](*args, out=out)
    elif op == "sign":
        _sign(args[0], out)
    elif op == "where":
        np.copyto(out, args[2])
        np.copyto(out, args[1], where=args[0])
    elif op == "copy":
        np.copyto(out, args[0])
    elif op == "full":
        out.fill(args[0])
    else:
        raise NotFusable(f"unknown traced operation {op}")


# -----------------------------------------------------------------------------------------
# Compiling a tape into one fused numba loop.

_KERNELS: dict[tuple, object] = {}

_EXPRESSIONS = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}", "pow": "{0} ** {1}",
    "neg": "-{0}", "sqrt": "np.sqrt({0})", "abs": "abs({0})",
    "sign": "(one if {0} > zero else (-one if {0} < zero else zero))",
    "maximum": "({0} if ({0} >= {1} or {0} != {0}) else {1})",
    "minimum": "({0} if ({0} <= {1} or {0} != {0}) else {1})",
    "gt": "{0} > {1}", "lt": "{0} < {1}", "ge": "{0} >= {1}", "le": "{0} <= {1}",
    "where": "({1} if {0} else {2})", "copy": "{0}", "full": "{0}",
}


def _source(tape: Tape, outputs: list, in_place: tuple = ()) -> str:
    """One parallel loop over *work items* — (tensor, first element, end) — of every tensor of a
    group: each tensor's arrays are found by their addresses, its scalars by its row, so one call
    serves any number of tensors of any sizes.  ``in_place``: for each output, the input whose
    memory it is (its new value is written through that input's array: a separate pointer to the
    same memory would make the compiler's overlap check fail and keep the loop scalar), or None."""
    kind = "float32" if tape.dtype == np.float32 else "float64"
    n_inputs = len(tape.inputs)
    outs = [k for k, o in enumerate(outputs) if o is not None]
    in_place = in_place or (None,) * len(outs)
    separate = [m for m, j in enumerate(in_place) if j is None]
    lines = ["def kernel(addresses, scalars, work):",
             f"    one, zero = np.{kind}(1), np.{kind}(0)",
             "    for w in prange(work.shape[0]):",
             "        k, start, stop = work[w, 0], work[w, 1], work[w, 2]",
             f"        n, offset = stop - start, start * {np.dtype(kind).itemsize}"]
    lines += [f"        s{j} = np.{kind}(scalars[k, {j}])" for j in range(len(tape.scalars))]
    # Views of this work item's elements, indexed from 0: the compiler then knows every index is
    # in range and non-negative, and vectorizes the loop.
    lines += [f"        a{i} = carray(at(addresses[k, {i}] + offset), n, np.{kind})" for i in range(n_inputs)]
    lines += [f"        o{m} = carray(at(addresses[k, {n_inputs + c}] + offset), n, np.{kind})"
              for c, m in enumerate(separate)]
    lines.append("        for i in range(n):")
    lines += [f"            x{i} = a{i}[i]" for i in range(n_inputs)]
    first = len(tape.inputs)
    for position, (op, operands) in enumerate(tape.ops):
        names = [f"x{i}" if k == "node" else f"s{i}" for k, i in operands]
        if op not in _EXPRESSIONS:
            raise NotFusable(f"no fused code for {op}")
        lines.append(f"            x{first + position} = {_EXPRESSIONS[op].format(*names)}")
    lines += [f"            {'o' + str(m) if j is None else 'a' + str(j)}[i] = x{outputs[k]}"
              for m, (k, j) in enumerate(zip(outs, in_place))]
    return "\n".join(lines)


def compile_tape(tape: Tape, outputs: list, in_place: tuple = (), parallel: bool = True):
    compiled = getattr(tape, "compiled", None) or {}   # a replayed tape: looked up once, not every step
    variant = (tuple(outputs), in_place, parallel)
    if variant in compiled:
        return compiled[variant]
    key = (tape.structure(tuple(outputs)), in_place, parallel)
    kernel = _KERNELS.get(key)
    if kernel is None:
        try:
            import numba  # noqa: F401  (asked here, each time: fused_kernels may be loaded already)
            from optim.fused_kernels import compile_kernel
        except ImportError as error:
            raise NotFusable("the fused path needs numba: pip install 'optlaws[fast]'") from error
        kernel = compile_kernel(_source(tape, outputs, in_place), parallel)   # kept on disk: optim.fused_kernels
        _KERNELS[key] = kernel
    tape.compiled = {**compiled, variant: kernel}
    return kernel


FUSED_CHUNK = 1 << 16   # elements per work item: a large tensor is shared among the threads
# A call over at most this many elements in all runs on one thread: its kernel is compiled without
# numba's parallel pass (a third of the compile time) and is called without waking the threads.
SERIAL_UP_TO = FUSED_CHUNK


def run_fused(tape: Tape, outputs: list, destinations: list, inputs: list | None = None,
              scalars: list | None = None) -> None:
    """One tensor's step (see ``run_fused_group``)."""
    inputs = tape.inputs if inputs is None else inputs
    run_fused_group(tape, outputs, [(inputs, destinations, tape.scalars if scalars is None else scalars)])


def run_fused_group(tape: Tape, outputs: list, jobs: list) -> None:
    """Compute the outputs for every job — (inputs, destinations, scalars), one per tensor — in
    one call of the fused kernel per way of writing them (see ``prepare_fused_group``)."""
    for call in prepare_fused_group(tape, outputs, jobs):
        call()


def prepare_fused_group(tape: Tape, outputs: list, jobs: list) -> list:
    """The calls (``FusedCall``) that write every job's outputs into its destinations (arrays of
    any layout, which may be the input arrays themselves: each element is read before it is
    written; a destination that is not one C-order block is computed into a scratch and copied
    into it), with every kernel compiled (or refused) here, before any call writes anything.
    Jobs whose outputs are written in place into the same inputs share one call."""
    dtype = tape.dtype
    calls: dict = {}
    for number, (inputs, destinations, scalars) in enumerate(jobs):
        targets, late = _in_place_targets(destinations, outputs)
        flat_inputs = [np.ascontiguousarray(a).reshape(-1) for a in inputs]  # a copy where not C-order
        flat_outputs = [d.reshape(-1) for d, o in zip(targets, outputs) if o is not None]
        for flat, d in zip(flat_outputs, (d for d, o in zip(targets, outputs) if o is not None)):
            if d.size and not np.shares_memory(flat, d):  # never a silent copy
                raise AssertionError("a fused output is not a view of its destination")
        if any(a.dtype != dtype for a in flat_inputs + flat_outputs):
            raise AssertionError("a fused operand is not of the tape's dtype")
        where = [_address(a) for a in flat_inputs]
        out_where = [_address(out) for out in flat_outputs]
        in_place = tuple(next((j for j, (a, at) in enumerate(zip(flat_inputs, where))
                               if at == out_at and a.size == out.size), None)
                         for out, out_at in zip(flat_outputs, out_where))
        separate = [(out, at) for out, at, j in zip(flat_outputs, out_where, in_place) if j is None]
        call = calls.setdefault(in_place, {"arrays": [], "addresses": [], "sizes": [], "rows": [], "late": [],
                                           "jobs": [], "direct": True})
        call["arrays"].append(flat_inputs + [out for out, _ in separate])
        call["addresses"].append(where + [at for _, at in separate])
        call["sizes"].append(flat_inputs[0].size)
        call["rows"].append(_scalar_row(scalars))
        call["late"] += late
        call["jobs"].append(number)
        call["direct"] &= all(a.flags.c_contiguous for a in inputs)   # no input read from a copy
    return [FusedCall(compile_tape(tape, outputs, in_place, parallel=sum(call["sizes"]) > SERIAL_UP_TO), **call)
            for in_place, call in calls.items()]


def _address(array: np.ndarray) -> int:
    """Where ``array``'s data starts: read by a compiled function (a tenth of the time of
    ``__array_interface__``; the fused path has numba), asked once per grad and step."""
    return _address_reader()(array)


@functools.cache
def _address_reader():
    import numba

    @numba.njit
    def address(array):
        return array.ctypes.data
    return address


def _scalar_row(scalars) -> list:
    return list(scalars) or [0.0]   # a kernel that reads no scalar still gets a row


class FusedCall:
    """One call of a fused kernel over its jobs: the arrays it reads and writes by address (kept
    alive here while it runs), each job's size and scalars, then the scratch copies (``late``).
    ``jobs``: the positions of its jobs in the list given to ``prepare_fused_group``.
    ``rebound`` gives the call for another step of the same params and buffers: only the grads
    (input 1) and the scalars change, so nothing else is looked at again."""

    GRAD = 1   # the tape's inputs: params, grads, then the state's buffers (``trace``)

    def __init__(self, kernel, arrays: list, addresses: list, sizes: list, rows: list, late: list, jobs: list,
                 direct: bool):
        self.kernel, self.arrays, self.late, self.jobs, self.direct = kernel, arrays, late, jobs, direct
        self.dtype = arrays[0][0].dtype if arrays else None
        self.addresses = np.array(addresses, dtype=np.int64).reshape(len(arrays), -1)
        self.scalars = np.array(rows, dtype=np.float64)
        self.work = _work(tuple(sizes))
        self.grads: list = []   # a rebound call's grads, kept alive while it runs

    def __call__(self) -> None:
        self.kernel(self.addresses, self.scalars, self.work)
        for destination, scratch in self.late:
            np.copyto(destination, scratch)

    def without_grads(self) -> "FusedCall":
        """The call as a template for ``rebound``: it keeps no grad alive between steps."""
        new = object.__new__(FusedCall)
        new.__dict__.update(self.__dict__)
        new.arrays = [arrays[:self.GRAD] + [None] + arrays[self.GRAD + 1:] for arrays in self.arrays]
        return new

    def rebound(self, grads: list, rows: list) -> "FusedCall | None":
        """This call with each job's grad and scalars replaced (``grads[k]``, ``rows[k]`` for
        job ``self.jobs[k]``); None where that cannot be done by address alone: an input was read
        from a C-order copy (a param or buffer of another layout: the copy would be stale), or a
        grad is not one C-order block of the tape's dtype."""
        if not self.direct or any(not g.flags.c_contiguous or g.dtype != self.dtype for g in grads):
            return None
        new = object.__new__(FusedCall)
        new.__dict__.update(self.__dict__)
        new.grads = grads
        new.addresses = self.addresses.copy()
        new.addresses[:, self.GRAD] = list(map(_address, grads))
        new.scalars = np.array([_scalar_row(row) for row in rows], dtype=np.float64)
        return new


_WORK: dict[tuple, np.ndarray] = {}


def _work(sizes: tuple) -> np.ndarray:
    """Work items (tensor, start, end) covering every element once, cached by the sizes."""
    work = _WORK.get(sizes)
    if work is None:
        work = np.array([(k, start, min(start + FUSED_CHUNK, n)) for k, n in enumerate(sizes)
                         for start in range(0, n, FUSED_CHUNK)], dtype=np.int64).reshape(-1, 3)
        if len(_WORK) > 256:
            _WORK.clear()
        _WORK[sizes] = work
    return work
