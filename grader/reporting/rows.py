"""The rows a person reads: one per id, except where several ids of one module lost
points for one reason (a raise of their function, a size dependence, the module missing,
functions not written yet), which share one row that names the ids it covers, their
points together, and the reason and the line once. The machine formats (JSON, Gradescope, JUnit, Classroom) keep one entry per id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.exercises import catalogue
from grader.grading.results import ItemResult


@dataclass(frozen=True)
class Row:
    """One id, or the ids of one function that share their reason."""

    items: tuple[ItemResult, ...]
    label: str  # the id, or the part of the ids they share ("ex1.manual_backward", "ex1")
    covers: str  # which ids a shared row stands for ("all 26 ids", "24 of 26 ids: all but C, emb"); "" for one

    @property
    def first(self) -> ItemResult:
        return self.items[0]

    @property
    def score(self) -> float:
        return round(sum(item.score for item in self.items), 6)

    @property
    def max_score(self) -> float:
        return round(sum(item.max_score for item in self.items), 6)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


def rows(items: Sequence[ItemResult]) -> list[Row]:
    """The items as rows, in their order: the ids of one module that are not right for
    the same reason (status, reason, hint and flags alike) make one row, where the first
    of them stands; every other id has its own. A reason names its function where it is
    the function's, so ids of two functions share a row only for the module's own."""
    groups: dict[tuple[object, ...], list[ItemResult]] = {}
    order: list[tuple[object, ...]] = []
    for item in items:
        key = _cause(item)
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(item)
    siblings = _siblings(items)
    return [_row(tuple(groups[key]), siblings) for key in order]


def _cause(item: ItemResult) -> tuple[object, ...]:
    """What makes two ids one row: the module they test and their reason. A right id,
    or one the catalogue does not know, is a row of its own."""
    known = catalogue.ITEM_BY_ID.get(item.id)
    if item.status == "passed" or not item.message or known is None:
        return ("id", item.id)
    hint = item.diagnosis.hint if item.diagnosis else ""
    flags = tuple(flag.message for flag in item.flags)
    return ("cause", known.exercise.module, item.status, item.message, hint, flags)


def _siblings(items: Sequence[ItemResult]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """id -> the ids of the report that test the same function, and the same module, in order."""
    by_function: dict[str, list[str]] = {}
    by_module: dict[str, list[str]] = {}
    for item in items:
        known = catalogue.ITEM_BY_ID.get(item.id)
        by_function.setdefault(known.exercise.function if known else item.id, []).append(item.id)
        by_module.setdefault(known.exercise.module if known else item.id, []).append(item.id)
    functions = {i: tuple(ids) for ids in by_function.values() for i in ids}
    modules = {i: tuple(ids) for ids in by_module.values() for i in ids}
    return {i: (functions[i], modules[i]) for i in functions}


def _row(items: tuple[ItemResult, ...], siblings: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> Row:
    if len(items) == 1:
        return Row(items, items[0].id, "")
    ids = [item.id for item in items]
    prefix = _shared_prefix(ids)
    function, module = siblings[ids[0]]
    every = function if set(ids) <= set(function) else module  # counted among the function's ids, where all are its
    if len(ids) == len(every):
        return Row(items, prefix, f"all {len(ids)} ids")
    left = [i for i in every if i not in ids]
    short = lambda i: i[len(prefix) + 1 :] if prefix and i.startswith(prefix + ".") else i  # noqa: E731
    named = f"all but {', '.join(map(short, left))}" if len(left) < len(ids) else ", ".join(map(short, ids))
    return Row(items, prefix, f"{len(ids)} of {len(every)} ids: {named}")


def _shared_prefix(ids: Sequence[str]) -> str:
    """The dotted parts every id starts with: "ex1.manual_backward" for its keys."""
    parts = [i.split(".") for i in ids]
    shared = []
    for column in zip(*parts):
        if len(set(column)) > 1:
            break
        shared.append(column[0])
    return ".".join(shared) or ids[0]
