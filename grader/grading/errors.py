"""What a teacher would say about an exception a student's function raised, read from
the exception's words and the line that raised it, without running anything. The habits
of people who follow the lecture in a notebook cause most of them: a name only an
earlier cell defined, a typo for an argument, a comma typed for a dot, a read of
autograd's `.grad`. Each hint quotes the line.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from grader.calls.call import Failure
from grader.calls.failures import EXCEPTION_HINT
from grader.calls.vocabulary import Code
from grader.exercises import catalogue, model
from grader.exercises.catalogue import Exercise
from grader.grading import sizes
from grader.grading.sources import last_definition, parameters

# Where an exception's message says it came from: "(ex1_atomic.py, line 54, in hpreact_backward)".
WHERE = re.compile(r"\(([\w.-]+\.py), line (\d+), in (\w+)\)\s*$")
NAME_ERROR = re.compile(r"^NameError: name '(\w+)' is not defined")
# A method call written after a comma: "(x * y),sum(0, keepdim=True)".
COMMA = re.compile(r"[\w)\]]\s*,\s*(sum|mean|max|min|view|reshape|exp|log|pow|abs|clone|t)\(")
# The notebook's globals for the lecture's sizes, by the size they hold.
NOTEBOOK_SIZES = {"n": "n", "batch_size": "n", "vocab_size": "V", "block_size": "B", "n_embd": "E", "n_hidden": "H"}
FUSED_NAMES = {*model.FUSED, *model.PARAMETERS}
CROSS_ENTROPY_STEPS = {"logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes"}


@dataclass(frozen=True)
class Told:
    """A teacher's reading of an exception: its code, and, for autograd, its reason."""

    code: Code
    hint: str
    message: str = ""  # replaces the exception's own words, when they mislead


def told(failure: Failure, folder: Path, exercise: Exercise) -> Told | None:
    """What to tell a student whose function raised `failure`, from the source in
    `folder`: at least the line that raised; None when the source cannot tell it."""
    found = WHERE.search(failure.message)
    if failure.kind != "exception" or found is None:
        return None
    file, number, function = found.group(1), int(found.group(2)), found.group(3)
    defined = last_definition(folder / file, function)  # WHERE's file name holds no folder
    if defined is None:
        return None
    lines = defined.source.splitlines()
    if not 0 < number <= len(lines):
        return None
    line = lines[number - 1].strip()
    quoted = f"{file}, line {number}: `{line[:100]}`"
    reads_grad = _reads_grad(defined.function)
    if reads_grad:
        return Told(
            "uses_autograd",
            f"do not read .grad: autograd computed it in the notebook, and here it is None; {_fused_start(exercise)}",
            f"{function} reads autograd's .grad ({file}, line {reads_grad}: `{lines[reads_grad - 1].strip()[:100]}`), "
            "which the grader leaves None",
        )
    if COMMA.search(line) and failure.message.startswith("TypeError"):
        return Told(
            "exception",
            f"a comma where a dot belongs ({quoted}): `x,sum(...)` calls Python's own sum; write `x.sum(...)`",
        )
    name = NAME_ERROR.match(failure.message)
    if name:
        return Told("exception", f"{_undefined(name.group(1), defined.function, exercise, function)} ({quoted})")
    return Told("exception", f"it raised at {quoted}; {EXCEPTION_HINT}")


def _reads_grad(function: ast.FunctionDef) -> int:
    """The line of the function's first read of a `.grad` attribute, or 0."""
    reads = [
        node.lineno
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute) and node.attr == "grad" and isinstance(node.ctx, ast.Load)
    ]
    return min(reads, default=0)


def _undefined(name: str, function: ast.FunctionDef, exercise: Exercise, where: str) -> str:
    """Why `name` is not there, and what to do, as far as the code tells."""
    given = parameters(function)
    local = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    key = name[1:] if name.startswith("d") else ""
    if key in model.CHAIN and name not in given:
        if exercise.fwd == "fused" and key not in FUSED_NAMES:
            start = (
                "start from exercise 2's gradient, dlogits = (softmax(logits) - one_hot(Yb)) / n"
                if key in CROSS_ENTROPY_STEPS
                else "take dhprebn from exercise 3's fused batchnorm gradient"
            )
            return f"`{name}` is not computed in {where}, and need not be: the fused pass has no {key}; {start}"
        how = catalogue.how_computed(key)
        return f"`{name}` is not computed in {where} (a name from an earlier notebook cell?): {how}, before this line"
    close = _close_to(name, [*given, *sorted(local)])
    if close:
        case = " (names are case-sensitive)" if close.lower() == name.lower() else ""
        return f"`{name}` is not defined in {where}: did you mean `{close}`?{case}"
    letter = NOTEBOOK_SIZES.get(name)
    if letter:
        names = sizes.reading_names(function, exercise.parameters, sizes.fields(exercise))
        reading = sizes.reading(letter, names).replace(f"{letter} = ", f"{name} = ", 1)
        fix = f": {reading}" if reading else ": take it from a tensor's shape"
        return f"`{name}` is not defined in {where} (it was a notebook global){fix}"
    return (
        f"`{name}` is not defined in {where}: a name from an earlier notebook cell is not there when the "
        "function runs on its own. Compute it in the function from its arguments"
    )


def _close_to(name: str, candidates: list[str]) -> str:
    """The candidate `name` is likely a typo of: the same but for case, or nearly so."""
    for candidate in candidates:
        if candidate.lower() == name.lower():
            return candidate
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return found[0] if found else ""


def _fused_start(exercise: Exercise) -> str:
    """Where a backward pass's own gradient starts."""
    if exercise.fwd == "fused":
        return "compute dlogits yourself, as in exercise 2: (softmax(logits) - one_hot(Yb)) / n"
    return "compute the gradient yourself, by the chain rule from the gradient passed in"
