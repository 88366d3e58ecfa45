"""One row per cause: where ids of one function lost points for one reason, every human
format shows it once, naming the ids it covers; the machine formats keep every id."""

import json
from html import escape

from grader.grading.diagnosis import Diagnosis
from grader.grading.results import ItemResult, Report
from grader.reporting import reports
from grader.reporting.rows import rows

RAISED = "NameError: name 'dbnvar_inv' is not defined (ex1_atomic.py, line 155, in manual_backward) [n=32]"
HINT = "`dbnvar_inv` is not computed in manual_backward: compute dbnvar_inv from dbnraw"
KEYS = ("logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits")


def raised(key, message=RAISED, hint=HINT):
    return ItemResult(
        f"ex1.manual_backward.{key}", 0.0, 1.0, "error", message, diagnosis=Diagnosis("exception", message, hint)
    )


def right(item_id, points=1.0):
    return ItemResult(item_id, points, points, "passed", "")


def report(*items):
    return Report("submission", tuple(items), 1e-4)


def test_ids_of_one_function_with_one_reason_make_one_row_that_names_them_and_adds_their_points():
    items = [right("ex1.h_backward"), *(raised(k) for k in KEYS), right("ex2.cross_entropy_backward", 4.0)]
    found = rows(items)
    assert [r.label for r in found] == ["ex1.h_backward", "ex1.manual_backward", "ex2.cross_entropy_backward"]
    shared = found[1]
    assert shared.ids == tuple(f"ex1.manual_backward.{k}" for k in KEYS)
    assert (shared.score, shared.max_score) == (0.0, 8.0) and shared.covers == "all 8 ids"


def test_an_id_with_a_reason_of_its_own_keeps_its_row_and_the_shared_row_names_the_others():
    items = [*(raised(k) for k in KEYS[:-1]), raised("logits", "logits is off by a factor 2", "divide by 2")]
    found = rows(items)
    assert [r.label for r in found] == ["ex1.manual_backward", "ex1.manual_backward.logits"]
    assert found[0].covers == "7 of 8 ids: all but logits" and found[1].covers == ""


def test_right_ids_and_ids_of_different_modules_are_never_merged():
    items = [right("ex1.manual_backward.probs"), right("ex1.manual_backward.counts")]
    items += [
        ItemResult("ex1.h_backward", 0, 1, "error", RAISED, diagnosis=Diagnosis("exception", RAISED, HINT)),
        ItemResult("ex2.cross_entropy_backward", 0, 4, "error", RAISED, diagnosis=Diagnosis("exception", RAISED, HINT)),
    ]
    assert [len(r.items) for r in rows(items)] == [1, 1, 1, 1]


def test_a_missing_module_is_one_row_for_all_its_ids(tmp_path):
    from grader.grading.grader import grade

    (tmp_path / "empty").mkdir()
    shown = rows(grade(tmp_path / "empty", ids=None).items)
    assert [(r.label, r.covers) for r in shown][:2] == [("ex1", "all 46 ids"), ("ex2.cross_entropy_backward", "")]
    assert len(shown) == 5  # ex1, ex2, ex3, and ex4's two ids: mlp_backward and the training it drives


def test_every_human_format_says_a_shared_reason_once_and_the_machine_formats_keep_every_id():
    graded = report(*(raised(k) for k in KEYS))
    for text in (reports.table(graded), reports.markdown(graded), reports.html(graded)):
        assert text.count("line 155") == 1 and text.count("from dbnraw") == 1
        assert "all 8 ids" in text and "0/8" in text
    assert len(reports.to_json(graded)["items"]) == len(KEYS)
    assert len(reports.to_gradescope(graded)["tests"]) == len(KEYS)
    assert reports.to_junit(graded).count("<testcase ") == len(KEYS)
    assert json.dumps(reports.to_json(graded)).count("ex1.manual_backward.") == len(KEYS)


def test_a_size_dependence_reads_alike_for_every_id_it_charges(make_submission):
    from grader.grading.grader import grade

    code = (
        "_chain = manual_backward\n"
        "def manual_backward(fwd):\n"
        "    if fwd.logits.shape[0] != 32:\n"
        "        raise RuntimeError('shape [96, 10] is invalid')\n"
        "    return _chain(fwd)\n"
    )
    graded = grade(make_submission(append={"ex1_atomic": code}), ids=[f"ex1.manual_backward.{k}" for k in KEYS])
    assert len({(i.message, i.diagnosis.hint) for i in graded.items}) == 1
    assert [r.label for r in rows(graded.items)] == ["ex1.manual_backward"]
    assert reports.table(graded).count("raised at") == 1


def test_a_notebooks_check_shows_a_wrong_answers_diagnosis_and_hint_once(make_submission):
    from grader.grading.grader import grade

    code = "def h_backward(dh, h):\n    return dh + (1 - h**2)\n"
    graded = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.h_backward"])
    diagnosis = graded.items[0].diagnosis
    assert diagnosis.code == "added_upstream"
    shown = reports.html_body(graded, lines=True)  # what check(h_backward) displays
    assert shown.count(escape(diagnosis.message)) == 1 and shown.count(escape(diagnosis.hint)) == 1
    assert shown.count('src="data:image/png;base64,') == 1  # its picture, captioned by name and trial only


def test_any_exception_the_grader_cannot_explain_still_quotes_the_line_that_raised(make_submission):
    from grader.grading.grader import grade

    code = "def h_backward(dh, h):\n    return dh.view(3, -1, 7) * (1 - h**2)\n"
    graded = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.h_backward"])
    hint = graded.items[0].diagnosis.hint
    assert "`return dh.view(3, -1, 7) * (1 - h**2)`" in hint and "backprop-ninja check ex1.h_backward" in hint
