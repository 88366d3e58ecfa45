"""What one call of student code gives back: a value, or a failure that says why not.
Shared by every runner (the sandbox's workers, the in-process runner) and by grading."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.calls.vocabulary import FailureKind


# The (forward operator, input shape) pairs whose evaluations a call counts: ("aten::mul", (32, 27)).
Watch = Iterable[tuple[str, tuple[int, ...]]]


@dataclass(frozen=True)
class Failure:
    """Why a call gave no value to grade."""

    kind: FailureKind
    message: str  # one line for the student
    detail: str = ""  # the traceback, for -v and the instructor's report
    line: int = 0  # the line of the student's module it came from, when known


@dataclass(frozen=True)
class Call:
    """What one call of a student's function gave: a value, or a failure."""

    value: Any = None
    failure: Failure | None = None
    output: str = ""  # what the function printed, cut to a few thousand characters
    seconds: float = 0.0  # the CPU time the call took, as the grader measured it
    # Pairs of returned gradients that are one tensor (or share memory): dict keys, or
    # gradient names of a tuple; they can only be seen where the call ran.
    aliases: tuple[tuple[str, str], ...] = ()
    # Evaluations of each watched forward operator on a watched shape, as the seal (or,
    # in the grader's own process, its guard) counted them: many is numerical
    # differentiation.
    evaluations: dict[str, int] = field(default_factory=dict)
