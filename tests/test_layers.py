"""The package's folders are its layers, and every import points down them: from the front
ends to what is said, to grading, to the hand-ins, to the sandbox, to the exercises, to
what a call gives back. No subpackage imports one above it, no module imports another in
a circle, and each subpackage's docstring says what it may import. Every import counts:
at the top of a module, inside a function, or for type checking only.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "grader"
# From the ground floor up.
LAYERS = ("calls", "exercises", "sandbox", "handins", "grading", "reporting", "frontends")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The grader's modules a file imports, by any import statement in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import module` depends on the module; `from pkg import name`, on pkg.
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names
            ]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else len(LAYERS)


GRAPH = {name: imports(path, set(modules())) - {name} for name, path in modules().items()}


def test_every_module_of_the_grader_sits_in_one_of_the_layers():
    loose = [m for m in GRAPH if layer(m) == len(LAYERS) and m not in ("grader", "grader.__main__")]
    assert loose == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_points_up_a_layer(module):
    up = sorted(target for target in GRAPH[module] if layer(target) > layer(module) and target != "grader")
    assert up == [], f"{module} imports a layer above its own: {up}"


def test_no_modules_import_each_other_in_a_circle():
    visiting, done, circles = [], set(), []

    def visit(node):
        if node in visiting:
            circles.append(visiting[visiting.index(node) :] + [node])
            return
        if node in done:
            return
        visiting.append(node)
        for target in sorted(GRAPH[node]):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(GRAPH):
        visit(node)
    assert circles == []


@pytest.mark.parametrize("name", LAYERS)
def test_each_subpackage_says_what_it_holds_and_what_it_may_import(name):
    doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())) or ""
    below = LAYERS[: LAYERS.index(name)]
    assert "import" in doc, doc
    may = {other for other in LAYERS if f"grader.{other}" in doc}
    assert may <= set(below), f"{name}'s docstring names a layer above it: {may - set(below)}"


def test_the_zygote_starts_before_torch_is_imported_so_the_two_imports_run_side_by_side():
    import subprocess
    import sys

    code = "import sys; from grader.sandbox import zygote; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.strip() == "False"
