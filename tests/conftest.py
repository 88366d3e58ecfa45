"""Shared fixtures: the repository's folders and throwaway submissions built from them."""

import shutil
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
# As the grader does: tiny tensors, and a busy machine makes several threads wait on each other.
torch.set_num_threads(1)
EXERCISES = ROOT / "exercises"


@pytest.fixture(scope="session")
def solutions_report():
    """The report of the reference solutions, graded once for the whole session."""
    from grader.grading import grade

    return grade(SOLUTIONS)


@pytest.fixture
def make_submission(tmp_path):
    """A copy of solutions/ in a temporary folder, with text appended to some modules
    (a later def overrides an earlier one) and some modules replaced or removed."""

    def make(append=None, replace=None, remove=()):
        folder = tmp_path / "submission"
        shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
        for module, text in (append or {}).items():
            with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
                f.write("\n\n" + text)
        for module, text in (replace or {}).items():
            (folder / f"{module}.py").write_text(text, encoding="utf-8")
        for module in remove:
            (folder / f"{module}.py").unlink()
        return folder

    return make
