"""The backprop-ninja command: exit codes, output files, listing, checking, stubs."""

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from grader.exercises import catalogue
from grader.frontends.cli import EXIT_RIGHT, EXIT_USAGE, EXIT_WRONG, main
from tests.conftest import EXERCISES, FULL_MARKS, ID_COUNT, ROOT, SOLUTIONS


def test_grading_the_solutions_exits_0_and_prints_the_full_total(capsys):
    assert main(["grade", "--submission", str(SOLUTIONS)]) == EXIT_RIGHT
    out = capsys.readouterr().out
    assert "total" in out and f"{FULL_MARKS:g}/{FULL_MARKS:g}" in out and f"{ID_COUNT} of {ID_COUNT} ids right" in out


def test_grading_the_stubs_exits_1(capsys):
    assert main(["grade", "--submission", str(EXERCISES)]) == EXIT_WRONG
    assert "not implemented yet" in capsys.readouterr().out


def test_a_missing_submission_folder_exits_2_and_says_what_to_give(capsys, tmp_path):
    assert main(["grade", "--submission", str(tmp_path / "nope")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no folder or notebook" in err and "your notebook (.ipynb), with --submission" in err


@pytest.mark.parametrize("fmt", ["json", "gradescope", "junit", "table", "html"])
def test_output_writes_the_format_to_the_file_and_the_table_to_the_terminal(fmt, tmp_path, capsys):
    out = tmp_path / "deep" / f"report.{fmt}"
    code = main(["grade", "--submission", str(SOLUTIONS), "--format", fmt, "--output", str(out), "--only", "ex2"])
    assert code == EXIT_RIGHT
    text = out.read_text()
    if fmt in ("json", "gradescope"):
        json.loads(text)
    elif fmt == "junit":
        ET.fromstring(text)
    assert "ex2.cross_entropy_backward" in text
    assert "ex2.cross_entropy_backward" in capsys.readouterr().out
    assert not list(out.parent.glob("*.tmp"))


def test_a_machine_format_without_output_goes_to_stdout_alone(capsys):
    main(["grade", "--submission", str(SOLUTIONS), "--format", "gradescope", "--only", "ex3"])
    data = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in data["tests"]] == ["ex3.batchnorm_backward"]


def test_only_takes_ids_prefixes_and_patterns(capsys):
    main(["grade", "--submission", str(SOLUTIONS), "--format", "json", "--only", "ex1.manual_backward.b?", "ex2"])
    ids = [i["id"] for i in json.loads(capsys.readouterr().out)["items"]]
    assert ids == ["ex1.manual_backward.b2", "ex1.manual_backward.b1", "ex2.cross_entropy_backward"]


def test_a_folder_without_the_modules_of_the_ids_graded_is_graded_with_a_warning_naming_them(tmp_path, capsys):
    assert main(["grade", "--submission", str(tmp_path), "--only", "ex2"]) == EXIT_WRONG
    captured = capsys.readouterr()
    assert "holds none of ex2_cross_entropy (.py)" in captured.err and "ex2_cross_entropy.py not found" in captured.out


def test_what_student_code_prints_stays_out_of_a_json_report_on_stdout(make_submission, capsys):
    code = (
        "print('debugging at import')\n_ce = cross_entropy_backward\n"
        "def cross_entropy_backward(logits, Yb):\n    print('dlogits is', logits.shape)\n    return _ce(logits, Yb)\n"
    )
    folder = make_submission(append={"ex2_cross_entropy": code})
    assert main(["grade", "--submission", str(folder), "--format", "json", "--only", "ex2"]) == EXIT_RIGHT
    assert json.loads(capsys.readouterr().out)["score"] == 4
    main(["grade", "--submission", str(folder), "--only", "ex2", "-v"])
    assert "  | cross_entropy_backward printed:\n  | dlogits is torch.Size" in capsys.readouterr().out


def test_check_of_a_prefix_that_matches_several_ids_exits_2(capsys):
    assert main(["check", "ex1.manual_backward"]) == EXIT_USAGE
    assert "check takes one id" in capsys.readouterr().err


def test_an_unknown_id_exits_2(capsys):
    assert main(["grade", "--only", "ex9"]) == EXIT_USAGE
    assert "no exercise id matches 'ex9'" in capsys.readouterr().err


def test_a_malformed_rubric_exits_2_naming_file_and_key(tmp_path, capsys):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[points]\n"ex1.loss_backward" = "many"\n')
    assert main(["grade", "--submission", str(SOLUTIONS), "--rubric", str(rubric)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert str(rubric) in err and "points.ex1.loss_backward" in err and "'many'" in err


def test_list_shows_every_id_with_its_points_and_signature(capsys):
    assert main(["list"]) == EXIT_RIGHT
    out = capsys.readouterr().out
    for exercise_id in catalogue.IDS:
        assert exercise_id in out
    assert "probs_backward(dprobs, counts, counts_sum_inv)" in out
    assert f"{ID_COUNT} ids, {FULL_MARKS:g} points" in out


def test_check_prints_every_trial_in_the_lectures_cmp_style(capsys):
    assert main(["check", "ex1.logits_backward", "--submission", str(SOLUTIONS)]) == EXIT_RIGHT
    lines = [line for line in capsys.readouterr().out.splitlines() if "| exact:" in line]
    trials = {e.function: e.trials for e in catalogue.EXERCISES}["logits_backward"]
    assert len(lines) == 3 * len(trials)
    assert all("approximate: True" in line and "maxdiff:" in line and "relerr:" in line for line in lines)
    assert any("shape (64, 27)" in line and "n=32 V=27" in line for line in lines)


def test_check_of_a_wrong_shape_shows_both_shapes_and_exits_1(make_submission, capsys):
    folder = make_submission(append={"ex1_atomic": "def bndiff_backward(d):\n    return d.clone(), -d.sum(0)\n"})
    assert main(["check", "ex1.bndiff_backward", "--submission", str(folder)]) == EXIT_WRONG
    out = capsys.readouterr().out
    assert "wrong_shape" in out and "shape (64,), expected (1, 64)" in out and "keepdim=True" in out


def test_check_of_the_training_shows_the_loss_curve_and_parameters(capsys):
    main(["check", "ex4.training", "--submission", str(SOLUTIONS)])
    out = capsys.readouterr().out
    assert "loss curve" in out and "W1" in out and "SGD steps" in out


def test_stubs_check_finds_drift_and_stubs_repairs_it(tmp_path, capsys):
    exercises = tmp_path / "exercises"
    shutil.copytree(EXERCISES, exercises)
    (exercises / "ex2_cross_entropy.py").write_text("# edited by hand\n")
    args = ["--solutions", str(SOLUTIONS), "--exercises", str(exercises)]
    assert main(["stubs", "--check", *args]) == EXIT_WRONG
    assert "ex2_cross_entropy.py is out of date" in capsys.readouterr().out
    assert main(["stubs", *args]) == EXIT_RIGHT
    assert main(["stubs", "--check", *args]) == EXIT_RIGHT


def test_stubs_from_a_folder_without_solutions_exits_2(tmp_path, capsys):
    assert main(["stubs", "--solutions", str(tmp_path), "--exercises", str(tmp_path / "out")]) == EXIT_USAGE
    assert "ex1_atomic.py not found" in capsys.readouterr().err


def test_the_console_script_and_python_m_grader_are_the_same_command():
    script = shutil.which("backprop-ninja", path=str(ROOT / ".venv" / "bin")) or shutil.which("backprop-ninja")
    assert script, "the package is not installed: pip install -e ."
    for command in ([script], [sys.executable, "-m", "grader"]):
        run = subprocess.run(
            [*command, "grade", "--submission", str(SOLUTIONS), "--only", "ex2"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert run.returncode == 0, run.stderr
        assert "ex2.cross_entropy_backward" in run.stdout


def test_the_command_lines_formats_are_the_reports_formats():
    # cli.py keeps the names without importing torch; reports.py has the writers.
    from grader.frontends import cli
    from grader.reporting import reports

    assert cli.FORMATS == tuple(reports.FORMATS)
