"""Which sizes a student's function hard-codes: the numbers of the lecture's shapes
written into its source (`.view(32*3, 10)`, `F.one_hot(Yb, 27)`, `1/32`), and the
module-level constants it uses that hold them (`n = batch_size = 32`, `vocab_size = 27`),
read without running it, so that a function right at the lecture's sizes and wrong at
others is told which size to take from a tensor's shape.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.exercises import model
from grader.exercises.catalogue import Exercise
from grader.exercises.trials import LECTURE
from grader.grading.sources import last_definition, parameters

# The lecture's sizes, and the products of them that its code writes out (emb.view(32, 30)),
# each as the letters of the sizes it is made of.
_S = LECTURE.shape
SIZES: dict[int, tuple[str, ...]] = {
    _S.n * _S.B: ("n", "B"),
    _S.B * _S.E: ("B", "E"),
    _S.n: ("n",),
    _S.V: ("V",),
    _S.E: ("E",),
    _S.B: ("B",),
    _S.H: ("H",),
    200: ("H",),  # the hidden size of the lecture's training run
}
MEANING = {"n": "the batch size", "V": "the vocabulary size", "E": "the embedding size", "B": "the block size",
           "H": "the hidden size"}  # fmt: skip

# Where each size can be read: the forward values that have it, and at which dimension,
# the likeliest first. A hint offers the first one the function has.
READ_FROM: dict[str, tuple[tuple[str, int], ...]] = {
    "n": (("logits", 0), ("hprebn", 0), ("h", 0), ("hpreact", 0), ("bnraw", 0), ("embcat", 0), ("emb", 0),
          ("Xb", 0), ("logprobs", 0), ("probs", 0), ("counts", 0), ("norm_logits", 0), ("bndiff", 0),
          ("bndiff2", 0), ("Yb", 0)),
    "V": (("logits", 1), ("probs", 1), ("logprobs", 1), ("counts", 1), ("norm_logits", 1), ("C", 0), ("W2", 1)),
    "E": (("C", 1), ("emb", 2)),
    "B": (("Xb", 1), ("emb", 1)),
    "H": (("h", 1), ("hpreact", 1), ("hprebn", 1), ("bnraw", 1), ("W1", 1), ("W2", 0), ("bngain", 1),
          ("bnvar_inv", 1), ("bnbias", 1)),
}  # fmt: skip
ADVICE = "take every size from a tensor's shape"


@dataclass(frozen=True)
class Hardcoded:
    """A size written into a student's code."""

    value: int
    where: str  # "ex1_atomic.py, line 12 (`emb.view(32*3, 10)`)" or "the global n = 32"
    in_code: bool = True  # written in the function's code, not read from a module-level constant


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
    for node in sorted(ast.walk(body), key=lambda node: (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))):
        value = _size(node)
        if (
            value is not None
            and isinstance(node, ast.Constant)
            and (not line or node.lineno == line)
            and _counted(node, value, body)
        ):
            text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            found.append(Hardcoded(value, f"{path.name}, line {node.lineno} (`{text[:80]}`)"))
    used = {node.id for node in ast.walk(body) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    for name, value in _constants(tree).items():
        if name in used:
            found.append(Hardcoded(value, f"the global {name} = {value}", in_code=False))
    return list({(h.value, h.where): h for h in found}.values())


def hint(found: list[Hardcoded], names: Mapping[str, str] | None = None) -> str:
    """What to do about them: each place once, with the sizes it writes, and where the
    function can read each of them (`names`: forward value -> how the function reaches
    it, reading_names())."""
    names = names or {}
    if not found:
        return f"is a size hard-coded (32 for n, 27 for V, 3 for B, 10 for E, 64 for H)? {_advice('nVBEH', names)}"
    places: dict[tuple[str, bool], list[int]] = {}
    for h in found:
        places.setdefault((h.where, h.in_code), []).append(h.value)
    said = []
    for (where, in_code), values in list(places.items())[:3]:
        if in_code:
            said.append(f"{where} hard-codes {_listed([f'{v} ({_meant(v)})' for v in dict.fromkeys(values)])}")
        else:
            said.append(f"{where} ({_listed([_meant(v) for v in dict.fromkeys(values)])})")
    letters = "".join(dict.fromkeys(letter for h in found for letter in SIZES[h.value]))
    return f"{'; '.join(said)}: {_advice(letters, names)}"


def _advice(letters: str, names: Mapping[str, str]) -> str:
    """Take the sizes from shapes, naming where this function can read each one."""
    reads = [reading(letter, names) for letter in letters]
    reads = [r for r in reads if r]
    return f"{ADVICE} ({', '.join(reads)})" if reads else ADVICE


def reading(letter: str, names: Mapping[str, str]) -> str:
    """ "n = logits.shape[0]": where a function that reaches its forward values by
    `names` reads a size; "" when it has none that holds it."""
    for value, dim in READ_FROM[letter]:
        if value in names:
            return f"{letter} = {names[value]}.shape[{dim}]"
    return ""


def reading_names(body: ast.FunctionDef, specified: tuple[str, ...], fields: tuple[str, ...] = ()) -> dict[str, str]:
    """Forward value -> how the student's function reaches it: by the name it gave each
    parameter (`specified`, as the spec names them: "dh", "h", "fwd"), or as an
    attribute of its one parameter when it gets the pass's values (`fields`)."""
    given = parameters(body)
    if fields and given:
        return {name: f"{given[0]}.{name}" for name in fields}
    names: dict[str, str] = {}
    for spec, mine in zip(specified, given):
        names.setdefault(spec, mine)
    for spec, mine in zip(specified, given):  # an upstream gradient has its value's shape
        if spec.startswith("d"):
            names.setdefault(spec[1:], mine)
    return names


def _meant(value: int) -> str:
    letters = SIZES[value]
    return f"{letters[0]}, {MEANING[letters[0]]}" if len(letters) == 1 else " * ".join(letters)


def function_names(path: Path, exercise: Exercise) -> dict[str, str]:
    """How the student's function in the file at `path` reaches each forward value."""
    defined = last_definition(path, exercise.function)
    if defined is None:
        return {}
    return reading_names(defined.function, exercise.parameters, fields(exercise))


def fields(exercise: Exercise) -> tuple[str, ...]:
    """The forward values a function that gets the pass's values (`fwd`) can read."""
    passes = {"exploded": (*model.CHAIN, *model.PARAMETERS), "fused": (*model.FUSED, *model.PARAMETERS)}
    return (*passes[exercise.fwd], "Xb", "Yb") if exercise.fwd else ()


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


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
