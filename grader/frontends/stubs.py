"""Make the student's stubs from the reference solutions.

In `solutions/`, the code a student must write sits between two marker lines:

        # BEGIN SOLUTION
        ...
        # END SOLUTION

A stub keeps everything else (docstrings, signatures, imports) and puts a
`raise NotImplementedError` in the place of each marked block, at its indentation.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader.exercises import catalogue

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = 'raise NotImplementedError("write this function: see its docstring")'
HEADER = "# Generated from solutions/ by `backprop-ninja stubs`: fill in the functions.\n"


class MarkerError(ValueError):
    """Solution markers that do not pair up, with the file and line."""


def make_stub(source: str, filename: str = "<solution>") -> str:
    """The stub of one solution module's source."""
    out: list[str] = []
    inside: int | None = None  # the line where the open block began
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside is not None:
                raise MarkerError(f"{filename}, line {number}: {BEGIN} inside the block opened on line {inside}")
            inside = number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{STUB}\n")
        elif marker == END:
            if inside is None:
                raise MarkerError(f"{filename}, line {number}: {END} without a {BEGIN} before it")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise MarkerError(f"{filename}, line {inside}: {BEGIN} is never closed by {END}")
    return HEADER + "".join(out)


def expected_stubs(solutions: Path) -> dict[str, str]:
    """File name -> the stub that solutions/ implies for it."""
    stubs = {}
    for module in catalogue.MODULES:
        path = solutions / f"{module}.py"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the solutions folder must hold {', '.join(catalogue.MODULES)}")
        text = path.read_text(encoding="utf-8")
        _check_functions(path, text, module)
        stubs[path.name] = make_stub(text, str(path))
    return stubs


class SolutionError(ValueError):
    """A solution module that lacks a function the catalogue declares, or names its
    parameters otherwise than the grader calls it."""


def _check_functions(path: Path, text: str, module: str) -> None:
    """Every function the catalogue declares for `module` is defined in its solution, with
    the parameters the grader calls it with (a stub is made from it: a student would get
    a function the grader cannot call)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return  # make_stub says where
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for exercise in catalogue.EXERCISES:
        if exercise.module != module:
            continue
        node = defined.get(exercise.function)
        if node is None:
            raise SolutionError(
                f"{path} lacks {exercise.function}, which the catalogue (or the course) declares: "
                f"write def {exercise.signature}"
            )
        params = tuple(a.arg for a in node.args.args)
        if params[: len(exercise.parameters)] != exercise.parameters:
            raise SolutionError(
                f"{path}, line {node.lineno}: {exercise.function}({', '.join(params)}), but the grader "
                f"calls {exercise.signature} (d + upstream, then args): rename one or the other"
            )


def write_stubs(solutions: Path, exercises: Path) -> list[Path]:
    """Write the stubs into `exercises`; the files written."""
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_stubs(solutions).items():
        (exercises / name).write_text(text, encoding="utf-8")
        written.append(exercises / name)
    return written


def drift(solutions: Path, exercises: Path) -> list[str]:
    """The stub files in `exercises` that differ from what `solutions` implies."""
    return [
        name
        for name, text in expected_stubs(solutions).items()
        if not (exercises / name).is_file() or (exercises / name).read_text(encoding="utf-8") != text
    ]
