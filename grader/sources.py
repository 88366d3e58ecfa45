"""A student's function read from its file without running it: the static checks
(autograd in the source, loops, hard-coded sizes) all start here."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Defined:
    """A function as its file defines it."""

    source: str  # the whole file
    module: ast.Module
    function: ast.FunctionDef  # its last top-level def: the one that runs


def last_definition(path: Path, function: str) -> Defined | None:
    """The last top-level `def function` of the file at `path` (a later def replaces an
    earlier one); None when the file cannot be read or parsed (its import reports that)
    or defines no such function."""
    try:
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return None
    defined = [node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == function]
    return Defined(source, module, defined[-1]) if defined else None
