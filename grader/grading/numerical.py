"""Numerical differentiation: a function that gets its gradients by evaluating the
forward op again and again on nudged inputs (central differences, one entry at a time or
all in one batch) instead of by the chain rule.

Its values pass any comparison, so it is found by what it does: the seal counts, in the
worker, the elements that each forward operator of the exercise is evaluated on during a
call, in calls of any shape; a derivation evaluates them on a few times what the forward
op itself does (its loops cut the same work into rows), a numerical derivative on twice
that for every entry of each input it differentiates. Far above is flagged
`numerical_gradient`: for the instructor, and costing points only where the rubric says
so (docs/threat-model.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.exercises.catalogue import Exercise
from grader.exercises.inputs import inputs
from grader.sandbox.differentiators import light, packet

TIMES = 16  # how many times the forward op's own elements a call may evaluate before it is flagged


@light
class _Operators(TorchDispatchMode):
    """Records, per operator that runs below it (aten::mul), the elements of its first
    tensor argument."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        first = next((arg for arg in args if isinstance(arg, torch.Tensor)), None)
        self.elements[packet(func.name())] += first.numel() if first is not None else 1
        return func(*args, **(kwargs or {}))


_TRACED: dict[tuple[int, tuple[tuple[int, ...], ...]], tuple[Exercise, Mapping[str, int]]] = {}


def forward_elements(exercise: Exercise, values: Mapping[str, torch.Tensor]) -> Mapping[str, int]:
    """Per operator of the exercise's forward op, the elements it evaluates at these
    values: traced once per exercise and shapes."""
    shapes = tuple(tuple(v.shape) for v in values.values() if isinstance(v, torch.Tensor))
    key = (id(exercise), shapes)
    if key not in _TRACED:
        seen: Mapping[str, int] = {}
        if exercise.evaluate is not None:
            with torch.no_grad(), _Operators() as recorded:
                exercise.evaluate(values)
            seen = dict(recorded.elements)
        _TRACED[key] = (exercise, seen)
    return _TRACED[key][1]


def watch(exercise: Exercise) -> frozenset[str]:
    """The operators a call of the exercise's function is counted on: its forward op's,
    traced on the first trial's values, drawn from a seed of no secret."""
    values, _, _ = inputs(exercise, exercise.trials[0], 0)
    return frozenset(forward_elements(exercise, values))


def operators(exercises: Iterable[Exercise]) -> tuple[str, ...]:
    """Every forward operator of these exercises: what a worker counts."""
    return tuple(sorted({op for exercise in exercises for op in watch(exercise)}))


def numerical(exercise: Exercise, evaluations: Mapping[str, int], values: Mapping[str, torch.Tensor]) -> str:
    """Why a call's evaluations, at these forward values, are those of a numerical
    derivative (how much, and of what), or "" when they are not. All the forward op's
    operators together: a derivation uses them on other shapes than the forward op does
    (a sum's gradient is a product over the summed shape), never on many times as much."""
    own = forward_elements(exercise, values)
    counted = {op: elements for op, elements in evaluations.items() if own.get(op)}
    total, forward = sum(counted.values()), sum(own.values())
    if not forward or total < TIMES * forward:
        return ""
    most = max(counted, key=lambda op: counted[op])
    return (
        f"evaluates the forward op's operators on {total:,} elements in one call ({most.split('::')[-1]} most), "
        f"{total / forward:.0f} times what the forward op itself does: a numerical derivative?"
    )
