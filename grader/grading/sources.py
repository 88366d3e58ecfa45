"""A student's function read from its file without running it: the static checks
(autograd in the source, loops, hard-coded sizes) all start here. The file is read only
if it is a regular file, and only up to a cap, before anything is parsed."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader.calls.files import read_regular

MAX_SOURCE = 1 * 2**20  # bytes of one module: a module of exercises is a few KB


@dataclass(frozen=True)
class Defined:
    """A function as its file defines it."""

    source: str  # the whole file
    module: ast.Module
    function: ast.FunctionDef  # its last top-level def: the one that runs


def parameters(function: ast.FunctionDef) -> list[str]:
    """The names a def gives its positional parameters, in order."""
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args)]


def last_definition(path: Path, function: str) -> Defined | None:
    """The last top-level `def function` of the file at `path` (a later def replaces an
    earlier one); None when the file cannot be read or parsed (its import reports that)
    or defines no such function."""
    try:
        seen = os.stat(path)
    except OSError:
        return None
    parsed = _parsed(str(path), seen.st_mtime_ns, seen.st_size)
    if parsed is None:
        return None
    source, module = parsed
    defined = [node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == function]
    return Defined(source, module, defined[-1]) if defined else None


@lru_cache(maxsize=16)
def _parsed(path: str, mtime: int, size: int) -> tuple[str, ast.Module] | None:
    """A module's source and syntax tree, read once for all the checks of one grade
    (while the file stays as it was)."""
    try:
        data, size = read_regular(path, MAX_SOURCE + 1)
        if size > MAX_SOURCE:
            return None
        source = data.decode("utf-8")
        return source, ast.parse(source)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
