"""Run a function in a forked child process under a hard time limit; the answer is JSON text.

SymPy work cannot be interrupted from a thread (a runaway ``cancel`` never checks a flag),
and a theorem file is untrusted code, so both run in children that are killed when their
time is up.  A child's answer crosses back through a pipe as one line of UTF-8 JSON text, nothing
else: never a pickle, since unpickling what a child sent can run code the child chose.

The child is the leader of its own process group, so killing it takes whatever it started
along.  It holds no descriptor of its parent's but stdin, stdout, stderr and its own pipe (the
others are closed after the fork: its siblings' pipes, a test runner's channels).

* :func:`run_with_time_limit` runs one function and returns its JSON value (a string,
  number, list, dict, ...) or raises :class:`TimeLimitExceeded` or :class:`ChildError`;
* :class:`Child` is one running child, for callers that wait on several at once
  (:func:`wait`).
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time
import traceback
from typing import Any, Callable, Iterable

from symbolic.notation import shortened

MAX_ANSWER = 512 * 1024 * 1024      # bytes a child may send
_GRACE = 0.5                        # seconds a child gets to exit after its answer


class TimeLimitExceeded(Exception):
    pass


class ChildError(Exception):
    """The child raised, died, or sent something that is not a well-formed answer."""

    def __init__(self, summary: str, details: str = ""):
        super().__init__(summary)
        self.summary = summary
        self.details = details


def _one_line(text: str, limit: int = 300) -> str:
    return shortened(" ".join(str(text).split()), limit)


def _max_descriptor() -> int:
    try:
        return max(os.sysconf("SC_OPEN_MAX"), 256)
    except (ValueError, OSError):
        return 65536


def _answer_in_child(fn: Callable[[], Any], write_end: int) -> None:
    """In the child: run ``fn``, write its answer as JSON, and leave without cleanup."""
    code = 0
    try:
        # Every descriptor inherited from the parent but stdin, stdout and stderr: its siblings'
        # pipes, and whatever the parent holds (a test runner's channel to its workers, a
        # caller's files) — untrusted code in the child writes only to its own pipe.
        os.closerange(3, write_end)
        os.closerange(write_end + 1, _max_descriptor())
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            message = {"ok": True, "value": fn()}
        except BaseException as error:  # noqa: BLE001 (reported to the parent as data)
            message = {"ok": False, "error": _one_line(f"{type(error).__name__}: {error}"),
                       "details": traceback.format_exc()}
        try:
            payload = json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"
        except (TypeError, ValueError) as error:
            payload = json.dumps({"ok": False, "error": f"the answer is not JSON data: {_one_line(error)}",
                                  "details": ""}).encode("utf-8") + b"\n"
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view):]
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


class Child:
    """A forked child computing ``fn()``; its answer is read by :meth:`read` / :func:`wait`."""

    def __init__(self, fn: Callable[[], Any], seconds: float):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child never returns)
            os.close(read_end)
            _answer_in_child(fn, write_end)
        os.close(write_end)
        try:  # also here, so that a kill right after the fork finds the group
            os.setpgid(pid, pid)
        except OSError:
            pass
        self.pid, self.fd = pid, read_end
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.seconds = seconds
        self.chunks: list[bytes] = []
        self.size = 0
        self.eof = False
        self.overflow = False
        self.status: int | None = None

    def fileno(self) -> int:
        return self.fd

    def read(self) -> bool:
        """Read what is there (the fd is readable); True once the answer is complete."""
        try:
            chunk = os.read(self.fd, 1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
        else:
            self.size += len(chunk)
            if self.size > MAX_ANSWER:
                self.overflow = True
                self.eof = True
            else:
                self.chunks.append(chunk)
                self.eof = b"\n" in chunk   # an answer is one line: complete without waiting for EOF
        return self.eof

    def _reap(self, grace: float) -> None:
        """Give the child ``grace`` seconds to exit, kill its group, then collect its status.
        The group is killed while the child is still unreaped, so its id cannot have been
        reused by an unrelated process."""
        end = time.monotonic() + grace
        while self.status is None and time.monotonic() < end:
            try:  # WNOWAIT: look without reaping
                if os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    break
            except ChildProcessError:
                break
            time.sleep(0.002)
        self.kill()
        if self.status is None:
            try:
                self.status = os.waitpid(self.pid, 0)[1]
            except ChildProcessError:
                self.status = -1

    def kill(self) -> None:
        """Kill the child and everything in its process group (a no-op once it is reaped)."""
        if self.status is not None:
            return
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def result(self) -> Any:
        """The child's value; raises ``TimeLimitExceeded`` or ``ChildError``.  Ends the child."""
        timed_out = not self.eof
        self._reap(0.0 if timed_out else _GRACE)
        self.close()
        if timed_out:
            raise TimeLimitExceeded(f"no answer within {self.seconds:g} s")
        if self.overflow:
            raise ChildError(f"the child process sent more than {MAX_ANSWER} bytes")
        raw = b"".join(self.chunks)
        if not raw:
            raise ChildError(f"the child process died without an answer ({_describe(self.status)})")
        if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
            raise ChildError(f"the child process sent something that is not one line of JSON "
                             f"({len(raw)} bytes, {_describe(self.status)})")
        try:
            message = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ChildError(f"the child process sent something that is not a JSON answer "
                             f"({len(raw)} bytes, {_describe(self.status)})") from None
        if isinstance(message, dict) and message.get("ok") is True and set(message) == {"ok", "value"}:
            return message["value"]
        if (isinstance(message, dict) and message.get("ok") is False
                and isinstance(message.get("error"), str) and isinstance(message.get("details", ""), str)):
            raise ChildError(_one_line(message["error"]), message.get("details", ""))
        raise ChildError("the child process sent a malformed answer")


def _describe(status: int | None) -> str:
    if status is None or status < 0:
        return "exit status unknown"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"killed by {name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def wait(children: Iterable[Child]) -> list[Child]:
    """Block until at least one child has answered or run out of time; return those."""
    children = [c for c in children if c.fd >= 0]
    if not children:
        return []
    with selectors.DefaultSelector() as selector:
        for child in children:
            if not child.eof:
                selector.register(child.fd, selectors.EVENT_READ, child)
        while True:
            done = [c for c in children if c.eof or time.monotonic() >= c.deadline]
            if done:
                return done
            timeout = min(c.deadline for c in children) - time.monotonic()
            for key, _ in selector.select(max(0.0, min(timeout, 3600.0))):
                child = key.data
                if child.read():
                    selector.unregister(child.fd)


def run_with_time_limit(fn: Callable[[], Any], seconds: float) -> Any:
    """``fn()``'s value, computed in a forked child and sent back as JSON (so it must be JSON
    data); raises ``TimeLimitExceeded`` after ``seconds``, ``ChildError`` if the child raised,
    died or answered something malformed."""
    child = Child(fn, seconds)
    try:
        wait([child])
        return child.result()
    finally:
        child.kill()
        child.close()
