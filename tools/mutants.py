"""Mutation testing of ``optim/``: how much of the code do the proofs and the fast tests pin down?

    python tools/mutants.py [--sample N] [--seed S] [--jobs J] [--timeout SECONDS] [--files optim/adam.py ...]
    make mutants [MUTANTS_ARGS="--sample 40"]

Every single-point mutant of the chosen files is enumerated from their AST:

* arithmetic  ``+`` ↔ ``-``, ``*`` ↔ ``/`` (also in ``+=`` …); unary minus dropped;
* comparisons ``<`` → ``<=`` / ``>``, ``<=`` → ``<`` / ``>=`` (and the mirrors), ``==`` ↔ ``!=``;
* constants   ``0`` ↔ ``1``, ``0.5`` → ``0.25``, any other number ``c`` → ``2c``, ``True`` ↔ ``False``;
* booleans    ``and`` ↔ ``or``, ``not x`` → ``x``, an ``if``/``while`` condition negated;
* branches    an ``if`` branch dropped (condition → ``False``; with an ``else``, also → ``True``),
  ``a if c else b`` → ``a`` and → ``b``;
* calls       the first two positional arguments swapped.

Strings, docstrings, annotations and the messages of ``raise`` statements are not mutated.
A seeded sample of ``--sample`` mutants is judged, each in its own copy of the repository under
``/tmp/mutants/<n>`` (hard links to one copy of the tracked and not-ignored files of the working
tree, the mutated file written anew): the working tree and ``.git`` are never touched.

Judges, in this order, each under the per-mutant timeout (a timeout counts as a kill):

1. the proofs (``python -m proofs --out <tmp>``), restricted with ``-k`` to one optimizer's
   theorems when the mutated file is that family's module alone (none for the NumPy/torch
   shells, whose code no theorem runs); the mutant is killed when a theorem whose verdict was as expected on the
   unmutated copy is not as expected (or missing: a file that no longer imports);
2. the fast tests (``pytest -q -x`` on ``FAST_TESTS``), restricted with ``-k`` to the affected
   optimizers when the mutated file is one family's module.

Equivalent mutants are excluded from the rate in two ways: automatically, when the mutant
compiles to the same bytecode as the original; and by ``EQUIVALENT``, a list of mutants whose
equivalence was argued by hand (the reason is printed).  The result: the kill rate over the
non-equivalent mutants and each survivor (file:line, the mutation, the source line).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("MUTANTS_DIR", Path(tempfile.gettempdir()) / "mutants"))
FAST_TESTS = [
    "tests/test_defaults.py",
    "tests/test_layout_every_buffer.py",
    "tests/test_numpy_values.py",
    "tests/test_bad_input.py",
    "tests/test_formal_agreement.py",
    "tests/test_torch_conformance.py",
    "tests/test_torch_backend.py",
    "tests/test_fast_paths.py",
    # the never-silent suites: layouts, all-or-nothing steps, duplicates, strict loading, options
    "tests/test_never_silent.py",
    "tests/test_torch_never_silent.py",
    "tests/test_torch_api.py",
    # trace once, run many: cached traces, kept checks, one pass per group; the compiled torch step
    "tests/test_trace_cache.py",
    "tests/test_torch_compiled.py",
    # the declarations every family is built from (a refused declaration, evolve)
    "tests/test_fields.py",
]
# The conformance tests in float64 only (float32 runs the same code), without the slow rounding analysis.
FAST_K = "not float32 and not tol_covers and not rounding_bound"
# Modules whose arithmetic the proofs never run (NumPy/torch shells): the tests judge them alone.
NOT_PROVED = {"optim/stateful.py", "optim/trace.py", "optim/torch_backend.py", "optim/numpy_backend.py",
              "optim/__init__.py", "optim/replay.py", "optim/plan.py", "optim/torch_compiled.py"}
FAMILY_CLASS = {"sgd": "SGD", "momentum_sgd": "MomentumSGD", "adam": "Adam", "adamw": "AdamW",
                "adadelta": "Adadelta", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adamax": "Adamax",
                "nadam": "NAdam", "radam": "RAdam", "rprop": "Rprop", "asgd": "ASGD"}

# Mutants argued equivalent by hand: (file, stripped source line, mutation) -> why.
EQUIVALENT: dict[tuple[str, str, str], str] = {
    ("optim/trace.py", 'units += [(job, slice(start, min(start + chunk, job.size))) for start in range(0, max(job.size, 1), chunk)]',
     "arguments swapped"):
        "max of two Python ints (a tensor's size and 1) is symmetric",
    ("optim/stateful.py", "and all(a is b for a, b in zip(kept[1], tapes))):", "arguments swapped"):
        "`a is b` over the pairs of two lists of equal length (checked just before) is symmetric: "
        "zipping them the other way round compares the same pairs",
    ("optim/torch_compiled.py", "tuple(tuple(id(t) == id(row[0]) for t in row) for row in rows),   # which alias the param",
     "`==` → `!=`"):
        "the flags only form a cache key (the layouts already compiled): negating every flag is a "
        "bijection, so two layouts' keys are equal exactly when they were",
    ("optim/trace.py", "for flat, d in zip(self.flat_outputs, destinations):", "arguments swapped"):
        "a pair is both None or neither (a flat output is None exactly where the output is, and the "
        "step gives a None destination there: stateful._job), and the check on a pair is symmetric "
        "(shares_memory, and a flat view has its array's size)",
    ("optim/trace.py", "if len(jobs) > 1 and job.size < min(PACK_BELOW, chunk):", "arguments swapped"):
        "min of two Python ints (the pack limit and the block length) is symmetric",
    ("optim/torch_backend.py", "if _is_tensor(x) and _is_tensor(y):",
     "condition `_is_tensor(x) and _is_tensor(y)` → False (if branch dropped)"):
        "two tensors then take the clamp branch: torch.clamp(x, min=y) with a tensor bound is "
        "torch.maximum(x, y) elementwise (the same broadcasting and type promotion, NaN from either "
        "side, and -0.0/0.0 as maximum gives them; checked on torch 2.13), min likewise",
    ("optim/trace.py", "lanes = min(len(starts), _THREADS)", "arguments swapped"):
        "min of two Python ints is symmetric (no NaN, no ties that differ: equal ints are identical)",
    ("optim/trace.py", "width = max(1, min(chunk, size))  # every buffer has this length; the last block uses a prefix",
     "arguments swapped"):
        "min(chunk, size): both are Python ints (a block length and an array size), and min of two ints "
        "is symmetric",
    ("optim/torch_backend.py", "return torch.sqrt(x) if _is_tensor(x) else x**0.5",
     "condition `_is_tensor(x)` → False (if branch dropped)"):
        "for a tensor, x**0.5 is torch.pow(x, 0.5), which ATen dispatches to sqrt (pow_tensor_scalar "
        "special-cases the exponent 0.5 on CPU and CUDA): the same kernel, the same bits, NaN for x < 0 "
        "in both",
    ("optim/trace.py", "_run_block(slice(start, min(start + chunk, size)), lane)", "arguments swapped"):
        "min of two Python ints (a block's end and the array size) is symmetric",
    ("optim/stateful.py", "return array if type(array) is np.ndarray else array.view(np.ndarray)",
     "condition `type(array) is np.ndarray` → False (if branch dropped)"):
        "array.view(np.ndarray) of a plain ndarray is another array object on the same memory with "
        "the same shape, strides and dtype: every read and write through it is the same",
    ("optim/stateful.py", "return replace(state, **scalars) if scalars else state",
     "condition `scalars` → True (else branch dropped)"):
        "replace(state) with no changes is an equal state (its checks pass again on checked values)",
    ("optim/torch_backend.py", "return scalar(x, y)", "arguments swapped"):
        "max/min of two Python numbers (never NaN: every hyperparameter and step is checked): equal "
        "values; where they compare equal with different types (1 and 1.0, ASGD's max(1, t - t0)) "
        "the quotient 1 / max(...) and its float32 rounding are the same",
    ("optim/fields.py", "pair, index = key if isinstance(key, tuple) else (key, 0)", "constant 0 → 1"):
        "a torch name that is not a pair has its own fresh list (one meaning per name): inserting at "
        "index 0 or 1 of an empty list gives the same one-element list",
    ("optim/trace.py", "if current and total + job.size > chunk:", "`>` → `>=`"):
        "how small tensors are grouped into packs: with >= a pack stops one tensor short of exactly "
        "`chunk` elements; every pack still fits its buffers (≤ chunk) and every element is computed "
        "by the same operations, so every value is the same",
    ("optim/trace.py", "return list(scalars) or [0.0]   # a kernel that reads no scalar still gets a row",
     "constant 0.0 → 1.0"):
        "the placeholder row of a tape without scalars (numba needs a non-empty array): the kernel "
        "of such a tape reads no scalar",
    ("optim/trace.py", "if len(jobs) > 1 and job.size < min(PACK_BELOW, chunk):",
     "condition `len(jobs) > 1 and job.size < min(PACK_BELOW, chunk)` → False (if branch dropped)"):
        "never packing small tensors runs each as its own block: the same operations on every "
        "element, so the same values (packing only saves Python per tensor)",
    ("optim/trace.py", "_THREADS = max(1, os.cpu_count() or 1)", "`or` → `and`"):
        "the number of threads the blocks are shared among (1 instead of the CPU count): every block "
        "computes the same values whichever thread runs it",
    ("optim/plan.py", "if same_buffers:", "condition `same_buffers` → False (if branch dropped)"):
        "recomputing the buffers' layouts and the written memory from the very same buffers gives "
        "the same layouts and memory (the shortcut only saves time)",
    ("optim/rprop.py", "etaminus: Any = fields.hyper(0.5, torch=(\"etas\", 0), domain=\"unit\")", "constant 0 → 1"):
        "declaring η− as etas[1] before η+ builds the same pair, (η−, η+), in torch_defaults and "
        "torch_arguments (a slice assignment past the end appends); the index appears otherwise only "
        "in the NaN message, which η− never reaches: torch's check 0 < η− < 1 < η+ refuses NaN first",
}

# Mutants equivalent wherever they occur: (regular expression on the description) -> why.
EQUIVALENT_PATTERNS: list[tuple[str, str]] = [
    (r"^constant True → False$@optim/trace.py:def __(gt|lt|ge|le)__",
     "a traced comparison kept as 0.0/1.0 in a float buffer instead of a bool one: its only use is "
     "as a condition (np.where, the fused kernel's select), which reads nonzero as true, so every "
     "selection is the same; arithmetic on it would raise on bools, and no update does any"),
    (r"^(`or` → `and` in `(kind|type\(x\)) is float or (kind|type\(x\)) is int`|condition `(kind|type\(x\)) is "
     r"float or (kind|type\(x\)) is int` → False \(if branch dropped\))$@optim/_checks.py:",
     "a fast path for the usual float or int, which the general test below it answers the same way "
     "(both are numbers.Real, neither a bool): never taken (or dropped), the answer is unchanged"),
    (r"^condition `type\(x\) is float` → False \(if branch dropped\)$@optim/_checks.py:",
     "the fast path of _plain_float: without it a float goes through float(x), the same float"),
    (r"^arguments swapped in `check\.check_layout\(params, grads",
     "check_layout(grads, params, …) checks the same thing: both tensors pass check_tensor, every "
     "other tensor is compared with the first, and equal shape, dtype and backend are symmetric; "
     "the same inputs are refused with the same exception type before anything is computed, only "
     "the message names the other tensor first"),
]


def _matches(pattern: str, mutant: "Mutant") -> bool:
    """``description regex`` or ``description regex@path:source-line regex``."""
    description, _, where = pattern.partition("@")
    if not re.search(description, mutant.description):
        return False
    if not where:
        return True
    path, _, line = where.partition(":")
    return mutant.path == path and re.search(line, mutant.source_line) is not None


# ---------------------------------------------------------------------------------------------
# Enumerating mutants
# ---------------------------------------------------------------------------------------------
@dataclass
class Mutant:
    path: str
    line: int
    description: str
    start: tuple[int, int]          # (line, col) of the replaced segment, 1-based line, 0-based col
    end: tuple[int, int]
    replacement: str
    source_line: str = ""
    index: int = 0
    verdict: str = ""               # killed / survived / equivalent / timeout / invalid
    judge: str = ""                 # what killed it, or why it is equivalent
    seconds: float = 0.0


BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Lt: "<", ast.LtE: "<=",
           ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.And: "and", ast.Or: "or"}
COMPARES = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt),
            ast.GtE: (ast.Gt, ast.LtE), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,)}


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, raise statements, asserts, decorators."""
    skip: set[int] = set()

    def mark(node):
        for sub in ast.walk(node):
            skip.add(id(sub))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Raise, ast.Assert, ast.JoinedStr)):
            mark(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mark(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for d in node.decorator_list:
                mark(d)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.returns is not None:
                    mark(node.returns)
                for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                    if a.annotation is not None:
                        mark(a.annotation)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                mark(first)
    return skip


def _expr(node: ast.AST) -> str:
    return "(" + ast.unparse(node) + ")"


def _clone(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node), mode="eval").body if isinstance(node, ast.expr) else node


def _number_mutations(value) -> list:
    if isinstance(value, bool):
        return [not value]
    if value == 0:
        return [type(value)(1)]
    if value == 1:
        return [type(value)(0)]
    if value == 0.5:
        return [0.25]
    return [value * 2]


def enumerate_mutants(path: str, root: Path = ROOT) -> list[Mutant]:
    source = (root / path).read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    out: list[Mutant] = []

    def add(node, description, replacement, target=None):
        target = target or node
        out.append(Mutant(path, target.lineno, description, (target.lineno, target.col_offset),
                          (target.end_lineno, target.end_col_offset), replacement,
                          lines[target.lineno - 1].strip()))

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            new = ast.BinOp(_clone(node.left), BINOPS[type(node.op)](), _clone(node.right))
            add(node, f"`{OP_TEXT[type(node.op)]}` → `{OP_TEXT[BINOPS[type(node.op)]]}` in `{ast.unparse(node)}`",
                _expr(new))
        elif isinstance(node, ast.AugAssign) and type(node.op) in BINOPS:
            new = ast.AugAssign(node.target, BINOPS[type(node.op)](), node.value)
            add(node, f"`{OP_TEXT[type(node.op)]}=` → `{OP_TEXT[BINOPS[type(node.op)]]}=`", ast.unparse(new))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and not isinstance(node.operand, ast.Constant):
            add(node, f"unary minus dropped in `{ast.unparse(node)}`", _expr(node.operand))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add(node, f"`not` dropped in `{ast.unparse(node)}`", _expr(node.operand))
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for repl in COMPARES.get(type(op), ()):
                    ops = list(node.ops)
                    ops[i] = repl()
                    new = ast.Compare(_clone(node.left), ops, [_clone(c) for c in node.comparators])
                    add(node, f"`{OP_TEXT[type(op)]}` → `{OP_TEXT[repl]}` in `{ast.unparse(node)}`", _expr(new))
        elif isinstance(node, ast.BoolOp):
            repl = ast.Or if isinstance(node.op, ast.And) else ast.And
            new = ast.BoolOp(repl(), [_clone(v) for v in node.values])
            add(node, f"`{OP_TEXT[type(node.op)]}` → `{OP_TEXT[repl]}` in `{ast.unparse(node)}`", _expr(new))
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            for value in _number_mutations(node.value):
                add(node, f"constant {node.value!r} → {value!r}", repr(value))
        elif isinstance(node, (ast.If, ast.While)):
            test = ast.unparse(node.test)
            add(node, f"condition `{test}` negated", f"(not ({test}))", target=node.test)
            if isinstance(node, ast.If):
                add(node, f"condition `{test}` → False (if branch dropped)", "False", target=node.test)
                if node.orelse:
                    add(node, f"condition `{test}` → True (else branch dropped)", "True", target=node.test)
        elif isinstance(node, ast.IfExp):
            test = ast.unparse(node.test)
            add(node, f"condition `{test}` → True (else branch dropped)", _expr(node.body))
            add(node, f"condition `{test}` → False (if branch dropped)", _expr(node.orelse))
        elif isinstance(node, ast.Call):
            positional = [a for a in node.args if not isinstance(a, ast.Starred)]
            if len(positional) == len(node.args) >= 2 and ast.unparse(node.args[0]) != ast.unparse(node.args[1]):
                args = [_clone(a) for a in node.args]
                args[0], args[1] = args[1], args[0]
                new = ast.Call(_clone(node.func), args, node.keywords)
                add(node, f"arguments swapped in `{ast.unparse(node)[:80]}`", _expr(new))
    out.sort(key=lambda m: (m.path, m.start, m.description))
    return out


def apply(mutant: Mutant, source: str) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(pos):  # ast columns are UTF-8 byte offsets
        line = lines[pos[0] - 1]
        return offsets[pos[0] - 1] + len(line.encode()[:pos[1]].decode())

    return source[:at(mutant.start)] + mutant.replacement + source[at(mutant.end):]


def _code_signature(code) -> tuple:
    """A code object without line numbers: equal for mutants that compile to the same program."""
    consts = tuple(_code_signature(c) if hasattr(c, "co_code") else (type(c).__name__, repr(c))
                   for c in code.co_consts)
    return (code.co_code, consts, code.co_names, code.co_varnames)


def same_bytecode(original: str, mutated: str) -> bool:
    try:
        return _code_signature(compile(original, "m", "exec")) == _code_signature(compile(mutated, "m", "exec"))
    except SyntaxError:
        return False


# ---------------------------------------------------------------------------------------------
# The copies and the judges
# ---------------------------------------------------------------------------------------------
def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def make_base(base: Path, rev: str | None = None) -> None:
    """One copy of the working tree's files (read as they are now), or of commit ``rev``'s files
    (``git archive``, which only reads the repository); mutants hard-link to it."""
    if base.exists():
        shutil.rmtree(base)
    if rev:
        import io
        import tarfile
        data = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True,
                              check=True).stdout
        base.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(base, filter="data")
        return
    for f in tracked_files():
        dest = base / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest)


def make_copy(base: Path, dest: Path, mutant: Mutant | None) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(base, dest, copy_function=os.link)
    if mutant is not None:
        target = dest / mutant.path
        text = apply(mutant, (base / mutant.path).read_text())
        target.unlink()                 # a hard link: never write through it into the base
        target.write_text(text)


def environment(copy: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def imports_of(path: Path) -> set[str]:
    """The modules of optim/ and proofs/theorems/ a file imports (by module name)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module in ("optim", "proofs.theorems"):
                names |= {f"{node.module}.{a.name}" for a in node.names}
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def affected(mutated: str, root: Path = ROOT) -> tuple[set[str], list[str]]:
    """The family modules and the theorem files that (transitively) import the mutated module."""
    module = mutated[:-3].replace("/", ".")
    files = {str(p.relative_to(root)): imports_of(p)
             for p in list((root / "optim").glob("*.py")) + list((root / "proofs" / "theorems").glob("*.py"))
             if p.name != "__init__.py"}
    reached = {module}
    changed = True
    while changed:
        changed = False
        for f, imports in files.items():
            name = f[:-3].replace("/", ".")
            if name not in reached and (imports & reached or ("optim" in imports and module == "optim")):
                reached.add(name)
                changed = True
    if any(f"optim.{fam}" in reached for fam in FAMILY_CLASS) and "proofs.theorems.relations" not in reached:
        reached.add("proofs.theorems.relations")   # relations.py proves every family (via OPTIMIZERS)
    families = {n.split(".")[-1] for n in reached if n.startswith("optim.") and n.split(".")[-1] in FAMILY_CLASS}
    theorems = sorted(n.replace(".", "/") + ".py" for n in reached if n.startswith("proofs.theorems."))
    return families, theorems


def run(cmd: list[str], copy: Path, timeout: float) -> tuple[int | None, str]:
    try:
        proc = subprocess.run(cmd, cwd=copy, env=environment(copy), capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)
        return proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as error:
        out = error.stdout or b""
        return None, out.decode() if isinstance(out, bytes) else out


def prove(copy: Path, files: list[str], pattern: str | None, timeout: float, proof_jobs: int):
    out = copy / ".proofs-out"
    cmd = [sys.executable, "-m", "proofs", *files, "--out", str(out), "-j", str(proof_jobs)]
    if pattern:
        cmd += ["-k", pattern]
    code, text = run(cmd, copy, timeout)
    verdicts = {}
    report = out / "proofs.json"
    if code is not None and report.exists():
        verdicts = {t["name"]: bool(t["as_expected"]) for t in json.loads(report.read_text())["theorems"]}
    return code, verdicts, text


DESELECTED: list[str] = []     # tests that fail on the unmutated copy: they judge nothing


def test_command(families: set[str], mutated: str, copy: Path) -> list[str]:
    tests = [t for t in FAST_TESTS if (copy / t).exists()]
    keyword = FAST_K
    if families and mutated[len("optim/"):-3] in FAMILY_CLASS:
        names = sorted({FAMILY_CLASS[f] for f in families} | families)
        keyword = f"({' or '.join(names)}) and ({FAST_K})"
    return [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-k", keyword, *[f"--deselect={t}" for t in DESELECTED], *tests]


@dataclass
class Judge:
    base: Path
    baseline: dict
    timeout: float
    proof_jobs: int
    log: list = field(default_factory=list)

    def __call__(self, mutant: Mutant) -> Mutant:
        start = time.time()
        copy = WORK / str(mutant.index)
        try:
            make_copy(self.base, copy, mutant)
            self._judge(mutant, copy, start)
        finally:
            mutant.seconds = time.time() - start
            shutil.rmtree(copy, ignore_errors=True)
        return mutant

    def _judge(self, mutant: Mutant, copy: Path, start: float) -> None:
        families, theorem_files = affected(mutant.path, self.base)
        left = lambda: max(1.0, self.timeout - (time.time() - start))  # noqa: E731
        if mutant.path not in NOT_PROVED and theorem_files:
            # The library's theorems (theorem files given by path would be imported twice next to
            # the package), narrowed to one optimizer's when the mutated file is its module alone.
            pattern = None
            if len(families) == 1 and mutant.path[len("optim/"):-3] in FAMILY_CLASS:
                pattern = f"Optim.{FAMILY_CLASS[next(iter(families))]}.*"
            code, verdicts, text = prove(copy, [], pattern, left(), self.proof_jobs)
            if code is None:
                mutant.verdict, mutant.judge = "timeout", "proofs ran past the timeout"
                return
            expected = {n for n, ok in self.baseline.items() if ok
                        and (pattern is None or n.startswith(pattern[:-1]))}
            broken = sorted(n for n in expected if not verdicts.get(n, False))
            if code not in (0, 1) and not verdicts:
                mutant.verdict, mutant.judge = "killed", f"proofs: exit {code} ({_last_line(text)})"
                return
            if broken:
                mutant.verdict, mutant.judge = "killed", f"proofs: {', '.join(broken[:3])}" + \
                    (f" (+{len(broken) - 3})" if len(broken) > 3 else "")
                return
        code, text = run(test_command(families, mutant.path, copy), copy, left())
        if code is None:
            mutant.verdict, mutant.judge = "timeout", "tests ran past the timeout"
        elif code == 5:      # no test selected: nothing judged it
            mutant.verdict, mutant.judge = "survived", "no fast test selected"
        elif code != 0:
            failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.M)
            mutant.verdict, mutant.judge = "killed", f"tests: {failed[0] if failed else _last_line(text)}"
        else:
            mutant.verdict, mutant.judge = "survived", ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=16,
                        help="mutants judged (default 16: ~15 minutes on 2 cores, 4 of them the unmutated baseline); 0 = all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                        help="mutants judged at the same time (default: half the CPUs)")
    parser.add_argument("--proof-jobs", type=int, default=1, help="theorems proved at once per mutant")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per mutant (default 240)")
    parser.add_argument("--files", nargs="*", default=None, help="files to mutate (default: optim/*.py)")
    parser.add_argument("--rev", help="judge the files of this commit instead of the working tree")
    parser.add_argument("--list", action="store_true", help="list the sampled mutants and stop")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    WORK.mkdir(parents=True, exist_ok=True)
    base = WORK / "base"
    make_base(base, args.rev)        # one snapshot: the files others edit meanwhile do not leak in
    files = args.files or sorted(str(p.relative_to(base)) for p in (base / "optim").glob("*.py"))
    mutants: list[Mutant] = []
    for f in files:
        mutants += enumerate_mutants(f, base)
    population = len(mutants)
    rng = random.Random(args.seed)
    chosen = mutants if args.sample in (0, None) or args.sample >= population else rng.sample(mutants, args.sample)
    for i, m in enumerate(chosen):
        m.index = i
    print(f"{population} mutants of {len(files)} files; judging {len(chosen)} (seed {args.seed}, "
          f"{args.jobs} at a time, {args.timeout:.0f} s each at most)", flush=True)

    to_judge = []
    for m in chosen:
        original = (base / m.path).read_text()
        mutated = apply(m, original)
        reason = EQUIVALENT.get((m.path, m.source_line, m.description.split(" in `")[0])) or \
            next((why for pattern, why in EQUIVALENT_PATTERNS if _matches(pattern, m)), None)
        if mutated == original or same_bytecode(original, mutated):
            m.verdict, m.judge = "equivalent", "compiles to the same bytecode"
        elif reason:
            m.verdict, m.judge = "equivalent", reason
        else:
            try:
                compile(mutated, m.path, "exec")
                to_judge.append(m)
            except SyntaxError as error:
                m.verdict, m.judge = "invalid", f"not valid Python: {error.msg}"
    if args.list:
        for m in chosen:
            print(f"  #{m.index} {m.path}:{m.line}  {m.description}  {m.verdict}")
        return 0

    started = time.time()
    print("baseline: proving every theorem and running the fast tests on the unmutated copy …", flush=True)
    code, baseline, text = prove(base, [], None, 900, max(1, os.cpu_count() or 1))
    if not baseline:
        print(f"the proofs did not run on the unmutated copy:\n{text[-2000:]}")
        return 2
    not_ok = sorted(n for n, ok in baseline.items() if not ok)
    if not_ok:
        print(f"  not as expected before any mutation (ignored): {', '.join(not_ok)}")
    command = [a for a in test_command(set(), "", base) if a != "-x"]
    code, text = run(command, base, 1800)
    failing = re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.M)
    if code != 0 and not failing:
        print(f"the fast tests do not run on the unmutated copy (exit {code}):\n{text[-3000:]}")
        return 2
    if failing:
        DESELECTED.extend(failing)
        print(f"  failing before any mutation (deselected): {', '.join(failing)}")
    print(f"  baseline done in {time.time() - started:.0f} s", flush=True)

    judge = Judge(base, baseline, args.timeout, args.proof_jobs)
    done = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for m in pool.map(judge, to_judge):
            done += 1
            print(f"  [{done}/{len(to_judge)}] {m.verdict:9s} {m.seconds:5.0f}s  {m.path}:{m.line}  "
                  f"{m.description}" + (f"  — {m.judge}" if m.judge else ""), flush=True)

    counted = [m for m in chosen if m.verdict in ("killed", "timeout", "survived")]
    killed = [m for m in counted if m.verdict in ("killed", "timeout")]
    equivalent = [m for m in chosen if m.verdict == "equivalent"]
    survivors = [m for m in counted if m.verdict == "survived"]
    rate = len(killed) / len(counted) if counted else 1.0
    print()
    print(f"kill rate: {len(killed)}/{len(counted)} = {100 * rate:.1f} % of the non-equivalent mutants "
          f"({len(equivalent)} equivalent, {sum(m.verdict == 'invalid' for m in chosen)} invalid, "
          f"{sum(m.verdict == 'timeout' for m in chosen)} timed out; {time.time() - started:.0f} s)")
    if equivalent:
        print("equivalent (excluded):")
        for m in equivalent:
            print(f"  {m.path}:{m.line}  {m.description}\n      {m.source_line}\n      why: {m.judge}")
    if survivors:
        print("survivors:")
        for m in survivors:
            print(f"  {m.path}:{m.line}  {m.description}\n      {m.source_line}"
                  + (f"\n      ({m.judge})" if m.judge else ""))
    if args.json:
        args.json.write_text(json.dumps([m.__dict__ for m in chosen], indent=1, default=str))
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
