"""The rubric: points, visibility, tolerance, limits and hidden checks per exercise id,
read from TOML files that an instructor edits without touching Python.

Precedence: the command line over the instructor's rubric over the default rubric
(grader/rubric.toml); an instructor's rubric need only name what it changes. Sections:

    [grading]      tolerance size_dependence numerical_gradient propagated   every id
    [limits]       wall_time cpu_time memory output       every call of student code
                   budget                                 all calls of one submission together
    [timing]       enabled slowdown penalty               the timing step
    [points]       "<id>" = points
    [exercises."<id or pattern>"]                          per id, over the above:
                   visibility tolerance wall_time cpu_time memory output
    [hidden]       items = ["<id or pattern>", ...]       graded on the instructor's side only
    [[hidden.trials]]  ids = [...], n V E B H seed, small_variance ties   extra trials, instructor's side only
    [at_submission]  items more_trials                    written by `release`: what only the
                                                          submission checks, for the student to know
    [course]       exercises lecture                      a course's own exercises (course.py), and
                                                          whether the lecture's are graded beside them

An instructor's rubric need not be named: `find_rubric` finds a rubric.toml in the current
folder or above it, as pytest finds its configuration.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the Python of Gradescope's older images
    import tomli as tomllib

from grader.calls.limits import BUDGET_HELP, LIMIT_HELP, Limits
from grader.exercises import catalogue
from grader.exercises.catalogue import Exercise
from grader.exercises.model import Shape
from grader.exercises.trials import Trial

DEFAULT = resources.files("grader") / "rubric.toml"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")  # Gradescope's four
SECTIONS = {
    "grading": "settings that apply to every id",
    "limits": "what each call of student code may use, and all of them together (budget)",
    "timing": "the separate step that times the right functions",
    "points": "the points of each exercise id",
    "exercises": "settings of some ids: visibility, tolerance, limits",
    "hidden": "checks that live on the instructor's side only: items and trials",
    "at_submission": "what only the submission checks (written by release)",
    "course": "the course's own exercises: exercises = a Python file, relative to this rubric (course.py); "
    "lecture = false grades them alone, without the lecture's",
}
RUBRIC_FILE = "rubric.toml"  # the name find_rubric looks for
PROPAGATED = ("wrong", "right")
SETTINGS = {
    "tolerance": "the largest normalised error that counts as right",
    "size_dependence": 'the points a function that raises at some sizes only loses, once ("all": every point)',
    "numerical_gradient": "the share of an id's points lost when its function differentiates numerically "
    "(0 to 1; 0: flagged only)",
    "propagated": 'how a gradient of the chain counts when it follows correctly from wrong ones before it: "wrong" '
    '(it loses its points too) or "right" (only the wrong step loses points)',
}
TIMING = {
    "enabled": "whether grade times the right functions (true or false)",
    "slowdown": "how many times slower than autograd counts as slow (a number >= 1)",
    "penalty": "the share of an id's points a slow function loses (0 to 1)",
}
PER_ID = {
    "visibility": f"who sees the id's result on Gradescope: one of {', '.join(VISIBILITIES)}",
    "tolerance": SETTINGS["tolerance"],
    **LIMIT_HELP,
}
TRIAL = {
    "ids": "the ids (or patterns such as ex1.*) that get this trial",
    "n": "batch size",
    "V": "vocabulary size",
    "E": "embedding size",
    "B": "block size",
    "H": "hidden size",
    "seed": "which draw of the run (optional): mixed with the run's secret seed, so the values change every run",
    "small_variance": "scale a few W1 columns so that the batch variance is below eps (true or false)",
    "ties": "give rows of logits tied maxima (true or false)",
}
TRAINING_ID = "ex4.training"  # no trials: its own lockstep run


class RubricError(ValueError):
    """A rubric file that cannot be used, with the file, the key and what to do."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


@dataclass(frozen=True)
class Timing:
    """The timing step (timing.py)."""

    enabled: bool  # whether grading times the right functions
    slowdown: float  # how many times slower than autograd counts as slow
    penalty: float  # the share of an id's points a slow function loses


@dataclass(frozen=True)
class HiddenTrial:
    """An extra trial, on the instructor's side only."""

    ids: tuple[str, ...]  # ids or patterns
    trial: Trial


@dataclass(frozen=True)
class Rubric:
    points: dict[str, float]  # every exercise id -> its points
    tolerance: float  # see compare.py
    # Points a function that raises at some sizes (and returns at two or more) loses once,
    # over all its ids; None: all of them, as any failed call costs.
    size_dependence: float | None
    limits: Limits
    timing: Timing
    budget: float  # seconds all the calls of one submission may take together
    numerical_gradient: float  # the share of an id's points lost to a numerical derivative (0: flagged only)
    sources: tuple[str, ...]  # the files it was read from, default first
    # Whether a gradient that follows correctly from wrong ones before it (diagnosed
    # propagated) loses its points: "wrong" it does, "right" only the wrong step does.
    propagated: str = "wrong"
    exercises: dict[str, dict[str, Any]] = field(default_factory=dict)  # pattern -> per-id settings
    hidden_items: tuple[str, ...] = ()  # ids graded on the instructor's side only
    hidden_trials: tuple[HiddenTrial, ...] = ()
    # What a released repository's rubric announces: ids and patterns that only the
    # submission checks. Those ids are not graded by the student's own runs.
    at_submission_items: tuple[str, ...] = ()
    at_submission_trials: tuple[str, ...] = ()
    course: Path | None = None  # the course file whose exercises the catalogue holds
    lecture: bool = True  # whether the lecture's ids are graded (false: the course's alone)

    def activate(self) -> None:
        """Put this rubric's course (or none) into the catalogue again, should another
        rubric have been loaded since."""
        _load_course(self.course, self.lecture)

    def setting(self, item_id: str, key: str, default: Any) -> Any:
        """A per-id setting; the last matching [exercises] pattern wins."""
        value = default
        for pattern, settings in self.exercises.items():
            if key in settings and fnmatch.fnmatchcase(item_id, pattern):
                value = settings[key]
        return value

    def tolerance_for(self, item_id: str) -> float:
        return float(self.setting(item_id, "tolerance", self.tolerance))

    def visibility(self, item_id: str) -> str:
        return self.setting(item_id, "visibility", "visible")

    def limits_for(self, ids: Iterable[str]) -> Limits:
        """The limits of a call that serves these ids: the most generous of theirs."""
        ids = list(ids)
        values = {}
        for name in LIMIT_HELP:
            default = getattr(self.limits, name)
            values[name] = max(self.setting(i, name, default) for i in ids) if ids else default
        return Limits(**values)

    @property
    def widest_limits(self) -> Limits:
        return self.limits_for(self.points)

    def trials_for(self, exercise: Exercise) -> tuple[Trial, ...]:
        """The exercise's own trials, and the hidden ones that name any of its ids."""
        ids = [item.id for item in exercise.items]
        extra = tuple(h.trial for h in self.hidden_trials if any(_matches(i, h.ids) for i in ids))
        return (*exercise.trials, *extra)

    @property
    def graded(self) -> tuple[str, ...]:
        """The ids this rubric grades: all but those only the submission checks."""
        return tuple(i for i in self.points if not _matches(i, self.at_submission_items))


def find_rubric(start: Path | str) -> Path | None:
    """The instructor's rubric.toml that a command run in `start` uses without --rubric:
    the one in `start` or the nearest folder above it, as pytest finds its configuration,
    looking no higher than a repository's root (a folder holding .git) or the filesystem's;
    never the grader's own default."""
    folder = Path(start).resolve()
    for place in (folder, *folder.parents):
        found = place / RUBRIC_FILE
        if found.is_file() and found.resolve() != Path(str(DEFAULT)).resolve():
            return found
        if (place / ".git").exists():
            return None
    return None


def load_rubric(path: Path | str | None = None) -> Rubric:
    """The default rubric, overlaid with the one at `path` if given. A rubric that names
    a course file puts the course's exercises into the catalogue (the last one named wins);
    one that names none leaves the lecture's alone."""
    default_text = DEFAULT.read_text(encoding="utf-8")
    texts = [(default_text, "the default rubric (grader/rubric.toml)", Path(str(DEFAULT)).parent)]
    sources = [str(DEFAULT)]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise RubricError(
                str(path), "(file)", "no such file: give the path of a TOML rubric, e.g. a copy of grader/rubric.toml"
            )
        texts.append((path.read_text(encoding="utf-8"), str(path), path.parent))
        sources.append(str(path))
    parsed = [(_parse(text, source), source, folder) for text, source, folder in texts]
    course_file, lecture = _course(parsed)
    course_exercises = _load_course(course_file, lecture)
    data = _check(*parsed[0][:2])
    for overlay, source, _ in parsed[1:]:
        _check(overlay, source)
        for section in ("grading", "limits", "timing", "points", "exercises"):
            data[section] = {**data.get(section, {}), **overlay.get(section, {})}
        for section in ("hidden", "at_submission"):
            if section in overlay:
                data[section] = overlay[section]
    own = {item.id: e.points for e in course_exercises for item in e.items if e.points is not None}
    points = {**own, **data.get("points", {})}
    ids = catalogue.IDS if lecture else tuple(item.id for e in course_exercises for item in e.items)
    missing = [i for i in ids if i not in points]
    if missing:
        raise RubricError(sources[0], "points", f"no points for {', '.join(missing)}: add them")
    hidden = data.get("hidden", {})
    announced = data.get("at_submission", {})
    return Rubric(
        points={i: float(points[i]) for i in ids},
        tolerance=float(data["grading"]["tolerance"]),
        size_dependence=None
        if data["grading"]["size_dependence"] == "all"
        else float(data["grading"]["size_dependence"]),
        limits=Limits(**{k: v for k, v in data["limits"].items() if k in LIMIT_HELP}),
        budget=float(data["limits"]["budget"]),
        numerical_gradient=float(data["grading"]["numerical_gradient"]),
        propagated=data["grading"]["propagated"],
        timing=Timing(**data["timing"]),
        sources=tuple(sources),
        exercises=data.get("exercises", {}),
        hidden_items=tuple(hidden.get("items", ())),
        hidden_trials=tuple(_trial(t, n) for n, t in enumerate(hidden.get("trials", ()))),
        at_submission_items=tuple(announced.get("items", ())),
        at_submission_trials=tuple(announced.get("more_trials", ())),
        course=course_file,
        lecture=lecture,
    )


def _course(parsed: list[tuple[dict[str, Any], str, Path]]) -> tuple[Path | None, bool]:
    """The course file the rubrics name, the last one's, relative to its rubric; and
    whether the lecture's ids are graded beside the course's."""
    found, lecture = None, True
    for data, source, folder in parsed:
        course = data.get("course", {})
        for key, value in course.items():
            if key == "lecture" and not isinstance(value, bool):
                raise RubricError(
                    source,
                    "course.lecture",
                    f"expected true (the lecture's ids beside the course's) or false (the course's alone), got {value!r}",
                )
            if key not in ("exercises", "lecture") or (
                key == "exercises" and (not isinstance(value, str) or not value.endswith(".py"))
            ):
                raise RubricError(
                    source,
                    f"course.{key}",
                    'expected exercises = "course.py" (the course\'s Python file) and lecture = true or false',
                )
        if "exercises" in course:
            found = (folder / course["exercises"]).resolve()
        lecture = course.get("lecture", lecture)
        if not lecture and found is None:
            raise RubricError(
                source,
                "course.lecture",
                'lecture = false grades a course alone: name its file, exercises = "course.py"',
            )
    return found, lecture


def _load_course(path: Path | None, lecture: bool = True) -> tuple[Exercise, ...]:
    """The course's exercises, now in the catalogue (none: the lecture's alone)."""
    from grader.exercises.course import CourseError, load

    try:
        exercises = load(path) if path else ()
        catalogue.use(exercises, lecture)
    except (CourseError, catalogue.CatalogueError) as error:
        raise RubricError(str(path), "course.exercises", str(error)) from None
    return exercises


def _trial(spec: dict[str, Any], number: int) -> HiddenTrial:
    shape = Shape(**{k: spec[k] for k in ("n", "V", "E", "B", "H")})
    salt = spec.get("seed", 1000 + number)
    trial = Trial(shape, salt, small_variance=spec.get("small_variance", False), ties=spec.get("ties", False))
    return HiddenTrial(tuple(spec["ids"]), trial)


def for_students(rubric: Rubric) -> Rubric:
    """The rubric a released repository holds: no hidden checks, but the news of them;
    the hidden items are graded on the instructor's side only."""
    announced_trials = tuple(dict.fromkeys(p for h in rubric.hidden_trials for p in h.ids))
    return replace(
        rubric,
        hidden_items=(),
        hidden_trials=(),
        at_submission_items=tuple(dict.fromkeys((*rubric.at_submission_items, *rubric.hidden_items))),
        at_submission_trials=tuple(dict.fromkeys((*rubric.at_submission_trials, *announced_trials))),
    )


def to_toml(rubric: Rubric, course_file: str | None = None) -> str:
    """The rubric as a complete TOML file, readable by load_rubric; `course_file`: where
    its course file will be, relative to it (its own path by default)."""
    lines = [
        "# The rubric of this repository (written by backprop-ninja release): the points of every",
        "# exercise id, the tolerance, the limits of each call, and the timing step.",
        "",
        "[grading]",
        f"tolerance = {rubric.tolerance!r}",
        f"size_dependence = {_toml_value('all' if rubric.size_dependence is None else rubric.size_dependence)}",
        f"numerical_gradient = {rubric.numerical_gradient!r}",
        f"propagated = {_toml_value(rubric.propagated)}",
        "",
        "[limits]",
        *(f"{name} = {getattr(rubric.limits, name)!r}" for name in LIMIT_HELP),
        f"budget = {rubric.budget!r}",
        "",
        "[timing]",
        f"enabled = {str(rubric.timing.enabled).lower()}",
        f"slowdown = {rubric.timing.slowdown!r}",
        f"penalty = {rubric.timing.penalty!r}",
        "",
        "[points]",
        *(f'"{i}" = {p!r}' for i, p in rubric.points.items()),
    ]
    if rubric.course is not None:
        lines += ["", "[course]", f"exercises = {_toml_value(course_file or rubric.course.as_posix())}"]
        lines += [] if rubric.lecture else ["lecture = false"]
    for pattern, settings in rubric.exercises.items():
        lines += ["", f'[exercises."{pattern}"]', *(f"{k} = {_toml_value(v)}" for k, v in settings.items())]
    if rubric.hidden_items or rubric.hidden_trials:
        lines += ["", "[hidden]", f"items = {_toml_value(list(rubric.hidden_items))}"]
        for h in rubric.hidden_trials:
            t = h.trial
            lines += ["", "[[hidden.trials]]", f"ids = {_toml_value(list(h.ids))}"]
            lines += [f"{k} = {getattr(t.shape, k)}" for k in ("n", "V", "E", "B", "H")]
            lines += [
                f"seed = {t.salt}",
                f"small_variance = {str(t.small_variance).lower()}",
                f"ties = {str(t.ties).lower()}",
            ]
    if rubric.at_submission_items or rubric.at_submission_trials:
        lines += [
            "",
            "# Checked only when your instructor grades the submissions: these ids are not graded here, and these get more trials there.",
            "[at_submission]",
            f"items = {_toml_value(list(rubric.at_submission_items))}",
            f"more_trials = {_toml_value(list(rubric.at_submission_trials))}",
        ]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _matches(item_id: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(item_id, p) for p in patterns)


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RubricError(source, "(syntax)", f"not valid TOML: {error}") from None


def _check(data: dict[str, Any], source: str) -> dict[str, Any]:
    """The rubric's data, every section and setting checked against the catalogue."""
    for section, value in data.items():
        if section not in SECTIONS:
            raise RubricError(source, section, f"unknown section; expected one of: {_listing(SECTIONS)}")
        if not isinstance(value, dict):
            raise RubricError(source, section, f"expected a table [{section}], got a {type(value).__name__}")
    _check_settings(source, "grading", data.get("grading", {}), SETTINGS)
    _check_settings(source, "limits", data.get("limits", {}), {**LIMIT_HELP, "budget": BUDGET_HELP})
    _check_settings(source, "timing", data.get("timing", {}), TIMING)
    for key, value in data.get("points", {}).items():
        _check_id(source, f"points.{key}", key, pattern=False)
        if not _number(value) or value < 0:
            raise RubricError(source, f"points.{key}", f"expected a number of points >= 0, got {value!r}")
    for pattern, settings in data.get("exercises", {}).items():
        _check_id(source, f"exercises.{pattern}", pattern, pattern=True)
        if not isinstance(settings, dict):
            raise RubricError(source, f"exercises.{pattern}", f'expected a table [exercises."{pattern}"]')
        _check_settings(source, f"exercises.{pattern}", settings, PER_ID)
    _check_hidden(source, data.get("hidden", {}))
    for key, value in data.get("at_submission", {}).items():
        if key not in ("items", "more_trials") or not _strings(value):
            raise RubricError(
                source, f"at_submission.{key}", "expected items = [ids] and more_trials = [ids or patterns]"
            )
    return data


def _check_settings(source: str, section: str, values: dict[str, Any], known: dict[str, str]) -> None:
    for key, value in values.items():
        where = f"{section}.{key}"
        if key not in known:
            raise RubricError(source, where, f"unknown setting; expected one of: {_listing(known)}")
        if not _valid(key, value):
            raise RubricError(source, where, f"expected {_expected(key)} ({known[key]}), got {value!r}")


def _valid(key: str, value: Any) -> bool:
    return {
        "tolerance": lambda v: _number(v) and 0 < v < 1,
        "size_dependence": lambda v: v == "all" or (_number(v) and v >= 0),
        "wall_time": lambda v: _number(v) and v > 0,
        "budget": lambda v: _number(v) and v > 0,
        "cpu_time": lambda v: _number(v) and v > 0,
        "memory": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "output": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "enabled": lambda v: isinstance(v, bool),
        "slowdown": lambda v: _number(v) and v >= 1,
        "penalty": lambda v: _number(v) and 0 <= v <= 1,
        "numerical_gradient": lambda v: _number(v) and 0 <= v <= 1,
        "propagated": lambda v: v in PROPAGATED,
        "visibility": lambda v: v in VISIBILITIES,
    }[key](value)


def _expected(key: str) -> str:
    return {
        "tolerance": "a number between 0 and 1 (e.g. 1e-4)",
        "size_dependence": 'a number of points >= 0, or "all"',
        "wall_time": "a number of seconds > 0",
        "budget": "a number of seconds > 0",
        "cpu_time": "a number of seconds > 0",
        "memory": "a whole number of MB > 0",
        "output": "a whole number of KB > 0",
        "enabled": "true or false",
        "slowdown": "a number >= 1",
        "penalty": "a number from 0 to 1",
        "numerical_gradient": "a number from 0 to 1",
        "propagated": " or ".join(f'"{v}"' for v in PROPAGATED),
        "visibility": " or ".join(f'"{v}"' for v in VISIBILITIES),
    }[key]


def _check_hidden(source: str, hidden: dict[str, Any]) -> None:
    for key in hidden:
        if key not in ("items", "trials"):
            raise RubricError(
                source, f"hidden.{key}", "unknown key; expected items = [ids] and [[hidden.trials]] tables"
            )
    items = hidden.get("items", [])
    if not _strings(items):
        raise RubricError(source, "hidden.items", f"expected a list of ids or patterns, got {items!r}")
    for item in items:
        _check_id(source, "hidden.items", item, pattern=True)
    trials = hidden.get("trials", [])
    if not isinstance(trials, list) or not all(isinstance(t, dict) for t in trials):
        raise RubricError(source, "hidden.trials", "expected [[hidden.trials]] tables")
    for number, spec in enumerate(trials, start=1):
        where = f"hidden.trials[{number}]"
        unknown = set(spec) - set(TRIAL)
        if unknown:
            raise RubricError(source, f"{where}.{min(unknown)}", f"unknown key; expected: {_listing(TRIAL)}")
        missing = [k for k in ("ids", "n", "V", "E", "B", "H") if k not in spec]
        if missing:
            raise RubricError(source, where, f"missing {', '.join(missing)}: a trial needs ids, n, V, E, B and H")
        if not _strings(spec["ids"]) or not spec["ids"]:
            raise RubricError(source, f"{where}.ids", 'expected a list of ids or patterns, e.g. ids = ["ex1.*"]')
        for item in spec["ids"]:
            _check_id(source, f"{where}.ids", item, pattern=True)
            if fnmatch.fnmatchcase(TRAINING_ID, item) and item == TRAINING_ID:
                raise RubricError(source, f"{where}.ids", f"{TRAINING_ID} runs its own training: it takes no trials")
        for key in ("n", "V", "E", "B", "H", "seed"):
            if key not in spec:
                continue
            if not (
                isinstance(spec[key], int)
                and not isinstance(spec[key], bool)
                and spec[key] >= (0 if key == "seed" else 1)
            ):
                raise RubricError(
                    source, f"{where}.{key}", f"expected a whole number ({TRIAL[key]}), got {spec[key]!r}"
                )
        if spec["n"] < 3:
            raise RubricError(
                source, f"{where}.n", "expected n >= 3: at n = 2 batchnorm's gradient is pure cancellation"
            )
        if spec["n"] * spec["B"] <= spec["V"]:
            raise RubricError(source, f"{where}.n", "expected n * B > V, so that some token occurs twice in the batch")
        for key in ("small_variance", "ties"):
            if not isinstance(spec.get(key, False), bool):
                raise RubricError(source, f"{where}.{key}", f"expected true or false, got {spec[key]!r}")


def _check_id(source: str, where: str, key: str, pattern: bool) -> None:
    if key in catalogue.IDS or (pattern and any(fnmatch.fnmatchcase(i, key) for i in catalogue.IDS)):
        return
    near = difflib.get_close_matches(key, catalogue.IDS, n=1)
    hint = f"did you mean {near[0]!r}?" if near else "`backprop-ninja list` shows every id"
    raise RubricError(source, where, f"no such exercise id{' or pattern' if pattern else ''}: {hint}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _listing(options: dict[str, str]) -> str:
    return "; ".join(f"{k} ({v})" for k, v in options.items())
