"""The worker: the only process that imports and runs student code.

The zygote forks it, with torch already imported and the seal installed, in a PID
namespace of its own where the system allows. Before any student code runs (its imports
included) it leaves the grader's session, files and import path, sends what it prints
to a file of its scratch folder, confines itself by every layer the kernel gives
(confinement.py) and latches the seal (seal.py). Then it says which layers hold, hands
the grader the seal's key, and answers requests: the seal reads each one and sends each
reply with its trailer. The grader trusts nothing else the worker says about itself: it
measures time and sizes on its own side, and decodes the replies without trust.
"""

from __future__ import annotations

import faulthandler
import os
import resource
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import torch

from grader.calls.call import Call, Failure
from grader.calls.limits import Limits
from grader.sandbox import confinement, processes, seal, wire
from grader.sandbox.confinement import Layer, Plan
from grader.sandbox.execution import StudentCode

OUTPUT_FILE = "output.txt"
WORKER_ERROR = "worker-error.txt"  # in the scratch folder, read by the grader: a failure of the worker itself


def preload() -> None:
    """Import, in the zygote, everything a worker needs once confined: it may no longer
    read the grader's own files."""
    import landlockpy  # noqa: F401
    import torch.library  # noqa: F401

    from grader.exercises import training as train  # noqa: F401

    try:
        import pyseccomp  # noqa: F401
    except (ImportError, RuntimeError, OSError):
        pass  # the seccomp layer reports it
    warm_up()
    for name in sys.builtin_module_names:  # a worker may not create one (seal.latch)
        __import__(name)
    seal.install()


def warm_up() -> None:
    """Run, in the zygote, the torch operations whose first use reads the machine's
    description (cpuinfo, for the float16 and bfloat16 kernels) or loads a library, so
    that a confined worker finds them ready."""
    x, index = torch.randn(4, 3), torch.tensor([0, 2, 1, 0])
    warm = [
        *(
            lambda dtype=dtype: (x.to(dtype) @ x.to(dtype).T).sum(0, keepdim=True).exp().log()
            for dtype in (torch.float16, torch.bfloat16, torch.float64)
        ),
        lambda: torch.nn.functional.one_hot(index, 3).float().T @ x,
        lambda: torch.zeros(3, 3).index_add_(0, index[:2], x[:2]).scatter_add_(0, index[None, :3], x[:1]),
        lambda: torch.einsum("ij,kj->ik", x, x) + torch.tensordot(x, x, dims=([1], [1])),
        lambda: x.softmax(1) + x.log_softmax(1) + x.tanh() + x.cumsum(0) + x.max(1, keepdim=True).values,
        lambda: x.var(0) + torch.nn.functional.cross_entropy(x, index),
    ]
    for operation in warm:
        operation()


def serve(channel: int, plan: Plan, zygote: int, namespace: Layer) -> NoReturn:
    """Set up, confine and seal the process, then answer requests until the grader hangs
    up. The seal (seal.py) reads each request and sends each reply: nothing this loop
    does after student code has run can change what the reply's trailer says."""
    error = None
    try:
        sock = socket.socket(fileno=channel)
        error = _prepare(sock, plan, zygote, namespace)
        torch._C._set_grad_enabled(False)  # autograd off, as the lecture's backward pass needs none
        layers = [namespace, *confinement.apply_in_worker(plan)]
        if plan.watch:
            seal.count(plan.watch)
        # Time is the grader's to measure and enforce; each request carries its own limits.
        widest = Limits(float("inf"), float("inf"), plan.memory, plan.output)
        code = StudentCode(plan.folder, widest, label="the submission", sealed=True)
        failed = wire.encode({"failure": asdict(Failure("crashed", WORKER_BROKE))}, None)
        sealed = "seal" not in plan.without
        key = seal.latch(sock, plan.folder, sealed)
        layers.append(Layer("seal", sealed, SEALED if sealed else confinement.LEFT_OUT))
        wire.send(sock, {"ready": [asdict(layer) for layer in layers], "key": key.hex()}, None)
        del key
        # From here on student code runs, and could write anything to this file: the grader
        # reads it only for a worker that never became ready.
        os.close(error)
        error = None
        _requests(code, sock, zygote, failed, sys.audit, seal.BEGIN, seal.FINISH)
    except BaseException:  # noqa: BLE001 - the grader reads why its worker failed
        if error is not None:
            os.write(error, traceback.format_exc()[-4000:].encode())
        os._exit(70)
    os._exit(0)


WORKER_BROKE = "the grading worker could not build its reply: your code changed the grader's own modules?"
SEALED = "autograd's verdict and each reply sealed by an audit hook; no frames, gc, ctypes or code from bytes"


def _requests(
    code: StudentCode,
    sock: socket.socket,
    zygote: int,
    failed: bytes,
    audit: Callable[..., None],
    begin: str,
    finish: str,
) -> None:
    """Answer requests until the grader hangs up. `audit` is sys.audit, and `begin` and
    `finish` the seal's events, as they were before any student code ran: the seal
    answers them whatever else student code replaced."""
    while True:
        opened: list[memoryview] = []
        audit(begin, opened)
        if not opened:
            return
        try:
            request = wire.decode(bytes(opened[0]))
            send = lambda header, value=None: wire.send(sock, header, value)
            reply = _answer(code, request, send, sock.recv, zygote)
            chunks: list[Any] = list(wire.message(reply, reply.pop("value")))
        except BaseException:  # noqa: BLE001 - whatever student code broke, a reply goes back
            chunks = [failed]
        audit(finish, chunks)


def _prepare(sock: socket.socket, plan: Plan, zygote: int, namespace: Layer) -> int:
    """Leave the grader's session, files, environment and import path; the descriptor of
    the file the worker's own failures go to."""
    _adopted(zygote)
    processes.prctl(processes.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()
    faulthandler.disable()
    os.chdir(plan.scratch)
    error = os.open(WORKER_ERROR, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # Appended to, so that the grader can empty it before each call and read what C
    # code printed during that call alone.
    output = os.open(OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    if plan.uid is not None:
        for fd in (error, output):
            os.fchown(fd, plan.uid, plan.uid)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    # Nothing of the grader's open files stays within reach.
    keep = {0, 1, 2, sock.fileno(), error}
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            try:
                os.close(int(name))
            except OSError:
                pass
    # Off the path: the grader's repository (whose solutions/ must not be importable).
    hidden = {str(Path(p).resolve()) for p in plan.hidden}
    sys.path[:] = [plan.folder] + [p for p in sys.path if p and str(Path(p).resolve()) not in hidden]
    sys.dont_write_bytecode = True
    os.environ.clear()
    os.environ.update({"HOME": plan.scratch, "TMPDIR": plan.scratch, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file-size cap fails (EFBIG) instead
    return error


def _adopted(zygote: int) -> None:
    """Wait until the zygote is this process's parent: in a PID namespace, the worker is
    the grandchild, and the zygote (a subreaper) adopts it once its parent has exited.
    A worker whose zygote has gone exits."""
    first, deadline = _parent(), time.monotonic() + 10
    while (parent := _parent()) != zygote:
        if parent != first or time.monotonic() > deadline:
            os._exit(0)
        time.sleep(0.0002)


def _parent() -> int:
    """The parent's pid as the grader sees it (getppid says 0 inside a PID namespace)."""
    text = Path("/proc/self/stat").read_text()
    return int(text[text.rindex(")") + 2 :].split()[1])


def _answer(
    code: StudentCode, request: dict[str, Any], send: Callable[..., None], read: Callable[[int], bytes], zygote: int
) -> dict[str, Any]:
    """The reply to one request (its value under "value"); a training run also sends its
    progress on the way, and its checks, whose answers it reads."""
    limits = Limits(**request["limits"])
    _cap_memory(limits.memory, code.limits.memory)
    op = request["op"]
    if op == "import":
        loaded = code.module(request["module"])
        call = Call(failure=loaded) if isinstance(loaded, Failure) else Call()
    elif op == "train":
        progress = lambda figures: send({"progress": figures})
        call = code.train(request["words"], request["config"], progress, lambda values: check(send, read, values))
    elif op == "probe":
        call = Call(value=confinement.probe(zygote, request["grader_file"]))
    elif op == "time":
        call = code.time(
            request["module"], request["function"], request["value"], request["as_fwd"], request["repeats"]
        )
    else:
        call = code.call(request["module"], request["function"], request["value"], request["as_fwd"], limits)
    return {
        "failure": None if call.failure is None else asdict(call.failure),
        "output": call.output,
        "aliases": [list(pair) for pair in call.aliases],
        "value": call.value,
    }


def check(send: Callable[..., None], read: Callable[[int], bytes], values: dict[str, Any]) -> dict[str, Any]:
    """A training run's comparison with autograd, made by the grader (autograd never runs
    where student code does): what the run sends, and the grader's answer."""
    send({"check": True}, values)
    answer = wire.decode(wire.read_frame(read, CHECK_ANSWER) or b"")
    return answer["value"] if isinstance(answer.get("value"), dict) else {}


CHECK_ANSWER = 64 * 1024


def _cap_memory(megabytes: int, widest: int) -> None:
    """The call's own memory limit, within the worker's hard cap (which is the widest)."""
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = hard - max(widest - megabytes, 0) * 2**20 if hard != resource.RLIM_INFINITY else hard
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
