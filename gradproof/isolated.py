"""Running the user's code in a child process, so that nothing it does can decide our exit code.

``gradproof check`` and ``gradproof report --function`` import and call code we did not write.
In-process, that code could end gradproof with ``os._exit(0)`` (no output, exit 0: reads as
"ok"), crash the interpreter (a segfault in an extension), hang forever, or leave a non-daemon
thread running so the command never exits.  :func:`run_isolated` runs one function of ours — which
in turn imports and calls the user's code — in a fresh Python process, and the parent keeps the
verdict:

* the function's return value (pickled) comes back on a pipe of its own, length-prefixed, so the
  user's prints cannot be mistaken for it; its stdout and stderr are relayed as they arrive;
* a child that ends without sending a value — ``os._exit``, ``sys.exit`` outside our guards, a
  signal — becomes one :class:`~gradproof.InputError` naming what happened (the CLI: exit 2);
* past ``timeout`` seconds the child's whole process group is killed and the same kind of error
  names the time limit; the child leaves with ``os._exit`` once its value is sent, so lingering
  user threads cannot keep the command alive.

The in-process Python API (``check_gradient``) does not use this: there the caller owns the process.
"""

from __future__ import annotations

import codecs
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gradproof.errors import GradproofError, InputError

__all__ = ["run_isolated"]

_HEADER = struct.Struct("<Q")
# started with -c so that the child imports the same gradproof as the parent (not, say, another
# installed copy), before it adopts the parent's sys.path from the payload
_BOOT = (
    "import sys; sys.path.insert(0, {root!r}); from gradproof.isolated import _child_main; _child_main({fd}, {parent})"
)
_GRACE = 2.0  # seconds a child that sent its value gets to exit before its group is killed


def run_isolated(call: str, kwargs: dict[str, Any], *, timeout: float | None, what: str) -> Any:
    """``module:function(**kwargs)`` run in a child process; its return value, or InputError.

    ``what`` names the work in messages ("the check").  The function must raise
    :class:`~gradproof.GradproofError` for anything the user should read in one line.
    """
    payload = pickle.dumps({"call": call, "kwargs": kwargs, "sys_path": list(sys.path)})
    root = str(Path(__file__).resolve().parents[1])
    read_fd, write_fd = _pipe()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT.format(root=root, fd=write_fd, parent=os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(write_fd,), env=env, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise GradproofError(f"cannot start a Python process for {what}: {exc}") from None
    os.close(write_fd)
    try:
        message = _talk(proc, payload, read_fd, timeout, what)
    finally:
        os.close(read_fd)
        _end(proc)
    kind, value = message
    if kind == "ok":
        return value
    raise InputError(value)


def _pipe() -> tuple[int, int]:
    """``os.pipe()`` whose ends are not 0, 1 or 2: when gradproof runs with stdin, stdout or stderr
    closed (a cron job, ``>&- 2>&-``) the pipe would get those numbers, and the child's own stdio
    would then overwrite its end, losing the verdict."""
    import fcntl

    ends = []
    for fd in os.pipe():
        if fd <= 2:
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
            os.close(fd)
            fd = moved
        ends.append(fd)
    return ends[0], ends[1]


def _talk(proc: subprocess.Popen, payload: bytes, read_fd: int, timeout: float | None, what: str) -> tuple[str, Any]:
    """Send the payload, relay the child's output, and collect its framed message."""
    from gradproof.console import say

    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except BrokenPipeError:  # the child died at once; described below from its exit status
        pass
    deadline = None if timeout is None else time.monotonic() + timeout
    streams = {proc.stdout.fileno(): _Relay(sys.stdout, say), proc.stderr.fileno(): _Relay(sys.stderr, say)}
    for fd in streams:
        os.set_blocking(fd, False)
    received = bytearray()
    open_fds = [read_fd, *streams]
    exited_at = None
    while True:
        if len(received) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(received)
            if len(received) >= _HEADER.size + size:
                _drain(streams, say)
                return pickle.loads(bytes(received[_HEADER.size : _HEADER.size + size]))
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            _kill(proc)
            _drain(streams, say)
            raise InputError(
                f"{what} did not finish within {timeout:g} s (--timeout): the user's code may never return "
                "(an endless loop, a wait on input or a lock)"
            )
        if proc.poll() is not None:
            # the child is gone; whatever it sent is already in the pipes (grandchildren may hold
            # them open, so do not wait for end-of-file longer than a moment)
            exited_at = exited_at or now
            if now - exited_at > 0.5 or not open_fds:
                _drain(streams, say)
                raise InputError(_describe_exit(proc.returncode, what))
        wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - now))
        if not open_fds:
            time.sleep(wait)
            continue
        ready, _, _ = select.select(open_fds, [], [], wait)
        for fd in ready:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                open_fds.remove(fd)
            elif fd == read_fd:
                received += chunk
            else:
                streams[fd].write(chunk)


class _Relay:
    """The child's output, decoded incrementally: a character split between two reads (``é`` at a
    64 KiB boundary) is printed whole, not as two replacement characters."""

    def __init__(self, target: Any, say: Any) -> None:
        self.target, self.say = target, say
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write(self, chunk: bytes, final: bool = False) -> None:
        text = self.decoder.decode(chunk, final)
        if text:
            self.say(text, file=self.target, end="")


def _drain(streams: dict[int, Any], say: Any) -> None:
    for fd, relay in streams.items():
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            relay.write(chunk)
        relay.write(b"", final=True)


def _describe_exit(code: int | None, what: str) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        description = signal.strsignal(-code) or name
        hint = " (a crash in compiled code the user's code called?)" if -code in (signal.SIGSEGV, signal.SIGBUS) else ""
        return f"{what} did not finish: the process running the user's code was killed by {name} ({description}){hint}"
    return (
        f"{what} did not finish: the user's code ended the process with exit status {code} "
        "(os._exit() or a call that ends the interpreter, at import or in a function)"
    )


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child and everything it started (its own session, so its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not fail
        pass


def _end(proc: subprocess.Popen) -> None:
    """After the message (or a failure): let the child exit, then clean up its process group, so
    no process or thread the user's code started outlives the command."""
    try:
        proc.wait(timeout=_GRACE)
    except subprocess.TimeoutExpired:
        pass
    except KeyboardInterrupt:
        _kill(proc)
        raise
    _kill(proc)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


# -- in the child -------------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    """End this process when the parent dies, however it dies: a parent killed outright (SIGKILL,
    the OOM killer, a test runner's timeout) gets no chance to kill us, and the user's code — which
    may loop forever — would run on, orphaned.  On Linux the kernel sends SIGKILL when the parent
    goes; elsewhere a daemon thread polls for it."""
    import threading

    watched_by_kernel = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            watched_by_kernel = ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            watched_by_kernel = False
    if os.getppid() != parent:  # the parent was gone before the request took effect
        os._exit(1)
    if not watched_by_kernel:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="gradproof-parent-watch", daemon=True).start()


def _child_main(fd: int, parent: int) -> None:
    """Read the payload from stdin, run the call, send the framed result on ``fd``, and leave
    with ``os._exit`` (no waiting for threads the user's code may have started)."""
    import importlib

    _die_with_parent(parent)

    payload = pickle.loads(sys.stdin.buffer.read())
    devnull = os.open(os.devnull, os.O_RDONLY)  # user code that reads stdin gets end-of-file
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.path[:] = payload["sys_path"]
    try:
        module_name, _, func_name = payload["call"].partition(":")
        value = getattr(importlib.import_module(module_name), func_name)(**payload["kwargs"])
        message: tuple[str, Any] = ("ok", value)
    except GradproofError as exc:
        message = ("error", str(exc))
    except KeyboardInterrupt:  # the child has a session of its own: no terminal's Ctrl-C reaches it
        message = ("error", "the user's code raised KeyboardInterrupt")
    except BaseException as exc:  # noqa: BLE001 - one line in the parent, never a traceback
        message = ("error", f"internal error while running the user's code: {type(exc).__name__}: {exc}")
    try:
        data = pickle.dumps(message)
    except Exception as exc:  # noqa: BLE001 - a result holding something unpicklable
        data = pickle.dumps(("error", f"internal error: the result cannot be sent back ({exc})"))
    frame = _HEADER.pack(len(data)) + data
    while frame:
        frame = frame[os.write(fd, frame) :]
    _flush_open_files()
    os._exit(0)


def _flush_open_files() -> None:
    """Flush every file object still open — ours (stdout, stderr) and the user's: a log the user's
    code opened and never closed is written by the interpreter's teardown in a normal exit, which
    ``os._exit`` skips (its buffered lines were lost)."""
    import gc
    import io

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    for obj in gc.get_objects():
        if isinstance(obj, io.IOBase):
            try:
                if not obj.closed:
                    obj.flush()
            except Exception:  # noqa: BLE001 - a file the user's code broke: nothing more to save
                pass
