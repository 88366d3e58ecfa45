"""Turn comparisons and failures into a score, a status, a diagnosis and a one-line reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from grader.calls.call import Failure
from grader.calls.failures import kind
from grader.grading.compare import Comparison
from grader.grading.diagnosis import SIZE_HINT, Diagnosis, from_failure, over_trials
from grader.grading.results import Example, GradientResult, ItemResult, Status


def score_item(
    item_id: str,
    points: float,
    comparisons: Mapping[str, Sequence[Comparison]],
    failures: Sequence[tuple[str, Failure]] = (),
    quirky: Iterable[str] = (),
    examples: Mapping[str, Example] | None = None,
    size_hint: str = SIZE_HINT,
) -> ItemResult:
    """Score one id: its points split evenly among its gradients, each of which earns its
    share only when it is right in every trial. A call that failed in any trial costs
    every gradient of the id, since it returned nothing to grade (but see grading's size
    dependence). `quirky` names the trials whose quirk (not their sizes) may explain a
    failure; `size_hint` says which sizes the function hard-codes, if any is known."""
    quirky = set(quirky)
    gradients = tuple(
        GradientResult(
            name,
            tuple(found),
            passed=not failures and bool(found) and all(c.passed for c in found),
            diagnosis=over_trials(name, [(c.trial, c.passed, c.diagnosis) for c in found], quirky, size_hint),
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
        diagnosis = replace(diagnosis, hint=diagnosis.hint.replace("{id}", item_id))
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
