"""The layers that confine student code, each enforced by the kernel and each holding on
its own; a machine that lacks one still grades, and every report says which were active.

    identity       a uid of the submission's own (when the grader is root and Python is
                   readable by other users); otherwise every capability dropped
    no_new_privs   no setuid program or file capability can raise its rights
    non_dumpable   the grader and the zygote cannot be traced or read through /proc
    seccomp        no process, thread or exec; no ptrace or process_vm_*; no sockets; no
                   new files; no signal to another process (libseccomp, through pyseccomp)
    landlock       reads only Python and the submission's private copy, writes only its
                   scratch folder; no TCP; no signal outside its domain (landlockpy)
    pid_namespace  everything the submission starts dies with its worker
    limits         per submission: memory, open files, file size, processes

The worker applies them (worker.py) in the order of `apply_in_worker`, after the zygote
has put it in a PID namespace of its own, and before any student code, its imports
included, runs. `probe` checks from inside a confined worker that they hold.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from grader.calls.limits import OPEN_FILES

LAYERS: dict[str, str] = {
    "identity": "student code runs as a uid of its own: the grader's files, processes and memory are out of reach",
    "no_new_privs": "no setuid program or file capability can give student code more rights",
    "non_dumpable": "the grader and its zygote cannot be traced, nor their memory read, even by their own user",
    "seccomp": "no new process or thread, no exec, no tracing, no sockets, no new files, no signal to other processes",
    "landlock": "reads only Python and the submission's own copy, writes only its scratch folder, no TCP, "
    "no signal outside its sandbox",
    "pid_namespace": "every process the submission starts dies with its worker",
    "limits": "caps per submission: memory, open files, file size, processes",
    "seal": "autograd's verdict on each call is out of student code's reach: no frames, gc, ctypes or code from "
    "bytes; torch's gradient operators refused; each reply sealed",
}
# What --require-confinement asks for when it names no layer: all but the PID namespace
# (seccomp already forbids new processes; the namespace is a second line that containers
# such as Gradescope's do not allow), and identity only where the grader can switch.
REQUIRED_BY_DEFAULT = ("identity", "no_new_privs", "non_dumpable", "seccomp", "landlock", "limits", "seal")

UID_BASE = 0x50000000  # the submissions' own uids: far above any system's users


@dataclass(frozen=True)
class Layer:
    name: str  # one of LAYERS
    active: bool
    detail: str  # what it holds here, or why it is not active


@dataclass(frozen=True)
class Confinement:
    """The layers active around one submission's code."""

    layers: tuple[Layer, ...]

    @classmethod
    def none(cls, why: str) -> Confinement:
        return cls(tuple(Layer(name, False, why) for name in LAYERS))

    def layer(self, name: str) -> Layer:
        return next(layer for layer in self.layers if layer.name == name)

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers if layer.active)

    def missing(self, required: Iterable[str] | None) -> list[Layer]:
        """The required layers that are not active. Without a list, the default set, in
        which identity counts only where the grader could switch uid (as root)."""
        wanted = set(REQUIRED_BY_DEFAULT if required is None else required)
        if required is None and os.geteuid() != 0:
            wanted.discard("identity")
        return [layer for layer in self.layers if layer.name in wanted and not layer.active]

    def summary(self) -> str:
        on = [layer.name for layer in self.layers if layer.active]
        off = [layer.name for layer in self.layers if not layer.active]
        return f"{len(on)} of {len(self.layers)} layers" + (f" (not here: {', '.join(off)})" if off else "")


# What grading requires of the confinement: these layers, the default set (None), or
# nothing (False). Union, not `|`: an alias is evaluated at run time, on Python 3.9 too.
Required = Union[tuple[str, ...], None, Literal[False]]


def parse_required(text: str) -> tuple[str, ...] | None:
    """The layers named by --require-confinement (comma-separated); None for "all",
    the default set."""
    if text in ("", "all"):
        return None
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in LAYERS]
    if unknown:
        raise ValueError(f"no confinement layer {unknown[0]!r}: the layers are {', '.join(LAYERS)}")
    return names


@dataclass(frozen=True)
class Plan:
    """What one worker is confined to, made by the grader for one submission."""

    folder: str  # the submission's private copy: read only
    scratch: str  # the worker's working folder: read and write
    memory: int  # MB of address space on top of what the process maps at start
    output: int  # KB a call may print
    uid: int | None  # the submission's own uid, when the grader is root and can switch
    hidden: tuple[str, ...] = ()  # folders taken off the import path (the grader's repository)
    no_uid: str = ""  # why there is no uid of its own, when there is none
    without: tuple[str, ...] = ()  # layers left out, to test what the others hold on their own
    watch: tuple[str, ...] = ()  # forward operators whose evaluations the seal counts (aten::mul, ...)


# -- where Python lives -------------------------------------------------------------------

SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")
SYSTEM_FILES = ("/etc/ld.so.cache", "/dev/urandom", "/dev/random", "/proc/cpuinfo")
SYSTEM_FOLDERS = ("/sys/devices/system/cpu",)  # the CPU's description, which torch reads for some kernels


SITE_FOLDERS = ("site-packages", "dist-packages")
GRADER_PACKAGE = Path(__file__).resolve().parent.parent


def grader_repository() -> Path | None:
    """The folder that holds the grader's package when it is not an installed package
    (an editable install, or a checkout): the instructor's repository, with solutions/."""
    folder = GRADER_PACKAGE.parent
    return None if folder.name in SITE_FOLDERS else folder


def python_roots(hidden: Iterable[str] = ()) -> list[Path]:
    """What a worker may read of this Python: the standard library and the installed
    packages (site-packages entry by entry, without the grader's own package, whose
    rubric may hold the hidden checks), and the shared libraries they load; never the
    grader's repository."""
    hidden = {str(Path(h).resolve()) for h in hidden}
    repository = grader_repository()
    roots: list[Path] = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        path = Path(entry).resolve()
        if str(path) in hidden or path == repository:
            continue
        if path.name in SITE_FOLDERS:
            roots += [child for child in sorted(path.iterdir()) if child.resolve() != GRADER_PACKAGE]
        else:
            roots.append(path)
    roots += [Path(p) for p in SYSTEM_LIBRARIES if os.path.isdir(p)]
    return list(dict.fromkeys(roots))


def unreadable_by_others(paths: Iterable[Path]) -> Path | None:
    """The first folder on the way to these paths that a user other than its owner
    cannot enter or read, if any (a Python under /root, say)."""
    for path in paths:
        path = Path(path)
        for folder in [path, *path.parents]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                return folder
            need = stat.S_IXOTH | (stat.S_IROTH if folder == path else 0)
            if stat.S_ISDIR(mode) and mode & need != need:
                return folder
    return None


@functools.cache
def can_switch_uid(hidden: tuple[str, ...] = ()) -> tuple[bool, str]:
    """Whether student code can run as a uid of its own here, and why not if not."""
    if os.geteuid() != 0:
        return False, (
            f"the grader runs as uid {os.geteuid()}, not root, and cannot switch; Landlock and seccomp keep student "
            "code from the grader's files and processes instead"
        )
    closed = unreadable_by_others(python_roots(hidden))
    if closed is not None:
        installed = any(Path(closed).is_relative_to(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix})
        where = (
            "Python's installation"
            if installed
            else "a folder on Python's path (sys.path; `python -m` puts the folder it starts in there)"
        )
        remedy = (
            "install Python where others can read it (/usr, /opt)"
            if installed
            else "start from a folder others can read, or run the backprop-ninja command"
        )
        return False, (
            f"{where} is not readable by other users ({closed} is closed to them): student code keeps uid 0 with "
            f"every capability dropped; {remedy} to get a uid of its own"
        )
    return True, ""


# -- the layers, applied in the worker ---------------------------------------------------------

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
_LIBC = ctypes.CDLL(None, use_errno=True)


def enter_pid_namespace() -> Layer:
    """Make the next child of this process the first process of a new PID namespace (as
    root directly, otherwise inside a user namespace of this user's own)."""
    uid, gid = os.geteuid(), os.getegid()
    if uid != 0:
        if _LIBC.unshare(CLONE_NEWUSER) != 0:
            return Layer("pid_namespace", False, _no_namespaces(ctypes.get_errno()))
        # A non-dumpable process's /proc files belong to root: the maps could not be written.
        _LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
            Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        except OSError as error:
            return Layer("pid_namespace", False, f"a user namespace could not map this user ({error.strerror})")
        finally:
            _LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if _LIBC.unshare(CLONE_NEWPID) != 0:
        return Layer("pid_namespace", False, _no_namespaces(ctypes.get_errno()))
    return Layer("pid_namespace", True, "a PID namespace per worker" + ("" if uid == 0 else ", in a user namespace"))


def _no_namespaces(code: int) -> str:
    return (
        f"this system does not let the grader create namespaces ({os.strerror(code)}; Docker's default profile and "
        "some distributions forbid them): seccomp's ban on new processes stands alone"
    )


LEFT_OUT = "left out on request (a test of the other layers)"


def apply_in_worker(plan: Plan) -> list[Layer]:
    """Confine this process (a fresh worker, not yet running student code) by every layer
    this kernel and user allow; the layers, each active or with why not."""
    layers = [_limits(plan)]
    ruleset = _landlock_ruleset(plan) if "landlock" not in plan.without else LEFT_OUT  # before the uid switch
    layers.append(_identity(plan))
    layers.append(_no_new_privs())
    layers.append(_restrict(ruleset))
    layers.append(_seccomp() if "seccomp" not in plan.without else Layer("seccomp", False, LEFT_OUT))
    return layers


def _limits(plan: Plan) -> Layer:
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    cap = mapped + plan.memory * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    size = file_size(plan.output)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    caps = [f"{plan.memory} MB of memory", f"{OPEN_FILES} open files", f"{size // 1024} KB per file"]
    if plan.uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))  # its uid's processes: itself
        caps.append("one process")
    return Layer("limits", True, ", ".join(caps))


def file_size(output_kb: int) -> int:
    """Bytes a worker's file may reach: what it prints, with room to spare."""
    return 4 * output_kb * 1024 + 2**20


def _identity(plan: Plan) -> Layer:
    if plan.uid is not None:
        os.setgroups([])
        os.setresgid(plan.uid, plan.uid, plan.uid)
        os.setresuid(plan.uid, plan.uid, plan.uid)
        return Layer("identity", True, f"uid {plan.uid}, no capabilities")
    dropped = drop_capabilities()
    return Layer("identity", False, plan.no_uid + ("" if dropped else " (the capabilities could not be dropped)"))


def drop_capabilities() -> bool:
    """Drop every capability: bounding, ambient, effective, permitted and inheritable
    sets (root without a uid switch, or the creator of a user namespace)."""
    for cap in range(64):
        _LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    return _LIBC.capset(header, data) == 0


def _no_new_privs() -> Layer:
    if _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        return Layer("no_new_privs", True, "set")
    return Layer("no_new_privs", False, f"prctl refused it ({os.strerror(ctypes.get_errno())})")


def _landlock_ruleset(plan: Plan) -> Any:
    """The worker's Landlock ruleset, built (not yet enforced), or why there is none."""
    try:
        import landlockpy
        from landlockpy import AccessFS, AccessNet, Ruleset, Scope
    except ImportError:
        return "the landlockpy package is not installed (pip install landlockpy)"
    try:
        abi = landlockpy.abi_version()
    except OSError as error:
        return f"the Landlock system calls are refused here ({error})"
    if abi < 1:
        return "this kernel has no Landlock (Linux 5.13 or later, with landlock in its list of security modules)"
    read = AccessFS.READ_FILE | AccessFS.READ_DIR
    write = (
        read
        | AccessFS.WRITE_FILE
        | AccessFS.TRUNCATE
        | AccessFS.MAKE_REG
        | AccessFS.REMOVE_FILE
        | AccessFS.MAKE_DIR
        | AccessFS.REMOVE_DIR
    )
    try:
        ruleset = Ruleset(
            handled_net=AccessNet.BIND_TCP | AccessNet.CONNECT_TCP,
            scoped=Scope.SIGNAL | Scope.ABSTRACT_UNIX_SOCKET,
        )
        for root in python_roots(plan.hidden):
            ruleset.allow_path(root, read if root.is_dir() else AccessFS.READ_FILE)
        for path in SYSTEM_FILES:
            if os.path.exists(path):
                ruleset.allow_path(path, AccessFS.READ_FILE)
        for path in SYSTEM_FOLDERS:
            if os.path.isdir(path):
                ruleset.allow_path(path, read)
        ruleset.allow_path(os.devnull, AccessFS.READ_FILE | AccessFS.WRITE_FILE)
        ruleset.allow_path(plan.folder, read)
        ruleset.allow_path(plan.scratch, write)
    except OSError as error:
        return f"the Landlock ruleset could not be built ({error})"
    return ruleset


def _restrict(ruleset: Any) -> Layer:
    if isinstance(ruleset, str):
        return Layer("landlock", False, ruleset)
    try:
        ruleset.restrict()
    except OSError as error:
        return Layer("landlock", False, f"the kernel refused the Landlock ruleset ({error})")
    finally:
        ruleset.close()
    parts = ["reads only Python and the submission's copy, writes only its scratch folder"]
    if ruleset.handled_net:
        parts.append("no TCP")
    if ruleset.scoped:
        parts.append("no signal outside its sandbox")
    return Layer("landlock", True, f"Landlock ABI {ruleset.abi_version}: " + ", ".join(parts))


# The system calls a worker is denied once it is set up (all on top of a default of
# allowing): what would start a process or thread, reach another process, open the
# network, create files or kernel objects that outlive it, or change its namespaces.
DENIED = (
    "clone", "fork", "vfork", "execve", "execveat",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "migrate_pages", "move_pages",
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "fanotify_init",
    "name_to_handle_at", "open_by_handle_at",
    "creat", "mkdir", "mkdirat", "mknod", "mknodat", "link", "linkat", "symlink", "symlinkat",
    "rename", "renameat", "renameat2", "memfd_create", "memfd_secret",
    "shmget", "msgget", "semget", "mq_open",
)  # fmt: skip
SIGNALLING = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # allowed to itself only
O_TMPFILE_BIT = 0o20000000  # __O_TMPFILE, without O_DIRECTORY
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15


def _seccomp() -> Layer:
    try:
        import pyseccomp as seccomp
    except (ImportError, RuntimeError, OSError) as error:
        return Layer("seccomp", False, f"libseccomp is not available ({error}): install libseccomp2 and pyseccomp")
    deny = seccomp.ERRNO(errno.EPERM)
    me = os.getpid()
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in DENIED:
            _rule(rules, deny, name)
        _rule(rules, seccomp.ERRNO(errno.ENOSYS), "clone3")  # its flags sit behind a pointer: callers fall back
        _rule(rules, seccomp.ERRNO(errno.ENOSYS), "openat2")
        for name in SIGNALLING:
            _rule(rules, deny, name, seccomp.Arg(0, seccomp.NE, me))
        for flag in (os.O_CREAT, O_TMPFILE_BIT):
            _rule(rules, deny, "open", seccomp.Arg(1, seccomp.MASKED_EQ, flag, flag))
            _rule(rules, deny, "openat", seccomp.Arg(2, seccomp.MASKED_EQ, flag, flag))
        for request in (TIOCSTI, TIOCLINUX):
            _rule(rules, deny, "ioctl", seccomp.Arg(1, seccomp.EQ, request))
        for command in (F_SETOWN, F_SETSIG, F_SETOWN_EX):
            _rule(rules, deny, "fcntl", seccomp.Arg(1, seccomp.EQ, command))
        rules.load()
    except OSError as error:
        return Layer("seccomp", False, f"the kernel refused the seccomp filter ({error})")
    return Layer(
        "seccomp",
        True,
        "no new process or thread, no exec, no tracing, no sockets, no new files, no signal to another process",
    )


def _rule(rules: Any, action: int, name: str, *args: Any) -> None:
    try:
        rules.add_rule(action, name, *args)
    except (OSError, ValueError):
        pass  # a system call this architecture does not have (fork on arm64, say)


# -- checking that they hold ---------------------------------------------------------------


def probe(zygote: int, grader_file: str) -> dict[str, str]:
    """From inside a confined worker: try what student code must not do; for each try,
    "blocked" or what happened."""
    import socket
    import threading

    found: dict[str, str] = {}

    def attempt(name: str, action: Any) -> None:
        try:
            action()
            found[name] = "ALLOWED"
        except Exception as error:  # noqa: BLE001 - however it was refused, it was
            found[name] = f"blocked ({getattr(error, 'strerror', None) or error})"

    def fork() -> None:
        if os.fork() == 0:
            os._exit(0)

    def connect() -> None:
        with socket.socket() as s:
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", 9))
            except ConnectionRefusedError:
                pass  # the kernel let it reach the network stack

    attempt("start a process", fork)
    attempt("start a thread", lambda: threading.Thread(target=lambda: None).start())
    attempt("read the grader's files", lambda: Path(grader_file).read_bytes())
    attempt("read a system file", lambda: Path("/etc/passwd").read_bytes())
    attempt("create a file", lambda: _create(Path("/tmp") / f"backprop-ninja-probe-{os.getpid()}"))
    attempt("open a TCP connection", connect)
    attempt("signal the zygote", lambda: os.kill(zygote, 0))
    attempt("read the zygote's memory", lambda: open(f"/proc/{zygote}/mem", "rb").close())
    return found


def _create(path: Path) -> None:
    path.write_text("probe")
    path.unlink()
