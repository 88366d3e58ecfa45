"""Every output format carries the same grade and validates against its format."""

import base64
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from importlib import resources

import jsonschema
import pytest

from grader.exercises import catalogue
from grader.grading.compare import PROBLEMS
from grader.grading.grader import grade
from grader.grading.results import STATUSES
from grader.reporting import classroom, reports
from grader.reporting.rows import rows
from tests.conftest import EXERCISES, reporter_gradebook_points, reporter_log_points

SCHEMA = json.loads((resources.files("grader") / "report.schema.json").read_text())


def test_the_mixed_submission_has_every_status_but_not_graded(mixed_report):
    # not_graded needs a submission that runs out of its time budget: tests/test_sandbox.py
    assert {i.status for i in mixed_report.items} == set(STATUSES) - {"not_graded"}


@pytest.mark.parametrize("which", ["solutions", "stubs", "mixed"])
def test_the_json_report_validates_against_its_schema(which, solutions_report, mixed_report):
    report = {"solutions": solutions_report, "stubs": grade(EXERCISES), "mixed": mixed_report}[which]
    text = reports.FORMATS["json"](report)
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA)
    assert [i["id"] for i in data["items"]] == list(catalogue.IDS)
    assert data["score"] == pytest.approx(sum(i["score"] for i in data["items"]))


def test_the_json_report_is_strict_json_even_for_infinite_gradients(mixed_report):
    text = reports.FORMATS["json"](mixed_report)
    assert "NaN" not in text and "Infinity" not in text
    item = next(i for i in json.loads(text)["items"] if i["id"] == "ex1.logprobs_backward")
    assert item["gradients"][0]["trials"][0]["problem"] == "not_finite"


def test_the_schema_knows_every_problem_and_status():
    trial = SCHEMA["$defs"]["trial"]["properties"]["problem"]["enum"]
    assert set(trial) == {None, *PROBLEMS}
    assert set(SCHEMA["$defs"]["item"]["properties"]["status"]["enum"]) == set(STATUSES)


def test_the_gradescope_report_has_exactly_gradescopes_fields(mixed_report):
    data = json.loads(reports.FORMATS["gradescope"](mixed_report))
    assert set(data) == {"score", "execution_time", "output", "tests"}
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 1
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "tags", "extra_data"}
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert test["status"] in ("passed", "failed")
        assert all(isinstance(tag, str) for tag in test["tags"]) and test["tags"][0] == test["extra_data"]["status"]
        assert isinstance(test["score"], float | int) and 0 <= test["score"] <= test["max_score"]
        assert test["output"]
    assert [t["name"] for t in data["tests"]] == list(catalogue.IDS)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    partial = next(t for t in data["tests"] if t["name"] == "ex1.logits_backward")
    assert (partial["score"], partial["max_score"], partial["status"]) == (2, 3, "failed")
    assert partial["tags"] == ["partial", partial["extra_data"]["diagnosis"]] and partial["extra_data"]["diagnosis"]


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date", "after_published"])
def test_gradescopes_output_names_no_total_while_any_result_is_not_yet_visible(mixed_report, visibility):
    items = (replace(mixed_report.items[0], visibility=visibility), *mixed_report.items[1:])
    data = json.loads(reports.FORMATS["gradescope"](replace(mixed_report, items=items)))
    total = f"/{reports.points(mixed_report.max_score)} points"
    assert total not in data["output"] and "once your instructor releases them" in data["output"]
    assert total in json.loads(reports.FORMATS["gradescope"](mixed_report))["output"]


def test_the_junit_report_has_a_testcase_per_id_with_failures_and_errors(mixed_report):
    root = ET.fromstring(reports.FORMATS["junit"](mixed_report))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == list(catalogue.IDS)
    errors = [c for c in cases if c.find("error") is not None]
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("errors")) == len(errors) >= 1
    assert int(suite.get("failures")) == len(failures) >= 1
    h = next(c for c in cases if c.get("name") == "ex1.h_backward")
    assert "ValueError: oops" in h.find("error").get("message")
    assert "Traceback" in h.find("error").text
    score = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert float(score["score"]) == mixed_report.score


def test_the_table_lists_every_id_with_points_status_and_reason(mixed_report):
    text = reports.table(mixed_report)
    for row in rows(mixed_report.items):
        assert row.label in text and (not row.covers or f"ids: {row.covers}" in text)
    assert "ex1.logits_backward" in text and "2/3" in text and "partial" in text
    assert "not implemented yet" in text
    assert "ex3_batchnorm.py not found" in text
    assert text.rstrip().splitlines()[-1].startswith("total")
    assert "\033[" not in text and "\033[" in reports.table(mixed_report, color=True)


def test_the_verbose_table_adds_tracebacks(mixed_report):
    assert "Traceback" not in reports.table(mixed_report)
    assert "Traceback" in reports.table(mixed_report, verbose=True)


def classroom_of(report):
    text = reports.FORMATS["classroom"](report)
    assert len(text.encode()) <= classroom.CAP and len(base64.b64encode(text.encode())) < 128 * 1024
    return json.loads(text)


def test_classrooms_log_and_gradebook_read_the_reports_total(mixed_report):
    result = classroom_of(mixed_report)
    assert 0 < mixed_report.score < mixed_report.max_score
    assert reporter_log_points(result) == pytest.approx(mixed_report.score, abs=1e-9)
    assert reporter_gradebook_points(result) == mixed_report.score
    assert result["max_score"] == mixed_report.max_score and result["status"] == "fail"
    failing = [t for t in result["tests"] if t["status"] == "fail" and t.get("message")]
    assert failing and all(t["test_code"].startswith("backprop-ninja check ex") for t in failing)
    assert all("\n# " in t["test_code"] for t in failing)  # the reason, where the reporter's log shows it


def scored(report, scores=None, points=None):
    """The report with some ids' scores (and points) changed."""
    items = tuple(
        replace(i, score=(scores or {}).get(i.id, i.score), max_score=(points or {}).get(i.id, i.max_score))
        for i in report.items
    )
    return replace(report, items=items)


def test_a_share_of_a_size_penalty_over_26_ids_stays_small_and_reads_alike_in_log_and_gradebook(mixed_report):
    shares = {i.id: i.max_score - 3 / 26 for i in mixed_report.items if i.id.startswith("ex1.manual_backward.")}
    report = scored(mixed_report, shares)
    result = classroom_of(report)
    assert len(result["tests"]) <= classroom.MAX_TESTS
    log, gradebook = reporter_log_points(result), reporter_gradebook_points(result)
    assert log == pytest.approx(gradebook, abs=1e-9) and gradebook == round(gradebook, 6)
    assert gradebook == pytest.approx(report.score, abs=0.125 + 1e-9)


def test_full_marks_on_a_rubric_of_fifths_of_a_point_read_as_full_marks_in_the_gradebook(mixed_report):
    points = {i.id: 1.2 for i in mixed_report.items}
    full = scored(mixed_report, points, points)
    full = replace(full, items=tuple(replace(i, status="passed") for i in full.items))
    result = classroom_of(full)
    assert reporter_gradebook_points(result) == full.max_score == result["max_score"]
    assert reporter_log_points(result) == pytest.approx(full.max_score, abs=1e-9)


def test_a_score_in_thirds_of_a_point_is_rounded_alike_for_classrooms_log_and_gradebook(mixed_report):
    first = mixed_report.items[0]
    report = scored(mixed_report, {first.id: first.max_score / 3})
    result = classroom_of(report)
    assert reporter_log_points(result) == pytest.approx(reporter_gradebook_points(result), abs=1e-9)
    assert reporter_gradebook_points(result) == pytest.approx(report.score, abs=0.125 + 1e-9)


def test_the_classroom_result_fits_the_environment_variable_it_travels_in_whatever_the_reasons(mixed_report):
    long = tuple(replace(item, message="x" * 50_000) for item in mixed_report.items)
    result = classroom_of(replace(mixed_report, items=long))
    assert reporter_gradebook_points(result) == mixed_report.score
    assert any(t.get("message", "").endswith("(the job summary has it all)") for t in result["tests"]) or all(
        not t.get("message") for t in result["tests"]
    )
