"""Slow code: each right function timed against autograd on a large batch, in a step of
its own that changes no score unless the rubric says so.

The yardstick is autograd's backward of the same op at the same inputs: the reference
the grader already has, and one a student's released repository can run too (the
solutions are not there). A function ten times slower or more gets a note that names
the likely cause, a Python loop (found in its source, without running it), and the
vectorised ways out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.exercises.model import Shape
from grader.exercises.trials import Trial
from grader.grading.sources import last_definition

BIG = Trial(Shape(n=4096, V=27, E=10, B=3, H=64), salt=8)
REPEATS = 10  # calls per function in one go: the CPU time per call is their mean

GENERIC = "compute the gradient for the whole batch at once: broadcasting, .sum(0, keepdim=True) and @ need no loop"


@dataclass(frozen=True)
class Speed:
    """How fast one right function is, against autograd."""

    function: str  # module.function
    seconds: float  # the student's function: CPU seconds per call, the mean of REPEATS calls
    reference_seconds: float  # autograd's backward of the same op, likewise
    slowdown: float  # the threshold of the rubric
    why: str = ""  # how slow, and the likely cause; empty unless slow
    faster: str = ""  # what to do instead; empty unless slow

    @property
    def note(self) -> str:
        """Why it is slow and what to do, as one sentence for the reports."""
        return f"{self.why} Faster: {self.faster}" if self.why else ""

    @property
    def ratio(self) -> float:
        return self.seconds / max(self.reference_seconds, 1e-9)

    @property
    def slow(self) -> bool:
        return self.ratio >= self.slowdown


def verdict(function: str, path: Path, seconds: float, reference: float, slowdown: float, faster: str) -> Speed:
    """The Speed of one function, with a note when it is slow."""
    speed = Speed(function, seconds, reference, slowdown)
    if not speed.slow:
        return speed
    name = function.split(".")[-1]
    lines = loops(path, name)
    cause = (
        f"the Python loop at line {lines[0]} of {path.name}, over the batch like the lecture's dC loop?"
        if lines
        else "no loop in its own source: a helper it calls, or a long chain of small operations?"
    )
    why = (
        f"{name} takes {seconds * 1e3:.3g} ms at n = {BIG.shape.n}, {speed.ratio:.0f} times autograd's "
        f"{reference * 1e3:.3g} ms. Likely cause: {cause}"
    )
    return Speed(function, seconds, reference, slowdown, why, faster or GENERIC)


def loops(path: Path, function: str) -> list[int]:
    """The lines of the for and while loops in the source of `function`, read without
    running it."""
    found = last_definition(path, function)
    if found is None:
        return []
    kinds = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    return sorted(n.lineno for n in ast.walk(found.function) if isinstance(n, kinds))
