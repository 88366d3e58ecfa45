"""What one call of student code gives back: a value, or a failure that says why not.
Shared by every runner (the sandbox's workers, the in-process runner) and by grading."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.calls.vocabulary import FailureKind


# The forward operators whose evaluations a call counts, by name ("aten::mul").
Watch = Iterable[str]


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
    # The elements each watched forward operator was evaluated on, in all its calls, as
    # the seal (or, in the grader's own process, its guard) counted them: many times the
    # forward op's own is numerical differentiation (grading/numerical.py).
    evaluations: dict[str, int] = field(default_factory=dict)
