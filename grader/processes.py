"""Linux process plumbing for the sandbox: prctl, finding processes, naming deaths."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

SIGNAL_WORDS = {
    signal.SIGSEGV: "SIGSEGV (segmentation fault)",
    signal.SIGBUS: "SIGBUS (bus error)",
    signal.SIGFPE: "SIGFPE (arithmetic error)",
    signal.SIGILL: "SIGILL (illegal instruction)",
    signal.SIGABRT: "SIGABRT (aborted)",
}


def prctl(option: int, value: int) -> None:
    """Best effort: on systems without prctl the sandbox still kills what it knows of."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a live process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[3])


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
    out, todo = [], children(pid)
    while todo and len(out) < 10_000:
        child = todo.pop()
        out.append(child)
        todo += children(child)
    return out


def is_zombie(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text[text.rindex(")") + 2] == "Z"


def name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return str(pid)


def all_pids() -> list[int]:
    try:
        return [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:  # no /proc: only the process groups are killed
        return []


def kill_sessions_and_children(sessions: set[int], parent: int, keep: set[int], ended: dict[int, int]) -> None:
    """SIGKILL every process in `sessions` and every child of `parent` not in `keep`,
    until none is left (an orphan is reparented to `parent`, a subreaper, and caught on
    the next round). Exit statuses of the children reaped meanwhile go into `ended`."""
    for _ in range(50):
        found = []
        for pid in all_pids():
            info = stat(pid)
            if info and pid not in keep and pid != parent and (info[1] in sessions or info[0] == parent):
                found.append(pid)
        if not found:
            break
        kill(found)
        time.sleep(0.001 * len(found))
        ended.update(reap_children())


def kill(pids: list[int]) -> None:
    """SIGKILL each of these processes that still exists."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def reap_children() -> dict[int, int]:
    """Collect the exit status of every child that has ended, so none stays a zombie."""
    statuses = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return statuses
        if pid == 0:
            return statuses
        statuses[pid] = status


def death(status: int) -> tuple[str, str]:
    """The failure kind and the words for how a worker process ended."""
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
