"""Where the lines of a generated module came from.

A notebook is graded from modules the grader writes out of its cells (cells.py,
assembly.py). What a student reads must name their cell and line, not a module they
never saw: `Origins` maps each line of a generated module back to its cell, and
relocates every place a report names one ("ex2_cross_entropy.py, line 26" becomes
"cell 7, line 3"). A submission of .py files has no origins, and nothing changes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.exercises import catalogue


@functools.lru_cache(maxsize=4)
def _patterns(modules: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """A traceback's frame, then a place as describe() and the size hints write it, then any
    other mention of a module's file, for these modules."""
    names = "|".join(modules)
    return (
        re.compile(rf'File "[^"\n]*?(?P<module>{names})\.py", line (?P<line>\d+)(?:, in (?P<function>\w+))?'),
        re.compile(
            rf"(?<![\w.])(?:[^\s\"'(),]*/)?(?P<module>{names})\.py, line (?P<line>\d+)(?:, in (?P<function>\w+))?"
        ),
        re.compile(rf"(?<![\w.])(?:[^\s\"'(),]*/)?(?P<module>{names})\.py\b"),
    )


_CHECK = re.compile(r"backprop-ninja check (?P<id>[\w.*]+) --no-sandbox")  # in a notebook, check() does it


@dataclass(frozen=True)
class Span:
    """Lines `start`..`end` of a generated module, which came from `place` (a cell), its
    line `line` onward."""

    start: int
    end: int
    place: str  # "cell 7", "Cell In[5]"
    line: int


@dataclass(frozen=True)
class Origins:
    """The cells each generated module's lines came from; empty for .py submissions."""

    name: str = ""  # how messages name what was handed in: "backprop_ninja.ipynb", "your notebook"
    spans: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)
    # Exercise functions written under the student's own names: the exercise's -> theirs.
    renamed: Mapping[str, str] = field(default_factory=dict)

    def place(self, module: str, line: int) -> str:
        """The cell and line that line `line` of generated `module` came from."""
        found = self._found(module, line)
        return f"{found[0]}, line {found[1]}" if found else self.name

    def _found(self, module: str, line: int) -> tuple[str, int] | None:
        for span in self.spans.get(module, ()):
            if span.start <= line <= span.end:
                return span.place, span.line + line - span.start
        return None

    def _frame(self, match: re.Match[str]) -> str:
        found = self._found(match["module"], int(match["line"]))
        return (f'File "{found[0]}", line {found[1]}' if found else f'File "{self.name}"') + self._in(match)

    def _place(self, match: re.Match[str]) -> str:
        return self.place(match["module"], int(match["line"])) + self._in(match)

    def _in(self, match: re.Match[str]) -> str:
        function = match["function"]
        return f", in {self.renamed.get(function, function)}" if function else ""

    def relocate(self, text: str) -> str:
        """`text` with every generated module's line named by its cell and line, and
        every generated module's file by what was handed in."""
        if not self.spans or not text:
            return text
        frame, place, file = _patterns(catalogue.MODULES)
        text = frame.sub(self._frame, text)
        text = place.sub(self._place, text)
        text = _CHECK.sub(lambda m: f'check("{m["id"]}", sandbox=False) in the notebook', text)
        return file.sub(lambda _: self.name, text)  # a function: the name is text, not a template

    def relocated(self, value: Any) -> Any:
        """A result (any frozen dataclass of results) with every text in it relocated."""
        if not self.spans:
            return value
        return _mapped(value, self.relocate)


def _mapped(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_mapped(v, change) for v in value)
    if isinstance(value, dict):
        return {k: _mapped(v, change) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _mapped(getattr(value, f.name), change) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    return value
