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
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from grader.exercises import catalogue, trials
from grader.exercises.catalogue import Exercise, Mistake, OwnValues, Values, autograd_of, evaluating
from grader.exercises.model import Shape

__all__ = ["exercise", "wrong", "load", "CourseError", "Values", "Lecture"]


class CourseError(ValueError):
    """A course file that cannot be used, with what to change."""


class Lecture(Values):
    """The lecture's forward values of a trial, as `values(lecture, shape, g)` reads
    them: `lecture.hprebn`, as `fwd.x` and `shape.n` read; `lecture["hprebn"]` too, as
    course files written before attribute access do."""

    _called = "lecture"

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.__dict__[name]

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__


class BrokenValues(TypeError):
    """A values() that returned something other than a dict of tensors by name."""


# What a course's values() is: the lecture's values of a trial, its sizes and a generator
# of the exercise's own -> its own forward values (checked: _checked).
CourseValues = Callable[[Lecture, Shape, torch.Generator], object]
VALUES_CONTRACT = "values() must return a dict of float64 tensors by name, e.g. {'x': lecture.hprebn}"


class OpRaised(Exception):
    """An exercise's op raised while its output was made: the op's fault, not its values'."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


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
    values: CourseValues | None = None,
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
    return Exercise(
        module,
        function,
        forward,
        wrt,
        autograd_of(op, wrt),
        upstream,
        args,
        trials=trials.STANDARD,
        values=_with_output(values, op, upstream),
        mistakes=known,
        points=float(points),
        evaluate=evaluating(op),
    )


def _with_output(values: CourseValues | None, op: Callable[[Values], torch.Tensor], upstream: str | None) -> OwnValues:
    """The exercise's own values, and its op's output under the upstream's name, whose
    shape the upstream gradient takes."""

    def made(lecture: catalogue.Tensors, shape: Shape, g: torch.Generator) -> dict[str, torch.Tensor]:
        own = _checked(values(Lecture(lecture), shape, g), values) if values is not None else {}
        if upstream is not None and upstream not in own and upstream not in lecture:
            try:
                own[upstream] = op(Values({**lecture, **own}))
            except Exception as error:
                raise OpRaised(error) from error
        return own

    return made


def _checked(made: object, values: CourseValues) -> dict[str, torch.Tensor]:
    """What values() returned, if it keeps its contract."""
    code = getattr(values, "__code__", None)
    defined = f" (values() at line {code.co_firstlineno} of {Path(code.co_filename).name})" if code else ""
    if not isinstance(made, dict):
        raise BrokenValues(f"{VALUES_CONTRACT}; it returned a {type(made).__name__}{defined}")
    for name, value in made.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise BrokenValues(f"{VALUES_CONTRACT}; its {name!r} is a {type(value).__name__}{defined}")
    return dict(made)


def _gradients_of(mistake: Wrong, wrt: tuple[str, ...]) -> catalogue.Reference:
    """The mistake's gradients: autograd's of its forward op, or its own."""
    if mistake.forward is not None:
        return autograd_of(mistake.forward, wrt)
    given = mistake.gradients
    return lambda tensors, upstream: given(Values(tensors), upstream) if given else {}


_LOADED: dict[tuple[Path, int], tuple[Exercise, ...]] = {}


def load(path: Path) -> tuple[Exercise, ...]:
    """The exercises of a course file, run once per process (and again when it changes),
    each tried at once on a trial's values: a name it gets wrong, an op or a mistake that
    raises, is told now, not when a student is graded."""
    path = Path(path).resolve()
    try:
        key = (path, path.stat().st_mtime_ns)
    except OSError:
        raise CourseError(
            "no such course file: give the path of the Python file that defines EXERCISES, relative to the rubric"
        ) from None
    if key not in _LOADED:
        name = f"backprop_ninja_course_{abs(hash(path))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise CourseError("not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look it up
        try:
            spec.loader.exec_module(module)
        except CourseError:
            raise
        except Exception as error:  # the instructor's own code, whatever it raises
            raise CourseError(f"running it raised {_raised(error, path)}") from None
        found = getattr(module, "EXERCISES", None)
        if not isinstance(found, (list, tuple)) or not all(isinstance(e, Exercise) for e in found):
            raise CourseError(f"EXERCISES must be a list of exercise(...), found {type(found).__name__}")
        for exercise in found:
            _try(exercise, path)
        _LOADED[key] = tuple(found)
    return _LOADED[key]


def _try(exercise: Exercise, path: Path) -> None:
    """Run the exercise's values, op and mistakes on its first trial, and check the names
    they use, as grading would."""
    where = f"{exercise.module}.{exercise.function}"
    data = trials.TrialData(exercise.trials[0], seed=0)
    names = ", ".join(data.exploded)
    try:
        values = {**data.exploded, **data.own((exercise.module, exercise.function), exercise.values)}
    except BrokenValues as broken:
        raise CourseError(f"{where}: {broken}") from None
    except OpRaised as raised:
        raise CourseError(
            f"{where}: its op raised {_raised(raised.error, path)}; it reads {names} and the "
            "exercise's own values (as fwd.name)"
        ) from None
    except Exception as error:
        raise CourseError(
            f"{where}: values() raised {_raised(error, path)}; the lecture's values are "
            f"{', '.join(data.exploded)}, and shape has n, V, E, B, H"
        ) from None
    names = ", ".join(values)
    for role, wanted in (("args", exercise.args), ("wrt", exercise.wrt)):
        unknown = [n for n in wanted if n not in values]
        if unknown:
            raise CourseError(
                f"{where}: {role} names {', '.join(unknown)}, which is no forward value; there are: {names}"
            )
    if exercise.upstream in (*exercise.args, *exercise.wrt):
        raise CourseError(
            f"{where}: upstream={exercise.upstream!r} names an input; it names the op's output (out), "
            "whose gradient comes first, as d<upstream>"
        )
    upstream = data.upstream(values[exercise.upstream], exercise.function) if exercise.upstream else None
    try:
        right = exercise.reference(values, upstream)
    except Exception as error:
        if upstream is None and "scalar outputs" in str(error):
            raise CourseError(
                f"{where}: its op gives a tensor, not a scalar: name its output with upstream='out', "
                "whose gradient the function then takes first (dout)"
            ) from None
        raise CourseError(f"{where}: its op raised {_raised(error, path)}; it reads {names} (as fwd.name)") from None
    for mistake in exercise.mistakes:
        try:
            given = mistake.gradients(values, upstream)
        except Exception as error:
            raise CourseError(f"{where}: the mistake {mistake.name!r} raised {_raised(error, path)}") from None
        stray = [k for k in given if k not in exercise.wrt]
        if stray or not given:
            raise CourseError(
                f"{where}: the mistake {mistake.name!r} gives gradients for {', '.join(stray) or 'nothing'}; "
                f"key them by the names in wrt: {', '.join(exercise.wrt)}"
            )
        if all(given[k].shape == right[k].shape and torch.allclose(given[k], right[k]) for k in given):
            raise CourseError(
                f"{where}: the mistake {mistake.name!r} gives the right gradients, so every right "
                "answer would be called that mistake: make its op or gradients the mistaken ones"
            )


def _raised(error: Exception, path: Path) -> str:
    """What an instructor's code raised, and the line of the course file it came from."""
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path]
    line = f" at line {lines[-1]} of {path.name}" if lines else ""
    return f"{type(error).__name__}: {error}{line}"
