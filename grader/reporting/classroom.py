"""GitHub Classroom's result: what classroom-resources/autograding-grading-reporter reads.

The reporter reads the result twice: its log gives the runner passed tests / tests x
max_score points, and the gradebook gets the sum of the tests' `score`. The two agree
only when every test is a unit of equal weight that passes or not. So each id is split
into units, one per point where the scores allow it (per half or quarter point where they
need it, per several points for a very large rubric), and the units an id earned pass.
A score finer than a unit (a share of 3 points over 26 ids, say) is rounded to the
nearest unit, for the log and the gradebook alike, and never so that full marks fall
short; the job summary keeps the exact figures. The result travels base64-encoded in an
environment variable, which Linux caps at 128 KiB: it is kept under CAP bytes, with
shorter reasons, then coarser units, where it must.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.grading.results import ItemResult, Report

CAP = 48_000  # bytes of JSON: 64 KB in base64
REASONS = (300, 100, 0)  # characters of each reason, tried in turn until the result fits
UNITS = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)  # points per unit: tenths for decimal rubrics
MAX_TESTS = 400


def text(report: Report) -> str:
    """The result as the workflow hands it to the reporter: compact JSON."""
    return _dumps(result(report))


def result(report: Report) -> dict[str, Any]:
    """The result (version 1) of a sanitized report."""
    found: dict[str, Any] = {}
    for count in _unit_counts(report):
        for limit in REASONS:
            found = _result(report, count, limit)
            if len(_dumps(found).encode()) <= CAP:
                return found
    return found


def _unit_counts(report: Report) -> list[int]:
    """How many units the total may be split into, best first: the fewest in which every
    id's points and score are whole; then the finest in which the points are, rounding the
    scores; then the finest of the rest."""
    total = report.max_score
    counts = sorted({max(len(report.items), round(total / unit)) for unit in UNITS} if total > 0 else {1})

    def whole(value: float, count: int) -> bool:
        return abs(value * count / total - round(value * count / total)) < 1e-6

    fitting = [c for c in counts if c <= MAX_TESTS]
    exact = [c for c in fitting if all(whole(i.max_score, c) and whole(i.score, c) for i in report.items)]
    even = [c for c in reversed(fitting) if c not in exact and all(whole(i.max_score, c) for i in report.items)]
    rest = [c for c in reversed(fitting) if c not in exact + even]
    return exact + even + rest + [min(counts)]


def _result(report: Report, count: int, limit: int) -> dict[str, Any]:
    total = report.max_score
    unit = total / count if total > 0 else 0.0
    units = _apportion([i.max_score for i in report.items], unit, count)
    earned = min(count, round(report.score / unit)) if unit else 0
    passed = _apportion([i.score for i in report.items], unit, earned, units)
    tests = [test for item, n, k in zip(report.items, units, passed) for test in _tests(item, n, k, unit, limit)]
    _land(tests, total * earned / count if count else 0.0)
    return {
        "version": 1,
        "status": "pass" if report.passed else "fail",
        "max_score": total,
        "tests": tests,
    }


def _apportion(values: list[float], unit: float, count: int, caps: list[int] | None = None) -> list[int]:
    """`count` units shared out in proportion to `values` (largest remainders first), no
    share above its cap."""
    caps = caps if caps is not None else [count] * len(values)
    exact = [v / unit if unit else 0.0 for v in values]
    shares = [min(cap, math.floor(x + 1e-9)) for x, cap in zip(exact, caps)]
    order = sorted(range(len(values)), key=lambda i: shares[i] - exact[i])
    left = count - sum(shares)
    while left > 0 and any(shares[i] < caps[i] for i in order):
        for i in order:
            if left > 0 and shares[i] < caps[i]:
                shares[i] += 1
                left -= 1
    return shares


def _tests(item: ItemResult, units: int, earned: int, unit: float, limit: int) -> list[dict[str, Any]]:
    reason = item.feedback
    if len(reason) > limit:
        reason = reason[: max(0, limit - 40)].rstrip() + " ... (the job summary has it all)" if limit else ""
    # The reporter prints a failing test's name and its test_code, never its message.
    code = f"backprop-ninja check {item.id}" + "".join(f"\n# {line}" for line in reason.splitlines())
    tests = []
    for k in range(units):
        # Only what the reporter reads: a unit's name, status and score (line_no 0: no line
        # to show); the first unit of an id carries its reason.
        test = {
            "name": item.id if units == 1 else f"{item.id} [{k + 1}/{units}]",
            "status": "pass" if k < earned else "fail",
            "score": unit if k < earned else 0,
            "line_no": 0,
        }
        if k == 0:
            test["message"] = reason
            if item.status != "passed":
                test["test_code"] = code
        tests.append(test)
    return tests


def _land(tests: list[dict[str, Any]], target: float) -> None:
    """Adjust the last passing test's score so that the reporter's running sum, in its
    floats, lands on the total rounded to six places (74.4, not 74.40000000000052)."""
    passing = [t for t in tests if t["status"] == "pass"]
    if not passing:
        return
    target = round(target, 6)
    before = 0.0
    for test in passing[:-1]:
        before += test["score"]
    last = target - before
    for _ in range(4):
        if before + last == target:
            break
        last = math.nextafter(last, math.inf if before + last < target else -math.inf)
    passing[-1]["score"] = last


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n"
