"""`pytest grader`: one test per exercise id, the same grades as the CLI, scores in
pytest-json-report's metadata and a score table at the end."""

import json
import subprocess
import sys

import pytest

from grader import catalogue
from tests.conftest import EXERCISES, ROOT, SOLUTIONS


def run_pytest(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "grader"), *args],
                          capture_output=True, text=True, cwd=cwd)  # fmt: skip


@pytest.fixture(scope="module")
def graded_solutions(tmp_path_factory):
    report = tmp_path_factory.mktemp("plugin") / "report.json"
    run = run_pytest("--submission", str(SOLUTIONS), "--json-report", f"--json-report-file={report}")
    return run, json.loads(report.read_text())


def test_every_exercise_id_is_a_test_named_by_its_id(graded_solutions):
    run, report = graded_solutions
    assert run.returncode == 0, run.stdout[-2000:]
    node_ids = [t["nodeid"] for t in report["tests"]]
    assert len(node_ids) == len(catalogue.IDS)
    for exercise_id, node_id in zip(catalogue.IDS, node_ids):
        assert node_id.endswith(f"[{exercise_id}]")


def test_json_report_metadata_holds_id_score_max_score_and_status(graded_solutions):
    _, report = graded_solutions
    for test in report["tests"]:
        meta = test["metadata"]
        assert {"id", "score", "max_score", "status"} <= set(meta)
        assert meta["score"] == meta["max_score"] > 0 and meta["status"] == "passed"


def test_the_terminal_summary_ends_with_the_score_table(graded_solutions):
    run, _ = graded_solutions
    assert "backprop-ninja scores" in run.stdout
    assert "78/78" in run.stdout


def test_submission_defaults_to_exercises_and_failures_carry_the_reason(tmp_path):
    report = tmp_path / "report.json"
    run = run_pytest("--json-report", f"--json-report-file={report}", "-k", "ex2 or ex3")
    assert run.returncode == 1
    assert "not implemented yet" in run.stdout and str(EXERCISES) in run.stdout
    tests = json.loads(report.read_text())["tests"]
    assert [t["metadata"]["status"] for t in tests] == ["not_implemented"] * 2
    assert all(t["outcome"] == "failed" for t in tests)


def test_a_missing_submission_folder_is_a_usage_error(tmp_path):
    run = run_pytest("--submission", str(tmp_path / "nope"), "-k", "ex2")
    assert run.returncode != 0 and "no folder" in run.stdout + run.stderr


def test_pytest_grades_a_notebook_and_names_its_cells(make_notebook):
    wrong = "def h_backward(dh, h):\n    raise ValueError('here')\n"
    path = make_notebook(replace={"h_backward": wrong})
    run = run_pytest("--submission", str(path), "-k", "h_backward or cross_entropy")
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    assert "ValueError: here (cell" in run.stdout and "backprop_ninja.ipynb" in run.stdout
