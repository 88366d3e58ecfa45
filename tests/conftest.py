"""Shared fixtures: the repository's folders and throwaway submissions built from them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
# As the grader does: tiny tensors, and a busy machine makes several threads wait on each other.
torch.set_num_threads(1)
EXERCISES = ROOT / "exercises"


def run_grader(*args: object, **options: Any) -> subprocess.CompletedProcess[str]:
    """`python -m grader ARGS` in a process of its own, as a user types it; its output
    captured as text."""
    command = [sys.executable, "-m", "grader", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, **options)


def peak(*args, timeout=120):
    """The grader process's peak memory (kB) and its seconds, running the command."""
    code = (
        "import resource, sys, time; from grader.frontends.cli import main; start = time.monotonic(); main(sys.argv[1:]); "
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.monotonic() - start, file=sys.stderr)"
    )
    run = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    figures = run.stderr.split("PEAK")[1].split()
    return int(figures[0]), float(figures[1])


def _lecture():
    """The lecture's assignment, as the default rubric and the catalogue make it: every
    count the tests expect comes from here, never written out."""
    from grader.exercises import catalogue
    from grader.exercises.rubric import load_rubric

    rubric = load_rubric()
    return sum(rubric.points.values()), len(catalogue.IDS), len(catalogue.EXERCISES)


FULL_MARKS, ID_COUNT, FUNCTION_COUNT = _lecture()


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow (CI does)")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        # The longest first, so that under xdist no worker starts one when the rest are done.
        items.sort(key=lambda item: "slow" not in item.keywords)
    else:
        skip = pytest.mark.skip(reason="slow: run with --slow (as .ci/run does)")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)
    for item in items:
        shared = sorted(SHARED.intersection(item.fixturenames))
        if shared:
            # Under `--dist loadgroup` the tests that share a costly fixture run on one worker,
            # which makes it once.
            item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}:{'+'.join(shared)}"))


SHARED: set[str] = set()


def shared(fn):
    """A module fixture that costs seconds (a graded class, an executed notebook, a
    release): made once per module, and its tests kept on one xdist worker."""
    SHARED.add(fn.__name__)
    return pytest.fixture(scope="module")(fn)


@pytest.fixture(scope="session")
def solutions_report():
    """The report of the reference solutions, graded once for the whole session."""
    from grader.grading.grader import grade

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
    from grader.grading.grader import grade

    folder = tmp_path_factory.mktemp("mixed") / "submission"
    shutil.copytree(SOLUTIONS, folder)
    (folder / "ex3_batchnorm.py").unlink()
    with open(folder / "ex1_atomic.py", "a") as f:
        f.write("\n\n" + MIXED["ex1_atomic"])
    return grade(folder)


# Where a test's notebook says the grader comes from (its first cell installs it in Colab).
INSTALL = "git+https://github.com/course/backprop-ninja-students"


def notebook_of(modules: dict, replace: dict | None = None, cells: tuple = (), ran: bool = False) -> dict:
    """The students' notebook with these modules' functions in its exercise cells (the
    solutions' by default), some functions' cells replaced by other code, and more code
    cells at its end; `ran`: saved as Jupyter saves it after running every code cell
    from the top, each with its execution count."""
    from grader.frontends import student_notebook

    nb = student_notebook.build(modules, INSTALL)
    for cell in nb["cells"]:
        for name, code in (replace or {}).items():
            if cell["source"].startswith(f"def {name}("):
                cell["source"] = code
    nb["cells"] += [
        {"cell_type": "code", "id": f"more-{i}", "metadata": {}, "execution_count": None, "outputs": [], "source": code}
        for i, code in enumerate(cells)
    ]
    if ran:
        for count, cell in enumerate((c for c in nb["cells"] if c["cell_type"] == "code"), start=1):
            cell["execution_count"] = count
    return nb


@pytest.fixture
def make_notebook(tmp_path):
    """A notebook file like a student's: the solutions in the released notebook, with
    some functions' cells replaced and more cells appended."""
    import json

    def make(replace=None, cells=(), name="backprop_ninja.ipynb", folder=None, ran=False):
        modules = {p.name: p.read_text(encoding="utf-8") for p in SOLUTIONS.glob("*.py")}
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook_of(modules, replace, cells, ran)), encoding="utf-8")
        return path

    return make


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium, driven by selenium (CI installs both: .ci/run)."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    yield driver
    driver.quit()


# GitHub Classroom's reporter (classroom-resources/autograding-grading-reporter, v1,
# dist/main.js) reads the result twice: its log gives a runner passed tests / tests x
# max_score points (getTestScore), the gradebook gets the sum of the tests' scores
# (NotifyClassroom). These two mirror those formulas.
def reporter_log_points(result: dict) -> float:
    passed = sum(test["status"] == "pass" for test in result["tests"])
    return passed / len(result["tests"]) * result["max_score"]


def reporter_gradebook_points(result: dict) -> float:
    return sum(test["score"] for test in result["tests"])


def solution_lines(paths) -> list[str]:
    """Every line between the solution markers of these files, comments included, that
    could give a solution away: a line of punctuation alone (a lone `)`) tells nothing and
    occurs in any code."""
    from grader.frontends.stubs import BEGIN, END

    lines = []
    for path in paths:
        inside = False
        for line in Path(path).read_text().splitlines():
            text = line.strip()
            if text in (BEGIN, END):
                inside = text == BEGIN
            elif inside and any(ch.isalnum() for ch in text):
                lines.append(text)
    return lines


# The diagnosis code each hostile case of tests/test_sandbox.py must get (tests/test_diagnosis.py
# counts them among the codes that have a case).
SANDBOX_CODES = {
    "infinite_loop": "timeout",
    "long_sleep": "timeout",
    "huge_allocation": "out_of_memory",
    "gradual_allocation": "out_of_memory",
    "deep_recursion": "exception",
    "unbounded_recursion": None,
    "os_exit": "crashed",
    "sys_exit": "crashed",
    "segfault": "crashed",
    "uses_ctypes": "exception",
    "keyboard_interrupt": "crashed",
    "huge_print": "output_limit",
    "c_level_print": "output_limit",
    "starts_a_thread": "exception",
    "opens_a_socket": "exception",
    "writes_a_file": "exception",
    "returns_far_too_much": "too_large",
    "uses_backward": "uses_autograd",
    "hidden_backward": "uses_autograd",
    "autograd_grad_hidden": "uses_autograd",
    "torch_func_grad": "uses_autograd",
    "torch_func_jvp": "exception",
    "mutates_input": "mutated_input",
    "child_process": "exception",
    "monkeypatches_at_import": "all_zeros",
    "walks_the_stack": "exception",
    "hangs_at_import": "timeout",
    "crashes_at_import": "crashed",
    "imports_solutions": "exception",
    "syntax_error": "exception",
    "missing_import": "exception",
}
