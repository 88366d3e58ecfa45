"""What the rubric says about grading one submission, read once, each where it applies:
per exercise, its ids' points and tolerances, its calls' limits and its trials (`Rules`);
for the submission, the time budget all its calls share (`Budget`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import cached_property

from grader.calls.call import Failure
from grader.calls.limits import Limits
from grader.exercises.catalogue import Exercise
from grader.exercises.rubric import Rubric
from grader.exercises.trials import Trial


@dataclass(frozen=True)
class Rules:
    """The rubric's settings for one exercise, resolved once for all its trials."""

    exercise: Exercise
    rubric: Rubric

    @cached_property
    def ids(self) -> dict[str, str]:
        """Gradient name -> the id that scores it."""
        return {name: item.id for item in self.exercise.items for name in item.gradients}

    @cached_property
    def tolerances(self) -> dict[str, float]:
        """Gradient name -> its id's tolerance."""
        return {name: self.rubric.tolerance_for(item_id) for name, item_id in self.ids.items()}

    @cached_property
    def limits(self) -> Limits:
        """One call's limits: the most generous of its ids'."""
        return self.rubric.limits_for(self.ids.values())

    @cached_property
    def trials(self) -> tuple[Trial, ...]:
        return self.rubric.trials_for(self.exercise)

    @cached_property
    def quirky(self) -> frozenset[str]:
        """The labels of the trials whose quirk, not their sizes, may explain a failure."""
        return frozenset(t.label for t in self.trials if t.quirky)

    def points(self, item_id: str) -> float:
        return self.rubric.points[item_id]


class Budget:
    """The time all the calls of one submission may take together: it starts with the
    first call, cuts each call's limits to what is left of it, and once it has run out
    says which ids are not graded, naming the functions that took the time."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end: float | None = None
        self.slow: list[str] = []  # the functions that ran into their own time limits

    def within(self, limits: Limits) -> Limits | None:
        """A call's limits, cut to what is left; None once nothing is left."""
        now = time.monotonic()
        if self.end is None:
            self.end = now + self.seconds
        left = self.end - now
        if left <= 0:
            return None
        return replace(limits, wall_time=min(limits.wall_time, left), cpu_time=min(limits.cpu_time, left))

    @property
    def spent(self) -> bool:
        return self.end is not None and self.end <= time.monotonic()

    def judged(self, failure: Failure, cut: bool, what: str) -> Failure:
        """A failure in the light of the budget: a call that ran out of time because the
        budget had cut its limits is not graded; one that ran into its own limit is named
        in the reason of the ids the budget then leaves out."""
        if failure.kind == "not_graded":
            return replace(failure, message=self.not_graded())
        if failure.kind not in ("timeout", "cpu_time"):
            return failure
        if cut:
            return Failure("not_graded", self.not_graded())
        self.slow.append(what)
        return failure

    def not_graded(self) -> str:
        slow = f" ({', '.join(dict.fromkeys(self.slow[:3]))} ran into their time limits)" if self.slow else ""
        return f"not graded: the submission's {self.seconds:g} s time budget ran out before this id{slow}"
