"""The worker: the only process that imports and runs student code.

It is forked, with torch already imported, by the zygote in sandbox.py. It puts itself
in a session of its own (so that whatever it starts can be killed with it), moves into a
scratch directory, drops the grader's repository from its import path, caps its memory
and file sizes, sends what C code prints to a file, and then serves requests from the
grader, both ways in the wire format (the replies are decoded without trust).
"""

from __future__ import annotations

import faulthandler
import os
import resource
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import torch

from grader import processes, wire
from grader.limits import Limits
from grader.processes import PR_SET_PDEATHSIG, prctl
from grader.submission import Call, Failure, Submission

OUTPUT_FILE = "output.txt"
WORKER_ERROR = "worker-error.txt"  # in the scratch folder, read by the grader: a failure of the worker itself


def serve(sock: socket.socket, folder: str, scratch: str, limits: Limits) -> NoReturn:
    """Set up the process, then answer requests until the grader hangs up."""
    try:
        _confine(sock, folder, scratch, limits)
        submission = Submission(folder, limits, in_worker=True)
        send = lambda payload: sock.sendall(wire.frame(payload))
        while (request := wire.read_frame(sock.recv)) is not None:
            send(_answer(submission, limits, wire.decode(request), send))
    except BaseException:  # noqa: BLE001 - the grader reads why its worker failed
        Path(scratch, WORKER_ERROR).write_text(traceback.format_exc()[-4000:])
        os._exit(70)
    os._exit(0)


def _answer(submission: Submission, widest: Limits, request: dict[str, Any], send: Callable[[bytes], None]) -> bytes:
    """The reply to one request; a training run also sends its progress on the way."""
    limits = Limits(**request["limits"])
    _reset_output()
    if request["op"] == "import":
        loaded = submission.module(request["module"])
        call = Call(failure=loaded) if isinstance(loaded, Failure) else Call()
    else:
        used = resource.getrusage(resource.RUSAGE_SELF)
        budget = int(used.ru_utime + used.ru_stime + limits.cpu_time) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.RLIM_INFINITY))
        _cap_memory(limits.memory)
        try:
            if request["op"] == "train":
                progress = lambda figures: send(wire.encode({"progress": figures}, None))
                call = submission.train(request["data"], request["config"], progress, limits)
            else:
                call = submission.call(
                    request["module"], request["function"], request["value"], request["as_fwd"], limits
                )
        finally:
            resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            _cap_memory(widest.memory)
    left = _stop_children()
    printed = os.fstat(1).st_size
    if printed > limits.output * 1024 and call.failure is None:
        call = Call(failure=Failure("output_limit", (
            f"printed more than the {limits.output} KB output limit (at least {printed / 1024:,.0f} KB, "
            "from C code or os.write): remove the prints"
        )), output=call.output)  # fmt: skip
    if left and call.failure is None:
        what = f"{request['module']}.py" if request["op"] == "import" else request["function"]
        call = Call(failure=Failure("left_processes", (
            f"{what} started processes ({', '.join(left)}) that were still running when it returned; they were "
            "stopped: a backward pass needs no other process"
        )), output=call.output)  # fmt: skip
    failure = call.failure
    header = {
        "failure": None
        if failure is None
        else {"kind": failure.kind, "message": failure.message, "detail": failure.detail},
        "output": call.output + _c_output(),
        "seconds": call.seconds,
    }
    return wire.encode(header, call.value)


def _confine(sock: socket.socket, folder: str, scratch: str, limits: Limits) -> None:
    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # Off the path: the grader's folder and repository (whose solutions/ must not be importable).
    hidden = {str(Path(p).resolve()) for p in (os.getcwd(), Path(__file__).resolve().parent.parent)}
    sys.path[:] = [folder] + [p for p in sys.path if p and str(Path(p).resolve()) not in hidden]
    os.chdir(scratch)
    os.environ["TMPDIR"] = scratch
    torch.set_num_threads(1)
    # Address space: what the process maps now (torch included) plus the limit; the hard
    # cap is the widest limit, each call lowers the soft one to its own.
    global _MAPPED
    with open("/proc/self/statm") as statm:
        _MAPPED = int(statm.read().split()[0]) * resource.getpagesize()
    cap = _MAPPED + limits.memory * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # Files: a write past the cap fails with EFBIG instead of filling the disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = 4 * limits.output * 1024 + 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    # What C code prints (Python's print is captured above it) goes to a file.
    fd = os.open(OUTPUT_FILE, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    # Nothing of the grader's open files stays within reach (pytest's faulthandler, for
    # one, writes crash dumps to a copy of the grader's stderr).
    faulthandler.disable()
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2 and int(name) != sock.fileno():
            try:
                os.close(int(name))
            except OSError:
                pass
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _stop_children() -> list[str]:
    """Kill the processes that student code started and left running; their names."""
    me = os.getpid()
    running = [pid for pid in processes.descendants(me) if not processes.is_zombie(pid)]
    names = [processes.name(pid) for pid in running]
    processes.kill(running)
    for pid in processes.children(me):  # deeper ones go to the zygote, a subreaper
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return names


_MAPPED = 0  # bytes of address space mapped before any student code ran


def _cap_memory(megabytes: int) -> None:
    cap = _MAPPED + megabytes * 2**20
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (min(cap, hard), hard))


def _reset_output() -> None:
    os.ftruncate(1, 0)
    os.lseek(1, 0, os.SEEK_SET)


def _c_output() -> str:
    os.lseek(1, 0, os.SEEK_SET)
    return os.read(1, 2000).decode("utf-8", "replace")
