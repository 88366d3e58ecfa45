"""The grader's side of the process boundary: a submission whose code runs in confined
worker processes.

The submission is graded from a private copy that its workers may read and not change;
each worker is forked by the zygote (zygote.py) and confines and seals itself before any
student code runs (worker.py, confinement.py, seal.py). The grader trusts nothing a
worker says about itself: it measures each call's CPU time from the kernel's accounting,
stops a call at its wall-time or CPU-time limit, refuses a reply longer than the call can
need before reading it, reads what C code printed from the worker's output file (a few
KB of it), decodes the reply without trust (wire.py), and takes whether the call used
autograd from the reply's sealed trailer alone, which it checks against the request's
nonce and the worker's key.
"""

from __future__ import annotations

import itertools
import os
import select
import shutil
import signal
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from grader.calls.call import Call, Failure, Watch
from grader.calls.failures import SubmissionError, named
from grader.calls.failures import kind as failure_kind
from grader.calls.files import kind_of, open_regular, read_regular, walk
from grader.calls.limits import Limits
from grader.calls.text import clean
from grader.exercises.training import Check, Config, cut_short
from grader.sandbox import processes, seal, wire
from grader.sandbox.confinement import (
    LAYERS,
    LEFT_OUT,
    UID_BASE,
    Confinement,
    Layer,
    Plan,
    Required,
    can_switch_uid,
    grader_repository,
)
from grader.sandbox.execution import uses_autograd
from grader.sandbox.guard import RECORDED
from grader.sandbox.worker import OUTPUT_FILE, WORKER_ERROR
from grader.sandbox.zygote import zygote

START_SECONDS = 30.0  # for a new worker to confine itself and say so
IMPORT_REPLY = 256 * 1024  # bytes: a module's import returns no value
TRAIN_REPLY = 16 * 2**20
PROBE_REPLY = 64 * 1024
REPLY_OVERHEAD = 256 * 1024  # bytes of a reply beyond its tensors: the header, what was printed
POLL_SECONDS = 0.05  # how often a running call's CPU time is read
RECEIVED = 256 * 1024  # bytes taken from the socket at once, at most (beyond what a read asks)
PRINTED = 2000  # bytes of what C code printed in a call, kept for the feedback
WORKER_ERROR_BYTES = 8000  # of the worker's own error, read from the end of its file
MAX_FILES = 1000  # in a submission's private copy
MAX_BYTES = 16 * 2**20

_UIDS = itertools.count()


class SandboxError(RuntimeError):
    """A worker could not be set up: a fault of the grader or the machine, not of the
    submission."""


class ConfinementError(RuntimeError):
    """Grading was asked to refuse to run without layers this machine does not give."""

    def __init__(self, missing: list[Layer]):
        self.missing = missing
        lines = "".join(f"\n  {layer.name}: {layer.detail}" for layer in missing)
        super().__init__(f"refusing to grade without these confinement layers (--require-confinement):{lines}")


class _CpuExceeded(Exception):
    pass


class Sandbox:
    """A submission whose code runs in confined worker processes, under limits."""

    sandboxed = True

    def __init__(
        self,
        folder: Path | str,
        limits: Limits,
        require: Required = False,
        without: tuple[str, ...] = (),
        watch: tuple[str, ...] = (),
    ):
        """`folder`: the submission's modules (a notebook is handed in first). `require`: False to grade whatever layers this machine gives, None for the
        default set of --require-confinement, or the names of the layers required.
        `without`: layers to leave out (identity, seccomp, landlock, pid_namespace), for
        the tests that show what each of the others holds on its own. `watch`: the
        forward operators whose evaluations the workers count."""
        self.limits = limits
        self.source = Path(folder).resolve()
        self._zygote = zygote()
        self._base = Path(tempfile.mkdtemp(prefix="backprop-ninja-"))
        try:
            repository = grader_repository()
            hidden = (str(repository),) if repository else ()
            switch, no_uid = can_switch_uid(hidden) if "identity" not in without else (False, LEFT_OUT)
            self._uid = UID_BASE + ((os.getpid() & 0x3FFFFF) << 4) + next(_UIDS) % 16 if switch else None
            self.folder = private_copy(self.source, self._base / "submission", self._uid)
            self._scratch = self._base / "scratch"
            self._scratch.mkdir(mode=0o700)
            if self._uid is not None:
                os.chmod(self._base, 0o711)
                os.chown(self._scratch, self._uid, self._uid)
            self._plan = Plan(
                str(self.folder),
                str(self._scratch),
                limits.memory,
                limits.output,
                self._uid,
                hidden,
                no_uid,
                tuple(without),
                tuple(watch),
            )
            self._worker: tuple[int, socket.socket] | None = None
            self._imported: set[str] = set()
            self._broken: dict[str, Failure] = {}
            self._seccomp = False
            self.confinement = self._start_and_check(require)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ----------------------------------------------------------------------------

    def submit(
        self,
        module: str,
        function: str,
        arguments: dict[str, Any],
        as_fwd: bool = False,
        limits: Limits | None = None,
        max_reply: int | None = None,
        watch: Watch = (),
    ) -> Callable[[], Call]:
        """Send the call to the worker, and return what waits for its reply: the grader
        can compute the reference meanwhile. `limits` are the call's, within the
        sandbox's own; `max_reply` the most bytes its reply may take; `watch` the
        (operator, shape) pairs whose evaluations the seal counts."""
        limits = limits or self.limits
        if module in self._broken:
            return _ready(Call(failure=self._broken[module]))
        if module not in self._imported:
            call = self._send({"op": "import", "module": module}, None, self.limits, IMPORT_REPLY)()
            if call.failure:
                if failure_kind(call.failure.kind).final_at_import:
                    self._broken[module] = _while_importing(module, call.failure)
                    return _ready(Call(failure=self._broken[module], output=call.output))
                return _ready(call)
            self._imported.add(module)
        request = {"op": "call", "module": module, "function": function, "as_fwd": as_fwd}
        return self._send(request, arguments, limits, max_reply or MAX_REPLY_DEFAULT, watch=watch)

    def time(
        self,
        module: str,
        function: str,
        arguments: dict[str, Any],
        as_fwd: bool,
        repeats: int,
        limits: Limits | None = None,
        max_reply: int | None = None,
    ) -> Call:
        """The CPU time one call of a function takes, as the kernel counted it over
        `repeats` calls in the worker (the timing step): the worker's own clock is never
        asked. The Call's value is the first call's return, for the grader to check."""
        request = {"op": "time", "module": module, "function": function, "as_fwd": as_fwd, "repeats": repeats}
        call = self._send(request, arguments, limits or self.limits, max_reply or MAX_REPLY_DEFAULT)()
        return replace(call, seconds=call.seconds / repeats)

    def train(
        self,
        words: list[str],
        config: dict[str, Any],
        progress: Callable[[dict[str, Any]], None] | None = None,
        limits: Limits | None = None,
        check: Check | None = None,
    ) -> Call:
        """Train the lecture's network in the worker with the submission's mlp_backward
        (exercises/training.py): the progress comes as it goes, the figures at the end;
        each comparison with autograd the run asks for is answered here, by `check`. A
        run stopped at `limits` (a call that did not return by GRACE seconds after the
        run's own limit) gives the figures of its last progress report."""
        from grader.exercises.catalogue import TRAINING

        if TRAINING.module in self._broken:
            return Call(failure=self._broken[TRAINING.module])
        request = {"op": "train", "words": list(words), "config": config}
        last = {"step": 0.0}

        def heard(figures: dict[str, Any]) -> None:
            # The worker reports its progress whether or not anyone reads it: the reports
            # are read past, never taken for the reply.
            last.update(figures)
            if progress is not None:
                progress(figures)

        start = time.monotonic()
        call = self._send(request, None, limits or self.limits, TRAIN_REPLY, heard, check)()
        if call.failure is not None and call.failure.kind in ("timeout", "cpu_time"):
            value = cut_short(Config(**config), last, time.monotonic() - start)
            return Call(value=value, output=call.output)
        return call

    def probe(self) -> dict[str, str]:
        """What a confined worker may do here: for each forbidden thing tried from inside,
        "blocked" or what happened (backprop-ninja doctor)."""
        grader_file = str(Path(__file__).resolve())
        call = self._send({"op": "probe", "grader_file": grader_file}, None, self.limits, PROBE_REPLY)()
        if call.failure or not isinstance(call.value, dict):
            raise SandboxError(f"the probe failed: {call.failure.message if call.failure else call.value!r}")
        return {str(k): str(v) for k, v in call.value.items()}

    # -- the worker -----------------------------------------------------------------------

    def _start_and_check(self, require: Required) -> Confinement:
        layers = self._start()
        confinement = Confinement(tuple(layers[name] for name in LAYERS))
        if require is not False:
            missing = confinement.missing(require)
            if missing:
                raise ConfinementError(missing)
        return confinement

    def _start(self) -> dict[str, Layer]:
        """A new worker; the layers that confine it."""
        pid, sock, _ = self._zygote.spawn(self._plan)
        self._worker = (pid, sock)
        self._imported.clear()
        try:
            ready = wire.decode(wire.read_frame(_reader(sock, time.monotonic() + START_SECONDS), PROBE_REPLY) or b"")
            layers = {d["name"]: Layer(d["name"], bool(d["active"]), str(d["detail"])) for d in ready["ready"]}
            self._key = bytes.fromhex(ready["key"])
        except (wire.WireError, TimeoutError, OSError, KeyError, TypeError, ValueError) as error:
            self._stop()
            why = self._worker_error() or f"{type(error).__name__}: {error}"
            raise SandboxError(f"a grading worker could not start: {why.strip().splitlines()[-1]}\n{why}") from None
        undumpable = processes.make_undumpable() and bool(self._zygote.info.get("non_dumpable"))
        layers["non_dumpable"] = Layer(
            "non_dumpable",
            undumpable,
            "the grader and the zygote" if undumpable else "prctl(PR_SET_DUMPABLE) was refused",
        )
        self._seccomp = layers["seccomp"].active
        return layers

    def _live(self) -> tuple[int, socket.socket]:
        """The worker, started if none is running."""
        if self._worker is None:
            self._start()
        if self._worker is None:
            raise SandboxError("the worker did not start")
        return self._worker

    def _send(
        self,
        request: dict[str, Any],
        value: Any,
        limits: Limits,
        max_reply: int,
        progress: Callable[[dict[str, Any]], None] | None = None,
        check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        watch: Watch = (),
    ) -> Callable[[], Call]:
        pid, sock = self._live()
        _empty(self._scratch / OUTPUT_FILE)
        cpu = processes.cpu_seconds(pid) or 0.0
        deadline = time.monotonic() + limits.wall_time
        nonce = os.urandom(seal.NONCE)
        try:
            wire.send(sock, {**request, "limits": asdict(limits)}, value, seal.request_prefix(nonce, watch))
        except OSError:
            return lambda: self._receive(None, nonce, cpu, limits, max_reply)
        return lambda: self._receive(deadline, nonce, cpu, limits, max_reply, progress, check)

    def _receive(
        self,
        deadline: float | None,
        nonce: bytes,
        cpu: float,
        limits: Limits,
        max_reply: int,
        progress: Callable[[dict[str, Any]], None] | None = None,
        check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Call:
        """The worker's reply, after any progress reports and checks, or what went wrong
        with it."""
        pid, sock = self._live()
        try:
            if deadline is None:  # the request never reached the worker
                reply = trailer = None
            else:
                read = _reader(sock, deadline, lambda: (processes.cpu_seconds(pid) or cpu) - cpu > limits.cpu_time)
                reply = wire.read_frame(read, max_reply)
                while reply is not None and (progress is not None or check is not None):
                    header = wire.decode(reply)
                    if "check" in header and check is not None:
                        answer = check(header["value"]) if isinstance(header.get("value"), dict) else {}
                        wire.send(sock, {}, answer)
                    elif isinstance(header.get("progress"), dict) and progress is not None:
                        progress(_figures(header["progress"]))
                    else:
                        break
                    reply = wire.read_frame(read, max_reply)
                trailer = wire.read_frame(read, seal.MAX_TRAILER) if reply is not None else None
        except (TimeoutError, _CpuExceeded, wire.WireError) as error:
            self._stop()
            return Call(failure=_stopped(error, limits))
        except OSError:
            reply = trailer = None
        if reply is None or trailer is None:
            return Call(failure=self._death(cpu, limits))
        used = (processes.cpu_seconds(pid) or cpu) - cpu
        try:
            verdict = seal.verify(self._key, nonce, reply, trailer)
            header = wire.decode(reply)
        except (seal.TrailerError, wire.WireError, ValueError, KeyError, TypeError) as error:
            self._stop()
            return Call(failure=_forged(error))
        printed, size = self._printed()
        call = _call(header, used, printed, (str(self.folder), str(self.source)))
        call = replace(call, evaluations=verdict.evaluations)
        evidence = [*verdict.refused, *([RECORDED] if verdict.nodes > 0 else [])]
        if evidence:
            call = Call(failure=uses_autograd(evidence), output=call.output, evaluations=verdict.evaluations)
        if size > limits.output * 1024 and call.failure is None:
            call = Call(
                failure=Failure(
                    "output_limit",
                    (
                        f"printed more than the {limits.output} KB output limit (at least {size / 1024:,.0f} KB, from C code "
                        "or os.write): remove the prints"
                    ),
                ),
                output=call.output,
            )
        left = [] if self._seccomp else processes.descendants(pid)
        if left and call.failure is None:
            names = ", ".join(processes.name(p) for p in left[:5])
            processes.kill(left)
            call = Call(
                failure=Failure(
                    "left_processes",
                    (
                        f"your code started processes ({names}) that were still running when it returned; they were "
                        "stopped: a backward pass needs no other process"
                    ),
                ),
                output=call.output,
            )
        return call

    def _printed(self) -> tuple[str, int]:
        """What C code (or os.write) printed during the call (its first KB), and how many
        bytes."""
        try:
            text, size = read_regular(self._scratch / OUTPUT_FILE, PRINTED)
        except OSError:
            return "", 0
        return text.decode("utf-8", "replace"), size

    def _stop(self) -> tuple[int, float]:
        """Kill the worker and whatever it started; its exit status and CPU seconds."""
        if self._worker is None:
            raise SandboxError("no worker to stop")
        pid, sock = self._worker
        self._worker = None
        sock.close()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = self._zygote.wait(pid)
        self._zygote.kill(self._uid, {pid})
        return status

    def _death(self, cpu: float, limits: Limits) -> Failure:
        """Why a worker that was serving died: its exit status, as the kernel tells it (what
        it wrote of itself is student code's to write by then, and not read)."""
        status, used = self._stop()
        kind, words = processes.death(status, used - cpu, limits.cpu_time)
        return Failure(kind, words)

    def _worker_error(self) -> str:
        """Why a worker failed before it became ready (before any student code ran): the
        end of the file it wrote that to, its last few KB."""
        path = self._scratch / WORKER_ERROR
        try:
            text, _ = read_regular(path, WORKER_ERROR_BYTES, tail=True)
            _empty(path)
        except OSError:
            return ""
        return clean(text.decode("utf-8", "replace"))

    def close(self) -> None:
        """Stop the worker, kill every process the submission started, remove its copy
        and scratch folder."""
        try:
            if getattr(self, "_worker", None):
                self._stop()  # and with it, every process of the submission's uid and session
            elif self._zygote.alive:
                self._zygote.kill(getattr(self, "_uid", None), set())
        finally:
            shutil.rmtree(self._base, ignore_errors=True)


MAX_REPLY_DEFAULT = 64 * 2**20


def max_reply(shapes: list[tuple[int, ...]]) -> int:
    """The most bytes a reply carrying gradients of these shapes may take: each in
    float64 (any float dtype is accepted), with room for extra keys and the header."""
    elements = sum(_numel(shape) for shape in shapes)
    return 2 * 8 * elements + REPLY_OVERHEAD


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def private_copy(source: Path, target: Path, uid: int | None) -> Path:
    """Copy the Python files of a submission folder (its modules and their helpers)
    into `target`, which only the submission's own worker may read and nobody may
    change; without a uid of its own, only the grader's user may read it."""

    files = []
    for folder, dirs, names in walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(n for n in names if n.endswith(".py")):
            mode = os.lstat(Path(folder, name)).st_mode
            if stat.S_ISLNK(mode):
                continue
            if not stat.S_ISREG(mode):
                raise SubmissionError(
                    f"{Path(folder, name).relative_to(source)} is {kind_of(mode)}, not a file: hand in your modules "
                    "as plain files"
                )
            files.append(Path(folder, name))
        if len(files) > MAX_FILES:
            break
    dir_mode, file_mode = (0o750, 0o640) if uid is not None else (0o700, 0o600)
    target.mkdir(mode=dir_mode)
    for file in files:
        copy = target / file.relative_to(source)
        for parent in reversed(copy.relative_to(target).parents[:-1]):
            (target / parent).mkdir(mode=dir_mode, exist_ok=True)
        fd = open_regular(file)  # a file swapped for a FIFO meanwhile is refused, not waited on
        with os.fdopen(fd, "rb") as source_file, open(copy, "wb") as target_file:
            shutil.copyfileobj(source_file, target_file)
        os.chmod(copy, file_mode)
    if uid is not None:
        for path in [target, *target.rglob("*")]:
            os.chown(path, 0, uid)
            os.chmod(path, dir_mode if path.is_dir() else file_mode)
    return target


def _empty(path: Path) -> None:
    try:
        os.truncate(path, 0)
    except OSError:
        pass


def _figures(figures: dict[str, Any]) -> dict[str, float]:
    """The figures of a progress report: numbers only."""
    return {k: float(v) for k, v in figures.items() if isinstance(k, str) and isinstance(v, (int, float))}


def _forged(error: Exception) -> Failure:
    """A reply that the seal did not send as it is."""
    return Failure(
        "crashed",
        (
            "the reply to this call was not the grading worker's own (its seal did not hold: "
            f"{error}): your code wrote on a channel that is not its own; return the gradients instead"
        ),
    )


def _ready(call: Call) -> Callable[[], Call]:
    return lambda: call


def _reader(sock: socket.socket, deadline: float, over_cpu: Callable[[], bool] | None = None) -> Any:
    """sock.recv that raises TimeoutError once the deadline has passed, and
    _CpuExceeded once `over_cpu` says so (checked every POLL_SECONDS). It takes what has
    arrived, up to RECEIVED bytes, at once, so that a reply and its trailer cost one
    wait and one system call rather than one per frame and field."""
    arrived = bytearray()

    def read(n: int) -> bytes:
        while not arrived:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if select.select([sock], [], [], min(left, POLL_SECONDS))[0]:
                chunk = sock.recv(max(n, RECEIVED))
                if not chunk:
                    return b""
                arrived.extend(chunk)
            elif over_cpu is not None and over_cpu():
                raise _CpuExceeded
        taken = bytes(arrived[:n])
        del arrived[:n]
        return taken

    return read


def _stopped(error: Exception, limits: Limits) -> Failure:
    """Why the grader stopped a worker in the middle of a call."""
    if isinstance(error, TimeoutError):
        return Failure(
            "timeout",
            f"your code ran longer than the {limits.wall_time:g} s time limit and was stopped: "
            "an endless loop, or a very slow one?",
        )
    if isinstance(error, _CpuExceeded):
        return Failure(
            "cpu_time",
            f"your code used more than the {limits.cpu_time:g} s CPU-time limit and was "
            "stopped: an endless loop, or a very slow one?",
        )
    if isinstance(error, wire.TooLarge):
        return Failure(
            "too_large",
            (
                f"returned {error.length / 2**20:,.1f} MB, far more than the gradients it must return need (at most "
                f"{error.limit / 2**20:,.1f} MB): return only the gradients, each with the shape of its input"
            ),
        )
    return Failure("crashed", f"the Python process running your code sent garbage: {error}")


def _call(header: dict[str, Any], seconds: float, printed: str, paths: tuple[str, str]) -> Call:
    """A Call from a decoded reply, whose every field is checked, and from what the
    grader measured: the CPU time, and what C code printed. `paths`: the private copy's
    folder, and the submission's own, which messages name instead."""
    output = header.get("output")
    output = clean((output[:4000] if isinstance(output, str) else "") + printed)
    failure = header.get("failure")
    if failure is None:
        given = header.get("aliases")
        pairs = given if isinstance(given, list) else []
        aliases = tuple(
            (p[0][:100], p[1][:100])
            for p in pairs[:1000]
            if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
        )
        return Call(value=header["value"], output=output, seconds=seconds, aliases=aliases)
    if not isinstance(failure, dict) or not all(isinstance(failure.get(k), str) for k in ("kind", "message", "detail")):
        return Call(failure=Failure("crashed", "the Python process running your code sent a malformed reply"))
    kind = named(failure["kind"])
    given_line = failure.get("line")
    line = given_line if type(given_line) is int and 0 <= given_line < 10**7 else 0
    text = lambda field, most: clean(failure[field][:most]).replace(*paths)  # noqa: E731
    return Call(failure=Failure(kind, text("message", 2000), text("detail", 20000), line), output=output)


def _while_importing(module: str, failure: Failure) -> Failure:
    if failure.kind in ("missing_module", "import_error") or failure.message.startswith(f"{module}.py"):
        return failure
    return Failure(failure.kind, f"{module}.py failed to import: {failure.message}", failure.detail)
