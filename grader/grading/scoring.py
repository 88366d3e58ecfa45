"""The third stage of grading: an exercise's outcome turned into a score, a status, a
diagnosis and a one-line reason per id; with what the rubric adds on top (a size
dependence shared once, a flag for the instructor, the timing step's penalty)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.calls.call import Failure
from grader.calls.failures import kind
from grader.exercises import catalogue
from grader.exercises.catalogue import Item
from grader.grading import errors, sizes
from grader.grading.checking import Outcome
from grader.grading.compare import Comparison
from grader.grading.diagnosis import SIZE_HINT, Diagnosis, from_failure, over_trials
from grader.grading.errors import Told
from grader.grading.policy import Rules
from grader.grading.results import Example, Flag, GradientResult, ItemResult, Status
from grader.grading.timing import Speed


def score_item(
    item_id: str,
    points: float,
    comparisons: Mapping[str, Sequence[Comparison]],
    failures: Sequence[tuple[str, Failure]] = (),
    quirky: Iterable[str] = (),
    examples: Mapping[str, Example] | None = None,
    size_hint: str = SIZE_HINT,
    said: Told | None = None,
    function_id: str = "",
    propagated_right: bool = False,
    course: bool = False,
) -> ItemResult:
    """Score one id: its points split evenly among its gradients, each of which earns its
    share only when it is right in every trial. A call that failed in any trial costs
    every gradient of the id, since it returned nothing to grade (but see grading's size
    dependence). `quirky` names the trials whose quirk (not their sizes) may explain a
    failure; `size_hint` says which sizes the function hard-codes, if any is known;
    `said`, what a teacher would say of the exception it raised (errors.py);
    `function_id`, the id a hint sends a student to for every id of the function;
    `propagated_right`, whether a gradient wrong only because those it follows from are
    (propagated) counts as right (the rubric's [grading] propagated); `course`, whether a
    course declared the exercise (no hint of the lecture's trials' quirks then)."""
    quirky = set(quirky)
    counted = lambda c: (
        c.passed
        or (  # noqa: E731
            propagated_right and c.diagnosis is not None and c.diagnosis.code == "propagated"
        )
    )
    gradients = tuple(
        GradientResult(
            name,
            tuple(found),
            passed=not failures and bool(found) and all(counted(c) for c in found),
            diagnosis=over_trials(
                name, [(c.trial, c.passed, c.diagnosis) for c in found], quirky, size_hint, quirk_hints=not course
            ),
            example=(examples or {}).get(name),
        )
        for name, found in comparisons.items()
    )
    right = sum(g.passed for g in gradients)
    score = round(points * right / len(gradients), 6) if gradients else 0.0
    if gradients and right == len(gradients):
        return ItemResult(item_id, score, points, "passed", "", gradients)
    if failures:
        trial, failure = failures[0]
        status = kind(failure.kind).status
        diagnosis = _failure_diagnosis(failure, trial, gradients, quirky, size_hint)
        if said is not None and diagnosis.code == "exception":
            diagnosis = replace(diagnosis, code=said.code, message=said.message or diagnosis.message, hint=said.hint)
            status = kind("uses_autograd").status if said.code == "uses_autograd" else status
        seen = next((g.diagnosis for g in gradients if g.diagnosis is not None), None)
        if seen is not None and diagnosis.code == "size_dependent":  # both: neither hides the other
            diagnosis = Diagnosis(
                seen.code,
                f"{seen.message} [{seen.trial}]; and {diagnosis.message}",
                f"{seen.hint}; and {diagnosis.hint}",
                seen.gradient,
                trial,
            )
        located = status in ("missing", "not_implemented", "not_graded") or failure.kind == "import_error"
        diagnosis = replace(diagnosis, hint=diagnosis.hint.replace("{id}", function_id or item_id))
        message = diagnosis.message if located else f"{diagnosis.message} [{diagnosis.trial or trial}]"
        return ItemResult(item_id, score, points, status, message, gradients, failure.detail, diagnosis)
    diagnosis = next(g.diagnosis for g in gradients if not g.passed and g.diagnosis is not None)
    missing = all(c.problem == "missing_key" for g in gradients if not g.passed for c in g.comparisons)
    outcome: Status = "partial" if score > 0 else "missing" if missing else "failed"
    return ItemResult(
        item_id, score, points, outcome, f"{diagnosis.message} [{diagnosis.trial}]", gradients, "", diagnosis
    )


def _failure_diagnosis(
    failure: Failure, trial: str, gradients: Sequence[GradientResult], quirky: set[str], size_hint: str
) -> Diagnosis:
    """A failed call's diagnosis; an exception at some sizes only, where the call
    returned at others (right or not), is size-dependent."""
    returned = [c.trial for g in gradients for c in g.comparisons if c.trial not in quirky]
    if failure.kind == "exception" and returned and trial not in quirky:
        right = all(c.passed for g in gradients for c in g.comparisons)
        return Diagnosis(
            "size_dependent",
            f"{'right' if right else 'it returned'} at {returned[0]} but raised at {trial}: {failure.message}",
            size_hint,
            trial=trial,
        )
    return from_failure(failure.kind, failure.message, trial)


def score_exercise(
    outcome: Outcome, rules: Rules, size_dependence: float | None, numerical_share: float, folder: Path
) -> dict[str, ItemResult]:
    """Every id of an exercise from its outcome. `size_dependence`: the points a function
    that raised at some sizes only loses (None: all, as any failure); `numerical_share`:
    the share of an id's points a numerical derivative loses; `folder`: where its source
    is, to name the sizes it hard-codes."""
    exercise = outcome.exercise
    path = folder / f"{exercise.module}.py"
    names = sizes.function_names(path, exercise)
    hint = sizes.hint(sizes.hardcoded(path, exercise.function, _raising_line(outcome)), names)
    sized = _size_dependence(outcome, rules, size_dependence, hint)
    raised = next((f for _, f in outcome.failures if f.kind == "exception"), None)
    said = errors.told(raised, folder, exercise) if raised else None
    found = {}
    for item in exercise.items:
        result = _score(item, outcome, rules, [] if sized else outcome.failures, hint, said)
        if sized:
            result = sized.charge(result)
        if outcome.numerical:
            result = flagged(result, Flag("numerical_gradient", outcome.numerical), numerical_share)
        if outcome.output:
            printed = f"{exercise.function} printed:\n{outcome.output}"
            result = replace(result, detail="\n".join(filter(None, [result.detail, printed])), printed=outcome.output)
        found[item.id] = result
    return found


def _score(
    item: Item,
    outcome: Outcome,
    rules: Rules,
    failures: Sequence[tuple[str, Failure]],
    hint: str,
    said: Told | None = None,
) -> ItemResult:
    comparisons = {name: outcome.comparisons[name] for name in item.gradients}
    return score_item(
        item.id,
        rules.points(item.id),
        comparisons,
        failures,
        rules.quirky,
        outcome.examples,
        hint,
        said,
        outcome.exercise.items[0].id,
        rules.rubric.propagated == "right",
        outcome.exercise.of_course,
    )


def _raising_line(outcome: Outcome) -> int:
    """The line of the student's code that raised, if a call raised."""
    return next((f.line for _, f in outcome.failures if f.kind == "exception" and f.line), 0)


def _size_dependence(outcome: Outcome, rules: Rules, cost: float | None, hint: str) -> SizeDependence | None:
    """A function that raised at some sizes only and returned at two or more: graded
    where it returned, it loses the rubric's size_dependence points once, shared among
    its ids as they scored; None where all-or-nothing applies."""
    shapes = {t.shape for t in rules.trials if t.label in outcome.returned_in}
    if cost is None or not outcome.failures or len(shapes) < 2:
        return None
    if not all(f.kind == "exception" for _, f in outcome.failures):
        return None
    exercise = outcome.exercise
    scores = {item.id: _score(item, outcome, rules, [], hint).score for item in exercise.items}
    cost = min(cost, sum(scores.values()))
    trial, failure = outcome.failures[0]
    return SizeDependence(exercise.function, trial, failure, hint, cost, _shares(cost, scores), exercise.items[0].id)


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
        """An id's result with its part of the cost taken, and why: the same words for
        every id, which the reports show once for all of them (reporting/rows.py)."""
        taken = self.charged.get(result.id, 0.0)
        score = round(max(result.score - taken, 0.0), 6)
        shared = f", shared among its {len(self.charged)} ids" if len(self.charged) > 1 else ""
        lost = f", it loses {self.cost:g} point{'s' if self.cost != 1 else ''} for that{shared}" if self.cost else ""
        message = (
            f"{self.function} raised at {self.trial}: {self.failure.message}; graded at the sizes where it "
            f"returned{lost}"
        )
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
