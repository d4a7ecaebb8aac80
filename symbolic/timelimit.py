"""Run a function under a hard time limit, in a forked child process.

SymPy work cannot be interrupted from a thread (a runaway ``cancel`` never checks a flag),
so each theorem is decided in a child that is killed when its time is up.  The result
crosses back through a pipe and must be picklable.
"""
from __future__ import annotations

import multiprocessing as mp
import traceback
from typing import Any, Callable


class TimeLimitExceeded(Exception):
    pass


def _child(connection, fn: Callable[[], Any]) -> None:
    try:
        connection.send(("ok", fn()))
    except BaseException as error:  # reported to the parent, never raised there silently
        connection.send(("error", f"{type(error).__name__}: {error}", traceback.format_exc()))
    finally:
        connection.close()


def run_with_time_limit(fn: Callable[[], Any], seconds: float) -> Any:
    """``fn()``'s value; raises ``TimeLimitExceeded`` after ``seconds``, or ``ChildError``."""
    context = mp.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, fn), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise TimeLimitExceeded(f"no answer within {seconds:g} s")
        message = receiver.recv()
    except EOFError:
        message = ("error", f"the prover process died (exit code {process.exitcode})", "")
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if message[0] == "error":
        raise ChildError(message[1], message[2])
    return message[1]


class ChildError(Exception):
    def __init__(self, summary: str, details: str):
        super().__init__(summary)
        self.summary = summary
        self.details = details
