"""Find the student modules in what a student hands in: a folder (its own, a copy of
the course repository, a Gradescope upload) or an archive (.zip, .tar.gz), unpacked
safely."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from grader.catalogue import MODULES

ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar")
MAX_UNPACKED = 64 * 2**20  # bytes an archive may unpack to: a submission is a few KB
MAX_MEMBERS = 10_000


class SubmissionError(ValueError):
    """A submission that cannot be unpacked, with the reason."""


def locate(folder: Path) -> Path:
    """The folder that holds the student modules: `folder` itself, or the folder below it
    that holds the most of them (an exercises/ folder first, then the shallowest)."""
    folder = Path(folder)
    if any((folder / f"{m}.py").is_file() for m in MODULES):
        return folder
    found: dict[Path, int] = {}
    for module in MODULES:
        for path in folder.rglob(f"{module}.py"):
            if not any(part.startswith(".") or part in ("__pycache__", "solutions") for part in path.parts):
                found[path.parent] = found.get(path.parent, 0) + 1
    if not found:
        return folder
    return max(found, key=lambda p: (found[p], p.name == "exercises", -len(p.parts)))


def is_archive(path: Path) -> bool:
    return path.is_file() and any(path.name.endswith(suffix) for suffix in ARCHIVES)


def name_of(path: Path) -> str:
    """A submission's name: the folder's, or the archive's without its suffix."""
    for suffix in ARCHIVES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


def unpack(archive: Path, into: Path) -> Path:
    """Unpack `archive` into the folder `into`, refusing members that would land outside
    it, links, and archives that unpack to more than MAX_UNPACKED bytes."""
    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                members = z.infolist()
                _check_sizes(archive, [m.file_size for m in members])
                for member in members:
                    _check_path(archive, root, member.filename)
                z.extractall(root)
        else:
            with tarfile.open(archive) as t:
                members = t.getmembers()
                _check_sizes(archive, [m.size for m in members])
                for member in members:
                    if not (member.isfile() or member.isdir()):
                        raise SubmissionError(f"{archive.name}: {member.name} is a link or device: refused")
                    _check_path(archive, root, member.name)
                t.extractall(root, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as error:
        raise SubmissionError(f"{archive.name} cannot be unpacked: {error}") from None
    return root


def _check_sizes(archive: Path, sizes: list[int]) -> None:
    if len(sizes) > MAX_MEMBERS or sum(sizes) > MAX_UNPACKED:
        raise SubmissionError(
            f"{archive.name} unpacks to {len(sizes)} files and {sum(sizes):,} bytes, more than a submission needs "
            f"(at most {MAX_MEMBERS} files and {MAX_UNPACKED:,} bytes)"
        )


def _check_path(archive: Path, root: Path, name: str) -> None:
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise SubmissionError(f"{archive.name}: {name} would be unpacked outside its folder: refused")
