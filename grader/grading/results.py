"""What grading produces: a result per scored id, and the report that holds them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from grader.calls.vocabulary import Status
from grader.grading.compare import Comparison
from grader.grading.diagnosis import Diagnosis
from grader.grading.timing import Speed
from grader.sandbox.confinement import Layer

STATUSES: tuple[str, ...] = get_args(Status)


@dataclass(frozen=True)
class Example:
    """A wrong gradient to picture: the student's value and autograd's, float64 tensors
    of one shape, from the first trial where it was wrong."""

    got: Any
    expected: Any
    trial: str  # the trial's label


@dataclass(frozen=True)
class Announced:
    """What only the submission checks (from a released repository's rubric)."""

    items: tuple[str, ...] = ()  # ids not graded here
    trials: tuple[str, ...] = ()  # ids or patterns that get more trials there


@dataclass(frozen=True)
class GradientResult:
    """One returned gradient over all trials."""

    name: str  # e.g. "dW2", or the key "W2" for dict-returning functions
    comparisons: tuple[Comparison, ...]  # one per trial in which the function returned a value
    passed: bool  # right in every trial
    diagnosis: Diagnosis | None = None  # what is most likely wrong, over all trials; None when right
    example: Example | None = None  # for pictures; None when no trial gave a wrong tensor of the right shape


@dataclass(frozen=True)
class Flag:
    """Something an instructor should look at, whatever the score: how the function
    got its gradients (numerical_gradient), not whether they are right."""

    code: str  # numerical_gradient
    message: str  # what was seen, and in which trial


@dataclass(frozen=True)
class ItemResult:
    """The grade of one exercise id."""

    id: str  # e.g. "ex1.probs_backward"
    score: float
    max_score: float
    status: Status
    message: str  # one line saying what is wrong; empty when passed
    gradients: tuple[GradientResult, ...] = ()
    detail: str = ""  # a traceback or longer explanation, for -v and instructors
    diagnosis: Diagnosis | None = None  # what is most likely wrong; None when passed
    visibility: str = "visible"  # who sees it on Gradescope (rubric.VISIBILITIES)
    printed: str = ""  # what the function printed (also at the end of `detail`), for pytest's captured output
    flags: tuple[Flag, ...] = ()  # for the instructor to look at, whatever the score

    @property
    def feedback(self) -> str:
        """What a student reads under one test: the reason, the hint and the diagnosis code."""
        # What a student's code said may run over lines: each line after its first is
        # indented, so that none reads as a line of the grader's own (hint:, flag:).
        said = lambda text: text.replace("\n", "\n    ")  # noqa: E731
        flags = "".join(f"\nflag: {said(flag.message)}" for flag in self.flags)
        if self.diagnosis is None:
            return said(self.message or "right in every trial") + flags
        hint = f"\nhint: {said(self.diagnosis.hint)}" if self.diagnosis.hint else ""
        return f"{said(self.message)}{hint}\n(diagnosis: {self.diagnosis.code}){flags}"


@dataclass(frozen=True)
class Report:
    """The grade of one submission."""

    submission: str  # the folder or notebook that was graded
    items: tuple[ItemResult, ...]
    tolerance: float
    sandboxed: bool = True  # whether student code ran in worker processes
    speed: tuple[Speed, ...] = ()  # the timing step's figures, when it ran
    at_submission: Announced = Announced()
    seed: int = 0  # the run's secret seed, which drew every trial: --seed repeats the run
    confinement: tuple[Layer, ...] = ()  # the layers that confined student code
    notes: tuple[str, ...] = ()  # what the grader took from notebooks, and what it left behind
    seconds: float = 0.0  # how long grading took, from the grader's start to this report

    @property
    def score(self) -> float:
        return round(sum(item.score for item in self.items), 6)

    @property
    def max_score(self) -> float:
        return round(sum(item.max_score for item in self.items), 6)

    @property
    def passed(self) -> bool:
        return all(item.status == "passed" for item in self.items)
