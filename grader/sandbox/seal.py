"""The seal: what decides "this call used autograd", in a worker, out of student code's
reach.

Nothing here is a switch that student code could find and turn off:

- in the zygote, before any worker exists (`install`), torch's gradient operators
  refuse at the dispatcher, at every key the registry holds a kernel for; the Python
  functions that implement them refuse when called; TorchScript's symbolic
  differentiator and the frame-evaluation hooks are taken out of every namespace
  (differentiators.py finds them all in torch itself); and a PEP 578 audit hook, which
  Python code can neither list nor remove, is put in place;
- a worker latches the hook before any student code runs (`latch`). From then on the
  hook refuses what would reach anything of the worker's own: `gc` walks, frames
  (`sys._getframe`, `tb_frame`, `gi_frame`, tracing, profiling), `ctypes`, code made
  from bytes (`code.__new__`, `marshal`), new threads and processes, another audit
  hook, and importing again a module that was loaded (a built-in or extension module
  imported anew comes back whole);
- the hook holds all that decides, in its closure alone. It reads each request from
  the grader's channel itself (BEGIN), so that no code of the worker's runs between a
  request's arrival and the start of its count; and it sends each reply itself
  (FINISH), with a trailer: the autograd graph nodes made since BEGIN (autograd's own
  counter, which only counts up), the watched forward operators' evaluations, and a
  MAC of the request's nonce, that verdict and the reply, keyed with a secret the hook
  drew and the worker handed to the grader before any student code ran. Student code
  can write on the channel, and raise BEGIN or FINISH itself, but it cannot make a
  trailer that says less than happened.

What it does not hold against: code that reads or writes the process's memory by
address (numpy's array interface takes a raw pointer). docs/threat-model.md says
what holds.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import os
import struct
import sys
import sysconfig
import types
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from grader.calls.call import Watch
from grader.sandbox import differentiators
from grader.sandbox.wire import IOV_MAX

LATCH = "backprop-ninja.latch"  # (socket, folder, refusing, out): sealed from now on; out gets the key
COUNT = "backprop-ninja.count"  # (operator names,): count their evaluations (before the latch only)
BEGIN = "backprop-ninja.begin"  # (out,): read one request; out gets its message (nothing: the grader hung up)
FINISH = "backprop-ninja.finish"  # (chunks,): send them as the reply, with the trailer
FRAMES = "backprop-ninja.frames"  # (traceback, out): out gets (file, line, function) of each frame

NONCE = 16  # bytes of a request's nonce
KEY = 32  # bytes of the MAC key, and of a MAC
MAX_WATCH = 256  # operators one request may watch
MAX_TRAILER = 64 * 1024
_LENGTH = struct.Struct("<Q")
_WORD = struct.Struct("<I")

# The events the hook refuses once latched, with what the student's code tried.
REFUSED = {
    "gc.get_objects": "walk the garbage collector's objects",
    "gc.get_referrers": "walk the garbage collector's objects",
    "gc.get_referents": "walk the garbage collector's objects",
    "sys._getframe": "read the call stack",
    "sys._current_frames": "read the call stack",
    "sys._current_exceptions": "read the call stack",
    "sys.settrace": "trace the interpreter",
    "sys.setprofile": "profile the interpreter",
    "sys.addaudithook": "add an audit hook",
    "code.__new__": "make code from bytes",
    "marshal.loads": "make code from bytes",
    "marshal.load": "make code from bytes",
    "_thread.start_new_thread": "start a thread",
    "os.fork": "start a process",
    "os.forkpty": "start a process",
    "os.posix_spawn": "start a process",
    "os.system": "start a program",
    "subprocess.Popen": "start a program",
    "object.__setattr__": "replace a function's code or defaults",
    "object.__delattr__": "replace a function's code or defaults",
}
_PREFIXES = ("ctypes.", "os.exec", "os.spawn")  # every event of these: use ctypes, start a program
# The attributes that give a frame ("object.__getattr__" is raised for them, and for code
# objects, which are harmless: no code can be made from bytes).
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
# Standard-library modules student code may not import while grading: what reads memory by address.
NO_IMPORT = frozenset({"ctypes", "_ctypes"})
ADVICE = "a backward pass needs only tensor operations"
BY_HAND = "write the gradient by hand"


class Sealed(PermissionError):
    """Raised in student code at anything the seal refuses."""


def refusal(what: str, advice: str = ADVICE) -> Sealed:
    return Sealed(f"your code may not {what} while grading: {advice}")


# -- in the zygote ----------------------------------------------------------------------------------


def install() -> None:
    """Refuse torch's gradient operators and their Python implementations, take its
    symbolic differentiators and frame hooks out of every namespace, and put the hook in
    place, inactive until a worker latches it. Once, in the zygote."""
    operators = differentiators.gradient_operators()
    libraries: dict[str, Any] = {}
    hook, refuse = _hook()
    with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
        warnings.simplefilter("ignore")
        for name in sorted(operators):
            namespace, _, op = name.partition("::")
            if namespace not in libraries:
                libraries[namespace] = torch._C._dispatch_library("IMPL", namespace, "", "", 0)
            kernel = _refusing(refuse, f"call torch's gradient operator {name}")
            for key in differentiators.kernel_keys(name):
                try:
                    libraries[namespace].impl(op, key, kernel, False)  # type: ignore[call-arg]  # torch's stub omits with_keyset
                except RuntimeError:  # a key that takes no kernel from Python
                    continue
    for fn in differentiators.python_implementations(operators):
        message = str(refusal(f"call torch's own derivative {fn.__module__}.{fn.__qualname__}", BY_HAND))
        fn.__code__ = _refusing_code(message, len(fn.__code__.co_freevars))
    _take_out(differentiators.symbolic_entry_points().values())
    import _thread

    starters = [
        getattr(_thread, n) for n in ("start_new_thread", "start_new", "start_joinable_thread") if hasattr(_thread, n)
    ]
    _THREAD_STARTERS[:] = _names(starters)
    # The registrations stay alive in the hook's closure alone: nothing else holds them.
    refuse(libraries)
    sys.addaudithook(hook)


def _refusing(refuse: Callable[[str], Any], what: str) -> Callable[..., Any]:
    def kernel(*args: Any, **kwargs: Any) -> Any:
        refuse(what)

    return kernel


def _refusing_code(message: str, free: int) -> types.CodeType:
    """The code of a function that raises PermissionError(message), with `free` free
    variables: a function's code can only be replaced by one with as many, and it runs
    with its function's own globals (so it names only a builtin)."""
    names = [f"_cell{i}" for i in range(free)]
    source = "def outer():\n" + "".join(f"    {n} = None\n" for n in names)
    source += f"    def refuse(*args, **kwargs):\n        raise PermissionError({message!r})\n"
    source += "".join(f"        {n}\n" for n in names) + "    return refuse\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<backprop-ninja seal>", "exec"), namespace)
    return namespace["outer"]().__code__


def _take_out(objects: Iterable[Any]) -> None:
    """Delete every name that module namespaces give these objects."""
    for namespace, key in _names(objects):
        namespace.pop(key, None)


def _names(objects: Iterable[Any]) -> list[tuple[dict[str, Any], str]]:
    """Every (module namespace, name) that holds one of these objects."""
    wanted = {id(o): o for o in objects}
    if not wanted:
        return []
    namespaces = {id(vars(m)) for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)}
    found = []
    for holder in gc.get_referrers(*wanted.values()):
        if isinstance(holder, dict) and id(holder) in namespaces:
            found += [(holder, k) for k, v in holder.items() if wanted.get(id(v)) is v]
    return found


# The names that start a thread, found once in the zygote, taken out when a worker
# latches: Python 3.11 raises no audit event for a new thread, whose node counter would
# be its own (seccomp forbids threads too, where the kernel has it).
_THREAD_STARTERS: list[tuple[dict[str, Any], str]] = []


def _refusing_thread(*args: Any, **kwargs: Any) -> Any:
    raise refusal("start a thread")


# -- the hook ---------------------------------------------------------------------------------------


def _hook() -> tuple[Callable[[str, tuple[Any, ...]], None], Callable[[Any], None]]:
    """The audit hook, and what the kernels that refuse call (which records what was
    refused, in the open request, and raises; given the registrations once, it keeps
    them). Every object the hook uses is bound here, while no student code exists, and
    every builtin under a name of its own: nothing student code later does to a module,
    a class or the builtins changes what the hook does."""
    # The module's names, copied: a student who assigns seal.BEGIN or empties seal.REFUSED
    # changes the module, not the hook.
    begin_event, finish_event, frames_event, count_event, latch_event = BEGIN, FINISH, FRAMES, COUNT, LATCH
    nonce_size, key_size, max_watch, length_size, iov_max = NONCE, KEY, MAX_WATCH, _LENGTH.size, IOV_MAX
    refused = dict(REFUSED).get  # a copy that nothing else holds
    sealed, advice, by_hand, prefixes = Sealed, ADVICE, BY_HAND, _PREFIXES

    def refusal_(what: str, why: str = advice) -> Sealed:
        return sealed(f"your code may not {what} while grading: {why}")

    sequence_nr, grad_enabled = torch._C._autograd._get_sequence_nr, torch._C.is_grad_enabled
    blake2b, urandom, dispatch_library = hashlib.blake2b, os.urandom, torch._C._dispatch_library
    has_kernel = torch._C._dispatch_has_computed_kernel_for_dispatch_key
    pack, unpack, word = _LENGTH.pack, _LENGTH.unpack_from, _WORD.unpack_from
    below_autograd, numel, tensor = torch._C._AutoDispatchBelowAutograd, torch._C.TensorBase.numel, torch.Tensor
    traceback_type, frame_type, code_type = types.TracebackType, types.FrameType, types.CodeType
    exists, isdir, join, overloads = os.path.exists, os.path.isdir, os.path.join, differentiators.overloads
    realpath, sep, open_ = os.path.realpath, os.sep, open
    standard = os.path.realpath(sysconfig.get_path("stdlib"))
    bytes_, int_, len_, list_, memoryview_, min_, range_, str_, tuple_, type_, isinstance_, set_, frozenset_, sum_ = (
        bytes, int, len, list, memoryview, min, range, str, tuple, type, isinstance, set, frozenset, sum
    )  # fmt: skip
    catch_warnings, simplefilter = warnings.catch_warnings, warnings.simplefilter
    stdlib = frozenset_(n for n in _standard_library() if n not in NO_IMPORT)
    frame_attributes = FRAME_ATTRIBUTES
    state: dict[str, Any] = {
        "latched": False,
        "refusing": False,  # latched, and not left out for a test of the kernel's layers alone
        "busy": False,  # answering FRAMES, whose own reads of frames pass
        "libraries": [],  # the registrations of the kernels that refuse or count: alive here alone
        "refused": [],  # what the open request tried that autograd's switched-off parts refused
        "watch": frozenset_(),  # the operators the open request counts
        "counts": {},  # operator -> the elements it was evaluated on, in the open request
        "loaded": frozenset_(),  # the modules loaded when the seal was latched
        "folder": "",
        "send": None,
        "recv": None,
        "key": b"",
        "nonces": set_(),  # every request's, so that none is begun twice
        "nonce": None,  # the open request's; None between requests
        "nodes": 0,  # autograd's node counter when the open request began
    }

    def refuse(what: Any) -> None:
        if type_(what) is not str_:
            state["libraries"].extend(what.values())  # the refusing kernels' registrations, from install()
            return
        refused, tried = state["refused"], "tried to " + what
        if state["nonce"] is not None and tried not in refused and len_(refused) < 16:
            refused.append(tried)
        raise refusal_(what, by_hand)

    def counting(op: Any, name: str) -> Callable[..., Any]:
        """An operator's kernel at AutogradCPU: counts the elements of its first tensor
        argument when the open request watches it, and runs it below autograd, which can
        record nothing then: with grad mode on and an input that requires grad, that is
        autograd, and refused."""
        call = op._op

        def count(*args: Any, **kwargs: Any) -> Any:
            if grad_enabled():
                for arg in args:
                    if isinstance_(arg, tensor) and arg.requires_grad:
                        refuse(f"record an autograd graph ({name} on a tensor that requires grad)")
            if name in state["watch"]:
                for arg in args:
                    if isinstance_(arg, tensor):
                        try:
                            elements = int_(numel(arg))
                        except Exception:  # noqa: BLE001 - a subclass's own numel: not counted
                            break
                        counts = state["counts"]
                        counts[name] = counts.get(name, 0) + elements
                        break
            with below_autograd():
                return call(*args, **kwargs)

        return count

    def count_operators(names: Any) -> None:
        if state["latched"] or type_(names) is not tuple_:
            raise refusal_("count operators")
        with catch_warnings():
            simplefilter("ignore")
            for name in names:
                if type_(name) is not str_:
                    continue
                namespace = name.partition("::")[0]
                library = dispatch_library("IMPL", namespace, "", "", 0)
                for overload in overloads(name):
                    full = overload.name()
                    try:  # overloads that only TorchScript knows are not in the dispatcher
                        if has_kernel(full, "AutogradCPU"):
                            kernel = counting(overload, name)
                            library.impl(full.split("::", 1)[1], "AutogradCPU", kernel, False)  # type: ignore[call-arg]  # torch's stub omits with_keyset
                    except RuntimeError:
                        continue
                state["libraries"].append(library)

    def latch(sock: Any, folder: Any, refusing: Any, out: Any) -> None:
        if state["latched"] or type_(out) is not list_ or type_(folder) is not str_:
            raise refusal_("latch the seal again")
        state["key"] = urandom(key_size)
        state["send"], state["recv"] = sock.sendmsg, sock.recv
        state["folder"], state["loaded"], state["latched"] = folder, frozenset_(sys.modules), True
        state["refusing"] = refusing is True
        out.append(state["key"])

    def receive(n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = state["recv"](min_(n - got, 1 << 20))
            if not chunk:
                return b""
            chunks.append(chunk)
            got += len_(chunk)
        return b"".join(chunks)

    def begin(out: Any) -> None:
        if state["nonce"] is not None or type_(out) is not list_:
            raise refusal_("begin a request while one is open")
        head = receive(length_size)
        if len_(head) < length_size:
            return  # the grader hung up
        frame = receive(unpack(head)[0])
        nonce, watch, start = parse(frame)
        if nonce in state["nonces"]:
            raise refusal_("begin a request twice")
        state["nonces"].add(nonce)
        state["watch"], state["counts"], state["refused"] = watch, {}, []
        state["nonce"], state["nodes"] = nonce, sequence_nr()
        out.append(memoryview_(frame)[start:])

    def parse(frame: bytes) -> tuple[bytes, frozenset[str], int]:
        """The nonce, the watched operators, and where the message starts."""
        nonce, at = frame[:nonce_size], nonce_size
        (names,) = word(frame, at)
        at += 4
        watch = set_()
        for _ in range_(min_(names, max_watch)):
            (size,) = word(frame, at)
            watch.add(frame[at + 4 : at + 4 + size].decode("ascii", "replace"))
            at += 4 + size
        if len_(nonce) != nonce_size or at > len_(frame):
            raise refusal_("send a malformed request")
        return nonce, frozenset_(watch), at

    def finish(chunks: Any) -> None:
        nonce = state["nonce"]
        if nonce is None or type_(chunks) is not list_:
            raise refusal_("finish a request that is not open")
        state["nonce"], state["watch"] = None, frozenset_()
        parts = [c if type_(c) is bytes_ or type_(c) is memoryview_ else bytes_(c) for c in chunks]
        digest = blake2b()
        for part in parts:
            digest.update(part)
        counts, refused = state["counts"], state["refused"]
        verdict = (
            '{"nodes": %d, "refused": [%s], "evaluations": {%s}}'
            % (
                int_(sequence_nr() - state["nodes"]),
                ", ".join('"%s"' % what.replace('"', "'") for what in refused),
                ", ".join('"%s": %d' % (k, int_(v)) for k, v in counts.items()),
            )
        ).encode()
        mac = blake2b(nonce + verdict + digest.digest(), key=state["key"], digest_size=key_size).digest()
        trailer = nonce + verdict + mac
        send_all([pack(sum_(len_(p) for p in parts)), *parts, pack(len_(trailer)) + trailer])

    def send_all(parts: list[Any]) -> None:
        """The reply and its trailer in as few system calls as the socket takes (one
        when they fit its buffer): each wakes the grader."""
        send = state["send"]
        views = [memoryview_(p).cast("B") for p in parts if len_(p)]
        while views:
            sent = send(views[:iov_max])
            while sent:
                if sent < len_(views[0]):
                    views[0], sent = views[0][sent:], 0
                else:
                    sent -= len_(views.pop(0))

    def frames(tb: Any, out: Any) -> None:
        """Only what the frames say, read from the interpreter's own objects: no code of
        anyone else's runs while the hook lets frames be read."""
        if type_(out) is not list_:
            return
        state["busy"] = True
        try:
            while type_(tb) is traceback_type:
                frame = tb.tb_frame
                if type_(frame) is not frame_type or type_(frame.f_code) is not code_type:
                    break
                code = frame.f_code
                out.append((str_(code.co_filename), int_(tb.tb_lineno or 0), str_(code.co_name)))
                tb = tb.tb_next
        finally:
            state["busy"] = False

    def compilable(source: Any, filename: Any) -> bool:
        """Only what a file of the submission or of the standard library holds: code from
        any other text (torch's own source, read and run again) is not the student's."""
        if (type_(source) is not bytes_ and type_(source) is not str_) or type_(filename) is not str_:
            return False
        where = realpath(filename)
        if not any(where.startswith(root + sep) for root in (state["folder"], standard)):
            return False
        try:
            with open_(where, "rb") as f:
                held = f.read(len_(source) * 4 + 1)
        except OSError:
            return False
        return held == (source if type_(source) is bytes_ else source.encode("utf-8"))

    def importable(name: Any) -> bool:
        if type_(name) is not str_ or name in state["loaded"]:
            return False  # one loaded before, imported again, would come back whole
        top = name.partition(".")[0]
        folder = state["folder"]
        return top in stdlib or exists(join(folder, top + ".py")) or isdir(join(folder, top))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event[:15] == "backprop-ninja.":
            if event == begin_event and state["latched"] and len_(args) == 1:
                begin(args[0])
            elif event == finish_event and state["latched"] and len_(args) == 1:
                finish(args[0])
            elif event == frames_event and len_(args) == 2:
                frames(args[0], args[1])
            elif event == count_event and len_(args) == 1:
                count_operators(args[0])
            elif event == latch_event and len_(args) == 4:
                latch(args[0], args[1], args[2], args[3])
            return
        if not state["refusing"] or state["busy"]:
            return
        why = refused(event)
        if why is None and event == "object.__getattr__" and len_(args) == 2 and args[1] in frame_attributes:
            why = "read a frame"
        elif why is None and event == "compile" and len_(args) == 2 and not compilable(args[0], args[1]):
            why = "compile code that is not in your own modules (exec, eval, compile of a string)"
        elif why is None and event[:6] == "import" and args and not importable(args[0]):
            why = f"import {str_(args[0])[:80]} (the standard library, torch as loaded and your own modules)"
        elif why is None and event.startswith(prefixes):
            why = "use ctypes" if event[:6] == "ctypes" else "start a program"
        if why is not None:
            raise refusal_(why)

    return hook, refuse


def _standard_library() -> frozenset[str]:
    """The names of the standard library's top-level modules (sys.stdlib_module_names
    from Python 3.10 on; read from the library's folder before)."""
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    folder = Path(sysconfig.get_path("stdlib"))
    found = set(sys.builtin_module_names)
    for path in [*folder.iterdir(), *(folder / "lib-dynload").glob("*.so")]:
        name = path.name.split(".")[0]
        if path.suffix in (".py", ".so") or (path.is_dir() and (path / "__init__.py").exists()):
            found.add(name)
    return frozenset(found - {"site-packages", "dist-packages"})


# -- in a worker ------------------------------------------------------------------------------------


def count(operators: Iterable[str]) -> None:
    """Count, from now on, the elements these forward operators (by name, as aten::mul)
    are evaluated on, whenever the open request watches them. Before the latch."""
    sys.audit(COUNT, tuple(operators))


def latch(sock: Any, folder: str, refusing: bool = True) -> bytes:
    """Seal this worker: the hook answers BEGIN and FINISH on `sock`, and refuses from
    now on (unless not `refusing`: a test of the kernel's layers alone). Returns the MAC
    key, for the grader. Before any student code runs."""
    # Doors the hook cannot see, closed first: a signal handler is given the frame it
    # interrupted; gc's DEBUG_SAVEALL keeps the frames of finished calls in gc.garbage; a
    # built-in module made anew (gc) comes with all its functions.
    import _imp
    import _signal  # type: ignore[import-not-found]  # the C half of signal, which typeshed does not describe
    import signal

    # (Every built-in module was imported in the zygote, so none needs creating; an
    # extension module's creation raises an import event, which the hook sees.)
    doors = {signal: ("signal",), _signal: ("signal",), gc: ("set_debug",), _imp: ("create_builtin",)}
    for owner, names in doors.items() if refusing else ():
        for name in names:
            if hasattr(owner, name):
                delattr(owner, name)
    for namespace, name in _THREAD_STARTERS if refusing else ():
        namespace[name] = _refusing_thread
    # marshal is refused: from now on modules are compiled from their source.
    sys.pycache_prefix = os.path.join(sysconfig.get_path("stdlib") or "/", "__backprop_ninja_no_pyc__")
    out: list[bytes] = []
    sys.audit(LATCH, sock, str(Path(folder).resolve()), refusing, out)
    return out[0]


def frames(tb: types.TracebackType | None) -> list[tuple[str, int, str]]:
    """(file, line, function) of each frame of a traceback, from the hook: in a sealed
    worker nothing else may read a frame. Elsewhere, read directly."""
    out: list[tuple[str, int, str]] = []
    sys.audit(FRAMES, tb, out)
    if not out:
        while tb is not None:
            out.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno or 0, tb.tb_frame.f_code.co_name))
            tb = tb.tb_next
    return out


# -- in the grader ----------------------------------------------------------------------------------


def request_prefix(nonce: bytes, watch: Watch) -> bytes:
    """What goes before a request's message: its nonce, and the forward operators whose
    evaluations it counts."""
    names = [name.encode("ascii") for name in list(watch)[:MAX_WATCH]]
    return b"".join([nonce, _WORD.pack(len(names)), *(_WORD.pack(len(n)) + n for n in names)])


@dataclass(frozen=True)
class Verdict:
    """What the seal says of one request, once its trailer holds."""

    nodes: int  # autograd graph nodes made while it was open
    refused: tuple[str, ...]  # what it tried of autograd's switched-off parts
    evaluations: dict[str, int]  # watched forward operator -> the elements it was evaluated on


class TrailerError(ValueError):
    """A reply whose trailer is not the seal's for this request and this reply."""


def verify(key: bytes, nonce: bytes, body: bytes, trailer: bytes) -> Verdict:
    """The verdict of one reply, or TrailerError."""
    if len(trailer) < NONCE + KEY or not hmac.compare_digest(trailer[:NONCE], nonce):
        raise TrailerError("the reply answers another request")
    verdict, mac = trailer[NONCE:-KEY], trailer[-KEY:]
    expected = hashlib.blake2b(nonce + verdict + hashlib.blake2b(body).digest(), key=key, digest_size=KEY).digest()
    if not hmac.compare_digest(mac, expected):
        raise TrailerError("its seal does not match it")
    data = json.loads(verdict)
    refused = tuple(str(what) for what in data["refused"])
    return Verdict(int(data["nodes"]), refused, {str(k): int(v) for k, v in data["evaluations"].items()})
