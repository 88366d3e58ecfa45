"""Grade a submission: for each exercise and trial, the reference by autograd, the
student's value by a call, and one comparison per gradient; then a score per id.

`Grader` computes what an id needs on first request and keeps it, so that the pytest
plugin can ask id by id and the 26 ids of manual_backward share one call per trial.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from grader.calls.call import Call, Failure
from grader.calls.failures import kind as failure_kind
from grader.calls.limits import Limits
from grader.exercises import catalogue
from grader.exercises.catalogue import Exercise, Mistake
from grader.exercises.inputs import inputs
from grader.exercises.rubric import Rubric, load_rubric
from grader.exercises.seeds import new_seed
from grader.exercises.trials import Trial
from grader.grading import clues, lockstep, numerical, sizes, timing
from grader.grading.compare import Comparison, NotReturned, compare, unpack
from grader.grading.diagnosis import Diagnosis, aliased, diagnose_trial, from_problem
from grader.grading.results import Announced, Example, Flag, ItemResult, Report, Status
from grader.grading.scan import autograd_in_source
from grader.grading.scoring import score_item
from grader.grading.timing import Speed
from grader.handins.submissions import Handed, hand_in
from grader.sandbox import Runner, open_runner
from grader.sandbox.client import max_reply
from grader.sandbox.confinement import Required
from grader.sandbox.execution import uses_autograd
from grader.sandbox.zygote import SandboxLost


class ExerciseOutcome:
    """Every comparison and failure of one exercise, over its trials."""

    def __init__(self, exercise: Exercise):
        self.comparisons: dict[str, list[Comparison]] = {name: [] for name in exercise.gradient_names}
        self.failures: list[tuple[str, Failure]] = []
        self.output = ""  # what the function printed in its first trial that printed anything
        self.numerical = ""  # why its calls look like a numerical derivative, and in which trial; "" if not
        # For pictures: the student's value and the reference of each wrong gradient, in
        # the first trial where both are tensors of one shape, and that trial's label.
        self.examples: dict[str, Example] = {}


class Grader:
    """Grades one submission folder against the catalogue, on trials drawn from this
    run's secret seed (`seed` repeats a run)."""

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
        self._outcomes: dict[str, ExerciseOutcome] = {}
        self._results: dict[str, ItemResult] = {}
        self._budget_end: float | None = None
        self._slow: list[str] = []  # the functions that ran into a time limit
        self._sized: dict[str, SizeDependence | None] = {}

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
        handed = self.handed
        return Report(
            handed.name,
            items,
            self.rubric.tolerance,
            self.runner.sandboxed,
            speeds,
            announced,
            self.seed,
            self.runner.confinement.layers,
            handed.notes,
            time.monotonic() - self._started,
        )

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
            limits = self._within_budget(self.rubric.limits_for(items))
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
            if not self._timed_right(exercise, values, upstream, call):
                for item in exercise.items:
                    self._results.pop(item.id, None)  # scored again, with the timed trial
                continue
            low = _float32(values)
            start = time.process_time()
            for _ in range(timing.REPEATS):
                exercise.reference(low, None if upstream is None else upstream.float())
            reference = (time.process_time() - start) / timing.REPEATS
            path = self.runner.folder / f"{exercise.module}.py"
            slowdown = self.rubric.timing.slowdown
            found.append(
                timing.verdict(
                    f"{exercise.module}.{exercise.function}", path, call.seconds, reference, slowdown, exercise.faster
                )
            )
        return tuple(found)

    def _timed_right(
        self, exercise: Exercise, values: dict[str, torch.Tensor], upstream: torch.Tensor | None, call: Call
    ) -> bool:
        """Whether the timing step's call returned the right gradients; if not, the
        exercise's outcome holds why, as one more trial's."""
        outcome = self.outcome(exercise)
        if call.failure is not None:
            outcome.failures.append((timing.BIG.label, call.failure))
            return False
        ids = {name: item.id for item in exercise.items for name in item.gradients}
        reference = exercise.reference(values, upstream)
        lecture = exercise.reference(_float32(values), None if upstream is None else upstream.float())
        run = TrialRun(exercise, timing.BIG, values, upstream, reference, lecture, call)
        before = {name: len(found) for name, found in outcome.comparisons.items()}
        self._compare(run, {name: self.rubric.tolerance_for(i) for name, i in ids.items()}, outcome)
        return all(c.passed for name, found in outcome.comparisons.items() for c in found[before[name] :])

    def item(self, item_id: str) -> ItemResult:
        if item_id not in self._results:
            try:
                self._results[item_id] = self.handed.origins.relocated(self._grade(item_id))
            except SandboxLost:
                raise  # the whole submission is graded again, with a new zygote
            except Exception as error:  # noqa: BLE001 - a bug of the grader's own must not cost the report
                message = f"the grader itself failed on this id ({type(error).__name__}: {error}); please report it"
                detail = "".join(traceback.format_exception(error))
                self._results[item_id] = ItemResult(
                    item_id, 0.0, self.rubric.points[item_id], "error", message, (), detail
                )
        return self._results[item_id]

    def _grade(self, item_id: str) -> ItemResult:
        points = self.rubric.points[item_id]
        if item_id == catalogue.TRAINING.id:
            limits = self.rubric.limits_for([item_id])
            comparisons, failures = lockstep.check(
                self.runner, self.rubric.tolerance_for(item_id), lambda: self._within_budget(limits), self.seed
            )
            cut = self._budget_end is not None and self._budget_end <= time.monotonic()
            failures = [
                (label, _from_mlp_backward(self._budgeted(failure, cut, item_id))) for label, failure in failures
            ]
            return score_item(item_id, points, comparisons, failures)
        item = catalogue.ITEM_BY_ID[item_id]
        outcome = self.outcome(item.exercise)
        sized = self._size_dependence(item.exercise)
        result = self._score(item, [] if sized else outcome.failures)
        if sized:
            result = sized.charge(result)
        if outcome.numerical:
            result = flagged(result, Flag("numerical_gradient", outcome.numerical), self.rubric.numerical_gradient)
        if outcome.output:
            printed = f"{item.exercise.function} printed:\n{outcome.output}"
            result = replace(result, detail="\n".join(filter(None, [result.detail, printed])), printed=outcome.output)
        return result

    def _score(self, item: catalogue.Item, failures: list[tuple[str, Failure]]) -> ItemResult:
        """One id's score from its exercise's comparisons and these failures."""
        outcome = self.outcome(item.exercise)
        comparisons = {name: outcome.comparisons[name] for name in item.gradients}
        quirky = {t.label for t in self.rubric.trials_for(item.exercise) if t.quirky}
        return score_item(
            item.id,
            self.rubric.points[item.id],
            comparisons,
            failures,
            quirky,
            outcome.examples,
            self._size_hint(item.exercise),
        )

    def _size_hint(self, exercise: Exercise) -> str:
        """Which sizes the function hard-codes: on the line that raised, if one did."""
        failures = self.outcome(exercise).failures
        line = next((f.line for _, f in failures if f.kind == "exception" and f.line), 0)
        return sizes.hint(sizes.hardcoded(self.runner.folder / f"{exercise.module}.py", exercise.function, line))

    def _size_dependence(self, exercise: Exercise) -> SizeDependence | None:
        """A function that raised at some sizes only and returned at two or more: graded
        where it returned, it loses the rubric's size_dependence points once, shared
        among its ids as they scored; None where all-or-nothing applies."""
        key = f"{exercise.module}.{exercise.function}"
        if key in self._sized:
            return self._sized[key]
        outcome, found = self.outcome(exercise), None
        returned = {c.trial for cs in outcome.comparisons.values() for c in cs}
        shapes = {t.shape for t in self.rubric.trials_for(exercise) if t.label in returned}
        if (
            self.rubric.size_dependence is not None
            and outcome.failures
            and all(f.kind == "exception" for _, f in outcome.failures)
            and len(shapes) >= 2
        ):
            scores = {item.id: self._score(item, []).score for item in exercise.items}
            cost = min(self.rubric.size_dependence, sum(scores.values()))
            trial, failure = outcome.failures[0]
            found = SizeDependence(
                exercise.function,
                trial,
                failure,
                self._size_hint(exercise),
                cost,
                _shares(cost, scores),
                exercise.items[0].id,
            )
        self._sized[key] = found
        return found

    def outcome(self, exercise: Exercise) -> ExerciseOutcome:
        key = f"{exercise.module}.{exercise.function}"
        if key not in self._outcomes:
            self._outcomes[key] = self._check(exercise)
        return self._outcomes[key]

    # -- the time budget ------------------------------------------------------------------

    def _within_budget(self, limits: Limits) -> Limits | None:
        """A call's limits, cut to what is left of the submission's time budget (which
        starts with its first call); None once nothing is left."""
        now = time.monotonic()
        if self._budget_end is None:
            self._budget_end = now + self.rubric.budget
        left = self._budget_end - now
        if left <= 0:
            return None
        return replace(limits, wall_time=min(limits.wall_time, left), cpu_time=min(limits.cpu_time, left))

    def _budgeted(self, failure: Failure, cut: bool, what: str) -> Failure:
        """A failure in the light of the budget: a call that ran out of time because the
        budget had cut its limits is not graded; one that ran into its own limit is
        named in the reason of the ids the budget then leaves out."""
        if failure.kind == "not_graded":
            return replace(failure, message=self._not_graded())
        if failure.kind not in ("timeout", "cpu_time"):
            return failure
        if cut:
            return Failure("not_graded", self._not_graded())
        self._slow.append(what)
        return failure

    def _not_graded(self) -> str:
        slow = f" ({', '.join(dict.fromkeys(self._slow[:3]))} ran into their time limits)" if self._slow else ""
        return f"not graded: the submission's {self.rubric.budget:g} s time budget ran out before this id{slow}"

    # -- one exercise, trial by trial -------------------------------------------------------

    def _check(self, exercise: Exercise) -> ExerciseOutcome:
        """Call the student's function on every trial, and compare what it returns."""
        outcome = ExerciseOutcome(exercise)
        evidence = autograd_in_source(self.runner.folder / f"{exercise.module}.py", exercise.function)
        if evidence:
            outcome.failures.append(("read from the source", uses_autograd(evidence)))
            return outcome
        # The id's settings, resolved once for all the trials.
        ids = {name: item.id for item in exercise.items for name in item.gradients}
        tolerances = {name: self.rubric.tolerance_for(item_id) for name, item_id in ids.items()}
        limits = self.rubric.limits_for(ids.values())
        for trial in self.rubric.trials_for(exercise):
            run = self._call(exercise, trial, limits)
            outcome.output = outcome.output or run.call.output
            why = numerical.numerical(exercise, run.call.evaluations, run.values)
            if why and not outcome.numerical:
                outcome.numerical = f"{exercise.function} {why} [{trial.label}]"
            failure = run.call.failure
            if failure is None:
                self._compare(run, tolerances, outcome)
                continue
            outcome.failures.append((trial.label, failure))
            if not failure_kind(failure.kind).retried:
                break
        return outcome

    def _call(self, exercise: Exercise, trial: Trial, limits: Limits) -> TrialRun:
        """One call of the student's function, within what is left of the time budget,
        with autograd's answers to the same inputs."""
        values, upstream, arguments = inputs(exercise, trial, self.seed)
        budgeted = self._within_budget(limits)
        if budgeted is None:
            failure = self._budgeted(Failure("not_graded", ""), True, "")
            return TrialRun(exercise, trial, values, upstream, {}, {}, Call(failure=failure))
        pending = self.runner.submit(
            exercise.module,
            exercise.function,
            arguments,
            exercise.fwd is not None,
            budgeted,
            reply_size(exercise, values),
            numerical.watch(exercise),
        )
        # While a worker runs the student's code: autograd in float64 (the verdict), and in
        # float32 on the student's own inputs (the lecture's cmp: "exact").
        reference = exercise.reference(values, upstream)
        lecture = exercise.reference(_float32(values), None if upstream is None else upstream.float())
        call = pending()
        if call.failure:
            cut = budgeted.wall_time < limits.wall_time or budgeted.cpu_time < limits.cpu_time
            call = replace(call, failure=self._budgeted(call.failure, cut, f"{exercise.module}.{exercise.function}"))
        return TrialRun(exercise, trial, values, upstream, reference, lecture, call)

    def _compare(self, run: TrialRun, tolerances: dict[str, float], outcome: ExerciseOutcome) -> None:
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
                comparison = replace(comparison, diagnosis=self._diagnose(run, key, got, comparison, wrong))
                if name not in outcome.examples and comparison.error is not None and isinstance(got, torch.Tensor):
                    outcome.examples[name] = Example(got.detach().double(), reference[key], run.trial.label)
            outcome.comparisons[name].append(comparison)

    def _diagnose(self, run: TrialRun, key: str, got: Any, comparison: Comparison, wrong: set[str]) -> Diagnosis:
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


def _shares(cost: float, scores: dict[str, float]) -> dict[str, float]:
    """`cost` split among ids in proportion to their scores, to the 6 decimals a score
    keeps, the last taking what rounding left so that the shares add up to it."""
    total = sum(scores.values()) or 1.0
    shares = {i: round(cost * s / total, 6) for i, s in scores.items()}
    if shares:
        last = list(shares)[-1]
        shares[last] = round(cost - sum(v for i, v in shares.items() if i != last), 6)
    return shares


@dataclass(frozen=True)
class SizeDependence:
    """A function that raised at some sizes and returned at others: the points it loses
    once, shared among its ids, and the one place that names the line that raised."""

    function: str
    trial: str  # where it first raised
    failure: Failure
    hint: str  # which sizes it hard-codes
    cost: float  # the points it loses in all
    charged: dict[str, float]  # id -> the part of them taken from it
    first: str  # the id whose reason names the line

    def charge(self, result: ItemResult) -> ItemResult:
        """An id's result with its part of the cost taken, and why."""
        taken = self.charged.get(result.id, 0.0)
        score = round(max(result.score - taken, 0.0), 6)
        if result.id == self.first:
            shared = f", shared among its {len(self.charged)} ids ({taken:.2g} here)" if len(self.charged) > 1 else ""
            lost = (
                f", it loses {self.cost:g} point{'s' if self.cost != 1 else ''} for that{shared}" if self.cost else ""
            )
            message = (
                f"{self.function} raised at {self.trial}: {self.failure.message}; graded at the sizes where it "
                f"returned{lost}"
            )
        else:
            message = f"{self.function} raised at some sizes (see {self.first}): {taken:.2g} points taken here"
        if result.status != "passed":
            return replace(result, score=score, detail="\n".join(filter(None, [result.detail, message])))
        diagnosis = Diagnosis("size_dependent", message, self.hint, trial=self.trial)
        status: Status = "passed" if score >= result.max_score else "partial" if score > 0 else "error"
        return replace(
            result,
            score=score,
            status=status,
            message=message,
            diagnosis=diagnosis,
            detail=self.failure.detail if result.id == self.first else "",
        )


@dataclass(frozen=True)
class TrialRun:
    """One trial of one exercise: its inputs, autograd's answers, the student's call (the answers
    are empty when the time budget left no call to make)."""

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


def _known_mistake(run: TrialRun, key: str, name: str, got: Any, tolerance: float) -> Diagnosis | None:
    """The first of the exercise's known mistakes (a course's) whose gradient the student's
    matches: tried before the general patterns, which know only the lecture's."""
    for mistake in run.exercise.mistakes:
        expected = run.gradients_of(mistake).get(key)
        if expected is not None and compare(name, got, expected, tolerance=tolerance, trial=run.trial.label).passed:
            return Diagnosis(
                "known_mistake", f"{name} matches a known mistake: {mistake.name}", mistake.hint, name, run.trial.label
            )
    return None


def _from_mlp_backward(failure: Failure) -> Failure:
    """The training stopped because mlp_backward raised: its own id says why, and the
    training follows from it."""
    if failure.kind != "exception":
        return failure
    return replace(failure, kind="bad_return", message=f"mlp_backward raised: {failure.message}")


def _named(pairs: tuple[tuple[str, str], ...], exercise: Exercise) -> list[tuple[str, str]]:
    """Pairs of shared tensors by gradient name: a tuple's positions become its names."""
    if exercise.returns_dict:
        return list(pairs)
    names = exercise.gradient_names
    index = lambda position: names[int(position)] if position.isdigit() and int(position) < len(names) else position
    return [(index(a), index(b)) for a, b in pairs]


def _float32(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in values.items()}


def flagged(result: ItemResult, flag: Flag, share: float) -> ItemResult:
    """An id's result with a flag for the instructor, and the share of its score the
    rubric takes for it (none by default)."""
    score = round(result.score * (1 - share), 6)
    status: Status = result.status
    if share > 0 and result.status == "passed":
        status = "partial" if score > 0 else "failed"
    message = result.message or (f"{flag.message}: {share:.0%} of its points taken" if share > 0 else "")
    return replace(result, score=score, status=status, message=message, flags=(*result.flags, flag))


def penalised(items: tuple[ItemResult, ...], speeds: Iterable[Speed], penalty: float) -> tuple[ItemResult, ...]:
    """The ids of slow functions, each losing `penalty` of its points."""
    slow = {speed.function.split(".")[-1]: speed for speed in speeds if speed.slow}
    out = []
    for item in items:
        speed = slow.get(catalogue.ITEM_BY_ID[item.id].exercise.function) if item.id in catalogue.ITEM_BY_ID else None
        if speed is None:
            out.append(item)
            continue
        diagnosis = Diagnosis("slow", speed.why, speed.faster)
        score = round(item.score * (1 - penalty), 6)
        out.append(replace(item, score=score, status="partial", message=diagnosis.message, diagnosis=diagnosis))
    return tuple(out)


def reply_size(exercise: Exercise, values: dict[str, torch.Tensor]) -> int:
    """The most bytes a reply of this exercise may take: its gradients, in any float dtype."""
    return max_reply([tuple(values[w].shape) for w in exercise.wrt])


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
