"""Compare one gradient a student returned with the reference: the one comparison every
exercise goes through.

The yardstick (measured in the course's comparison study; docs/students.md, "How a gradient is
checked" gives its figures): both sides in float64, shapes exactly equal,
every entry finite, and the normalised error

    err = max|got - expected| / max(max|expected|, scale)

at most the tolerance. `scale` is 0 except for gradients that are exactly zero in
theory, where autograd returns rounding noise: there it is the size of the terms that
cancel, so that both exact zeros and noise pass.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

import torch

from grader.calls.vocabulary import Problem
from grader.exercises import catalogue
from grader.grading.diagnosis import Diagnosis

if TYPE_CHECKING:
    from grader.exercises.catalogue import Exercise

TOLERANCE = 1e-4

PROBLEMS: tuple[Problem, ...] = get_args(Problem)


@dataclass(frozen=True)
class Comparison:
    """The verdict on one gradient in one trial, with the lecture's `cmp` figures."""

    name: str  # the gradient's name, e.g. "dW2"
    trial: str  # the trial's label, e.g. "n=32 V=27 E=10 B=3 H=64"
    expected_shape: tuple[int, ...]
    shape: tuple[int, ...] | None  # None when the value is not a tensor
    problem: Problem | None  # None when the gradient is right
    message: str  # one sentence for the student; empty when right
    # The lecture's cmp figures. exact: equal to autograd's answer in float32 on the same inputs;
    # approximate: within the tolerance (the lecture's torch.allclose with its defaults
    # fails about 4% of correct float32 answers, so it is not the yardstick here).
    exact: bool | None = None
    approximate: bool | None = None
    max_abs_diff: float | None = None  # against the float64 reference
    error: float | None = None  # the normalised error above
    maxdiff: float | None = None  # the cmp's own: against the float32 answer exact compares with, 0 when exact
    tolerance: float = TOLERANCE
    diagnosis: Diagnosis | None = None  # what is most likely wrong, given by grading when it is wrong

    @property
    def passed(self) -> bool:
        return self.problem is None


def compare(
    name: str,
    got: Any,
    expected: torch.Tensor,
    *,
    scale: float = 0.0,
    tolerance: float = TOLERANCE,
    trial: str = "",
    lecture: torch.Tensor | None = None,
) -> Comparison:
    """Judge `got` against `expected` (a float64 tensor). `lecture` is autograd's answer
    in float32 on the student's own inputs, which "exact" means equal to, as in the
    lecture's cmp; without it, the reference rounded to float32."""
    expected_shape = tuple(expected.shape)

    def verdict(problem: Problem | None, message: str = "", **figures: Any) -> Comparison:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else None
        return Comparison(name, trial, expected_shape, shape, problem, message, tolerance=tolerance, **figures)

    if not isinstance(got, torch.Tensor):
        return verdict(
            "not_a_tensor", f"{name}: expected a tensor of shape {_shape(expected_shape)}, got {kind_of(got)}"
        )
    if not got.dtype.is_floating_point:
        return verdict(
            "wrong_dtype",
            f"{name}: expected a floating-point tensor, got dtype {str(got.dtype).removeprefix('torch.')}: "
            "did an integer tensor (an index, a count) slip in? Multiply by a float or call .float()",
        )
    if tuple(got.shape) != expected_shape:
        return verdict("wrong_shape", shape_message(name, tuple(got.shape), expected_shape))
    got64 = got.detach().to("cpu", torch.float64)
    if not torch.isfinite(got64).all():
        bad = int((~torch.isfinite(got64)).sum())
        return verdict("not_finite", f"{name}: {bad} of {got64.numel()} entries are inf or nan")

    diff = (got64 - expected).abs()
    max_abs_diff = float(diff.max()) if diff.numel() else 0.0
    reference_size = max(float(expected.abs().max()) if expected.numel() else 0.0, scale)
    error = max_abs_diff / reference_size if reference_size > 0 else max_abs_diff
    mine, theirs = got.detach().to("cpu", torch.float32), (expected if lecture is None else lecture).float()
    lecture_diff = float((mine - theirs).abs().max()) if mine.numel() else 0.0
    figures: dict[str, Any] = {
        "exact": bool(torch.equal(mine, theirs)),
        "approximate": error <= tolerance,
        "max_abs_diff": max_abs_diff,
        "error": error,
        "maxdiff": lecture_diff,
    }
    if figures["approximate"]:
        return verdict(None, **figures)
    return verdict("not_close", f"{name}: relative error {error:.1e} (tolerance {tolerance:.0e})", **figures)


def shape_message(name: str, got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """Say how the shapes differ, with the fix when the pattern is a common one."""
    message = f"{name}: expected shape {_shape(expected)}, got {_shape(got)}"
    squeezed = tuple(d for d in expected if d != 1)
    if len(got) == 2 and got == expected[::-1] and got != expected:
        return f"{message}: did you swap the matmul operands or forget a .T?"
    if got == squeezed and len(got) < len(expected):
        return f"{message}: keep the dimension you sum over (keepdim=True)"
    if tuple(d for d in got if d != 1) == squeezed and len(got) > len(expected):
        return f"{message}: a dimension too many: drop keepdim=True (or squeeze it)"
    if len(got) == len(expected) + 1 and got[1:] == expected:
        return f"{message}: sum over the batch dimension (the forward pass broadcast over it)"
    if len(got) == len(expected) and all(g in (e, 1) for g, e in zip(got, expected)):
        return f"{message}: the gradient must cover every entry; broadcast it, e.g. with expand_as or ones_like"
    if len(got) == len(expected) and any(g != e and e == 1 for g, e in zip(got, expected)):
        return f"{message}: sum over the dimension that the forward pass broadcast (keepdim=True)"
    return message


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def kind_of(value: Any) -> str:
    """What a student's function gave where a tensor was due, as a reason says it."""
    if value is None:
        return "None: did the function forget to return?"
    return f"a value of type {type(value).__name__}"


class NotReturned:
    """A gradient the function's return value does not hold: not returned at all, or a
    key missing from a returned dict."""

    def __init__(self, name: str, message: str, problem: Problem = "not_returned"):
        self.name, self.message, self.problem = name, message, problem

    def comparison(self, expected: torch.Tensor, trial: str, tolerance: float) -> Comparison:
        return Comparison(
            self.name, trial, tuple(expected.shape), None, self.problem, self.message, tolerance=tolerance
        )


def unpack(value: Any, exercise: Exercise, name: str) -> Any:
    """The returned value of gradient `name`: a dict entry, a tuple element or the value
    itself, as the exercise returns them."""
    names = exercise.gradient_names
    if exercise.returns_dict:
        if not isinstance(value, dict):
            return NotReturned(name, f"{exercise.function} must return a dict of gradients, got {type(value).__name__}")
        if name not in value:
            keys = [k for k in value if isinstance(k, str) and k not in names]
            near = [f"d{name}"] if f"d{name}" in keys else difflib.get_close_matches(name, keys, 1, 0.85)
            how = catalogue.how_computed(name)
            zero = " (its gradient is about zero, and it still needs its key)" if name in exercise.zero_scale else ""
            spelled = f" (it has {near[0]!r}: a misspelling?)" if near else f"{zero}: {how}" if how else zero
            return NotReturned(
                name, f"{name}: missing from the dict {exercise.function} returned{spelled}", "missing_key"
            )
        return value[name]
    if len(names) == 1:
        if isinstance(value, (tuple, list)):
            return NotReturned(
                name, f"{exercise.function} must return the tensor {name} itself, got a {type(value).__name__}"
            )
        return value
    listing = ", ".join(names)
    if not isinstance(value, (tuple, list)):
        return NotReturned(
            name, f"{exercise.function} must return {len(names)} gradients ({listing}), got {kind_of(value)}"
        )
    if len(value) != len(names):
        return NotReturned(
            name, f"{exercise.function} must return {len(names)} gradients ({listing}), got {len(value)}"
        )
    return value[names.index(name)]
