"""Linux process plumbing for the sandbox: prctl, the CPU time of a process as the kernel
counts it, killing what a submission started, and naming how a worker died."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.calls.vocabulary import FailureKind

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

SIGNAL_WORDS: dict[int, str] = {
    signal.SIGSEGV: "SIGSEGV (segmentation fault)",
    signal.SIGBUS: "SIGBUS (bus error)",
    signal.SIGFPE: "SIGFPE (arithmetic error)",
    signal.SIGILL: "SIGILL (illegal instruction)",
    signal.SIGABRT: "SIGABRT (aborted)",
}

_LIBC = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> bool:
    """prctl(option, value); whether the kernel took it."""
    try:
        return _LIBC.prctl(option, value, 0, 0, 0) == 0
    except AttributeError:  # not Linux
        return False


def make_undumpable() -> bool:
    """Nobody but root may trace this process or read its memory, not even its own user;
    whether that holds now."""
    return prctl(PR_SET_DUMPABLE, 0)


def cpu_seconds(pid: int) -> float | None:
    """The CPU time a live process has used, from the kernel's scheduler accounting
    (nanoseconds in schedstat, else clock ticks in stat); None once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the name (read as bytes: a process may give
    itself any name), or None once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return raw[raw.rindex(b")") + 2 :].split()


def stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a live process, or None."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[1]), int(fields[3]))


def children(pid: int) -> list[int]:
    """The children of a process, from every one of its threads."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    """The live processes below `pid`, the zombies left out."""
    out: list[int] = []
    todo = children(pid)
    while todo and len(out) < 10_000:
        child = todo.pop()
        if not is_zombie(child):
            out.append(child)
        todo += children(child)
    return out


def is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is None or fields[0] == b"Z"


def name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(errors="replace").strip()
    except OSError:
        return str(pid)


def all_pids() -> list[int]:
    try:
        return [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []


def kill(pids: list[int]) -> None:
    """SIGKILL each of these processes that still exists."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_user(uid: int) -> None:
    """SIGKILL every process of `uid`, from a child that takes that uid (as kill(-1) does
    for its own user): exact, and no process of another user is touched. Needs root."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def sweep(sessions: set[int], parent: int, keep: set[int], ended: dict[int, int], seconds: float = 5.0) -> None:
    """SIGKILL every process in `sessions` and every child of `parent` not in `keep`,
    round after round until none is left or `seconds` have passed: an orphan is
    reparented to `parent`, a subreaper, and caught on the next round, however deep the
    chain it came from. Exit statuses of the children reaped meanwhile go into `ended`.
    The way out when the kernel gives neither a uid nor a PID namespace per submission."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = []
        for pid in all_pids():
            info = stat(pid)
            if info and pid not in keep and pid != parent and (info[1] in sessions or info[0] == parent):
                found.append(pid)
        if not found:
            break
        kill(found)
        time.sleep(0.001 * min(len(found), 50))
        ended.update(reap_children())


def reap_children() -> dict[int, int]:
    """Collect the exit status of every child that has ended, so none stays a zombie."""
    statuses: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return statuses
        if pid == 0:
            return statuses
        statuses[pid] = status


def death(status: int, cpu: float | None = None, cpu_limit: float | None = None) -> tuple[FailureKind, str]:
    """The failure kind and the words for how a worker process ended; `cpu` is the CPU
    time it had used, as the kernel counted it."""
    if cpu is not None and cpu_limit is not None and cpu >= cpu_limit:
        return "cpu_time", f"your code used more than the {cpu_limit:g} s CPU-time limit and was stopped"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "cpu_time", "your code used more than the CPU-time limit and was stopped"
        if sig == signal.SIGKILL:
            return (
                "crashed",
                "the Python process running your code was killed (SIGKILL), most likely for using too much memory",
            )
        words = SIGNAL_WORDS.get(
            sig, signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        )
        return "crashed", f"your code crashed the Python process: {words}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return "crashed", f"your code ended the Python process (exit status {code}): os._exit or a fatal error"
