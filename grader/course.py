"""A course's own exercises, declared in the instructor's repository, not in the grader.

The rubric names a course file (`[course] exercises = "course.py"`, relative to the
rubric), a Python file whose EXERCISES is a list of `exercise(...)`. Each is graded as the
lecture's exercises are: its function is called with forward values and an upstream
gradient drawn per trial, and every gradient it returns is compared with autograd's of
its forward op, diagnosed and scored by the same code. A course exercise:

- draws its own forward values (`values`), from the lecture's values of the trial and a
  random stream of its own, so that nothing else a run draws moves;
- names its own arguments (`dout` in every exercise, if it likes): they are its values;
- carries its own known mistakes, which the diagnosis tries before its general patterns;
- is stubbed, released (its module in exercises/ and the notebook), graded by `grade`,
  `batch`, Gradescope, pytest and `check`, and reported like any other.

It cannot change the lecture's network, its 50 ids or the training check (ex4.training),
nor add trials of its own kind: it runs on the lecture's trial sizes.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from grader import catalogue, trials
from grader.catalogue import Exercise, Mistake, OwnValues, Values, autograd_of
from grader.model import Shape

__all__ = ["exercise", "wrong", "load", "CourseError", "Values"]


class CourseError(ValueError):
    """A course file that cannot be used, with what to change."""


@dataclass(frozen=True)
class Wrong:
    """A known mistake, before the exercise it belongs to gives it its gradients."""

    name: str
    hint: str
    forward: Callable[[Values], torch.Tensor] | None = None
    gradients: Callable[[Values, torch.Tensor | None], dict[str, torch.Tensor]] | None = None


def wrong(
    name: str,
    hint: str,
    forward: Callable[[Values], torch.Tensor] | None = None,
    gradients: Callable[[Values, torch.Tensor | None], dict[str, torch.Tensor]] | None = None,
) -> Wrong:
    """A mistake students make in an exercise: `name` says what they did, as a phrase
    ("normalising over the batch instead of each row"), `hint` what to do instead. Give
    the mistaken forward op (`forward`, whose autograd gradients are the mistake's), or
    the mistaken gradients themselves (`gradients(fwd, upstream)`, a dict by name)."""
    if (forward is None) == (gradients is None):
        raise CourseError(f"wrong({name!r}): give either forward= (the mistaken op) or gradients=, not both or neither")
    return Wrong(name, hint, forward, gradients)


def exercise(
    module: str,
    function: str,
    forward: str,
    op: Callable[[Values], torch.Tensor],
    wrt: Sequence[str],
    *,
    upstream: str | None = None,
    args: Sequence[str] = (),
    values: OwnValues | None = None,
    points: float = 1,
    mistakes: Iterable[Wrong] = (),
) -> Exercise:
    """One function students write: `module.function`, which reverses `op` (a forward op
    reading its inputs as `fwd.name`; `forward` is how the lecture would write it). It is
    called with the gradient of `upstream` (as `d<upstream>`) and then the values named
    by `args`, and returns the gradients of `wrt`, in that order. `values(lecture, shape,
    generator)` adds the exercise's own forward values to the lecture's (`lecture` holds
    every tensor of exercise 1's pass); `points` is worth the id, split evenly over its
    gradients."""
    wrt, args = tuple(wrt), tuple(args)
    where = f"exercise {module}.{function}"
    if not wrt:
        raise CourseError(f"{where}: wrt names no gradient: name the forward values it returns gradients for")
    if not callable(op) or (values is not None and not callable(values)):
        raise CourseError(
            f"{where}: op and values must be functions (lambda fwd: ..., and lambda lecture, shape, g: {{...}})"
        )
    if not isinstance(points, (int, float)) or points <= 0:
        raise CourseError(f"{where}: points must be a positive number, found {points!r}")
    mistakes = tuple(mistakes)
    if not all(isinstance(m, Wrong) for m in mistakes):
        raise CourseError(f"{where}: mistakes must be made with wrong(...)")
    known = tuple(Mistake(m.name, _gradients_of(m, wrt), m.hint) for m in mistakes)
    return Exercise(module, function, forward, wrt, autograd_of(op, wrt), upstream, args, trials=trials.STANDARD,
                    values=_with_output(values, op, upstream), mistakes=known, points=float(points))  # fmt: skip


def _with_output(values: OwnValues | None, op: Callable[[Values], torch.Tensor], upstream: str | None) -> OwnValues:
    """The exercise's own values, and its op's output under the upstream's name, whose
    shape the upstream gradient takes."""

    def made(lecture: catalogue.Tensors, shape: Shape, g: torch.Generator) -> dict[str, torch.Tensor]:
        own = dict(values(lecture, shape, g)) if values is not None else {}
        if upstream is not None and upstream not in own and upstream not in lecture:
            own[upstream] = op(Values({**lecture, **own}))
        return own

    return made


def _gradients_of(mistake: Wrong, wrt: tuple[str, ...]) -> catalogue.Reference:
    """The mistake's gradients: autograd's of its forward op, or its own."""
    if mistake.forward is not None:
        return autograd_of(mistake.forward, wrt)
    given = mistake.gradients
    return lambda tensors, upstream: given(Values(tensors), upstream) if given else {}


_LOADED: dict[tuple[Path, int], tuple[Exercise, ...]] = {}


def load(path: Path) -> tuple[Exercise, ...]:
    """The exercises of a course file, run once per process (and again when it changes)."""
    path = Path(path).resolve()
    try:
        key = (path, path.stat().st_mtime_ns)
    except OSError:
        raise CourseError(f"{path}: no such course file: give the path of the Python file that defines EXERCISES, "
                          "relative to the rubric") from None  # fmt: skip
    if key not in _LOADED:
        name = f"backprop_ninja_course_{abs(hash(path))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise CourseError(f"{path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look it up
        try:
            spec.loader.exec_module(module)
        except CourseError as error:
            raise CourseError(f"{path}: {error}") from None
        found = getattr(module, "EXERCISES", None)
        if not isinstance(found, (list, tuple)) or not all(isinstance(e, Exercise) for e in found):
            raise CourseError(f"{path}: EXERCISES must be a list of exercise(...), found {type(found).__name__}")
        _LOADED[key] = tuple(found)
    return _LOADED[key]
