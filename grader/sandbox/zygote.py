"""The zygote: a fresh Python process that imports torch and the worker code, and
nothing of the grader's, then forks a worker per submission on request.

It is started with exec (`python -c ...`), never forked from the grader, so nothing the
grader knows (the rubric, the run's seed, the trials, the references) was ever in its
memory, whenever and from wherever it starts: the CLI, a batch job, the pytest plugin or
a notebook. Forking a worker from it costs milliseconds instead of a torch import.

Each worker gets a PID namespace of its own where the system allows (the zygote's child
enters it, forks the worker as its first process and exits), so that whatever the
worker starts dies with it. The zygote is a child subreaper (orphans come back to it to
be killed), cannot be traced (non-dumpable), dies with the grader, and takes requests as
JSON over a socket: spawn, wait, kill.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from grader.sandbox import processes
from grader.sandbox.confinement import Layer, Plan

STARTUP_SECONDS = 180.0  # a torch import on a slow, busy machine
REPLY_SECONDS = 20.0  # any other answer of the zygote: milliseconds unless it is stopped or gone


class SandboxLost(RuntimeError):
    """The zygote died or stopped answering: the submission in flight is graded again
    with a new one."""


# -- in the zygote's process ------------------------------------------------------------------


def main(fd: int) -> None:
    """The zygote's life: set up, import, say ready, then serve until the grader hangs up."""
    undumpable = processes.make_undumpable()
    processes.prctl(processes.PR_SET_PDEATHSIG, signal.SIGKILL)
    processes.prctl(processes.PR_SET_CHILD_SUBREAPER, 1)  # orphans of workers come here, to be killed
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the grader to handle
    sock = socket.socket(fileno=fd)
    if os.getppid() == 1:  # the grader died before the death signal was set
        os._exit(0)
    import torch

    # One thread each: tiny tensors, and seccomp forbids workers to start threads.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from grader.sandbox import worker

    worker.preload()
    sock.send(json.dumps({"pid": os.getpid(), "non_dumpable": undumpable}).encode())
    _serve(sock)
    os._exit(0)  # no interpreter teardown: nothing of it is needed


def _serve(sock: socket.socket) -> None:
    me = os.getpid()
    workers: set[int] = set()
    ended: dict[int, tuple[int, float]] = {}  # workers reaped before they were asked for
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1)
        if not message:
            processes.sweep(workers, me, set(), {})
            return
        try:
            reply = _answer(json.loads(message), fds, sock, me, workers, ended)
        except Exception as error:  # noqa: BLE001 - the zygote serves on: the grader reads the error
            reply = {"error": f"{type(error).__name__}: {error}"}
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock.send(json.dumps(reply).encode())


def _answer(
    request: dict[str, Any],
    fds: list[int],
    sock: socket.socket,
    me: int,
    workers: set[int],
    ended: dict[int, tuple[int, float]],
) -> dict[str, Any]:
    op = request["op"]
    if op == "spawn":
        plan = request["plan"]
        plan = Plan(**{**plan, **{k: tuple(plan[k]) for k in ("hidden", "without", "watch")}})
        pid, layer = _spawn(plan, fds[0], sock)
        os.close(fds[0])
        workers.add(pid)
        return {"pid": pid, "layer": asdict(layer)}
    if op == "wait":
        pid = request["pid"]
        workers.discard(pid)
        if pid in ended:
            status, cpu = ended.pop(pid)
        else:
            _, status, usage = os.wait4(pid, 0)
            cpu = usage.ru_utime + usage.ru_stime
        return {"status": status, "cpu": cpu}
    if op == "kill":
        if request.get("uid") is not None:
            processes.kill_user(request["uid"])
        statuses: dict[int, int] = {}
        processes.sweep(set(request["sessions"]), me, workers - set(request["sessions"]), statuses)
        ended.update({pid: (status, 0.0) for pid, status in statuses.items()})
        return {}
    return {"error": f"unknown op {op!r}"}


def _spawn(plan: Plan, channel: int, sock: socket.socket) -> tuple[int, Layer]:
    """Fork a worker serving `plan` on the socket `channel`: in a PID namespace of its
    own when the system allows, as that namespace's first process."""
    from grader.sandbox import confinement, worker

    zygote = os.getpid()
    report_r, report_w = os.pipe()
    child = os.fork()
    if child == 0:
        try:  # whatever happens here, this copy of the zygote never returns to its loop
            sock.close()
            os.close(report_r)
            layer = (
                confinement.enter_pid_namespace()
                if "pid_namespace" not in plan.without
                else Layer("pid_namespace", False, confinement.LEFT_OUT)
            )
            if layer.active:
                grandchild = os.fork()
                if grandchild == 0:
                    os.close(report_w)
                    worker.serve(channel, plan, zygote, layer)
                os.write(report_w, json.dumps([grandchild, asdict(layer)]).encode())
                os._exit(0)
            os.write(report_w, json.dumps([os.getpid(), asdict(layer)]).encode())
            os.close(report_w)
            worker.serve(channel, plan, zygote, layer)
        finally:
            os._exit(70)
    os.close(report_w)
    chunks = []
    while chunk := os.read(report_r, 4096):
        chunks.append(chunk)
    os.close(report_r)
    pid, layer = json.loads(b"".join(chunks))
    if pid != child:
        os.waitpid(child, 0)  # the worker's parent has gone: the worker is ours now
    return pid, Layer(**layer)


# -- in the grader's process ----------------------------------------------------------------


class Zygote:
    """The grader's handle on a zygote process: requests and replies with a timeout
    each, so that a zygote that died or was stopped is found out, not waited on."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = tempfile.TemporaryFile(prefix="backprop-ninja-zygote-")
        package_root = str(Path(__file__).resolve().parent.parent.parent)
        code = f"import sys; sys.path.append({package_root!r}); from grader.sandbox.zygote import main; main({theirs.fileno()})"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            cwd="/",
            env=_environment(),
        )
        theirs.close()
        self._sock = ours
        self._info: dict[str, Any] | None = None

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def info(self) -> dict[str, Any]:
        """What the zygote said once it was ready (its pid, whether it is non-dumpable),
        waited for on first use."""
        if self._info is None:
            self._info = self._receive(STARTUP_SECONDS)
        return self._info

    def ready(self) -> None:
        """Wait until the zygote has imported what its workers need."""
        self._info = self.info

    @property
    def alive(self) -> bool:
        return self._process.poll() is None and self._sock.fileno() >= 0

    def spawn(self, plan: Plan) -> tuple[int, socket.socket, Layer]:
        """A new worker for `plan`: its pid, the grader's end of its socket, and whether
        it got a PID namespace."""
        self.ready()
        ours, theirs = socket.socketpair()
        try:
            reply = self._ask({"op": "spawn", "plan": asdict(plan)}, [theirs.fileno()])
        finally:
            theirs.close()
        return reply["pid"], ours, Layer(**reply["layer"])

    def wait(self, pid: int) -> tuple[int, float]:
        """The exit status of a worker that has ended or been killed, and the CPU
        seconds it used."""
        reply = self._ask({"op": "wait", "pid": pid})
        return reply["status"], reply["cpu"]

    def kill(self, uid: int | None, sessions: set[int]) -> None:
        """Kill every process of `uid` (as root), of these sessions, and every orphan the
        zygote adopted."""
        self._ask({"op": "kill", "uid": uid, "sessions": sorted(sessions)})

    def _ask(self, message: dict[str, Any], fds: Sequence[int] = ()) -> dict[str, Any]:
        try:
            socket.send_fds(self._sock, [json.dumps(message).encode()], list(fds))
        except OSError:
            self._lose("it has gone")
        return self._receive(REPLY_SECONDS)

    def _receive(self, seconds: float) -> dict[str, Any]:
        ready = select.select([self._sock], [], [], seconds)[0] if self._sock.fileno() >= 0 else []
        reply = self._sock.recv(1 << 16) if ready else None
        if not reply:
            self._lose("it stopped answering" if ready == [] else "it has gone")
        answer = json.loads(reply)
        if "error" in answer:
            self._lose(answer["error"])
        return answer

    def _lose(self, why: str) -> NoReturn:
        self._log.seek(0)
        said = self._log.read()[-2000:].decode("utf-8", "replace").strip()
        self._process.kill()  # stopped, perhaps: it would not exit on its own
        self.close()
        raise SandboxLost(f"the grading sandbox's zygote process failed: {why}" + (f"\n{said}" if said else ""))

    def hang_up(self) -> None:
        self._sock.close()

    def close(self) -> None:
        """Hang up (the zygote kills what is left and exits); a zygote that does not
        exit is killed."""
        self._sock.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def _environment() -> dict[str, str]:
    """The zygote's environment: what Python and torch need to start, none of the rest
    of the grader's (which may hold a CI platform's tokens)."""
    keep = ("PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("LC_")}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


_ZYGOTE: tuple[int, Zygote] | None = None


def zygote() -> Zygote:
    """This process's zygote, started on first use, and again if it died. A process
    forked from one that had a zygote (a batch job) starts its own."""
    global _ZYGOTE
    if _ZYGOTE is None or _ZYGOTE[0] != os.getpid() or not _ZYGOTE[1].alive:
        if _ZYGOTE is not None and _ZYGOTE[0] == os.getpid():
            _ZYGOTE[1].close()
        _ZYGOTE = (os.getpid(), Zygote())
        atexit.register(_close_at_exit, _ZYGOTE)
    return _ZYGOTE[1]


def start() -> None:
    """Start this process's zygote now, so that its torch import runs beside the
    grader's own."""
    processes.make_undumpable()
    zygote()


def _close_at_exit(entry: tuple[int, Zygote]) -> None:
    """Hang up without waiting: the zygote kills its workers and exits on its own (and
    would die with this process anyway)."""
    if entry[0] == os.getpid():
        entry[1].hang_up()
