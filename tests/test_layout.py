"""The README's map of the code stays true to the tree: a newcomer reads it first."""

import re

from tests.conftest import ROOT


def test_the_readmes_layout_names_every_module_and_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :].split("```")[1]
    named = set(re.findall(r"[\w.]+\.(?:py|toml|json|png)\b", layout))
    modules = {p.name for folder in ("grader", "grader/sandbox", "benchmarks") for p in (ROOT / folder).glob("*.py")}
    assert modules - named == set(), "modules the README's layout does not name"
    every = {p.name for p in ROOT.rglob("*") if ".venv" not in p.parts}
    assert named - every == set(), "names in the README's layout that are not in the tree"
