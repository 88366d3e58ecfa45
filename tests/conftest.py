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


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow (CI does)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow (as .ci/run does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


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


# One submission with every kind of outcome: right, wrong, partial, non-finite, not a
# tensor, raising, not implemented and missing.
MIXED = {
    "ex1_atomic": (
        "def logprobs_backward(dlogprobs, probs):\n    return dlogprobs / (probs * 0)\n"
        "def counts_backward(dcounts, counts):\n    return 'counts'\n"
        "def logits_backward(dlogits, h, W2):\n    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0) * 2\n"
        "def h_backward(dh, h):\n    raise ValueError('oops')\n"
        "def bnvar_backward(dbnvar, bndiff2):\n    raise NotImplementedError\n"
    ),
}


@pytest.fixture(scope="session")
def mixed_report(tmp_path_factory):
    from grader.grading import grade

    folder = tmp_path_factory.mktemp("mixed") / "submission"
    shutil.copytree(SOLUTIONS, folder)
    (folder / "ex3_batchnorm.py").unlink()
    with open(folder / "ex1_atomic.py", "a") as f:
        f.write("\n\n" + MIXED["ex1_atomic"])
    return grade(folder)
