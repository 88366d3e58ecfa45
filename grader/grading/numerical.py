"""Numerical differentiation: a function that gets its gradients by evaluating the
forward op again and again, on inputs nudged one entry at a time (central differences),
instead of by the chain rule.

Its values pass any comparison, so it is found by what it does: the seal counts, in the
worker, every evaluation of the exercise's forward operators on the shape of an input it
differentiates, and a count far above what a derivation makes is flagged
`numerical_gradient`. A derivation evaluates each forward operator a few times at most;
a numerical derivative, twice per entry of each input. The flag is for the instructor,
and costs points only where the rubric says so (docs/threat-model.md).
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

MIN_EVALUATIONS = 16  # below this many evaluations of one operator, never flagged
PER_USE = 8  # a derivation evaluates an operator at most this many times per use in the forward op

Watch = frozenset[tuple[str, tuple[int, ...]]]


@light
class _Operators(TorchDispatchMode):
    """Records the operators that run below it, by name (aten::mul), with how often."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        self.seen[packet(func.name())] += 1
        return func(*args, **(kwargs or {}))


_TRACED: dict[int, tuple[Exercise, Mapping[str, int]]] = {}


def forward_operators(exercise: Exercise) -> Mapping[str, int]:
    """The operators the exercise's forward op runs (aten::tanh, aten::mm, ...), each
    with how many times: traced once, on the first trial's values drawn from a seed of
    no secret."""
    if id(exercise) not in _TRACED:
        seen: Mapping[str, int] = {}
        if exercise.evaluate is not None:
            values, _, _ = inputs(exercise, exercise.trials[0], 0)
            with torch.no_grad(), _Operators() as recorded:
                exercise.evaluate(values)
            seen = dict(recorded.seen)
        _TRACED[id(exercise)] = (exercise, seen)
    return _TRACED[id(exercise)][1]


def operators(exercises: Iterable[Exercise]) -> tuple[str, ...]:
    """Every forward operator of these exercises: what a worker counts."""
    return tuple(sorted({op for exercise in exercises for op in forward_operators(exercise)}))


def watch(exercise: Exercise, values: Mapping[str, torch.Tensor]) -> Watch:
    """The (operator, shape) pairs a call of the exercise's function is counted on: its
    forward operators, on the shape of any input whose gradient it returns."""
    shapes = {tuple(values[w].shape) for w in exercise.wrt if w in values}
    return frozenset((op, shape) for op in forward_operators(exercise) for shape in shapes)


def numerical(exercise: Exercise, evaluations: Mapping[str, int]) -> str:
    """Why a call's evaluations are those of a numerical derivative (the operator and
    how often), or "" when they are not."""
    uses = forward_operators(exercise)
    for op, count in sorted(evaluations.items(), key=lambda item: -item[1]):
        if op in uses and count >= max(MIN_EVALUATIONS, PER_USE * uses[op]):
            return (
                f"evaluates the forward op's {op.split('::')[-1]} {count} times in one call, where the forward op "
                f"itself does {uses[op]}: a numerical derivative?"
            )
    return ""
