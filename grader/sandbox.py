"""Run student code on the far side of a process boundary.

The zygote is forked from the grader once torch and the worker code are imported and
before any grading data exists, so it holds no reference gradient; it forks a worker
per submission (and a fresh one after a worker dies) in about 10 ms, instead of paying
the torch import again. The grader talks to a worker over a socket: requests are
in the wire format, replies are decoded without trust (wire.py). A call that
overruns its wall time gets the worker killed; a worker that dies is described in plain
words; at the end, every process a worker started is killed.
"""

from __future__ import annotations

import atexit
import gc
import os
import pickle
import select
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader import processes, wire, worker
from grader.limits import Limits
from grader.processes import PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG, prctl
from grader.submission import KINDS, Call, Failure

# Failures after which the module is not imported again: it would fail the same way.
IMPORT_IS_FINAL = ("missing_module", "import_error", "timeout", "cpu_time", "memory", "crashed", "exited")


class Zygote:
    """A torch-loaded process that forks workers on request."""

    def __init__(self) -> None:
        gc.collect()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # the zygote
            try:
                ours.close()
                _zygote_loop(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self._sock = pid, ours

    def _ask(self, message: tuple[Any, ...], fds: list[int] = ()) -> Any:
        socket.send_fds(self._sock, [pickle.dumps(message)], list(fds))
        reply = self._sock.recv(65536)
        if not reply:
            raise RuntimeError("the grading sandbox's zygote process has ended")
        return pickle.loads(reply)

    def spawn(self, folder: Path, scratch: Path, limits: Limits) -> tuple[int, socket.socket]:
        """A new worker serving `folder`: its pid and the grader's end of its socket."""
        ours, theirs = socket.socketpair()
        try:
            pid = self._ask(("spawn", str(folder), str(scratch), limits), [theirs.fileno()])
        finally:
            theirs.close()
        return pid, ours

    def wait(self, pid: int) -> int:
        """The exit status of a worker that has ended or been killed."""
        return self._ask(("wait", pid))

    def kill_sessions(self, sessions: set[int]) -> None:
        """Kill every process of these sessions, and every orphan the zygote adopted."""
        self._ask(("kill", sessions))

    def close(self) -> None:
        self._sock.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _zygote_loop(sock: socket.socket) -> None:
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of workers come here, to be killed
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the grader to handle
    me = os.getpid()
    workers: set[int] = set()
    ended: dict[int, int] = {}  # exit statuses of workers reaped before they were asked for
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 65536, 1)
        if not message:
            processes.kill_sessions_and_children(workers, me, set(), ended)
            return
        op, *args = pickle.loads(message)
        if op == "spawn":
            pid = os.fork()
            if pid == 0:
                sock.close()
                worker.serve(socket.socket(fileno=fds[0]), *args)
            os.close(fds[0])
            workers.add(pid)  # a worker's session id is its pid
            sock.send(pickle.dumps(pid))
        elif op == "wait":
            pid = args[0]
            status = ended.pop(pid) if pid in ended else os.waitpid(pid, 0)[1]
            workers.discard(pid)
            sock.send(pickle.dumps(status))
        elif op == "kill":
            processes.kill_sessions_and_children(args[0], me, workers - args[0], ended)
            sock.send(pickle.dumps(None))


_ZYGOTE: Zygote | None = None


def zygote() -> Zygote:
    """The zygote of this process, started on first use."""
    global _ZYGOTE
    if _ZYGOTE is None:
        _ZYGOTE = Zygote()
        atexit.register(_ZYGOTE.close)
    return _ZYGOTE


class Sandbox:
    """A submission whose code runs in worker processes, under limits."""

    sandboxed = True

    def __init__(self, folder: Path | str, limits: Limits):
        self.folder = Path(folder).resolve()
        self.limits = limits
        self._zygote = zygote()
        self._scratch = Path(tempfile.mkdtemp(prefix="backprop-ninja-"))
        self._worker: tuple[int, socket.socket] | None = None
        self._imported: set[str] = set()
        self._broken: dict[str, Failure] = {}

    def call(
        self, module: str, function: str, arguments: dict[str, Any], as_fwd: bool = False, limits: Limits | None = None
    ) -> Call:
        return self.submit(module, function, arguments, as_fwd, limits)()

    def submit(
        self, module: str, function: str, arguments: dict[str, Any], as_fwd: bool = False, limits: Limits | None = None
    ) -> Callable[[], Call]:
        """Send the call to the worker, and return what waits for its reply: the grader
        can compute the reference meanwhile. `limits` are the call's, within the
        sandbox's own (which bound the worker's memory)."""
        limits = limits or self.limits
        if module in self._broken:
            return _ready(Call(failure=self._broken[module]))
        if module not in self._imported:
            call = self._send({"op": "import", "module": module, "limits": asdict(self.limits)}, limits=self.limits)()
            if call.failure:
                if call.failure.kind in IMPORT_IS_FINAL:
                    self._broken[module] = _while_importing(module, call.failure)
                    return _ready(Call(failure=self._broken[module], output=call.output))
                return _ready(call)
            self._imported.add(module)
        request = {"op": "call", "module": module, "function": function, "as_fwd": as_fwd, "limits": asdict(limits)}
        return self._send(request, arguments, limits)

    def train(self, data: str, config: dict[str, Any], progress: Callable[[dict[str, Any]], None] | None = None,
              limits: Limits | None = None) -> Call:  # fmt: skip
        """Train the lecture's network in the worker with the submission's mlp_backward
        (train.py): the progress comes as it goes, the figures at the end."""
        from grader.catalogue import TRAINING

        limits = limits or self.limits
        module = TRAINING.module
        if module in self._broken:
            return Call(failure=self._broken[module])
        request = {"op": "train", "module": module, "data": data, "config": config, "limits": asdict(limits)}
        return self._send(request, None, limits, progress)()

    def _send(
        self,
        request: dict[str, Any],
        value: Any = None,
        limits: Limits | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> Callable[[], Call]:
        limits = limits or self.limits
        _, sock = self._worker or self._start()
        deadline = time.monotonic() + limits.wall_time
        try:
            sock.sendall(wire.frame(wire.encode(request, value)))
        except OSError:
            return lambda: self._receive(None, limits)
        return lambda: self._receive(deadline, limits, progress)

    def _receive(
        self, deadline: float | None, limits: Limits, progress: Callable[[dict[str, Any]], None] | None = None
    ) -> Call:
        """The worker's reply, after any progress reports, or what went wrong with it."""
        try:
            reply = wire.read_frame(_reader(self._worker[1], deadline)) if deadline else None
            while reply is not None and progress is not None:
                figures = _progress(reply)
                if figures is None:
                    break
                progress(figures)
                reply = wire.read_frame(_reader(self._worker[1], deadline))
        except TimeoutError:
            self._stop()
            return Call(failure=Failure("timeout", (
                f"your code ran longer than the {limits.wall_time:g} s time limit and was stopped: "
                "an endless loop, or a very slow one?"
            )))  # fmt: skip
        except wire.WireError as error:
            self._stop()
            return Call(failure=Failure("crashed", f"the Python process running your code sent garbage: {error}"))
        except OSError:
            reply = None
        if reply is None:
            return Call(failure=self._death())
        try:
            header = wire.decode(reply)
        except wire.WireError as error:
            self._stop()
            return Call(failure=Failure("crashed", f"the Python process running your code sent garbage: {error}"))
        return _call(header)

    def _start(self) -> tuple[int, socket.socket]:
        self._worker = self._zygote.spawn(self.folder, self._scratch, self.limits)
        self._worker[1].settimeout(self.limits.wall_time)
        self._imported.clear()
        return self._worker

    def _stop(self) -> int:
        """Kill the worker and whatever it started; its exit status."""
        pid, sock = self._worker
        self._worker = None
        sock.close()
        for kill in (os.killpg, os.kill):  # the group, and the worker itself if it has none yet
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        status = self._zygote.wait(pid)
        self._zygote.kill_sessions({pid})
        return status

    def _death(self) -> Failure:
        status = self._stop()
        error = self._scratch / worker.WORKER_ERROR
        if error.is_file():
            text = error.read_text()
            error.unlink()
            return Failure("crashed", f"the grading worker failed: {text.strip().splitlines()[-1]}", text)
        kind, words = processes.death(status)
        return Failure(kind, words)

    def close(self) -> None:
        """Stop the worker, kill every process it started, remove the scratch folder."""
        if self._worker:
            self._stop()
        self._zygote.kill_sessions(set())  # orphans that left their worker's session
        shutil.rmtree(self._scratch, ignore_errors=True)


def _progress(reply: bytes) -> dict[str, float] | None:
    """The figures of a progress report (numbers only), or None for the final reply."""
    header = wire.decode(reply)
    figures = header.get("progress")
    if not isinstance(figures, dict):
        return None
    return {k: float(v) for k, v in figures.items() if isinstance(k, str) and isinstance(v, int | float)}


def _ready(call: Call) -> Callable[[], Call]:
    return lambda: call


def _reader(sock: socket.socket, deadline: float) -> Any:
    """sock.recv that raises TimeoutError once the deadline has passed."""

    def read(n: int) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise TimeoutError
        return sock.recv(n)

    return read


def _call(header: dict[str, Any]) -> Call:
    """A Call from a decoded reply, whose every field is checked."""
    output = header.get("output")
    output = output[:4000] if isinstance(output, str) else ""
    failure = header.get("failure")
    if failure is None:
        seconds = header.get("seconds")
        seconds = float(seconds) if isinstance(seconds, int | float) and 0 <= seconds < 1e6 else 0.0
        return Call(value=header["value"], output=output, seconds=seconds)
    if not isinstance(failure, dict) or not all(isinstance(failure.get(k), str) for k in ("kind", "message", "detail")):
        return Call(failure=Failure("crashed", "the Python process running your code sent a malformed reply"))
    kind = failure["kind"] if failure["kind"] in KINDS else "exception"
    return Call(failure=Failure(kind, failure["message"][:2000], failure["detail"][:20000]), output=output)


def _while_importing(module: str, failure: Failure) -> Failure:
    if failure.kind in ("missing_module", "import_error") or failure.message.startswith(f"{module}.py"):
        return failure
    return Failure(failure.kind, f"{module}.py failed to import: {failure.message}", failure.detail)
