"""Which function a notebook hands in for each exercise: one rule, read by `check()` in a
running kernel (frontends/notebook.py) and by a notebook handed in (cells.py), so that
the two never grade different functions.

The rule: an exercise's function is the one its name (`cross_entropy_backward`) holds
once the notebook has run from top to bottom: its last `def`, or the last
`cross_entropy_backward = my_function`. `check("ex2.cross_entropy_backward", my_dlogits)`
grades my_dlogits in that check alone: trying a function out never changes what is
handed in, and a kernel's check keeps no memory of the checks before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from grader.exercises import catalogue

T = TypeVar("T")


def handed_in(bound: Mapping[str, T], is_function: Callable[[T], bool]) -> dict[str, T]:
    """Exercise function -> what its name holds in `bound` (a kernel's globals, or what a
    notebook's cells bind), for each exercise name bound to a function, in the
    catalogue's order."""
    return {name: bound[name] for name in catalogue.FUNCTIONS if name in bound and is_function(bound[name])}


def function_of(item_id: object) -> str | None:
    """The exercise function of an id, if it is one."""
    if item_id == catalogue.TRAINING.id:
        return catalogue.TRAINING.function
    return catalogue.ITEM_BY_ID[item_id].exercise.function if item_id in catalogue.ITEM_BY_ID else None


def functions_of(ids: Iterable[str]) -> list[str]:
    """The exercise functions of these ids, each once, in the ids' order."""
    return list(dict.fromkeys(f for f in map(function_of, ids) if f is not None))


def tried(checked: str, function: str, place: str = "") -> str:
    """What a student reads when a check grades `checked` as exercise function
    `function` while the name `function` holds another function: it counted for that
    check only. `place` names the check's cell (at hand-in); "" for the check itself."""
    who = f"{place} checks {checked} as {function}" if place else f"this check grades {checked} as {function}"
    fix = (
        f"write `{function} = {checked}` in a cell below its def"
        if checked.isidentifier()
        else f"define it with def {function}(...)"
    )
    return (
        f"{who}, for that check only: the hand-in and check() grade the function named {function}; "
        f"to hand {checked} in, {fix}"
    )
