"""The timing step: a right but slow function gets a note naming its loop and the
vectorised way out; scores change only when the rubric sets a penalty."""

import json
from importlib import resources

import jsonschema

from grader.grading import timing
from grader.grading.grader import grade
from grader.reporting import reports
from tests.conftest import FUNCTION_COUNT, SOLUTIONS, shared

LOOP = (
    "def emb_backward(demb, C, Xb):\n"
    "    dC = torch.zeros_like(C)\n"
    "    for k in range(Xb.shape[0]):\n"
    "        for j in range(Xb.shape[1]):\n"
    "            dC[Xb[k, j]] += demb[k, j]\n"
    "    return dC\n"
)
IDS = ["ex1.emb_backward", "ex1.h_backward"]


def timed_rubric(tmp_path, penalty=0):
    path = tmp_path / "rubric.toml"
    path.write_text(f"[timing]\nenabled = true\npenalty = {penalty}\n")
    return path


@shared
def slow_report(tmp_path_factory):
    import shutil

    folder = tmp_path_factory.mktemp("slow") / "submission"
    shutil.copytree(SOLUTIONS, folder)
    with open(folder / "ex1_atomic.py", "a") as f:
        f.write("\n\n" + LOOP)
    return grade(folder, rubric=timed_rubric(tmp_path_factory.mktemp("rubric")), ids=IDS)


def test_a_python_loop_over_the_batch_is_flagged_with_its_line_and_the_vectorised_way(slow_report):
    speed = {s.function: s for s in slow_report.speed}
    emb = speed["ex1_atomic.emb_backward"]
    assert emb.slow and emb.ratio >= 10
    assert "the Python loop at line" in emb.note and "index_add_" in emb.note and "tensordot" in emb.note
    assert not speed["ex1_atomic.h_backward"].slow and speed["ex1_atomic.h_backward"].note == ""


def test_timing_changes_no_score_by_default(slow_report):
    assert [(i.score, i.status) for i in slow_report.items] == [(1.0, "passed"), (1.0, "passed")]


def test_the_table_and_the_json_carry_the_speeds(slow_report):
    assert "SLOW" in reports.table(slow_report) and "speed at n = 4096" in reports.table(slow_report)
    data = json.loads(reports.FORMATS["json"](slow_report))
    jsonschema.validate(data, json.loads((resources.files("grader") / "report.schema.json").read_text()))
    assert [s["slow"] for s in data["speed"]] == [False, True]  # catalogue order: h_backward, then emb_backward
    assert "slow: emb_backward takes" in json.loads(reports.FORMATS["gradescope"](slow_report))["output"]


def test_a_rubric_penalty_takes_its_share_of_a_slow_functions_points(make_submission, tmp_path):
    report = grade(make_submission(append={"ex1_atomic": LOOP}), rubric=timed_rubric(tmp_path, 0.5), ids=IDS)
    emb, h = report.items[1], report.items[0]
    assert (emb.score, emb.status, emb.diagnosis.code) == (0.5, "partial", "slow")
    assert (h.score, h.status) == (1.0, "passed")


def test_the_reference_solutions_are_nowhere_slow(tmp_path):
    report = grade(SOLUTIONS, rubric=timed_rubric(tmp_path))
    assert len(report.speed) == FUNCTION_COUNT and not [s.function for s in report.speed if s.slow]


def test_a_wrong_function_is_not_timed(make_submission, tmp_path):
    code = "def h_backward(dh, h):\n    return dh\n"
    report = grade(make_submission(append={"ex1_atomic": code}), rubric=timed_rubric(tmp_path), ids=IDS)
    assert [s.function for s in report.speed] == ["ex1_atomic.emb_backward"]


def test_the_loop_finder_reads_the_last_definition_and_comprehensions(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("def f(x):\n    return x\n\ndef f(x):\n    y = [i for i in x]\n    while x:\n        pass\n")
    assert timing.loops(path, "f") == [5, 6]
    assert timing.loops(path, "g") == []
