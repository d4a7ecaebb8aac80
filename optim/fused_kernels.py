"""Fused kernels compiled once per machine, not once per process.

Compiling a generated kernel (a parallel loop, through LLVM) takes about a second; a training
script pays it for every kernel of its first step, every time it starts, and a test run once per
worker.  numba keeps compiled machine code on disk only for a function defined in a source file,
so each generated kernel is written to a file named by the hash of its text and of this module
(whose ``at`` it calls, and whose options compile it), and compiled with ``cache=True``: the
next process that needs the same kernel loads it (about 20 ms) instead of compiling it again.

The file's name is its content's hash, so a stale kernel cannot be loaded: a different text is a
different file.  A file whose text is not what its name says (cut short by a crash, edited) is
written again before it is used.  The folder: ``$OPTLAWS_KERNEL_CACHE``, else
``$XDG_CACHE_HOME/optlaws/kernels``, else ``~/.cache/optlaws/kernels``.
``OPTLAWS_KERNEL_CACHE=off``, or a folder that cannot be written, compiles in memory as before.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

OPTIONS = dict(fastmath=False, error_model="numpy")
HEADER = ("import numpy as np\n"
          "from numba import prange, carray\n"
          "from optim.fused_kernels import at\n\n")


@intrinsic
def at(typingctx, address):
    """``at(address)``: an integer address as a pointer, so that ``numba.carray`` can view the
    array there (the arrays are kept alive by the caller for the whole call)."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)
    return types.voidptr(address), codegen


def compile_kernel(source: str, parallel: bool = True):
    """The numba dispatcher of ``source`` (which defines ``kernel``; its ``prange`` is a plain
    range unless ``parallel``): from its file in the cache folder where there is one that can be
    written, else compiled in memory."""
    try:
        folder = cache_folder()
        if folder is not None:
            return _from_file(folder, source, parallel)
    except (OSError, RuntimeError):
        pass   # no home folder, or one that cannot be written: the kernel is only not kept
    namespace = {"np": np, "prange": numba.prange, "carray": numba.carray, "at": at}
    exec(source, namespace)   # generated from the traced update, not user input
    return numba.njit(cache=False, parallel=parallel, **OPTIONS)(namespace["kernel"])


def cache_folder() -> Path | None:
    chosen = os.environ.get("OPTLAWS_KERNEL_CACHE")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no", "false") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "optlaws" / "kernels"


def _from_file(folder: Path, source: str, parallel: bool):
    text = HEADER + f"# compiled with parallel={parallel}\n" + source + "\n"
    name = "optlaws_kernel_" + hashlib.sha256((_this_module() + text).encode()).hexdigest()[:32]
    path = folder / f"{name}.py"
    if not path.exists() or path.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        _write_whole(path, text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return numba.njit(cache=True, parallel=parallel, **OPTIONS)(module.kernel)


def _write_whole(path: Path, text: str) -> None:
    """Written beside, then renamed over: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=".py")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@functools.cache
def _this_module() -> str:
    return Path(__file__).read_text()
