"""Turn comparisons and failures into a score, a status and a one-line reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grader.compare import Comparison
from grader.results import GradientResult, ItemResult
from grader.submission import Failure

FAILURE_STATUS = {
    "missing_module": "missing",
    "missing_function": "missing",
    "not_implemented": "not_implemented",
    "bad_return": "failed",
    "mutated_input": "failed",
    "uses_autograd": "failed",
}


def score_item(
    item_id: str,
    points: float,
    comparisons: Mapping[str, Sequence[Comparison]],
    failures: Sequence[tuple[str, Failure]] = (),
) -> ItemResult:
    """Score one id: its points split evenly among its gradients, each of which earns its
    share only when it is right in every trial. A call that failed in any trial costs
    every gradient of the id, since it returned nothing to grade."""
    gradients = tuple(
        GradientResult(name, tuple(found), passed=not failures and bool(found) and all(c.passed for c in found))
        for name, found in comparisons.items()
    )
    right = sum(g.passed for g in gradients)
    score = round(points * right / len(gradients), 6) if gradients else 0.0
    if gradients and right == len(gradients):
        return ItemResult(item_id, score, points, "passed", "", gradients)
    if failures:
        trial, failure = failures[0]
        status = FAILURE_STATUS.get(failure.kind, "error")
        message = failure.message if status in ("missing", "not_implemented") else f"{failure.message} [{trial}]"
        return ItemResult(item_id, score, points, status, message, gradients, failure.detail)
    wrong = next(c for g in gradients for c in g.comparisons if not c.passed)
    status = "partial" if score > 0 else "failed"
    return ItemResult(item_id, score, points, status, f"{wrong.message} [{wrong.trial}]", gradients)
