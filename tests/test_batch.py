"""Grading a class in one batch: every layout of submission, a gradebook and a summary,
broken and hostile submissions that never stop the batch, and a batch that resumes."""

import csv
import io
import json
import shutil
import tarfile
import zipfile
from importlib import resources

import jsonschema
import pytest

from grader.exercises.rubric import load_rubric
from grader.frontends import batch
from grader.frontends.cli import main
from grader.handins.submissions import MAX_UNPACKED, SubmissionError, hand_in, locate, unpack
from tests.conftest import EXERCISES, FULL_MARKS, SOLUTIONS, shared

SCHEMA = json.loads((resources.files("grader") / "report.schema.json").read_text())
METADATA = """submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :email: ada@example.org
  :created_at: 2026-11-20
"""


def zipped(folder, path, prefix=""):
    with zipfile.ZipFile(path, "w") as z:
        for file in folder.glob("*.py"):
            z.write(file, prefix + file.name)


@shared
def classroom(tmp_path_factory):
    """A folder of submissions in every layout, and the batch graded into out/."""
    root = tmp_path_factory.mktemp("class")
    shutil.copytree(SOLUTIONS, root / "alice")  # a folder of modules
    shutil.copytree(EXERCISES, root / "bob")  # the stubs, untouched
    shutil.copytree(SOLUTIONS, root / "backprop-ninja-carol" / "exercises")  # a GitHub Classroom repository
    shutil.copytree(SOLUTIONS, root / "submission_1001")  # a Gradescope export, with its metadata
    (root / "submission_metadata.yml").write_text(METADATA)
    zipped(SOLUTIONS, root / "dave.zip", prefix="dave/exercises/")
    with tarfile.open(root / "erin.tar.gz", "w:gz") as t:
        for file in SOLUTIONS.glob("*.py"):
            t.add(file, f"erin/{file.name}")
    (root / "frank.zip").write_text("not a zip at all")
    with zipfile.ZipFile(root / "mallory.zip", "w") as z:
        z.writestr("../../escaped.py", "print('out of the folder')")
    shutil.copytree(SOLUTIONS, root / "grace")
    with open(root / "grace" / "ex3_batchnorm.py", "a") as f:
        f.write("\nimport os\nos._exit(1)\n")  # crashes its worker at import
    out = root.parent / f"{root.name}-out"
    outcomes = batch.run(root, out, load_rubric(), jobs=2)
    return root, out, outcomes


def gradebook(out):
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def test_every_layout_is_found_and_graded(classroom):
    root, out, outcomes = classroom
    rows = gradebook(out)
    assert set(rows) == {
        "alice",
        "bob",
        "backprop-ninja-carol",
        "submission_1001",
        "dave",
        "erin",
        "frank",
        "mallory",
        "grace",
    }
    for full in ("alice", "backprop-ninja-carol", "submission_1001", "dave", "erin"):
        assert float(rows[full]["total"]) == FULL_MARKS, full
    assert float(rows["bob"]["total"]) == 0
    assert float(rows["grace"]["total"]) == FULL_MARKS - 6  # ex3 lost, the rest graded
    assert rows["submission_1001"]["student"] == "Ada Lovelace ada@example.org"


def test_broken_and_hostile_archives_get_a_report_and_never_stop_the_batch(classroom):
    root, out, outcomes = classroom
    errors = {o.name: o.error for o in outcomes if o.error}
    assert "cannot be unpacked" in errors["frank"]
    assert "outside its folder" in errors["mallory"]
    assert not (root.parent / "escaped.py").exists()
    assert float(gradebook(out)["frank"]["total"]) == 0


def test_every_report_validates_and_the_summary_counts_the_diagnoses(classroom):
    _, out, _ = classroom
    reports = list((out / batch.REPORTS).glob("*.json"))
    assert len(reports) == 9
    for path in reports:
        jsonschema.validate(json.loads(path.read_text()), SCHEMA)
    summary = (out / "summary.md").read_text()
    assert "# backprop-ninja: 9 submissions" in summary
    assert "| ex1.loss_backward | 6/9 (67%)" in summary
    assert "not_implemented (1)" in summary and "crashed (1)" in summary


def test_a_second_run_skips_what_is_graded_and_force_grades_again(classroom, tmp_path):
    root, out, _ = classroom
    again = batch.run(root, out, load_rubric(), jobs=2)
    assert not [o for o in again if o.graded]
    only = tmp_path / "one"
    shutil.copytree(root / "alice", only / "alice")
    copied = tmp_path / "out"
    shutil.copytree(out, copied)
    forced = batch.run(only, copied, load_rubric(), jobs=1, force=True)
    assert [o.name for o in forced if o.graded] == ["alice"]


def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path):
    root = tmp_path / "class"
    for name in ("a", "b", "c"):
        shutil.copytree(SOLUTIONS, root / name)
    out = tmp_path / "out"
    first = batch.run(root, out, load_rubric(), jobs=1)
    (out / batch.REPORTS / "c.json").unlink()  # as if the batch had stopped before c
    second = batch.run(root, out, load_rubric(), jobs=1)
    assert [o.name for o in second if o.graded] == ["c"] and len(first) == 3
    assert len(gradebook(out)) == 3


def test_the_batch_command_prints_what_it_did_and_refuses_a_missing_folder(tmp_path, capsys):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "alice")
    assert main(["batch", str(root), "--out", str(tmp_path / "out"), "--jobs", "1"]) == 0
    assert "1 submissions graded" in capsys.readouterr().out
    assert main(["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "no folder" in capsys.readouterr().err


def test_locate_prefers_the_folder_with_the_modules(tmp_path):
    shutil.copytree(SOLUTIONS, tmp_path / "repo" / "exercises")
    shutil.copytree(SOLUTIONS, tmp_path / "repo" / "solutions")
    (tmp_path / "repo" / "notes").mkdir()
    (tmp_path / "repo" / "notes" / "ex1_atomic.py").write_text("")
    assert locate(tmp_path / "repo") == tmp_path / "repo" / "exercises"


def test_two_copies_of_the_modules_that_nothing_tells_apart_are_refused_with_both_names(tmp_path, capsys):
    shutil.copytree(SOLUTIONS, tmp_path / "upload" / "a")
    shutil.copytree(EXERCISES, tmp_path / "upload" / "b")
    with pytest.raises(SubmissionError, match=r"twice, in a/, b/.*keep one copy"):
        locate(tmp_path / "upload")
    assert main(["grade", "--submission", str(tmp_path / "upload"), "--no-sandbox"]) == 2
    assert "keep one copy" in capsys.readouterr().err


def test_a_second_copy_of_the_modules_is_named_in_the_report_as_not_graded(tmp_path):
    shutil.copytree(SOLUTIONS, tmp_path / "upload" / "exercises")
    shutil.copytree(EXERCISES, tmp_path / "upload" / "old")
    handed = hand_in(tmp_path / "upload")
    assert handed.folder == tmp_path / "upload" / "exercises"
    assert handed.notes == ("exercises/ is graded; old/ also holds exercise modules and is not",)


def test_an_archive_with_a_link_or_too_much_data_is_refused(tmp_path):
    link = tmp_path / "link.tar.gz"
    with tarfile.open(link, "w:gz") as t:
        info = tarfile.TarInfo("ex1_atomic.py")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    with pytest.raises(SubmissionError, match="link"):
        unpack(link, tmp_path / "a")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ex1_atomic.py", b"0" * (MAX_UNPACKED + 1))
    with pytest.raises(SubmissionError, match="more than a submission needs"):
        unpack(bomb, tmp_path / "b")


def test_the_progress_in_a_log_is_a_line_per_tenth_with_the_rate_and_the_time_left():
    from grader.frontends.progress import Progress

    log = io.StringIO()
    show = Progress("graded", log)
    for done in range(0, 41):
        show(done, 40, done * 0.5)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1].startswith("100%") and "40/40" in lines[-1]
    assert "2.00 graded/s" in lines[5] and "<00:10" in lines[5]  # halfway: rate, and the time left
