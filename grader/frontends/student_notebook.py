"""The students' notebook, from the one source: the lecture's set-up and forward pass
(templates/notebook.txt), then every exercise function as the stubs hold it, each
followed by its `check` cell, exercise 4's training run, and a cell that grades
everything. It runs top to bottom in Jupyter and in Colab, where its first cell installs
the grader (keeping the torch already there); the data comes with the grader.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from string import Template
from typing import Any

from grader.calls.files import write_atomically
from grader.calls.limits import MORE_TIME, training_limit
from grader.exercises import catalogue
from grader.exercises.catalogue import TRAINING
from grader.exercises.seeds import LECTURE as LECTURE_SEED

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

FILE = "backprop_ninja.ipynb"
EXERCISES = "exercises"  # the template's marker cell, where the exercise cells go
_CELL = re.compile(r"^# %%(?: \[(markdown)\]| (\w+))?$", re.MULTILINE)
# The set-up cell imports these; the exercise cells need not repeat them.
SET_UP_IMPORTS = ("import torch", "import torch.nn.functional as F")
TRAINING_CELL = (
    "# Exercise 4 for real: 200,000 steps with nothing but your gradients: a minute or two with a right\n"
    f"# mlp_backward. The run stops at {training_limit(200_000):g} s, or sooner if its pace says it would "
    "not finish by then;\n"
    f"# {MORE_TIME['notebook'].format(seconds='SECONDS')} gives it more. check_every=1000 compares your\n"
    "# gradients with autograd's as it goes, and stops at the first wrong one.\n"
    f"train_network({TRAINING.function})"
)


def build(modules: dict[str, str], install: str) -> dict[str, Any]:
    """The notebook (nbformat 4.5) whose exercise cells hold the functions of `modules`
    (module or file name -> its source: the stubs, or any module texts); its first cell
    has pip install `install` where the grader is missing (release.install_source)."""
    modules = {name.removesuffix(".py"): text for name, text in modules.items()}
    if not re.fullmatch(r"[\w.\-+@:/=<>!~\[\], ]+", install):
        raise ValueError(f"--install-from {install!r}: expected what pip install takes (a name, a URL, a git+ URL)")
    template = Template((TEMPLATES / "notebook.txt").read_text(encoding="utf-8")).substitute(
        install=install, seed=LECTURE_SEED
    )
    cells: list[tuple[str, str]] = []
    for kind, source in _split(template):
        cells += _exercise_cells(modules) if kind == EXERCISES else [(kind, source)]
    return {
        "cells": [_cell(kind, source, index) for index, (kind, source) in enumerate(cells, start=1)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write(path: Path, modules: dict[str, str], install: str) -> Path:
    write_atomically(path, json.dumps(build(modules, install), indent=1, ensure_ascii=False) + "\n")
    return path


def _split(template: str) -> list[tuple[str, str]]:
    """The cells of a template in the percent format: `# %%` opens a code cell,
    `# %% [markdown]` a Markdown one (its lines start with "# "), `# %% exercises` marks
    where the exercise cells go."""
    marks = list(_CELL.finditer(template))
    cells = []
    for mark, following in zip(marks, [*marks[1:], None]):
        body = template[mark.end() : following.start() if following else len(template)].strip("\n")
        if mark[1] == "markdown":
            cells.append(
                (
                    "markdown",
                    "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()),
                )
            )
        elif mark[2]:
            cells.append((mark[2], ""))
        else:
            cells.append(("code", body))
    return cells


def _exercise_cells(modules: dict[str, str]) -> list[tuple[str, str]]:
    """Per module: a heading from its docstring, then per function its cell and its
    check; after exercise 4, the training run."""
    cells = []
    for module in catalogue.MODULES:
        source = modules[module]
        tree = ast.parse(source)
        doc = ast.get_docstring(tree) or module
        title, _, rest = doc.partition("\n")
        cells.append(("markdown", f"## {title}\n{rest}".rstrip()))
        helpers = [
            ast.get_source_segment(source, node, padded=False) or ""
            for node in tree.body
            if not _is_exercise(node) and not _is_docstring(node) and ast.unparse(node) not in SET_UP_IMPORTS
        ]
        if helpers:
            cells.append(("code", "\n\n".join(helpers)))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _is_exercise(node):
                cells.append(("code", _segment(source, node)))
                cells.append(("code", f"check({node.name})"))
                if node.name == TRAINING.function:
                    cells.append(("code", TRAINING_CELL))
    return cells


def _is_exercise(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name in catalogue.FUNCTIONS


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _segment(source: str, node: ast.FunctionDef) -> str:
    lines = source.splitlines()
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "\n".join(lines[first - 1 : node.end_lineno])


def _cell(kind: str, source: str, index: int) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{index}", "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell
