"""The rubric: points per exercise id and the tolerance, read from TOML files that an
instructor edits without touching Python.

Precedence: the command line over the instructor's rubric over the default rubric
(grader/rubric.toml); an instructor's rubric need only name what it changes.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from grader.catalogue import IDS
from grader.limits import LIMIT_HELP, Limits

DEFAULT = resources.files("grader") / "rubric.toml"
SECTIONS = {
    "grading": "settings that apply to every id",
    "limits": "what each call of student code may use",
    "timing": "the separate step that times the right functions",
    "points": "the points of each exercise id",
}
SETTINGS = {"tolerance": "the largest normalised error that counts as right"}
TIMING = {
    "enabled": "whether grade times the right functions (true or false)",
    "slowdown": "how many times slower than autograd counts as slow (a number >= 1)",
    "penalty": "the share of an id's points a slow function loses (0 to 1)",
}


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
class Rubric:
    points: dict[str, float]  # every exercise id -> its points
    tolerance: float  # see compare.py
    limits: Limits
    timing: Timing
    sources: tuple[str, ...]  # the files it was read from, default first


def load_rubric(path: Path | str | None = None) -> Rubric:
    """The default rubric, overlaid with the one at `path` if given."""
    default = _read(DEFAULT.read_text(encoding="utf-8"), "the default rubric (grader/rubric.toml)")
    points = default.get("points", {})
    tolerance = default.get("grading", {}).get("tolerance")
    limits = default.get("limits", {})
    timing = default.get("timing", {})
    sources = [str(DEFAULT)]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise RubricError(
                str(path), "(file)", "no such file: give the path of a TOML rubric, e.g. a copy of grader/rubric.toml"
            )
        overlay = _read(path.read_text(encoding="utf-8"), str(path))
        points = {**points, **overlay.get("points", {})}
        tolerance = overlay.get("grading", {}).get("tolerance", tolerance)
        limits = {**limits, **overlay.get("limits", {})}
        timing = {**timing, **overlay.get("timing", {})}
        sources.append(str(path))
    missing = [i for i in IDS if i not in points]
    if missing:
        raise RubricError(sources[0], "points", f"no points for {', '.join(missing)}: add them")
    return Rubric(
        {i: float(points[i]) for i in IDS}, float(tolerance), Limits(**limits), Timing(**timing), tuple(sources)
    )


def _read(text: str, source: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RubricError(source, "(syntax)", f"not valid TOML: {error}") from None
    for section, value in data.items():
        if section not in SECTIONS:
            raise RubricError(source, section, f"unknown section; expected one of: {_listing(SECTIONS)}")
        if not isinstance(value, dict):
            raise RubricError(source, section, f"expected a table [{section}], got a {type(value).__name__}")
    for key, value in data.get("grading", {}).items():
        if key not in SETTINGS:
            raise RubricError(source, f"grading.{key}", f"unknown setting; expected one of: {_listing(SETTINGS)}")
        if not _number(value) or not 0 < value < 1:
            raise RubricError(source, f"grading.{key}", f"expected a number between 0 and 1 (e.g. 1e-4), got {value!r}")
    for key, value in data.get("limits", {}).items():
        if key not in LIMIT_HELP:
            raise RubricError(source, f"limits.{key}", f"unknown limit; expected one of: {_listing(LIMIT_HELP)}")
        if not _number(value) or value <= 0 or (key in ("memory", "output") and not isinstance(value, int)):
            kind = "a whole number" if key in ("memory", "output") else "a number"
            raise RubricError(source, f"limits.{key}", f"expected {kind} > 0 ({LIMIT_HELP[key]}), got {value!r}")
    for key, value in data.get("timing", {}).items():
        if key not in TIMING:
            raise RubricError(source, f"timing.{key}", f"unknown setting; expected one of: {_listing(TIMING)}")
        valid = {
            "enabled": isinstance(value, bool),
            "slowdown": _number(value) and value >= 1,
            "penalty": _number(value) and 0 <= value <= 1,
        }[key]
        if not valid:
            raise RubricError(
                source, f"timing.{key}", f"expected {TIMING[key].split('(')[-1].rstrip(')')}, got {value!r}"
            )
    for key, value in data.get("points", {}).items():
        if key not in IDS:
            near = difflib.get_close_matches(key, IDS, n=1)
            hint = f"did you mean {near[0]!r}?" if near else "`backprop-ninja list` shows every id"
            raise RubricError(source, f"points.{key}", f"no such exercise id: {hint}")
        if not _number(value) or value < 0:
            raise RubricError(source, f"points.{key}", f"expected a number of points >= 0, got {value!r}")
    return data


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _listing(options: dict[str, str]) -> str:
    return "; ".join(f"{k} ({v})" for k, v in options.items())
