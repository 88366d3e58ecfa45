"""The students' notebook run top to bottom in a real Jupyter kernel (nbclient and
ipykernel, headless), as a student runs it: with the stubs, with the solutions, with a
typical mistake and an endless loop; and a check's HTML as a browser shows it."""

import base64
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.exercises import catalogue
from grader.frontends import student_notebook
from grader.frontends.stubs import expected_stubs
from grader.grading.grader import grade
from tests.conftest import FULL_MARKS, ID_COUNT, INSTALL, SOLUTIONS, notebook_of, shared

TRAINING = "train_network(mlp_backward, steps=2000)"  # the lecture's 200,000 steps take a minute
MISTAKE = (
    "def my_dlogits(logits, Yb):\n"
    "    dlogits = F.softmax(logits, 1)\n"
    "    dlogits[range(logits.shape[0]), Yb] -= 1\n"
    "    return dlogits  # the mean's 1/n is missing\n"
)
RAISES = "def h_raises(dh, h):\n    scale = 2\n    raise ValueError('not yet')\n"
STUCK = "def stuck(dh, h):\n    while True:\n        pass\n"
TIMED = "%%time\ndef timed_h(dh, h):\n    return dh * (1 - h**2)\n"  # a cell magic: Python cannot find its source


def execute(nb: dict, folder: Path) -> nbformat.NotebookNode:
    node = nbformat.from_dict(nb)
    for cell in node.cells:
        if cell.source.startswith("# Exercise 4 for real"):
            cell.source = TRAINING
    NotebookClient(node, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return node


def text(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def errors(node) -> list[str]:
    return [
        f"{c.source[:40]!r}: {o.get('ename')}"
        for c in node.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]


def checks(node) -> dict[str, object]:
    """The cells that check one exercise function, by its name."""
    return {
        c.source[6:-1]: c
        for c in node.cells
        if c.cell_type == "code" and c.source[6:-1] in catalogue.FUNCTIONS and c.source.startswith("check(")
    }


@pytest.fixture(scope="module")
def with_stubs(tmp_path_factory):
    return execute(student_notebook.build(expected_stubs(SOLUTIONS), INSTALL), tmp_path_factory.mktemp("stubs"))


@shared
def with_solutions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solutions")
    (folder / "quick.toml").write_text("[limits]\nwall_time = 2\ncpu_time = 2\n")
    modules = {p.name: p.read_text() for p in SOLUTIONS.glob("*.py")}
    more = (
        MISTAKE,
        'check("ex2.cross_entropy_backward", my_dlogits)',
        RAISES,
        'check("ex1.h_backward", h_raises)',
        STUCK,
        'check("ex1.h_backward", stuck, rubric="quick.toml")',
        TIMED,
        'check("ex1.h_backward", timed_h)',
        "print('the kernel runs on')",
    )
    return execute(notebook_of(modules, cells=more), folder)


def test_with_the_stubs_every_check_says_not_implemented_yet_and_the_notebook_runs_to_its_end(with_stubs):
    assert errors(with_stubs) == []
    found = checks(with_stubs)
    assert set(found) == set(catalogue.FUNCTIONS)
    for name, cell in found.items():
        assert "not implemented yet" in text(cell) and "passed" not in text(cell), name
        assert "Traceback" not in text(cell), name
    training = next(c for c in with_stubs.cells if c.source == TRAINING)
    assert "training did not run: mlp_backward is not implemented yet" in text(training)
    assert re.search(rf"total +0/{FULL_MARKS:g}", text(with_stubs.cells[-1]))


def test_with_the_solutions_every_check_passes_and_the_network_trains(with_solutions):
    assert errors(with_solutions) == []
    for name, cell in checks(with_solutions).items():
        statuses = [line.split()[2] for line in text(cell).splitlines() if line.startswith("ex") and ": " in line]
        assert statuses and all(s == "passed" for s in statuses), (name, text(cell))
    training = next(c for c in with_solutions.cells if c.source == TRAINING)
    assert "2000 steps in" in text(training) and "train loss" in text(training) and "<img" in html(training)
    final = next(c for c in with_solutions.cells if c.source == "check()")
    assert re.search(rf"total +{FULL_MARKS:g}/{FULL_MARKS:g}  {ID_COUNT} of {ID_COUNT} ids right", text(final))


def test_a_typical_mistake_shows_its_diagnosis_hint_and_picture_in_the_cells_html(with_solutions):
    cell = next(c for c in with_solutions.cells if c.source.endswith("my_dlogits)"))
    shown = html(cell)
    assert "scaled" in shown and "hint:" in shown and "data:image/png;base64," in shown
    assert "exact:" in shown and "0/4" in shown


def test_an_error_names_the_cell_the_way_ipython_does(with_solutions):
    cell = next(c for c in with_solutions.cells if c.source.endswith("h_raises)"))
    assert "ValueError: not yet (Cell In[" in text(cell) and ", line 3, in h_raises)" in text(cell)


def test_an_endless_loop_is_stopped_at_the_time_limit_and_the_kernel_runs_on(with_solutions):
    cell = next(c for c in with_solutions.cells if c.source.endswith('rubric="quick.toml")'))
    assert "time limit" in text(cell)
    assert "the kernel runs on" in text(with_solutions.cells[-1])


def test_a_function_defined_under_a_cell_magic_is_checked_from_the_cells_history(with_solutions):
    cell = next(c for c in with_solutions.cells if c.source.endswith("timed_h)"))
    assert "ex1.h_backward: 1/1 passed" in text(cell)


def test_a_check_renders_in_a_browser_as_the_readme_shows_it(with_solutions, browser, tmp_path):
    cell = next(c for c in with_solutions.cells if c.source.endswith("my_dlogits)"))
    page = tmp_path / "check.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin: 1em">'
        f"<pre>In [ ]: {cell.source}</pre>{html(cell)}</body></html>"
    )
    browser.set_window_size(1100, 1400)
    browser.get(page.as_uri())
    images = browser.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert images and all(done and width > 100 for done, width in images)
    shot = base64.b64decode(browser.find_element("css selector", "body").screenshot_as_base64)
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
    # The README's picture is this one: BACKPROP_NINJA_SCREENSHOT=docs/check.png makes it again.
    if os.environ.get("BACKPROP_NINJA_SCREENSHOT"):
        Path(os.environ["BACKPROP_NINJA_SCREENSHOT"]).write_bytes(shot)


def test_the_notebook_as_the_kernel_saved_it_hands_in_what_its_last_check_graded(with_solutions, tmp_path):
    # The checks of my_dlogits, h_raises, stuck and timed_h tried them out: they hand nothing in.
    path = tmp_path / "backprop_ninja.ipynb"
    nbformat.write(with_solutions, str(path))
    report = grade(path)
    final = next(c for c in with_solutions.cells if c.source == "check()")
    assert report.score == FULL_MARKS and re.search(rf"total +{FULL_MARKS:g}/{FULL_MARKS:g}", text(final))
    tried = {c.source: c.execution_count for c in with_solutions.cells if c.source.startswith('check("ex')}
    assert sorted(n.split(" checks ")[0] for n in report.notes) == sorted(f"Cell In[{n}]" for n in tried.values())
