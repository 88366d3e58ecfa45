"""Find the student modules in what a student hands in: a folder (its own, a copy of
the course repository, a Gradescope upload), an archive (.zip, .tar.gz), unpacked
safely, or notebooks (.ipynb), whose exercise functions become modules (cells.py)."""

from __future__ import annotations

import ast
import gzip
import io
import os
import shutil
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from grader.calls.failures import SubmissionError
from grader.calls.files import NotRegular, kind_of, open_regular, walk
from grader.exercises import catalogue
from grader.handins.origins import Origins

if TYPE_CHECKING:
    from grader.handins.assembly import Assembly

# The headings of the notes that say a submission, or part of it, is not graded as
# handed in: a gradebook's note column carries the notes that open with one of them.
EMPTY = "empty folder"
NO_MODULE = "no exercise module"
NOT_GRADED = "not graded"
WORKED = "notebook holds work"  # beside modules that are all stubs
ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar")
NOTEBOOK = ".ipynb"
MAX_ARCHIVE = 16 * 2**20  # bytes of an archive file: a submission is a few KB
MAX_UNPACKED = 64 * 2**20  # bytes an archive may unpack to
MAX_MEMBERS = 10_000
MAX_ENTRY = 1024  # bytes of a zip directory's entry: its fixed part, a path and its extras
# Python's own check of each tar member where it has one (3.11.4 and later); the checks
# above (regular files and folders only, inside the folder) hold either way.
SAFE_TAR = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


@dataclass
class Handed:
    """What a student handed in, and the folder of modules graded from it: the folder
    itself, or modules written from notebooks, with where their lines came from."""

    name: str  # how reports name it: the path given
    folder: Path
    origins: Origins = field(default_factory=Origins)
    notes: tuple[str, ...] = ()  # what the grader took from notebooks, and what it left
    written: bool = False  # the grader wrote `folder`, and removes it on close()

    def close(self) -> None:
        if self.written:
            shutil.rmtree(self.folder, ignore_errors=True)


def hand_in(path: Path | str) -> Handed:
    """The modules of a submission: a folder's (or the folder below it that holds them),
    or those written from its notebooks when it holds notebooks and no module."""

    path = Path(path)
    if path.is_file() and path.name.endswith(NOTEBOOK):
        notebooks = [path]
    elif path.is_dir():
        holders = _holders(path)
        folder = _chosen(path, holders)
        notebooks = find_notebooks(path)
        if holders or not notebooks:
            notes = [
                f"{NOT_GRADED}: {_shown(path, o)} also holds exercise modules; {_shown(path, folder)} is graded"
                for o in sorted(holders)
                if o != folder
            ]
            if notebooks:
                notes.append(
                    f"{NOT_GRADED}: {_listed([n.relative_to(path).as_posix() for n in notebooks])}: the exercise "
                    f"modules of {_shown(path, folder)} are graded, and a notebook only where there are none"
                )
            if not holders:
                notes.append(_nothing_to_grade(path))
            return Handed(str(folder), folder, notes=tuple(notes))
    else:
        try:
            what = f"is {kind_of(os.lstat(path).st_mode)}, "
        except OSError:
            what = "is "
        raise SubmissionError(
            f"{path} {what}neither a folder nor a notebook: give the folder that holds your ex1_atomic.py ... "
            f"ex4_train.py, or your notebook ({NOTEBOOK})"
        )
    assembly = read_notebooks(notebooks)
    return Handed(str(path), assembly.written(), assembly.origins, assembly.notes, written=True)


def _nothing_to_grade(folder: Path) -> str:
    """The note of a submission that holds neither an exercise module nor a notebook:
    empty, or what it holds instead (a module under another name, a PDF...)."""
    held = []
    for parent, dirs, names in walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        held += [Path(parent, n).relative_to(folder).as_posix() for n in names if not n.startswith(".")]
        if len(held) > 3:
            break
    wanted = f"{', '.join(f'{m}.py' for m in catalogue.MODULES)} or a notebook ({NOTEBOOK})"
    if not held:
        return f"{EMPTY}: nothing was handed in; every id scores 0 (expected {wanted})"
    return f"{NO_MODULE}: it holds {_listed(held)}, but none of {wanted}; every id scores 0"


def _listed(names: list[str]) -> str:
    """A few names, and how many more."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def read_notebooks(paths: list[Path]) -> Assembly:
    """The modules that notebooks define, read in a child process under caps
    (sandbox/parsing.py): nothing a student wrote is evaluated in the grader's."""
    from grader.handins.assembly import Assembly
    from grader.handins.cells import NotebookError
    from grader.sandbox.parsing import ParseError, Refused, confined

    try:
        data = confined(_notebooks, [str(p) for p in paths], expected=SubmissionError)
    except Refused as error:
        raise NotebookError(str(error)) from None
    except ParseError as error:
        names = ", ".join(p.name for p in paths[:3])
        raise NotebookError(f"{names} cannot be read: {error}") from None
    return Assembly.from_data(data)


def _notebooks(paths: list[str]) -> dict[str, Any]:
    """In the child process: read the notebooks, as data."""
    from grader.handins import cells

    return cells.from_notebooks([Path(p) for p in paths]).to_data()


def given(path: Path | str, modules: Sequence[str] | None = None) -> tuple[Path, str]:
    """What --submission names, checked the same way for the command line and for pytest:
    the path, and a warning when it holds none of `modules` (those of the ids graded;
    by default every module of the catalogue), so that every id would score 0."""
    path = Path(path)
    if path.is_file() and path.name.endswith(NOTEBOOK):
        return path, ""
    if not path.is_dir():
        raise SubmissionError(
            f"no folder or notebook {path}: give the folder that holds your ex1_atomic.py ... ex4_train.py, "
            f"or your notebook ({NOTEBOOK})"
        )
    folder = locate(path)
    modules = modules or catalogue.MODULES
    if any((folder / f"{module}.py").is_file() for module in modules) or find_notebooks(path):
        return path, ""
    return path, (
        f"{path} holds none of {', '.join(modules)} (.py), nor a notebook; every id will score 0: "
        "is that the right folder?"
    )


def worked_notebooks(folder: Path) -> list[Path]:
    """The notebooks in `folder` and beside it (the students' notebook sits beside
    exercises/) that hold work: an exercise function that is not its stub (whose body
    only raises NotImplementedError). Read as any notebook handed in is; one the grader
    cannot read holds no work it can see."""
    from grader.handins.cells import NotebookError

    folder = Path(folder)
    if not folder.is_dir():
        return []
    root = folder.resolve()
    found = []
    for notebook in sorted({*root.glob(f"*{NOTEBOOK}"), *root.parent.glob(f"*{NOTEBOOK}")}):
        if notebook.name.startswith(".") or not notebook.is_file():
            continue
        try:
            texts = read_notebooks([notebook]).texts
        except NotebookError:
            continue
        if any(not _stub(node) for text in texts.values() for node in _exercise_defs(text)):
            found.append(notebook if folder.is_absolute() else Path(os.path.relpath(notebook)))
    return found


def _exercise_defs(text: str) -> list[ast.FunctionDef]:
    """The exercise functions a module written from a notebook defines."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in catalogue.FUNCTIONS]


def _stub(node: ast.FunctionDef) -> bool:
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])


def find_notebooks(folder: Path) -> list[Path]:
    """The notebooks under `folder`, in path order, but in Jupyter's checkpoints and
    hidden folders; links to folders are not followed, and a link to a notebook is found
    so that reading it refuses it."""
    found = []
    for parent, dirs, names in walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(parent, n) for n in names if n.endswith(NOTEBOOK) and not n.startswith(".")]
    return sorted(found)


def locate(folder: Path) -> Path:
    """The folder that holds the student modules: `folder` itself, or the folder below it
    that holds the most of them (an exercises/ folder first, then the shallowest). Two
    copies that nothing tells apart are refused: grading either could grade the wrong one."""
    folder = Path(folder)
    return _chosen(folder, _holders(folder))


def _chosen(folder: Path, found: dict[Path, int]) -> Path:
    if not found:
        return folder
    ranked = sorted(found, key=lambda p: _rank(p, found), reverse=True)
    best = ranked[0]
    tied = [p for p in ranked[1:] if _rank(p, found) == _rank(best, found)]
    if tied:
        shown = ", ".join(_shown(folder, p) for p in sorted([best, *tied]))
        raise SubmissionError(
            f"{folder} holds the exercise modules twice, in {shown}, and nothing says which to grade: "
            "keep one copy (or name it exercises/) and hand in again"
        )
    return best


def _holders(folder: Path) -> dict[Path, int]:
    """Each folder at or below `folder` that holds student modules, with how many, but in
    hidden folders, caches and solutions/."""
    if any((folder / f"{m}.py").is_file() for m in catalogue.MODULES):
        return {folder: sum((folder / f"{m}.py").is_file() for m in catalogue.MODULES)}
    found: dict[Path, int] = {}
    wanted = {f"{m}.py" for m in catalogue.MODULES}
    for parent, dirs, names in walk(folder):
        # Only what lies inside the submission decides: the path above it (a `..`, a hidden
        # or a solutions/ folder of the instructor's) is not the student's.
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "solutions")]
        count = sum(name in wanted for name in names)
        if count:
            found[parent] = count
    return found


def _rank(path: Path, found: dict[Path, int]) -> tuple[int, bool, int]:
    return found[path], path.name == "exercises", -len(path.parts)


def _shown(base: Path, path: Path) -> str:
    inside = path.relative_to(base).as_posix() if path != base else "."
    return f"{inside}/"


def is_archive(path: Path) -> bool:
    return path.is_file() and any(path.name.endswith(suffix) for suffix in ARCHIVES)


def name_of(path: Path) -> str:
    """A submission's name: the folder's, or the archive's or notebook's without its suffix."""
    for suffix in (*ARCHIVES, NOTEBOOK):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


def unpack(archive: Path, into: Path) -> Path:
    """Unpack `archive` into the folder `into`, in a child process under caps
    (sandbox/parsing.py), member by member against the caps on members and bytes (a
    tar is read as a stream of the compression its name says, a zip's member count and
    directory size are read from its end record before its directory), refusing members
    that would land outside it, and links."""
    from grader.sandbox.parsing import ParseError, Refused, confined

    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    try:
        size = os.lstat(archive).st_size
    except OSError as error:
        raise SubmissionError(f"{archive.name} cannot be read: {error.strerror}") from None
    if size > MAX_ARCHIVE:
        raise SubmissionError(
            f"{archive.name} is {size:,} bytes, more than a submission needs (at most {MAX_ARCHIVE:,}): refused"
        )
    try:
        confined(_unpack, str(archive), str(root), expected=SubmissionError)
    except Refused as error:
        raise SubmissionError(str(error)) from None
    except ParseError as error:
        raise SubmissionError(f"{archive.name} cannot be unpacked: {error}") from None
    return root


def _unpack(archive: str, root: str) -> None:
    """In the child process: unpack."""
    path = Path(archive)
    try:
        fd = open_regular(path)
    except NotRegular as error:
        raise SubmissionError(f"{path.name} is {error.what}: hand in the archive itself") from None
    try:
        with os.fdopen(fd, "rb") as source:
            if path.name.endswith(".zip"):
                _unzip(path, source, Path(root))
            else:
                _untar(path, source, Path(root))
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as error:
        if isinstance(error, SubmissionError):
            raise
        raise SubmissionError(f"{path.name} cannot be unpacked: {error}") from None


def _unzip(archive: Path, source: BinaryIO, root: Path) -> None:
    count, directory = _zip_end(source)
    if count is None or count > MAX_MEMBERS or directory > count * MAX_ENTRY + 4096:
        raise SubmissionError(
            f"{archive.name} holds {'too many' if count is None else f'{count:,}'} files, more "
            f"than a submission needs (at most {MAX_MEMBERS:,}), or a directory larger than its files need: refused"
        )
    caps = _Caps(archive)
    with zipfile.ZipFile(source) as z:
        for member in z.infolist():
            caps.add(member.file_size)
            target = _check_path(archive, root, member.filename)
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(member) as packed, open(target, "wb") as copy:
                while chunk := packed.read(1 << 16):
                    caps.write(len(chunk))  # the declared sizes may lie
                    copy.write(chunk)


def _untar(archive: Path, source: BinaryIO, root: Path) -> None:
    """A tar read as a stream, of the compression its name says and no other, whose
    bytes are counted as they come out of the decompressor: a header that claims a
    gigabyte is refused at the cap, before it is read whole."""
    head = source.read(3)
    source.seek(0)
    compressed = archive.name.endswith((".tar.gz", ".tgz"))
    if compressed != (head[:2] == b"\x1f\x8b"):
        raise SubmissionError(
            f"{archive.name} is not what its name says: "
            + ("not gzip-compressed" if compressed else "a compressed file, where .tar is plain")
            + ": pack it as .tar.gz (tar -czf) or .zip"
        )
    caps = _Caps(archive)
    raw: Any = gzip.GzipFile(fileobj=source) if compressed else source
    stream: Any = _Counted(raw, caps)
    with tarfile.open(fileobj=stream, mode="r|") as members:
        for member in members:
            caps.add(0)
            if not (member.isfile() or member.isdir()):
                raise SubmissionError(f"{archive.name}: {member.name} is a link or device: refused")
            _check_path(archive, root, member.name)
            members.extract(member, root, **SAFE_TAR)  # type: ignore[arg-type]  # filter="data" where Python has it


class _Counted(io.RawIOBase):
    """A stream whose every byte read counts against an archive's caps."""

    def __init__(self, stream: Any, caps: _Caps):
        self.stream, self.caps = stream, caps

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(min(len(buffer), 1 << 16))
        self.caps.write(len(data))
        buffer[: len(data)] = data
        return len(data)


class _Caps:
    """Counts an archive's members and bytes as they come, and refuses it past the caps."""

    def __init__(self, archive: Path):
        self.archive, self.members, self.bytes = archive, 0, 0

    def add(self, size: int) -> None:
        self.members += 1
        self.write(size)

    def write(self, size: int) -> None:
        self.bytes += max(size, 0)
        if self.members > MAX_MEMBERS or self.bytes > MAX_UNPACKED:
            raise SubmissionError(
                f"{self.archive.name} unpacks to more than {MAX_MEMBERS:,} files or {MAX_UNPACKED:,} bytes, more than a "
                "submission needs: refused"
            )


def _zip_end(source: BinaryIO) -> tuple[int | None, int]:
    """The number of members a zip file's end record declares, and the size of its
    directory, read before its directory is; a count of None when it uses the zip64
    format (a submission never needs it)."""
    source.seek(0, os.SEEK_END)
    end = source.tell()
    source.seek(max(0, end - 65_557))  # the end record and the longest comment
    tail = source.read()
    source.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise zipfile.BadZipFile("File is not a zip file")
    count, directory = struct.unpack_from("<HI", tail, at + 10)
    return (None if count == 0xFFFF else count), directory


def _check_path(archive: Path, root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise SubmissionError(f"{archive.name}: {name} would be unpacked outside its folder: refused")
    return target
