"""The first stage of grading one exercise: its function called on every trial, within
the submission's time budget, with autograd's answers to the same inputs computed while
the worker runs. What goes on: the trials' runs, each a call and its references."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from grader.calls.call import Call, Failure
from grader.calls.failures import kind as failure_kind
from grader.exercises.catalogue import Exercise, Mistake
from grader.exercises.inputs import inputs
from grader.exercises.trials import Trial
from grader.grading import numerical
from grader.grading.policy import Budget, Rules
from grader.grading.scan import autograd_in_source
from grader.sandbox import Runner
from grader.sandbox.client import max_reply
from grader.sandbox.execution import uses_autograd

SOURCE = "read from the source"  # the place of a failure found before any call


@dataclass(frozen=True)
class TrialRun:
    """One trial of one exercise: its inputs, autograd's answers, the student's call (the
    answers are empty when the time budget left no call to make)."""

    exercise: Exercise
    trial: Trial
    values: dict[str, torch.Tensor]  # the forward values, float64
    upstream: torch.Tensor | None
    reference: dict[str, torch.Tensor]  # autograd in float64: the verdict
    lecture: dict[str, torch.Tensor]  # autograd in float32 on the student's inputs: "exact", as the lecture's cmp
    call: Call
    # Each known mistake's gradients, made once for all the wrong gradients of the call.
    mistaken: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict, compare=False)

    def gradients_of(self, mistake: Mistake) -> dict[str, torch.Tensor]:
        if id(mistake) not in self.mistaken:
            with torch.no_grad():
                self.mistaken[id(mistake)] = mistake.gradients(self.values, self.upstream)
        return self.mistaken[id(mistake)]


@dataclass(frozen=True)
class Runs:
    """Every trial's run of one exercise, in order, up to the first failure that ends
    them; or, before any call, the failure its source shows (autograd in it)."""

    exercise: Exercise
    runs: tuple[TrialRun, ...]
    before: Failure | None = None


def run_trials(runner: Runner, rules: Rules, budget: Budget, seed: int) -> Runs:
    """Call the exercise's function on every trial of its rules: a failure that may
    happen at some sizes only lets the later trials run, any other ends them."""
    exercise = rules.exercise
    evidence = autograd_in_source(runner.folder / f"{exercise.module}.py", exercise.function)
    if evidence:
        return Runs(exercise, (), uses_autograd(evidence))
    runs: list[TrialRun] = []
    for trial in rules.trials:
        run = _call(runner, rules, trial, budget, seed)
        runs.append(run)
        failure = run.call.failure
        if failure is not None and not failure_kind(failure.kind).retried:
            break
    return Runs(exercise, tuple(runs))


def _call(runner: Runner, rules: Rules, trial: Trial, budget: Budget, seed: int) -> TrialRun:
    """One call, within what is left of the time budget, with autograd's answers."""
    exercise = rules.exercise
    values, upstream, arguments = inputs(exercise, trial, seed)
    budgeted = budget.within(rules.limits)
    if budgeted is None:
        failure = budget.judged(Failure("not_graded", ""), True, "")
        return TrialRun(exercise, trial, values, upstream, {}, {}, Call(failure=failure))
    pending = runner.submit(
        exercise.module,
        exercise.function,
        arguments,
        exercise.fwd is not None,
        budgeted,
        reply_size(exercise, values),
        numerical.watch(exercise),
    )
    # While a worker runs the student's code, autograd's answers (made once for the run).
    reference, lecture = references(exercise, trial, seed, values, upstream)
    call = pending()
    if call.failure:
        cut = budgeted.wall_time < rules.limits.wall_time or budgeted.cpu_time < rules.limits.cpu_time
        call = replace(call, failure=budget.judged(call.failure, cut, f"{exercise.module}.{exercise.function}"))
    return TrialRun(exercise, trial, values, upstream, reference, lecture, call)


# Autograd's answers to each (exercise, trial) of one run's seed: the same for every
# submission graded on it (a batch job grades a class on one seed), so made once.
_REFERENCES: dict[tuple[int, Trial, int], tuple[Exercise, dict[str, torch.Tensor], dict[str, torch.Tensor]]] = {}


def references(
    exercise: Exercise, trial: Trial, seed: int, values: dict[str, torch.Tensor], upstream: torch.Tensor | None
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Autograd's answers to one trial of the run of `seed` (whose inputs are `values`
    and `upstream`): in float64 (the verdict), and in float32 on the student's own inputs
    (the lecture's cmp: "exact"). Made on first request and kept while the seed is the
    same; they are only read."""
    key = (id(exercise), trial, seed)
    if key not in _REFERENCES:
        if any(other[2] != seed for other in _REFERENCES):
            _REFERENCES.clear()  # another run's: one seed's answers are kept at a time
        reference = exercise.reference(values, upstream)
        lecture = exercise.reference(float32(values), None if upstream is None else upstream.float())
        _REFERENCES[key] = (exercise, reference, lecture)  # the exercise held, so that its id stays its own
    _, reference, lecture = _REFERENCES[key]
    return reference, lecture


def reply_size(exercise: Exercise, values: dict[str, torch.Tensor]) -> int:
    """The most bytes a reply of this exercise may take: its gradients, in any float dtype."""
    return max_reply([tuple(values[w].shape) for w in exercise.wrt])


def float32(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in values.items()}
