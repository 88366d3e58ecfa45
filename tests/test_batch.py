"""Grading a class in one batch: every layout of submission, a gradebook and a summary,
broken and hostile submissions that never stop the batch, and a batch that resumes."""

import csv
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import tarfile
import time
import shutil
import zipfile
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from grader.exercises.rubric import load_rubric
from grader.frontends import batch
from grader.frontends.cli import main
from grader.handins.submissions import MAX_UNPACKED, SubmissionError, hand_in, locate, unpack
from tests.conftest import EXERCISES, FULL_MARKS, ROOT, SOLUTIONS, shared

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
    assert (rows["submission_1001"]["name"], rows["submission_1001"]["email"]) == ("Ada Lovelace", "ada@example.org")
    assert rows["bob"]["note"] == "untouched starter: every exercise still raises NotImplementedError"
    assert rows["frank"]["note"].startswith("not graded: frank.zip cannot be unpacked")
    assert not any(rows[name]["note"] for name in ("alice", "backprop-ninja-carol", "dave", "erin", "grace"))


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
    assert handed.notes == ("not graded: old/ also holds exercise modules; exercises/ is graded",)


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


@pytest.mark.parametrize("above", ["", ".course", "solutions", ".course/solutions/x"])
def test_where_a_submission_lies_never_changes_where_its_modules_are_looked_for(tmp_path, monkeypatch, above):
    """Only the path inside a submission decides: a `..`, an absolute path, a hidden
    folder or a solutions/ folder above it hides nothing."""
    downloads = tmp_path / above / "downloads"
    shutil.copytree(SOLUTIONS, downloads / "hw4-ann" / "exercises")
    (downloads / "hw4-ann" / "backprop_ninja.ipynb").write_text("{}")
    (tmp_path / above / "work").mkdir()
    monkeypatch.chdir(tmp_path / above / "work")
    for given in (Path("../downloads/hw4-ann"), downloads / "hw4-ann"):
        handed = hand_in(given)
        assert handed.folder == given / "exercises", given
        assert handed.notes == (
            "not graded: backprop_ninja.ipynb: the exercise modules of exercises/ are graded, and a notebook only "
            "where there are none",
        )


def test_a_submission_with_no_exercise_module_says_so_in_one_note(tmp_path):
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    (tmp_path / "other" / "src").mkdir(parents=True)
    (tmp_path / "other" / "src" / "ex1.py").write_text("")
    (tmp_path / "other" / "README.md").write_text("")
    wanted = "ex1_atomic.py, ex2_cross_entropy.py, ex3_batchnorm.py, ex4_train.py or a notebook (.ipynb)"
    assert hand_in(tmp_path / "empty").notes == (
        f"empty folder: nothing was handed in; every id scores 0 (expected {wanted})",
    )
    assert hand_in(tmp_path / "other").notes == (
        f"no exercise module: it holds README.md, src/ex1.py, but none of {wanted}; every id scores 0",
    )


def descendants(pid):
    """The processes below `pid`, read from /proc (each thread's children)."""
    found = []
    for thread in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{thread}/children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def ended(pids, within=30.0):
    """Whether every one of `pids` has ended, waiting for them a while (a loaded machine
    takes its time to end a process)."""
    deadline = time.monotonic() + within
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(running(pid) for pid in pids)


def running(pid):
    """Whether the process runs: a zombie has ended (where init is a container's
    command, nobody may reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_a_batch_in_one_line_with_a_partial_gradebook_and_the_command_that_resumes_it(tmp_path):
    root, out, scratch = tmp_path / "class", tmp_path / "out", tmp_path / "tmp"
    for name in ("a", "b", "c", "d"):
        shutil.copytree(SOLUTIONS, root / name)
    shutil.copytree(SOLUTIONS, root / "z")
    with open(root / "z" / "ex1_atomic.py", "a") as f:
        f.write("\nimport time\ntime.sleep(600)\n")  # graded last, and only at its time limit
    scratch.mkdir()
    # Python's own SIGINT handler, whatever the test runner's process left to its children.
    code = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    code += "from grader.frontends.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", code, "batch", str(root), "--out", str(out), "--jobs", "1", "--force"]
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT)}
    batch_process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / batch.REPORTS).glob("*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        below = descendants(batch_process.pid)
        os.kill(batch_process.pid, signal.SIGINT)
        _, err = batch_process.communicate(timeout=60)
    finally:
        if batch_process.poll() is None:
            batch_process.kill()
            batch_process.wait(timeout=10)
    said = err.strip().splitlines()[-1]
    assert batch_process.returncode == 130 and "Traceback" not in err, err[-3000:]
    resume = f"backprop-ninja batch {shlex.quote(str(root))} --out {shlex.quote(str(out))} --jobs 1"
    assert said.startswith("backprop-ninja: interrupted: ") and said.endswith(f"; to resume: {resume}"), said
    partial = list(csv.DictReader((out / "gradebook.partial.csv").open()))
    assert 2 <= len(partial) < 5 and not (out / "gradebook.csv").exists()
    assert f"interrupted: {len(partial)} of 5 submissions have a report" in said
    assert ended(below) and os.listdir(scratch) == []  # what the job processes started ends with them

    (root / "z" / "ex1_atomic.py").write_text((SOLUTIONS / "ex1_atomic.py").read_text())
    assert main(shlex.split(resume)[1:]) == 0
    assert len(gradebook(out)) == 5 and not (out / "gradebook.partial.csv").exists()
    assert (out / "summary.md").exists() and not (out / "summary.partial.md").exists()
