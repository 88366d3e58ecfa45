"""Grading a submission: one wrong or broken function costs its own points only, and
every loss of points comes with a reason a student can act on."""

import json

import pytest
import torch

from grader.exercises import catalogue
from grader.grading.grader import grade
from grader.reporting import reports
from tests.conftest import SOLUTIONS


def by_id(report):
    return {item.id: item for item in report.items}


def module_ids(module):
    return {item.id for item in catalogue.ITEMS if item.exercise.module == module} | (
        {catalogue.TRAINING.id} if catalogue.TRAINING.module == module else set()
    )


def test_a_syntax_error_zeroes_its_own_module_with_file_line_and_message(make_submission):
    folder = make_submission(
        replace={"ex2_cross_entropy": "def cross_entropy_backward(logits, Yb)\n    return logits\n"}
    )
    items = by_id(grade(folder))
    broken = items["ex2.cross_entropy_backward"]
    assert broken.score == 0 and broken.status == "error"
    assert "ex2_cross_entropy.py, line 1" in broken.message and "expected ':'" in broken.message
    assert all(i.status == "passed" for k, i in items.items() if k not in module_ids("ex2_cross_entropy"))


def test_an_import_error_zeroes_its_own_module_and_names_the_missing_module(make_submission):
    folder = make_submission(append={"ex3_batchnorm": "import no_such_module_anywhere\n"})
    items = by_id(grade(folder))
    assert items["ex3.batchnorm_backward"].status == "error"
    assert "no_such_module_anywhere" in items["ex3.batchnorm_backward"].message
    assert "line" in items["ex3.batchnorm_backward"].message
    assert items["ex2.cross_entropy_backward"].status == "passed"


def test_a_missing_module_scores_zero_as_missing_and_the_others_are_graded(make_submission):
    items = by_id(grade(make_submission(remove=["ex4_train"])))
    assert items["ex4.mlp_backward"].status == items["ex4.training"].status == "missing"
    assert "ex4_train.py not found" in items["ex4.mlp_backward"].message
    assert items["ex1.manual_backward.C"].status == "passed"


def test_a_missing_function_scores_zero_for_that_function_only(make_submission):
    folder = make_submission(append={"ex1_atomic": "del h_backward\n"})
    items = by_id(grade(folder, ids=["ex1.h_backward", "ex1.logits_backward"]))
    assert items["ex1.h_backward"].status == "missing"
    assert items["ex1.h_backward"].message == "ex1_atomic.py has no function h_backward"
    assert items["ex1.logits_backward"].status == "passed"


def test_an_exception_is_reported_with_the_students_line_and_function(make_submission):
    code = "def counts_backward(dcounts, counts):\n    return dcounts @ counts\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.counts_backward"]).items[0]
    assert item.status == "error" and item.score == 0
    assert item.message.startswith("RuntimeError: ")
    assert "ex1_atomic.py, line" in item.message and "in counts_backward" in item.message
    assert "Traceback" in item.detail


def test_a_function_that_only_breaks_at_some_sizes_says_at_which(make_submission):
    code = "def h_backward(dh, h):\n    assert h.shape[0] != 3, 'boom'\n    return (1 - h**2) * dh\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.h_backward"]).items[0]
    assert item.status == "error" and "boom" in item.message and "n=3" in item.message


def test_a_function_that_modifies_its_argument_fails_naming_the_argument(make_submission):
    code = "def h_backward(dh, h):\n    dh *= 1 - h**2\n    return dh\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.h_backward"]).items[0]
    assert item.score == 0 and "modified its input dh in place" in item.message


def test_a_function_with_several_gradients_earns_a_share_for_each_right_one(make_submission):
    code = "def logits_backward(dlogits, h, W2):\n    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0) * 2\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.logits_backward"]).items[0]
    assert (item.score, item.max_score, item.status) == (2, 3, "partial")
    assert [g.passed for g in item.gradients] == [True, True, False]
    assert item.message.startswith("db2 is off by a factor 2")


def test_returning_too_few_gradients_says_how_many_are_due(make_submission):
    code = "def logits_backward(dlogits, h, W2):\n    return dlogits @ W2.T, h.T @ dlogits\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.logits_backward"]).items[0]
    assert item.score == 0 and "must return 3 gradients (dh, dW2, db2), got 2" in item.message


def test_a_tuple_where_one_tensor_is_due_is_refused_with_a_reason(make_submission):
    code = "def h_backward(dh, h):\n    return ((1 - h**2) * dh,)\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.h_backward"]).items[0]
    assert item.score == 0 and "must return the tensor dhpreact itself" in item.message


def test_a_key_missing_from_manual_backward_costs_that_key_only(make_submission):
    code = (
        "_reference_manual_backward = manual_backward\n"
        "def manual_backward(fwd):\n"
        "    grads = _reference_manual_backward(fwd)\n"
        "    del grads['bnvar']\n"
        "    grads['extra'] = 'ignored'\n"
        "    return grads\n"
    )
    items = by_id(grade(make_submission(append={"ex1_atomic": code})))
    assert items["ex1.manual_backward.bnvar"].score == 0
    assert "bnvar: missing from the dict manual_backward returned" in items["ex1.manual_backward.bnvar"].message
    chain = [i for k, i in items.items() if k.startswith("ex1.manual_backward.") and k != "ex1.manual_backward.bnvar"]
    assert len(chain) == 25 and all(i.status == "passed" for i in chain)


def test_fwd_is_read_only(make_submission):
    code = "def manual_backward(fwd):\n    fwd.loss = None\n"
    item = by_id(grade(make_submission(append={"ex1_atomic": code})))["ex1.manual_backward.C"]
    assert "fwd is read-only" in item.message


def test_a_students_module_can_import_a_sibling_module(make_submission):
    code = (
        "from ex2_cross_entropy import cross_entropy_backward as _ce\n"
        "_reference_mlp_backward = mlp_backward\n"
        "def mlp_backward(fwd):\n"
        "    _ce(fwd.logits, fwd.Yb)\n"
        "    return _reference_mlp_backward(fwd)\n"
    )
    items = by_id(grade(make_submission(append={"ex4_train": code}), ids=["ex4.mlp_backward"]))
    assert items["ex4.mlp_backward"].status == "passed"


def test_a_seed_repeats_a_run_exactly_and_another_seed_gives_the_same_verdicts(make_submission):
    code = "def bnvar_backward(dbnvar, bndiff2):\n    return dbnvar.expand_as(bndiff2) / bndiff2.shape[0]\n"
    folder = make_submission(append={"ex1_atomic": code})

    def run(seed):
        data = reports.to_json(grade(folder, seed=seed))
        assert data["seed"] == seed
        return {k: v for k, v in data.items() if k != "confinement"}  # its uid is the submission's own each time

    first, second, other = run(7), run(7), run(8)
    assert json.dumps(first) == json.dumps(second)
    assert [(i["id"], i["status"], i["score"]) for i in first["items"]] == [
        (i["id"], i["status"], i["score"]) for i in other["items"]
    ]
    figures = lambda data: [t["error"] for i in data["items"] for g in i["gradients"] for t in g["trials"]]
    assert figures(first) != figures(other)
    assert '"status": "failed"' in json.dumps(first)


def test_two_submissions_graded_in_one_process_do_not_share_modules(make_submission, tmp_path):
    right = grade(make_submission(), ids=["ex2.cross_entropy_backward"])
    wrong_folder = tmp_path / "other"
    wrong_folder.mkdir()
    (wrong_folder / "ex2_cross_entropy.py").write_text(
        "def cross_entropy_backward(logits, Yb):\n    return logits * 0\n"
    )
    wrong = grade(wrong_folder, ids=["ex2.cross_entropy_backward"])
    assert right.score == right.max_score and wrong.score == 0


def test_grading_an_unknown_id_is_refused_with_a_pointer_to_the_list():
    with pytest.raises(ValueError, match="no such exercise ids: ex4.*backprop-ninja list"):
        grade(SOLUTIONS, ids=["ex4"])


def test_a_failure_of_the_grader_itself_costs_one_id_and_the_report_still_comes_out(monkeypatch):
    from grader.grading import checking

    real = checking.compare

    def broken(name, *args, **kwargs):
        if name == "db2":
            raise ZeroDivisionError("a bug")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(checking, "compare", broken)
    items = by_id(grade(SOLUTIONS, ids=["ex1.logits_backward", "ex1.h_backward"]))
    assert items["ex1.logits_backward"].status == "error"
    assert "the grader itself failed" in items["ex1.logits_backward"].message
    assert "Traceback" in items["ex1.logits_backward"].detail
    assert items["ex1.h_backward"].status == "passed"


def test_arguments_holding_nan_that_a_function_leaves_alone_are_not_called_modified(tmp_path):
    from grader.exercises.rubric import load_rubric
    from grader.sandbox.inprocess import InProcess

    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "ex2_cross_entropy.py").write_text("def cross_entropy_backward(logits, Yb):\n    return logits * 1\n")
    logits = torch.full((4, 5), float("nan"))
    call = InProcess(folder, load_rubric().limits).submit(
        "ex2_cross_entropy", "cross_entropy_backward", {"logits": logits, "Yb": torch.zeros(4, dtype=torch.long)}
    )()
    assert call.failure is None


def test_a_zero_gradient_left_out_of_the_dict_is_told_it_still_needs_its_key(make_submission):
    left_out = (
        "_manual = manual_backward\ndef manual_backward(fwd):\n    g = _manual(fwd)\n    del g['b1']\n    return g\n"
    )
    report = grade(make_submission(append={"ex1_atomic": left_out}), ids=["ex1.manual_backward.b1"])
    message = report.items[0].message
    assert "its gradient is about zero, and it still needs its key" in message and "compute db1 from dhprebn" in message
    assert "zeros" not in message
