"""`check()` in a kernel and the hand-in of the same notebook grade the same function for
every id, by the one rule of grader/handins/naming.py, and give the same scores.

The notebooks: each of the lecture corpus's 22 submissions (tests/formulations/lecture/)
laid into the students' notebook, and the notebooks of what real students did (a check
of a function under another name, a name set to another function, a function defined
twice, a redefinition that does not compile). Each runs cell by cell in an IPython
shell, as Jupyter runs it, and is saved with the execution counts Jupyter would save.
"""

import ast
import json
import os

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from grader.exercises import catalogue
from grader.frontends.notebook import hand_in as kernel_hand_in
from grader.grading.grader import grade
from grader.handins.submissions import hand_in
from tests.conftest import EXERCISES, SOLUTIONS, notebook_of
from tests.test_formulations import CORPUS

LECTURE = sorted(p for p in (CORPUS / "lecture").iterdir() if p.is_dir())
SEED = 20240611
RIGHT_CE = (SOLUTIONS / "ex2_cross_entropy.py").read_text().split("def cross_entropy_backward(")[1]
MY_DLOGITS = "def my_dlogits(" + RIGHT_CE.split("\n\n\n")[0] + "\n"
STUB_CE = "def cross_entropy_backward(logits, Yb):\n    raise NotImplementedError\n"
MINE = "def mine(dh, h):\n    return dh * (1 - h**2)\n"
# What real notebooks did, as (the exercise cells replaced, the cells added at the end).
FINDINGS = {
    "a check of another function": ({"cross_entropy_backward": STUB_CE}, (MY_DLOGITS, 'check("ex2", my_dlogits)')),
    "a check of the wrong function for an id": ({}, (MINE, 'check("ex1.counts_backward", mine)')),
    "a name set to another function": (
        {"cross_entropy_backward": STUB_CE},
        (MY_DLOGITS, 'check("ex2", my_dlogits)', "cross_entropy_backward = my_dlogits"),
    ),
    "a function defined twice": (
        {"h_backward": "def h_backward(dh, h):\n    return dh\n"},
        (MINE.replace("mine", "h_backward"),),
    ),
    "a redefinition that does not compile": ({}, ("def h_backward(dh, h)\n    return dh\n",)),
}
# Cells that change nothing a check sees (naming.py: a check keeps no memory), each of
# which would cost a grading: the grader's install, the check under each exercise, the
# training run.
SKIPPED = ("# In Colab", "check(", "# Exercise 4 for real")


def modules_of(folder):
    """A submission's modules as the notebook's cells hold them; a module that does not
    compile goes into one cell of its own at the end, after its stubs."""
    modules, broken = {}, []
    for module in catalogue.MODULES:
        text = (folder / f"{module}.py").read_text()
        try:
            ast.parse(text)
        except SyntaxError:
            text, broken = (EXERCISES / f"{module}.py").read_text(), [*broken, text]
        modules[module] = text
    return modules, tuple(broken)


def notebook(name):
    """The notebook called `name`: a corpus submission's, or a finding's."""
    if name in FINDINGS:
        replace, cells = FINDINGS[name]
        return notebook_of(modules_of(SOLUTIONS)[0], replace, cells)
    modules, broken = modules_of(CORPUS / "lecture" / name)
    return notebook_of(modules, cells=broken)


NOTEBOOKS = [*(p.name for p in LECTURE), *FINDINGS]


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """An IPython shell, its history in memory and its folder a temporary one, that has
    run the set-up cells of the students' notebook once: each notebook starts from them."""
    before = os.environ.get("IPYTHONDIR")
    os.environ["IPYTHONDIR"] = str(tmp_path_factory.mktemp("ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ipython = InteractiveShell.instance(config=config)
    ran = {}
    for cell in notebook_of(modules_of(SOLUTIONS)[0])["cells"]:
        if cell["source"].startswith("## Exercise"):
            break  # the set-up is done: the exercise cells come next
        if cell["cell_type"] == "code" and not cell["source"].startswith(SKIPPED):
            ran[cell["source"]] = ipython.run_cell(cell["source"], store_history=True).execution_count
    yield ipython, dict(ipython.user_ns), ran
    InteractiveShell.clear_instance()
    if before is None:
        os.environ.pop("IPYTHONDIR")
    else:
        os.environ["IPYTHONDIR"] = before


def run(shell, name, folder):
    """Run the notebook's code cells in order, from the set-up's state, as Jupyter's "Run
    all" does when told to go on after an error; saved into `folder` with the execution
    counts Jupyter would save, its path."""
    ipython, start, ran = shell
    ipython.user_ns.clear()
    ipython.user_ns.update(start)
    nb = notebook(name)
    for cell in nb["cells"]:
        source = cell["source"]
        if cell["cell_type"] != "code" or source.startswith(SKIPPED) and source not in FINDING_CHECKS:
            continue
        if source in ran:  # a set-up cell: run once, at this count
            cell["execution_count"] = ran[source]
            continue
        cell["execution_count"] = ipython.run_cell(source, store_history=True).execution_count
    path = folder / "backprop_ninja.ipynb"
    path.write_text(json.dumps(nb))
    return path


FINDING_CHECKS = tuple(c for _, cells in FINDINGS.values() for c in cells if c.startswith("check("))


def chosen(handed):
    """Exercise function -> the function its module gives it (its def, whatever its name,
    as source under the exercise's name) and the cell and line that def came from."""
    found = {}
    for module in catalogue.MODULES:
        path = handed.folder / f"{module}.py"
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        bound = {}
        for node in tree.body:  # each name's last binding, a def or `name = other`
            if isinstance(node, ast.FunctionDef):
                bound[node.name] = node
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and len(node.targets) == 1:
                bound[node.targets[0].id] = bound.get(node.value.id, defs.get(node.value.id))
        for function in (f for f, m in catalogue.FUNCTIONS.items() if m == module and f in bound):
            node = bound[function]
            node.name = function
            found[function] = (ast.unparse(node), handed.origins.place(module, node.lineno))
    return found


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_check_in_the_kernel_and_the_hand_in_take_the_same_function_for_every_id(name, shell, tmp_path):
    path = run(shell, name, tmp_path)
    kernel, handed = kernel_hand_in(shell[0].user_ns), hand_in(path)
    try:
        assert chosen(kernel) == chosen(handed)
    finally:
        kernel.close()
        handed.close()


# Each costs two gradings (about 4 s): the lecture corpus's run with --slow, as in CI.
@pytest.mark.parametrize("name", [n if n in FINDINGS else pytest.param(n, marks=pytest.mark.slow) for n in NOTEBOOKS])
def test_check_in_the_kernel_and_the_hand_in_give_the_same_scores(name, shell, tmp_path):
    path = run(shell, name, tmp_path)
    checked = shell[0].run_cell(f"check(seed={SEED})", store_history=True).result  # as a student does last
    report = grade(path, seed=SEED)
    handed_in = {i.id: (i.status, i.score) for i in report.items}
    assert {i.id: (i.status, i.score) for i in checked.items} == {i.id: handed_in[i.id] for i in checked.items}
    assert checked.score == report.score
