"""The second stage of grading one exercise: what each trial's call returned, compared
gradient by gradient with autograd's answer, and each wrong one diagnosed. What goes on:
the exercise's outcome, every comparison and failure over its trials."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from grader.calls.call import Failure
from grader.exercises.catalogue import Exercise
from grader.grading import clues, numerical
from grader.grading.calling import SOURCE, Runs, TrialRun
from grader.grading.compare import Comparison, NotReturned, compare, unpack
from grader.grading.diagnosis import Diagnosis, aliased, diagnose_trial, from_problem
from grader.grading.policy import Rules
from grader.grading.results import Example


@dataclass
class Outcome:
    """Every comparison and failure of one exercise, over its trials."""

    exercise: Exercise
    comparisons: dict[str, list[Comparison]]  # gradient name -> one per trial that returned a value
    failures: list[tuple[str, Failure]] = field(default_factory=list)  # (trial label, why)
    output: str = ""  # what the function printed in its first trial that printed anything
    numerical: str = ""  # why its calls look like a numerical derivative, and in which trial; "" if not
    # For pictures: the student's value and the reference of each wrong gradient, in the
    # first trial where both are tensors of one shape.
    examples: dict[str, Example] = field(default_factory=dict)

    @property
    def returned_in(self) -> set[str]:
        """The labels of the trials in which the function returned a value."""
        return {c.trial for found in self.comparisons.values() for c in found}


def check(runs: Runs, rules: Rules) -> Outcome:
    """The outcome of an exercise's runs."""
    exercise = runs.exercise
    outcome = Outcome(exercise, {name: [] for name in exercise.gradient_names})
    if runs.before is not None:
        outcome.failures.append((SOURCE, runs.before))
    for run in runs.runs:
        outcome.output = outcome.output or run.call.output
        why = numerical.numerical(exercise, run.call.evaluations, run.values)
        if why and not outcome.numerical:
            outcome.numerical = f"{exercise.function} {why} [{run.trial.label}]"
        if run.call.failure is None:
            _compare(run, rules.tolerances, outcome)
        else:
            outcome.failures.append((run.trial.label, run.call.failure))
    return outcome


def add_trial(outcome: Outcome, run: TrialRun, rules: Rules) -> bool:
    """One more trial's run (the timing step's) into an outcome; whether it was right."""
    if run.call.failure is not None:
        outcome.failures.append((run.trial.label, run.call.failure))
        return False
    before = {name: len(found) for name, found in outcome.comparisons.items()}
    _compare(run, rules.tolerances, outcome)
    return all(c.passed for name, found in outcome.comparisons.items() for c in found[before[name] :])


def _compare(run: TrialRun, tolerances: dict[str, float], outcome: Outcome) -> None:
    """Compare every gradient of one call with the reference, each within its id's
    tolerance, and diagnose the wrong ones."""
    exercise, reference = run.exercise, run.reference
    found = {}
    for name, key in zip(exercise.gradient_names, exercise.wrt):
        scale = exercise.zero_scale[key](reference) if key in exercise.zero_scale else 0.0
        got = unpack(run.call.value, exercise, name)
        tolerance = tolerances[name]
        if isinstance(got, NotReturned):
            found[name] = got, got.comparison(reference[key], run.trial.label, tolerance)
        else:
            comparison = compare(
                name,
                got,
                reference[key],
                scale=scale,
                tolerance=tolerance,
                trial=run.trial.label,
                lecture=run.lecture[key],
            )
            found[name] = got, comparison
    wrong = {key for (_, c), key in zip(found.values(), exercise.wrt) if not c.passed}
    for (name, (got, comparison)), key in zip(found.items(), exercise.wrt):
        if not comparison.passed:
            comparison = replace(comparison, diagnosis=diagnose(run, key, got, comparison, wrong))
            if name not in outcome.examples and comparison.error is not None and isinstance(got, torch.Tensor):
                outcome.examples[name] = Example(got.detach().double(), reference[key], run.trial.label)
        outcome.comparisons[name].append(comparison)


def diagnose(run: TrialRun, key: str, got: Any, comparison: Comparison, wrong: set[str]) -> Diagnosis:
    """What is most likely wrong with one gradient in one trial."""
    name, trial, tolerance = comparison.name, run.trial.label, comparison.tolerance
    shared = [
        other for pair in _named(run.call.aliases, run.exercise) for other in pair if name in pair and other != name
    ]
    if shared:
        return aliased(name, shared[0], trial)
    if comparison.problem is not None and comparison.problem != "not_close":
        scale = run.exercise.zero_scale[key](run.reference) if key in run.exercise.zero_scale else 0.0
        return from_problem(
            comparison.problem, comparison.message, name, trial, got, run.reference[key], tolerance, scale
        )
    known = _known_mistake(run, key, name, got, tolerance)
    if known is not None:
        return known
    students = run.call.value if isinstance(run.call.value, dict) else {}
    clue = clues.context(
        run.exercise, run.trial, run.values, run.reference, key, students, wrong, tolerance, run.upstream, got.dtype
    )
    return diagnose_trial(name, got.detach().double(), run.reference[key], clue)


def _known_mistake(run: TrialRun, key: str, name: str, got: Any, tolerance: float) -> Diagnosis | None:
    """The first of the exercise's known mistakes (a course's) whose gradient the student's
    matches: tried before the general patterns, which know only the lecture's."""
    for mistake in run.exercise.mistakes:
        expected = run.gradients_of(mistake).get(key)
        if expected is not None and compare(name, got, expected, tolerance=tolerance, trial=run.trial.label).passed:
            message = f"{name} matches a known mistake: {mistake.name}"
            return Diagnosis(mistake.code, message, mistake.hint, name, run.trial.label)
    return None


def _named(pairs: tuple[tuple[str, str], ...], exercise: Exercise) -> list[tuple[str, str]]:
    """Pairs of shared tensors by gradient name: a tuple's positions become its names."""
    if exercise.returns_dict:
        return list(pairs)
    names = exercise.gradient_names
    index = lambda position: names[int(position)] if position.isdigit() and int(position) < len(names) else position
    return [(index(a), index(b)) for a, b in pairs]
