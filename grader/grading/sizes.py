"""Which sizes a student's function hard-codes: the numbers of the lecture's shapes
written into its source (`.view(32*3, 10)`, `F.one_hot(Yb, 27)`, `1/32`), and the
module-level constants it uses that hold them (`n = batch_size = 32`, `vocab_size = 27`),
read without running it, so that a function right at the lecture's sizes and wrong at
others is told which size to take from a tensor's shape.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.exercises.trials import LECTURE
from grader.grading.sources import last_definition

# The lecture's sizes, and the products of them that its code writes out (emb.view(32, 30)).
_S = LECTURE.shape
SIZES: dict[int, str] = {
    _S.n * _S.B: "n * B",
    _S.B * _S.E: "B * E",
    _S.n: "n, the batch size",
    _S.V: "V, the vocabulary size",
    _S.E: "E, the embedding size",
    _S.B: "B, the block size",
    _S.H: "H, the hidden size",
    200: "H, the hidden size of the lecture's training run",
}
ADVICE = "take every size from a tensor's shape (n = logits.shape[0], V = logits.shape[1], ...)"


@dataclass(frozen=True)
class Hardcoded:
    """A size written into a student's code."""

    value: int
    where: str  # "ex1_atomic.py, line 12 (emb.view(32*3, 10))" or "the global n = 32"


def hardcoded(path: Path, function: str, line: int = 0) -> list[Hardcoded]:
    """The lecture's sizes that `function` of the file at `path` writes out, on `line`
    only when it is given (the line that raised), and the module-level constants holding
    them that the function reads."""
    defined = last_definition(path, function)
    if defined is None:
        return []
    source, tree, body = defined.source, defined.module, defined.function
    lines = source.splitlines()
    found: list[Hardcoded] = []
    for node in ast.walk(body):
        value = _size(node)
        if (
            value is not None
            and isinstance(node, ast.Constant)
            and (not line or node.lineno == line)
            and _counted(node, value, body)
        ):
            text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            found.append(Hardcoded(value, f"{path.name}, line {node.lineno} ({text[:60]})"))
    used = {node.id for node in ast.walk(body) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    for name, value in _constants(tree).items():
        if name in used:
            found.append(Hardcoded(value, f"the global {name} = {value}"))
    return list({(h.value, h.where): h for h in found}.values())


def hint(found: list[Hardcoded]) -> str:
    """What to do about them, each size named once with every place it is written."""
    if not found:
        return f"is a size hard-coded (32 for n, 27 for V, 3 for B, 10 for E, 64 for H)? {ADVICE}"
    places: dict[int, list[str]] = {}
    for h in found:
        places.setdefault(h.value, []).append(h.where)
    named = [f"{value} ({SIZES[value]}) in {' and '.join(wheres)}" for value, wheres in list(places.items())[:4]]
    return f"hard-coded: {'; '.join(named)}: {ADVICE}"


def _size(node: ast.AST) -> int | None:
    """The lecture's size the node writes out, if it is one."""
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value in SIZES:
        return node.value
    return None


def _counted(node: ast.Constant, value: int, body: ast.FunctionDef) -> bool:
    """Not a size when it is an index or a dimension argument (x[3], .sum(3)) or a
    number of loop steps the lecture's sizes share by chance: only numbers of at least
    10, or smaller ones inside a call that makes or reshapes a tensor."""
    if value >= 10:
        return True
    for parent in ast.walk(body):
        if isinstance(parent, ast.Call) and node in ast.walk(parent):
            name = parent.func.attr if isinstance(parent.func, ast.Attribute) else getattr(parent.func, "id", "")
            if name in ("view", "reshape", "zeros", "ones", "empty", "randn", "full", "one_hot", "expand"):
                return True
    return False


def _constants(tree: ast.Module) -> dict[str, int]:
    """Module-level names bound to a lecture size: n = batch_size = 32, or n = batch_size."""
    found: dict[str, int] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        value = _size(node.value)
        if value is None and isinstance(node.value, ast.Name):
            value = found.get(node.value.id)
        if value is None:
            continue
        for target in node.targets:
            if isinstance(target, ast.Name):
                found[target.id] = value
    return found
