"""Untrusted bytes parsed where they cannot cost the grader: a notebook read, an archive
unpacked, in a child process under caps on memory, CPU time, file size and wall time,
whose answer is JSON of a capped size.

A hostile notebook or archive can make a parser do unbounded work (a list repeated by
reference, a pax header of a gigabyte, a zip that declares one member and holds a
hundred thousand): here it exhausts the child's caps, and the grader gets a
ParseError that says so, in the time and memory the caps allow.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any

MEMORY = 512 * 2**20  # bytes of address space the child may add to what the grader maps
CPU_SECONDS = 20
WALL_SECONDS = 30.0
MAX_ANSWER = 64 * 2**20  # bytes of the child's answer
FILE_SIZE = 64 * 2**20  # bytes of any file it writes


class ParseError(ValueError):
    """A child that ran into a cap, or failed otherwise."""


class Refused(ParseError):
    """What the work itself refused, with its own message (an `expected` error)."""


def confined(work: Callable[..., Any], *args: Any, expected: type[Exception] = ValueError) -> Any:
    """`work(*args)`, run in a child process under the caps; its value (JSON data). An
    `expected` error it raises comes back as Refused, with its message; any other, or a
    cap reached, as a ParseError that says which."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            _cap()
            try:
                said: dict[str, Any] = {"value": work(*args)}
            except expected as error:
                said = {"error": str(error)}
            except (MemoryError, RecursionError):
                said = {"error": "", "cap": "memory"}
            data = json.dumps(said).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view[: 1 << 16]) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    data, timed_out = b"", False
    try:
        data, timed_out = _read(read_end, time.monotonic() + WALL_SECONDS)
    finally:
        os.close(read_end)
        _reap(pid)
    if timed_out:
        raise ParseError(f"it takes more than {WALL_SECONDS:g} s to read")
    answer: Any = None
    try:
        answer = json.loads(data) if data else None
    except ValueError:
        pass
    if not isinstance(answer, dict):
        raise ParseError(
            f"reading it ran past the grader's caps ({MEMORY // 2**20} MB of memory, {CPU_SECONDS} s of CPU time)"
        )
    if "error" in answer:
        if answer.get("cap"):
            raise ParseError(f"reading it ran past the grader's {MEMORY // 2**20} MB memory cap")
        raise Refused(str(answer["error"]))
    return answer.get("value")


def _cap() -> None:
    """The child's caps, on top of what it inherited from the grader."""
    mapped = _mapped()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + MEMORY, mapped + MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE))
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _mapped() -> int:
    """The bytes of address space this process maps now."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 4 * 2**30


def _read(fd: int, deadline: float) -> tuple[bytes, bool]:
    """What the child writes, up to MAX_ANSWER bytes (more is no answer), and whether
    the deadline passed first."""
    chunks: list[bytes] = []
    got = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", True
        if not select.select([fd], [], [], min(left, 0.5))[0]:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), False
        got += len(chunk)
        if got > MAX_ANSWER:
            return b"", False
        chunks.append(chunk)


def _reap(pid: int) -> None:
    """Make sure the child is gone: it has written all it will."""
    if os.waitpid(pid, os.WNOHANG)[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
