"""Grade a submission: the Grader's pipeline, exercise by exercise (calls, comparisons
and diagnoses, scores), then the timing step and the report; `grade` runs it once, and
again should the sandbox's zygote fail.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import torch

from grader.calls.call import Failure
from grader.exercises import catalogue
from grader.exercises.catalogue import Exercise
from grader.exercises.inputs import inputs
from grader.exercises.rubric import Rubric, load_rubric
from grader.exercises.seeds import new_seed
from grader.grading import lockstep, numerical, timing
from grader.grading.calling import TrialRun, float32, reply_size, run_trials
from grader.grading.checking import Outcome, add_trial, check
from grader.grading.policy import Budget, Rules
from grader.grading.results import Announced, ItemResult, Report, Status
from grader.grading.scoring import penalised, score_exercise, score_item
from grader.grading.timing import Speed
from grader.handins.submissions import Handed, hand_in
from grader.sandbox import Runner, open_runner
from grader.sandbox.confinement import Required
from grader.sandbox.zygote import SandboxLost


class Grader:
    """Grades one submission against the catalogue, on trials drawn from this run's
    secret seed (`seed` repeats a run), as a pipeline per exercise: its trials' calls
    (calling.py), their comparisons and diagnoses (checking.py), its ids' scores
    (scoring.py); then the timing step and the report. Each stage is computed on first
    request and kept, so that the pytest plugin can ask id by id and the 26 ids of
    manual_backward share one call per trial. What the rubric says is read once, where
    it applies: an exercise's `Rules`, the submission's `Budget`."""

    def __init__(
        self,
        submission: Runner | Handed | Path | str,
        rubric: Rubric | None = None,
        sandbox: bool = True,
        seed: int | None = None,
        require: Required = False,
    ):
        # The tensors are tiny: one thread is fastest, and with more, a busy machine makes
        # torch's threads wait on each other (measured: 0.5 s against 13 s on 2 loaded cores).
        torch.set_num_threads(1)
        self.rubric = rubric or load_rubric()
        self.seed = new_seed() if seed is None else seed
        self.rubric.activate()
        self._started = time.monotonic()
        # What was handed in (handed in here from a path, and closed with the grader), and
        # what runs its code: a sandbox or this process, opened here, or given.
        self._owned = isinstance(submission, (Path, str))
        if isinstance(submission, (Path, str)):
            self.handed = hand_in(submission)
        elif isinstance(submission, Handed):
            self.handed = submission
        else:
            self.handed = Handed(str(submission.source), submission.source)
        try:
            self.runner = (
                submission
                if not isinstance(submission, (Path, str, Handed))
                else open_runner(
                    self.handed.folder,
                    self.rubric.widest_limits,
                    sandbox,
                    require,
                    numerical.operators(catalogue.EXERCISES),
                )
            )
        except BaseException:
            self._close_handed()
            raise
        self.budget = Budget(self.rubric.budget)
        self._rules: dict[str, Rules] = {}
        self._outcomes: dict[str, Outcome] = {}
        self._scores: dict[str, dict[str, ItemResult]] = {}
        self._results: dict[str, ItemResult] = {}

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers and every process student code started; remove what the
        hand-in wrote (modules made from a notebook)."""
        try:
            self.runner.close()
        finally:
            self._close_handed()

    def _close_handed(self) -> None:
        if self._owned:
            self.handed.close()

    # -- the pipeline, per exercise ---------------------------------------------------------

    def rules(self, exercise: Exercise) -> Rules:
        key = f"{exercise.module}.{exercise.function}"
        if key not in self._rules:
            self._rules[key] = Rules(exercise, self.rubric)
        return self._rules[key]

    def outcome(self, exercise: Exercise) -> Outcome:
        """Stages one and two: the exercise's calls, then their comparisons."""
        key = f"{exercise.module}.{exercise.function}"
        if key not in self._outcomes:
            rules = self.rules(exercise)
            self._outcomes[key] = check(run_trials(self.runner, rules, self.budget, self.seed), rules)
        return self._outcomes[key]

    def scores(self, exercise: Exercise) -> dict[str, ItemResult]:
        """Stage three: the exercise's ids, scored from its outcome."""
        key = f"{exercise.module}.{exercise.function}"
        if key not in self._scores:
            self._scores[key] = score_exercise(
                self.outcome(exercise),
                self.rules(exercise),
                self.rubric.size_dependence,
                self.rubric.numerical_gradient,
                self.runner.folder,
            )
        return self._scores[key]

    def item(self, item_id: str) -> ItemResult:
        """One id's result, as a report shows it (its lines named by cell for a notebook)."""
        if item_id not in self._results:
            try:
                found = self._training() if item_id == catalogue.TRAINING.id else self._scored(item_id)
                self._results[item_id] = self.handed.origins.relocated(found)
            except SandboxLost:
                raise  # the whole submission is graded again, with a new zygote
            except Exception as error:  # noqa: BLE001 - a bug of the grader's own must not cost the report
                message = f"the grader itself failed on this id ({type(error).__name__}: {error}); please report it"
                detail = "".join(traceback.format_exception(error))
                self._results[item_id] = ItemResult(
                    item_id, 0.0, self.rubric.points[item_id], "error", message, (), detail
                )
        return self._results[item_id]

    def _scored(self, item_id: str) -> ItemResult:
        return self.scores(catalogue.ITEM_BY_ID[item_id].exercise)[item_id]

    def _training(self) -> ItemResult:
        """ex4.training: its own lockstep run (lockstep.py), within the same budget."""
        item_id = catalogue.TRAINING.id
        limits = self.rubric.limits_for([item_id])
        comparisons, failures = lockstep.check(
            self.runner, self.rubric.tolerance_for(item_id), lambda: self.budget.within(limits), self.seed
        )
        cut = self.budget.spent
        failures = [(label, _from_mlp_backward(self.budget.judged(f, cut, item_id))) for label, f in failures]
        return score_item(item_id, self.rubric.points[item_id], comparisons, failures)

    # -- the timing step, then the report ----------------------------------------------------

    def speeds(self, ids: Iterable[str]) -> tuple[Speed, ...]:
        """Every function whose graded ids are all right, timed against autograd on a
        large batch (timing.py): the student's CPU time as the kernel counts it. What the
        timed calls return is compared as any trial's: a function wrong or raising at
        that size fails its ids there, and is not timed."""
        wanted, found = set(ids), []
        for exercise in catalogue.EXERCISES:
            items = [i.id for i in exercise.items if i.id in wanted]
            if not items or any(self.item(i).status != "passed" for i in items):
                continue
            values, upstream, arguments = inputs(exercise, timing.BIG, self.seed)
            limits = self.budget.within(self.rubric.limits_for(items))
            if limits is None:
                break
            call = self.runner.time(
                exercise.module,
                exercise.function,
                arguments,
                exercise.fwd is not None,
                timing.REPEATS,
                limits,
                reply_size(exercise, values),
            )
            if call.failure is not None and call.failure.kind in ("timeout", "cpu_time", "not_graded"):
                continue  # too slow to time within its limits: no figure to give
            reference = exercise.reference(values, upstream)
            lecture = exercise.reference(float32(values), None if upstream is None else upstream.float())
            run = TrialRun(exercise, timing.BIG, values, upstream, reference, lecture, call)
            if not add_trial(self.outcome(exercise), run, self.rules(exercise)):
                self._scores.pop(f"{exercise.module}.{exercise.function}", None)  # scored again, with it
                for item in exercise.items:
                    self._results.pop(item.id, None)
                continue
            start = time.process_time()
            for _ in range(timing.REPEATS):
                exercise.reference(float32(values), None if upstream is None else upstream.float())
            seconds = (time.process_time() - start) / timing.REPEATS
            path = self.runner.folder / f"{exercise.module}.py"
            name = f"{exercise.module}.{exercise.function}"
            found.append(
                timing.verdict(name, path, call.seconds, seconds, self.rubric.timing.slowdown, exercise.faster)
            )
        return tuple(found)

    def report(self, ids: Iterable[str] | None = None) -> Report:
        """The report for the given ids (by default every id the rubric grades), in
        catalogue order."""
        wanted = set(self.rubric.graded if ids is None else ids)
        unknown = wanted - set(catalogue.IDS)
        if unknown:
            raise ValueError(
                f"no such exercise ids: {', '.join(sorted(unknown))}; `backprop-ninja list` shows them all"
            )
        # The timing step first: what a timed call returns is checked too, and may fail an id.
        speeds = self.handed.origins.relocated(self.speeds(wanted)) if self.rubric.timing.enabled else ()
        items = tuple(self.item(i) for i in catalogue.IDS if i in wanted)
        if self.rubric.timing.penalty > 0:
            items = penalised(items, speeds, self.rubric.timing.penalty)
        items = tuple(replace(item, visibility=self.rubric.visibility(item.id)) for item in items)
        announced = Announced(self.rubric.at_submission_items, self.rubric.at_submission_trials)
        return Report(
            self.handed.name,
            items,
            self.rubric.tolerance,
            self.runner.sandboxed,
            speeds,
            announced,
            self.seed,
            self.runner.confinement.layers,
            self.handed.notes,
            time.monotonic() - self._started,
        )


def _from_mlp_backward(failure: Failure) -> Failure:
    """The training stopped because mlp_backward raised: its own id says why, and the
    training follows from it."""
    if failure.kind != "exception":
        return failure
    return replace(failure, kind="bad_return", message=f"mlp_backward raised: {failure.message}")


def grade(
    submission: Path | str | Handed,
    rubric: Path | str | Rubric | None = None,
    ids: Iterable[str] | None = None,
    sandbox: bool = True,
    seed: int | None = None,
    require: Required = False,
) -> Report:
    """Grade a submission (a folder, a notebook, or what was handed in) and return its
    report. Should the sandbox's zygote
    die or stop answering meanwhile, the submission is graded again, once, with a new
    one; then the report says it could not be graded."""
    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    seed = new_seed() if seed is None else seed

    def once() -> Report:
        with Grader(submission, rubric, sandbox, seed, require) as grader:
            return grader.report(ids)

    try:
        return once()
    except SandboxLost:
        try:
            return once()
        except SandboxLost as lost:
            why = f"the grading sandbox failed twice on this submission: {lost}"
            name = submission.name if isinstance(submission, Handed) else str(submission)
            return ungraded(name, rubric, ids, seed, "error", why)


def ungraded(
    submission: Path | str, rubric: Rubric, ids: Iterable[str] | None, seed: int, status: Status, why: str
) -> Report:
    """A report for a submission that could not be graded: every id zero, with why."""
    wanted = set(rubric.graded if ids is None else ids)
    items = tuple(ItemResult(i, 0.0, rubric.points[i], status, why) for i in catalogue.IDS if i in wanted)
    return Report(str(submission), items, rubric.tolerance, True, seed=seed)
