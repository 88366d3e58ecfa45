"""`pytest grader`: one test per exercise id, the same grades as the CLI, scores in
pytest-json-report's metadata and a score table at the end, under xdist too."""

import json
import shutil
import subprocess
import sys

import pytest

from grader.exercises import catalogue
from tests.conftest import EXERCISES, FULL_MARKS, ROOT, SOLUTIONS, shared


def run_pytest(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "grader"), *args], capture_output=True, text=True, cwd=cwd
    )


@shared
def graded_solutions(tmp_path_factory):
    report = tmp_path_factory.mktemp("plugin") / "report.json"
    run = run_pytest("--bpn-submission", str(SOLUTIONS), "--json-report", f"--json-report-file={report}")
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
    assert f"{FULL_MARKS:g}/{FULL_MARKS:g}" in run.stdout


def test_submission_defaults_to_exercises_and_failures_carry_the_reason(tmp_path):
    report = tmp_path / "report.json"
    run = run_pytest("--json-report", f"--json-report-file={report}", "-k", "ex2 or ex3")
    assert run.returncode == 1
    assert "not implemented yet" in run.stdout and str(EXERCISES) in run.stdout
    tests = json.loads(report.read_text())["tests"]
    assert [t["metadata"]["status"] for t in tests] == ["not_implemented"] * 2
    assert all(t["outcome"] == "failed" for t in tests)


def test_a_missing_submission_folder_is_one_usage_error_and_exit_4(tmp_path):
    run = run_pytest("--bpn-submission", str(tmp_path / "nope"))
    assert run.returncode == 4, run.stdout[-2000:]
    assert run.stderr.count("no folder or notebook") == 1 and "--bpn-submission" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr and "test_exercise" not in run.stdout


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["alone", "xdist"])
@pytest.mark.parametrize(
    "option, value, says",
    [("--bpn-submission", "nope", "no folder or notebook"), ("--bpn-rubric", "nope.toml", "no such file")],
)
def test_a_wrong_submission_or_rubric_is_one_usage_error_under_xdist_too(tmp_path, xdist, option, value, says):
    run = run_pytest(option, str(tmp_path / value), *xdist)
    assert run.returncode == 4 and run.stderr.count(says) == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "INTERNALERROR" not in run.stdout + run.stderr


def test_pytest_run_from_inside_exercises_grades_the_projects_exercises_folder():
    run = run_pytest("-k", "ex2", cwd=EXERCISES)
    assert run.returncode == 1 and "1 failed" in run.stdout, run.stdout[-2000:]
    assert f"grading {EXERCISES}" in run.stdout and "not implemented yet" in run.stdout


def test_the_submission_may_name_a_folder_above_the_modules_as_for_grade(tmp_path):
    shutil.copytree(SOLUTIONS, tmp_path / "repo" / "exercises")
    run = run_pytest("--bpn-submission", ".", "-k", "ex2", cwd=tmp_path / "repo")
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout[-2000:]


def test_the_options_are_prefixed_and_each_has_an_ini_key(tmp_path):
    shutil.copytree(SOLUTIONS, tmp_path / "project" / "mine")
    (tmp_path / "project" / "pytest.ini").write_text("[pytest]\nbpn_submission = mine\nbpn_seed = 12345\n")
    run = run_pytest(
        "-k", "ex2", "--rootdir", str(tmp_path / "project"), "-c", str(tmp_path / "project" / "pytest.ini")
    )
    assert run.returncode == 0 and "seed 12345 (--bpn-seed 12345" in run.stdout, run.stdout[-2000:]
    usage = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True).stdout
    assert "--bpn-submission=PATH" in usage and "bpn_submission" in usage
    assert "--submission" not in usage.replace("--bpn-submission", "")


def test_a_failure_shows_the_reason_hint_and_code_and_what_the_function_printed(tmp_path):
    shutil.copytree(SOLUTIONS, tmp_path / "sub")
    module = tmp_path / "sub" / "ex2_cross_entropy.py"
    module.write_text(
        module.read_text().replace(
            "    return dlogits / n", "    print('dlogits sum', float(dlogits.sum()))\n    return dlogits / n * 2", 1
        )
    )
    report = tmp_path / "report.json"
    run = run_pytest(
        "--bpn-submission", str(tmp_path / "sub"), "-k", "ex2", "-rA", "--json-report", f"--json-report-file={report}"
    )
    assert run.returncode == 1, run.stdout[-3000:]
    assert "0/4 points:" in run.stdout and "hint:" in run.stdout and "(diagnosis: " in run.stdout
    assert "Captured stdout call" in run.stdout and "dlogits sum" in run.stdout
    meta = json.loads(report.read_text())["tests"][0]["metadata"]
    assert meta["diagnosis"] and meta["hint"] and meta["status"] == "failed"


def test_last_failed_reruns_only_the_wrong_ids_as_pytests_cache_is_kept(tmp_path):
    cache = ("-o", f"cache_dir={tmp_path / 'cache'}")
    first = run_pytest("-k", "ex2 or ex1.loss_backward", *cache)
    assert first.returncode == 1 and "2 failed" in first.stdout, first.stdout[-2000:]
    again = run_pytest("--lf", *cache)
    assert "run-last-failure: rerun previous 2 failures" in again.stdout, again.stdout[-2000:]
    assert "2 failed in" in again.stdout


def test_under_xdist_the_score_table_stays_and_every_worker_draws_one_seed(tmp_path):
    report = tmp_path / "report.json"
    run = run_pytest(
        "--bpn-submission",
        str(SOLUTIONS),
        "-n",
        "2",
        "-k",
        "ex1 or ex2",
        "--json-report",
        f"--json-report-file={report}",
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert "backprop-ninja scores" in run.stdout and "total" in run.stdout and "of 27 ids right" not in run.stdout
    seeds = {t["metadata"]["seed"] for t in json.loads(report.read_text())["tests"]}
    assert len(seeds) == 1 and f"seed {seeds.pop()}" in run.stdout


def test_pytest_grades_a_notebook_and_names_its_cells(make_notebook):
    wrong = "def h_backward(dh, h):\n    raise ValueError('here')\n"
    path = make_notebook(replace={"h_backward": wrong})
    run = run_pytest("--bpn-submission", str(path), "-k", "h_backward or cross_entropy")
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    assert (
        "ValueError: here (the " in run.stdout
        and "code cell, line" in run.stdout
        and "backprop_ninja.ipynb" in run.stdout
    )


def test_a_seed_that_is_not_a_number_is_one_usage_error(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nbpn_seed = abc\n")
    run = run_pytest("--bpn-submission", str(SOLUTIONS), "-c", str(tmp_path / "pytest.ini"), "-k", "ex2")
    assert run.returncode == 4 and "bpn_seed: expected a whole number" in run.stderr, run.stdout[-2000:]
