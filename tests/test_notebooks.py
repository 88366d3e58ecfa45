"""Notebooks handed in (.ipynb): their exercise functions, and the plain values and helpers
those use, are taken from the code cells without running any cell, then graded as
modules; what a student reads names their cells."""

import csv
import json
import shutil
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.exercises.rubric import load_rubric
from grader.frontends.batch import run as run_batch
from grader.frontends.cli import main
from grader.frontends.stubs import expected_stubs
from grader.grading.grader import grade
from grader.handins.cells import from_notebooks, python
from grader.handins.origins import Origins, Span
from grader.handins.submissions import SubmissionError
from grader.reporting import reports
from tests.conftest import EXERCISES, FULL_MARKS, ROOT, SOLUTIONS, notebook_of

RIGHT_CE = (
    "def cross_entropy_backward(logits, Yb):\n"
    "    d = torch.softmax(logits, 1)\n"
    "    d[torch.arange(logits.shape[0]), Yb] -= 1\n"
    "    return d / logits.shape[0]\n"
)


def item(report, item_id):
    return next(i for i in report.items if i.id == item_id)


def test_a_notebook_holding_the_solutions_gets_full_marks_without_any_cell_running(make_notebook):
    # The set-up cells read data, build tensors and call check(): none of it runs.
    path = make_notebook(cells=("import os\nos._exit(3)", "while True:\n    pass"))
    report = grade(path)
    assert report.passed and report.score == report.max_score == FULL_MARKS
    assert report.submission == str(path) and report.notes == ()


def test_shell_lines_and_magics_are_skipped_line_for_line():
    cell = "!pip install torch\n%matplotlib inline\nfiles = !ls\nimport torch\nif True:\n    %time x = 1\nhelp?\n"
    assert python(cell) == "pass\npass\npass\nimport torch\nif True:\n    pass\npass\n"
    assert python("%%time\ndef f():\n    return 1\n") == "\ndef f():\n    return 1\n"
    assert python("%%bash\nls\n") is None


def test_a_function_in_a_timed_cell_is_taken_and_one_in_a_shell_cell_is_not(make_notebook):
    timed = "%%time\n" + RIGHT_CE
    path = make_notebook(replace={"cross_entropy_backward": timed, "h_backward": "%%bash\ndef h_backward(dh, h):"})
    report = grade(path, ids=["ex2.cross_entropy_backward", "ex1.h_backward"])
    assert item(report, "ex2.cross_entropy_backward").status == "passed"
    assert item(report, "ex1.h_backward").status == "missing"


def test_plain_globals_travel_with_a_function_and_a_hard_coded_size_is_named_in_its_cell(make_notebook):
    # The set-up cell's n = batch_size = 32 is plain: it travels, and is right at n = 32 only.
    wrong = RIGHT_CE.replace("return d / logits.shape[0]", "return d / n")
    path = make_notebook(replace={"cross_entropy_backward": wrong})
    found = item(grade(path, ids=["ex2.cross_entropy_backward"]), "ex2.cross_entropy_backward")
    assert found.diagnosis.code == "size_dependent" and "the global n = 32" in found.diagnosis.hint
    assert "ex2_cross_entropy.py" not in found.message + found.detail + found.diagnosis.hint


def test_a_global_the_notebook_computes_stays_behind_and_its_reader_is_told_why(make_notebook):
    # vocab_size = len(itos) in the set-up cell: only running the notebook would give it.
    reads = RIGHT_CE.replace("d = torch.softmax(logits, 1)", "d = torch.softmax(logits, 1) + 0 * vocab_size")
    path = make_notebook(replace={"cross_entropy_backward": reads})
    report = grade(path, ids=["ex2.cross_entropy_backward"])
    assert "NameError: name 'vocab_size' is not defined" in item(report, "ex2.cross_entropy_backward").message
    (note,) = [n for n in report.notes if n.startswith("vocab_size")]
    assert note.startswith("vocab_size (set in the 2nd code cell by code") and "read by cross_entropy_backward" in note


def test_values_computed_by_code_that_does_not_run_stay_behind_and_the_report_says_so(make_notebook):
    reads = "def h_backward(dh, h):\n    return dh * (1 - h**2) * scale + Xtr.sum() * 0\n"
    path = make_notebook(replace={"h_backward": reads}, cells=("scale = 2 / 2",))
    report = grade(path, ids=["ex1.h_backward"])
    found = item(report, "ex1.h_backward")
    assert "NameError: name 'Xtr' is not defined" in found.message
    cell = next(n for n in report.notes if n.startswith("Xtr"))
    assert "set in the 2nd code cell" in cell and "read by h_backward" in cell and "arguments" in cell
    assert not any(n.startswith("scale") for n in report.notes)  # 2 / 2 is plain: it travelled


def test_the_last_definition_of_a_function_is_graded_and_the_report_names_both_cells(make_notebook):
    path = make_notebook(
        replace={"cross_entropy_backward": RIGHT_CE.replace("/ logits.shape[0]", "")}, cells=(RIGHT_CE,)
    )
    report = grade(path, ids=["ex2.cross_entropy_backward"])
    assert report.passed
    (note,) = [n for n in report.notes if n.startswith("cross_entropy_backward is defined in")]
    assert "the last" in note


def test_a_cell_that_does_not_compile_costs_its_own_functions_only(make_notebook):
    broken = "def logits_backward(dlogits, h, W2)\n    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)\n"
    path = make_notebook(replace={"logits_backward": broken}, ran=True)
    report = grade(path, ids=["ex1.logits_backward", "ex1.h_backward"])
    found = item(report, "ex1.logits_backward")
    count = next(c["execution_count"] for c in json.loads(path.read_text())["cells"] if c["source"] == broken)
    assert found.status == "error" and found.message == f"SyntaxError: expected ':' (Cell In[{count}], line 1)"
    assert found.detail.startswith(f'  File "Cell In[{count}]", line 1\n    def logits_backward(dlogits, h, W2)\n')
    assert "fix the line it names" in found.diagnosis.hint
    assert item(report, "ex1.h_backward").status == "passed"
    assert any("does not compile" in n for n in report.notes)


def test_a_missing_function_names_the_notebook_and_a_misspelling(make_notebook):
    misspelt = "def logit_backward(dlogits, h, W2):\n    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)\n"
    path = make_notebook(replace={"logits_backward": misspelt})
    found = item(grade(path, ids=["ex1.logits_backward"]), "ex1.logits_backward")
    assert found.status == "missing"
    assert (
        found.message == "backprop_ninja.ipynb has no function logits_backward (it has logit_backward: a misspelling?)"
    )


def test_helpers_imports_and_renamed_imports_travel_with_the_function(make_notebook):
    helper = "from torch.nn import functional as Fn\n\ndef dtanh(h):\n    return 1 - h**2\n"
    uses = "def h_backward(dh, h):\n    return dh * dtanh(h) + Fn.relu(h) * 0\n"
    path = make_notebook(replace={"h_backward": uses}, cells=(helper,))
    assert grade(path, ids=["ex1.h_backward"]).passed


def test_the_line_a_function_raised_on_is_named_by_its_cell(make_notebook):
    raising = "def h_backward(dh, h):\n    x = 1\n    raise ValueError('here')\n"
    path = make_notebook(replace={"h_backward": raising}, ran=True)
    count = next(c["execution_count"] for c in json.loads(path.read_text())["cells"] if c["source"] == raising)
    found = item(grade(path, ids=["ex1.h_backward"]), "ex1.h_backward")
    assert f"ValueError: here (Cell In[{count}], line 3, in h_backward)" in found.message
    assert f'File "Cell In[{count}]", line 3, in h_backward' in found.detail


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "is not valid JSON"),
        ('{"worksheets": [], "nbformat": 3}', "nbformat 3"),
        ('{"metadata": {}}', "JSON without cells"),
        ('{"cells": [{"cell_type": "code", "source": 42}]}', "the 1st code cell has no source text"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_refused_with_what_to_do(tmp_path, capsys, content, words):
    path = tmp_path / "mine.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError, match=words):
        grade(path)
    assert main(["grade", "--submission", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Download .ipynb" in err or words in err and "nbformat" in words


def test_the_command_line_grades_and_checks_a_notebook_and_a_folder_holding_one(make_notebook, tmp_path, capsys):
    path = make_notebook(folder=tmp_path / "upload")
    assert main(["grade", "--submission", str(path), "--only", "ex2"]) == 0
    assert main(["grade", "--submission", str(tmp_path / "upload"), "--only", "ex3"]) == 0
    assert main(["check", "ex1.logits_backward", "--submission", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ex2.cross_entropy_backward" in out and "dW2             | exact:" in out


def test_the_report_of_a_notebook_carries_its_notes_in_every_format(make_notebook):
    path = make_notebook(cells=(RIGHT_CE,))
    report = grade(path, ids=["ex2.cross_entropy_backward"])
    data = json.loads(reports.dumps(reports.to_json(report)))
    jsonschema.validate(data, json.loads((ROOT / "grader" / "report.schema.json").read_text()))
    assert data["notes"] == list(report.notes) and report.notes
    assert "note: cross_entropy_backward is defined in" in reports.table(report)
    assert "cross_entropy_backward is defined in" in reports.to_gradescope(report)["output"]
    assert "note: cross_entropy_backward is defined in" in rendered(reports.markdown(report))
    assert "note: cross_entropy_backward is defined in" in reports.html(report)


def test_a_batch_grades_notebooks_loose_in_folders_and_in_archives(make_notebook, tmp_path):
    root = tmp_path / "class"
    make_notebook(name="ada.ipynb", folder=root)
    make_notebook(name="work.ipynb", folder=root / "bob")
    carol = make_notebook(name="carol.ipynb", folder=tmp_path / "zips")
    with zipfile.ZipFile(root / "carol.zip", "w") as z:
        z.write(carol, "nested/carol.ipynb")
    (root / "dan.ipynb").write_text("{broken")
    outcomes = {o.name: o for o in run_batch(root, tmp_path / "out", load_rubric(), jobs=2)}
    assert set(outcomes) == {"ada", "bob", "carol", "dan"}
    assert "not valid JSON" in outcomes["dan"].error
    rows = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    scores = {row.split(",")[0]: row for row in rows[1:]}
    for name in ("ada", "bob", "carol"):
        assert f",{FULL_MARKS:g}," in scores[name] or f",{FULL_MARKS:.1f}," in scores[name], scores[name]


def test_a_folder_with_modules_and_a_notebook_grades_the_modules_and_says_so(make_notebook, tmp_path):
    folder = tmp_path / "both"
    shutil.copytree(ROOT / "solutions", folder)
    make_notebook(
        replace={"cross_entropy_backward": "def cross_entropy_backward(logits, Yb):\n    return 0\n"}, folder=folder
    )
    report = grade(folder, ids=["ex2.cross_entropy_backward"])
    assert report.passed and report.notes == (
        "not graded: backprop_ninja.ipynb: the exercise modules of ./ are graded, and a notebook only where there are none",
    )


def test_several_notebooks_are_read_in_name_order_the_later_definition_winning(make_notebook, tmp_path):
    folder = tmp_path / "two"
    make_notebook(name="a.ipynb", folder=folder)
    make_notebook(name="b.ipynb", folder=folder, replace={"h_backward": "def h_backward(dh, h):\n    return dh\n"})
    assembly = from_notebooks(sorted(folder.glob("*.ipynb")))
    assert "return dh\n" in assembly.texts["ex1_atomic"]
    (note,) = [n for n in assembly.notes if n.startswith("h_backward is defined in")]
    assert note.endswith("code cell of b.ipynb, is graded, as when the notebook runs top to bottom")
    assert "code cell of a.ipynb and the " in note


def test_origins_name_each_line_of_a_generated_module_by_its_cell():
    origins = Origins("nb.ipynb", {"ex1_atomic": (Span(3, 6, "cell 7", 1), Span(8, 8, "cell 9", 4))})
    text = (
        'Traceback:\n  File "/tmp/x/ex1_atomic.py", line 5, in h_backward\n'
        "ValueError (ex1_atomic.py, line 8, in f); ex1_atomic.py has no function g; "
        "hard-coded: 32 in ex1_atomic.py, line 4 (return d / 32); ex2_cross_entropy.py, line 2"
    )
    assert origins.relocate(text) == (
        'Traceback:\n  File "cell 7", line 3, in h_backward\n'
        "ValueError (cell 9, line 4, in f); nb.ipynb has no function g; "
        "hard-coded: 32 in cell 7, line 2 (return d / 32); nb.ipynb"
    )
    assert Origins().relocate(text) == text  # a .py submission keeps its own names


def test_plain_values_are_evaluated_without_running_anything_else(tmp_path):
    cells = [
        "n = batch_size = 32\nn_embd, block_size = 10, 3\nemb_dim = n_embd * block_size\nlr = 1e-1\nlr *= 2",
        "big = 'a' * 10**9\nhuge = 10**10**10\nwords = open('names.txt').read()",
        "def f():\n    return n + emb_dim + lr",
        "for step in range(3):\n    n = step",
    ]
    path = tmp_path / "v.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]}))
    from grader.handins.cells import Namespace, read

    namespace = Namespace([(cell, cell.place) for cell in read(path)])
    sources = {name: getattr(found, "source", getattr(found, "why", "")) for name, found in namespace.bound.items()}
    assert sources["batch_size"] == "batch_size = 32" and sources["emb_dim"] == "emb_dim = 30"
    assert sources["lr"] == "lr = 0.2"
    for name in ("big", "huge", "words", "n", "step"):  # too large, not plain, or last bound by a loop
        assert "code the grader does not run" in sources[name], name


def test_a_notebook_refuses_nothing_a_student_wrote_and_leaves_the_file_as_it_was(make_notebook):
    path = make_notebook()
    before = path.read_bytes()
    grade(path, ids=["ex2.cross_entropy_backward"])
    assert path.read_bytes() == before and not (Path(path).parent / "ex2_cross_entropy.py").exists()


def test_a_hostile_notebook_costs_its_own_grade_only(make_notebook, tmp_path):
    deep = "x = " + "(" * 200_000 + ")" * 200_000
    growing = "a = (0,) * 9000\nb = a + a\nc = 10**4000 * 10**4000\nd = [[[[[[[[[[[[1]]]]]]]]]]]]"
    nested = "def h_backward(dh, h):\n    return " + "-" * 100_000 + "dh"
    path = make_notebook(replace={"h_backward": nested}, cells=(deep, growing))
    report = grade(path, ids=["ex1.h_backward", "ex2.cross_entropy_backward"])
    assert [i.status for i in report.items] == ["error", "passed"]
    assert report.items[0].message.startswith("SyntaxError: ") and "code cell, line 1)" in report.items[0].message
    assert sum("does not compile" in n for n in report.notes) == 2


def test_a_lambda_and_another_name_for_a_function_travel_as_functions(make_notebook):
    helpers = "ones = lambda t: torch.ones_like(t)\n\ndef dtanh(h):\n    return ones(h) - h**2\n\nderivative = dtanh\n"
    uses = "def h_backward(dh, h):\n    return dh * derivative(h)\n"
    path = make_notebook(replace={"h_backward": uses}, cells=(helpers,))
    report = grade(path, ids=["ex1.h_backward"])
    assert report.passed and report.notes == ()


STUB_CE = "def cross_entropy_backward(logits, Yb):\n    raise NotImplementedError\n"
MY_DLOGITS = RIGHT_CE.replace("def cross_entropy_backward(", "def my_dlogits(")


def test_a_check_cell_trying_another_function_hands_in_the_named_one_and_says_how_to_hand_it_in(make_notebook):
    path = make_notebook(
        replace={"cross_entropy_backward": STUB_CE},
        cells=(MY_DLOGITS, 'check("ex2.cross_entropy_backward", my_dlogits)'),
        ran=True,
    )
    report = grade(path, ids=["ex2.cross_entropy_backward"])
    assert item(report, "ex2.cross_entropy_backward").status == "not_implemented"
    (note,) = report.notes
    assert note.startswith("Cell In[") and "checks my_dlogits as cross_entropy_backward, for that check only" in note
    assert note.endswith("to hand my_dlogits in, write `cross_entropy_backward = my_dlogits` in a cell below its def")


def test_a_function_set_to_the_exercises_name_is_handed_in_and_the_note_says_what_each_cell_did(make_notebook):
    path = make_notebook(
        replace={"cross_entropy_backward": STUB_CE},
        cells=(MY_DLOGITS, 'check("ex2.cross_entropy_backward", my_dlogits)', "cross_entropy_backward = my_dlogits"),
        ran=True,
    )
    report = grade(path, ids=["ex2.cross_entropy_backward"])
    assert report.passed
    nb = json.loads(path.read_text())
    count = {c["source"]: c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"}
    stub, alias = count[STUB_CE], count["cross_entropy_backward = my_dlogits"]
    (note,) = report.notes
    assert note == (
        f"cross_entropy_backward is defined in Cell In[{stub}], then set to my_dlogits in Cell In[{alias}]: "
        f"the last, in Cell In[{alias}], is graded, as when the notebook runs top to bottom"
    )


def test_one_function_checked_for_two_ids_changes_neither(make_notebook):
    mine = "def mine(dh, h):\n    return dh * (1 - h**2)\n"
    path = make_notebook(cells=(mine, 'check("ex1.h_backward", mine)', 'check("ex1.counts_backward", mine)'))
    report = grade(path, ids=["ex1.h_backward", "ex1.counts_backward"])
    assert [i.status for i in report.items] == ["passed", "passed"]  # the solutions' own, as named
    assert [n.split(" checks ")[1].split(",")[0] for n in report.notes] == [
        "mine as h_backward",
        "mine as counts_backward",
    ]


def test_a_cell_is_named_by_the_count_jupyter_shows_or_its_rank_among_code_cells_never_counting_text():
    from grader.handins.cells import places

    assert places([17, None, 3, 5, 5, True, 0]) == [
        "Cell In[17]",
        "the 2nd code cell",  # never ran
        "Cell In[3]",
        "the 4th code cell",  # two cells show [5]: runs of two sessions
        "the 5th code cell",
        "the 6th code cell",  # not a count
        "the 7th code cell",
    ]
    assert places([None] * 23)[-3:] == ["the 21st code cell", "the 22nd code cell", "the 23rd code cell"]
    assert places([None] * 113)[110:] == ["the 111th code cell", "the 112th code cell", "the 113th code cell"]


# Found by a hostile student's notebooks: each costs that notebook's grade, never the
# grader's process, its time or another student's grade.


@pytest.mark.parametrize(
    "code",
    [
        'X = -"a"',
        "X = +None",
        "X = -()",
        "L = [1]\nX = -L",
        "X = {[]: 1}",
        "X = {{}}",
        "L = [1]\nX = {L}",
        'X = "%*d" % (10**10, 1)',
        "X = " + " * ".join(["2**64"] * 100),
        "X = (10**64) ** 64",
        "X = 'a' * 10**9",
    ],
)
def test_a_value_the_grader_cannot_evaluate_plainly_stays_behind(make_notebook, code):
    reads = RIGHT_CE.replace("return d / logits.shape[0]", "return d / logits.shape[0] + 0 * len(str(X))")
    path = make_notebook(replace={"cross_entropy_backward": reads}, cells=(code,))
    found = item(grade(path, ids=["ex2.cross_entropy_backward"]), "ex2.cross_entropy_backward")
    assert found.status == "error" and "NameError: name 'X' is not defined" in found.message


@pytest.mark.parametrize(
    "content, words",
    [("[" * 100_000 + "]" * 100_000, "malformed"), ('{"nbformat": ' + "9" * 5000 + "}", "malformed")],
)
def test_json_nested_past_the_stack_or_numbers_past_python_are_refused(tmp_path, content, words):
    path = tmp_path / "deep.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError, match=words):
        grade(path)


def test_a_long_line_of_spaces_is_read_in_linear_time():
    import threading

    done = []
    reader = threading.Thread(target=lambda: done.append(python(" " * 200_000 + "x\n")))
    reader.start()
    reader.join(timeout=30)
    assert done == [" " * 200_000 + "x\n"]


def test_a_link_to_a_notebook_is_refused_as_a_link_to_a_module_is(make_notebook, tmp_path):
    alice = make_notebook(folder=tmp_path / "alice")
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "backprop_ninja.ipynb").symlink_to(alice)
    with pytest.raises(SubmissionError, match="is a link: hand in the notebook itself"):
        grade(tmp_path / "eve")
    with pytest.raises(SubmissionError, match="is a link"):
        grade(tmp_path / "eve" / "backprop_ninja.ipynb")


@pytest.mark.parametrize("line_end", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c"])
def test_a_comment_holding_a_unicode_line_separator_is_read_as_python_reads_it(make_notebook, line_end):
    hidden = (
        "def cross_entropy_backward(logits, Yb):\n"
        f"    # a note{line_end}    return torch.softmax(logits, 1) - F.one_hot(Yb, logits.shape[1]) / 1\n"
        "    return torch.zeros_like(logits)\n"
    )
    path = make_notebook(replace={"cross_entropy_backward": hidden})
    found = item(grade(path, ids=["ex2.cross_entropy_backward"]), "ex2.cross_entropy_backward")
    assert found.status == "failed"  # zeros, as Python and Jupyter run it


@pytest.mark.parametrize("name", ["two\nlines.ipynb", "back\\x slash.ipynb", "bad \udcff\udcfe bytes.ipynb"])
def test_a_notebooks_file_name_is_text_and_never_code(make_notebook, tmp_path, name):
    path = make_notebook(name=name, cells=("def h_backward(dh, h):\n    raise ValueError('x')\n",))
    report = grade(path, ids=["ex1.h_backward", "ex2.cross_entropy_backward"])
    assert [i.status for i in report.items] == ["error", "passed"]
    first = reports.table(report).splitlines()[0]
    assert "\n" not in reports.sanitized(report).submission and first.endswith(".ipynb")


def test_batch_names_that_look_alike_once_cleaned_each_keep_a_row_of_their_own(make_notebook, tmp_path):
    root = tmp_path / "class"
    make_notebook(name="bob.ipynb", folder=root)
    make_notebook(name="bob\u200b.ipynb", folder=root)
    outcomes = run_batch(root, tmp_path / "out", load_rubric(), jobs=1)
    assert sorted(o.name for o in outcomes) == ["bob.ipynb", "bob.ipynb-2"]  # the name no cleaning changed first
    rows = list(csv.DictReader((tmp_path / "out" / "gradebook.csv").open()))
    assert sorted(row["submission"] for row in rows) == ["bob.ipynb", "bob.ipynb-2"]


def test_a_notebook_of_far_more_code_than_the_exercises_is_refused(tmp_path):
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "x = 1\n" * 400_000}]}))
    with pytest.raises(SubmissionError, match="more than 2,097,152 characters of code"):
        grade(path)


def test_plain_values_and_notes_have_caps(make_notebook):
    values = "\n".join(f"V{i} = 'a' * 9000" for i in range(300))
    reads = (
        "def h_backward(dh, h):\n    return dh * (1 - h**2) + 0 * len("
        + " + ".join(f"V{i}" for i in range(300))
        + ")\n"
    )
    broken = tuple(f"def f{i}(:\n" for i in range(40))
    path = make_notebook(replace={"h_backward": reads}, cells=(values, *broken))
    report = grade(path, ids=["ex1.h_backward"])
    assert len(report.notes) == 21 and report.notes[-1].endswith("more notes like these")
    assert "NameError" in report.items[0].message  # past the cap, values stay behind


def rendered(markdown):
    """The text GitHub shows of Markdown: rendered by cmark-gfm, GitHub's renderer, tags
    stripped."""
    import html
    import re

    import cmarkgfm

    return html.unescape(re.sub(r"<[^>]+>", "", cmarkgfm.github_flavored_markdown_to_html(markdown)))


def test_grading_untouched_exercises_beside_a_notebook_with_work_says_to_grade_the_notebook(
    make_notebook, tmp_path, monkeypatch, capsys
):
    shutil.copytree(EXERCISES, tmp_path / "exercises")
    monkeypatch.chdir(tmp_path)
    make_notebook(folder=tmp_path, name="backprop_ninja.ipynb")
    assert main(["grade", "--only", "ex2"]) == 1
    assert capsys.readouterr().err.endswith(
        "every function in exercises is still a stub, and backprop_ninja.ipynb holds your work: grade the "
        "notebook with  backprop-ninja grade --submission backprop_ninja.ipynb\n"
    )
    # The notebook as released, nothing but stubs: nothing to point at.
    (tmp_path / "backprop_ninja.ipynb").write_text(json.dumps(notebook_of(expected_stubs(SOLUTIONS))))
    assert main(["grade", "--only", "ex2"]) == 1
    assert "--submission" not in capsys.readouterr().err
