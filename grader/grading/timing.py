"""Slow code: each right function timed against autograd on a large batch, in a step of
its own that changes no score unless the rubric says so.

The yardstick is autograd's backward of the same op at the same inputs: the reference
the grader already has, and one a student's released repository can run too (the
solutions are not there). A function ten times slower or more gets a note that names
the likely cause, a Python loop (found in its source, without running it), and the
vectorised ways out. A training run that is slow is told why the same way: from the pace it
measured (`training_note`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from grader.calls.call import Call
from grader.exercises.catalogue import FASTER_DC, TRAINING
from grader.exercises.model import Shape
from grader.exercises.training import GROWTH
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


# A training run's pace (exercises/training.py measures it): what makes a run slow, named
# only from what was measured. A right mlp_backward takes about 0.1 ms a call, and 3.1 to
# 3.5 times as long on a batch GROWTH (8) times larger; with the lecture's dC loop it takes
# 0.75 ms, and 7.2 to 7.5 times as long (measured on 2 cores, benchmarks/training_speed.py).
SLOW_CALL = 1e-3  # seconds a call of mlp_backward takes, from which on a run's report says why
SLOW_LOOP = 0.5e-3  # likewise, when its time grows with the batch as a Python loop's does
LOOP_GROWTH = 0.7 * GROWTH  # how much longer it takes on the larger batch, for that to be said


def training_note(pace: Mapping[str, float], path: Path, stopped: bool) -> str:
    """Why a training run was slow, in a sentence that ends in what to do, from its pace
    (seconds a step, of them in mlp_backward, and how much longer mlp_backward takes on a
    batch GROWTH times larger) and, for where a loop is, the source at `path`; "" for a
    run that was not slow and was not `stopped` for its time."""
    step, backward, growth = pace.get("step", 0.0), pace.get("backward", 0.0), pace.get("growth", 0.0)
    loop = growth >= LOOP_GROWTH
    if step <= 0 or not (stopped or backward >= SLOW_CALL or (loop and backward >= SLOW_LOOP)):
        return ""
    took = f"your mlp_backward takes {backward * 1e3:.2g} ms of each step's {step * 1e3:.2g} ms"
    if loop:
        found = first_loop(path, TRAINING.function)
        where = (
            f"the Python loop at line {found[0]} of {path.name}"
            + (", like the lecture's dC loop" if "Xb" in found[1] else "")
            if found
            else "a Python loop in a function it calls"
        )
        faster = FASTER_DC if found is None or "Xb" in found[1] else GENERIC
        return (
            f"{took}, and {growth:.1f} times as long on a batch {GROWTH} times larger, as a Python loop over the "
            f"batch does. Likely cause: {where}? Faster: {faster}"
        )
    if backward >= step / 2:
        return f"{took} (the reference solution's: about 0.1 ms). Faster: {GENERIC}"
    return (
        f"{took}: most of each step is the grader's own forward pass and update, which this machine runs slowly "
        "now (is it busy?)"
    )


def first_loop(path: Path, function: str) -> tuple[int, str] | None:
    """The line and source of the first loop of `function` in the file at `path`, or else
    of the first loop of the file's other functions (a helper it may call); read without
    running it."""
    found = last_definition(path, function)
    if found is None:
        return None
    kinds = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    for tree in (found.function, found.module):
        nodes = sorted((n for n in ast.walk(tree) if isinstance(n, kinds)), key=lambda n: n.lineno)
        if nodes:
            return nodes[0].lineno, ast.get_source_segment(found.source, nodes[0]) or ""
    return None


def explained(call: Call, folder: Path) -> Call:
    """A training run's Call with the note of why it was slow (`slow`), if it was, from
    the pace it measured and the source of its mlp_backward in `folder`."""
    result = call.value if call.failure is None and isinstance(call.value, dict) else None
    if result is None or not isinstance(result.get("pace"), dict):
        return call
    stopped = (result.get("stopped") or {}).get("kind") == "time_limit"
    note = training_note(result["pace"], folder / f"{TRAINING.module}.py", stopped)
    return replace(call, value={**result, "slow": note}) if note else call
