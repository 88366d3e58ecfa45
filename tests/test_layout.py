"""The map of the code (docs/layout.md) stays true to the tree: a newcomer reads it first."""

import re

from tests.conftest import ROOT


def test_the_layout_names_every_module_and_only_files_that_exist():
    page = (ROOT / "docs" / "layout.md").read_text()
    layout = page[page.index("## The tree") :].split("```")[1]
    named = set(re.findall(r"[\w.]+\.(?:py|toml|json|png)\b", layout))
    folders = ["grader", *(p.parent.relative_to(ROOT) for p in (ROOT / "grader").glob("*/__init__.py")), "benchmarks"]
    modules = {p.name for folder in folders for p in (ROOT / folder).glob("*.py")} - {"__init__.py"}
    assert modules - named == set(), "modules the README's layout does not name"
    every = {p.name for p in ROOT.rglob("*") if ".venv" not in p.parts}
    assert named - every == set(), "names in the README's layout that are not in the tree"
