"""Files: those a user reads, written whole or not at all; and those someone else made,
read only when they are regular files, and only as far as a cap."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


class NotRegular(OSError):
    """A path that is a link, a FIFO, a device or a folder where a file was expected;
    `what` says which ("a link")."""

    def __init__(self, what: str, path: str):
        super().__init__(errno.EINVAL, f"{what}, not a file", path)
        self.what = what


def open_regular(path: Path | str) -> int:
    """A read-only descriptor of `path`, opened without following a link and without
    waiting (a FIFO would block the reader for good), and only if it is a regular file:
    NotRegular, with what it is, otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotRegular("a link", str(path)) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegular(kind_of(mode), str(path))
    return fd


def read_regular(path: Path | str, limit: int, tail: bool = False) -> tuple[bytes, int]:
    """At most `limit` bytes of a regular file (its last ones with `tail`), and its size."""
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if tail and size > limit:
            os.lseek(fd, size - limit, os.SEEK_SET)
        chunks, got = [], 0
        while got < limit and (chunk := os.read(fd, min(limit - got, 1 << 16))):
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks), size
    finally:
        os.close(fd)


MAX_DEPTH = 32  # folders below a submission's root: its modules are a few levels down at most
MAX_ENTRIES = 100_000  # entries walked below it


def walk(root: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    """os.walk's (folder, folders, files) of what someone else made, top-down, without
    following links, never more than MAX_DEPTH folders down nor past MAX_ENTRIES
    entries: iterative, so that no depth can exhaust the stack, and bounded, so that no
    tree can take long. The caller may prune the folders list, as with os.walk."""
    stack, seen = [(Path(root), 0)], 0
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        seen += len(entries)
        if seen > MAX_ENTRIES:
            return
        dirs = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        files = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
        yield folder, dirs, files
        if depth < MAX_DEPTH:
            stack += [(folder / d, depth + 1) for d in reversed(dirs)]


def kind_of(mode: int) -> str:
    """What a file's mode says it is, in words."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):  # fmt: skip
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def write_atomically(path: Path, text: str) -> None:
    """Write the whole file or nothing: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8", suffix=".tmp") as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o666 & ~_umask())  # as open() would make it, not the temporary file's 0600
    os.replace(tmp.name, path)


def _umask() -> int:
    """This process's umask, read without changing it where Linux tells it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
        return umask
