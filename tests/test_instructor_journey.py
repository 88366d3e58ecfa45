"""An instructor's evening with a class: GitHub Classroom's download of clones, zips, a
tarball and a notebook, reached through a path with `..` from a folder under hidden and
`solutions` folders; graded, stopped with Ctrl-C, resumed, graded again in 3 shards and
merged. The gradebook is checked cell by cell, and the merged one equals the resumed one."""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile

from grader.frontends import batch
from grader.frontends.cli import main
from tests.conftest import EXERCISES, FULL_MARKS, ROOT, SOLUTIONS, notebook_of
from tests.test_batch import descendants, ended

SEED = "4242"
WRONG_H = "\n\ndef h_backward(dh, h):\n    return dh * (1 - h)\n"  # the tanh derivative without its square


def modules(folder):
    return {f.stem: f.read_text() for f in sorted(folder.glob("ex*.py"))}


def download(root):
    """`gh classroom clone student-repos` of assignment hw4: one repository per student."""
    alice = root / "hw4-alice"  # modules, and the released notebook left untouched beside them
    shutil.copytree(SOLUTIONS, alice / "exercises")
    (alice / ".git").mkdir()
    (alice / "backprop_ninja.ipynb").write_text(json.dumps(notebook_of(modules(EXERCISES))))
    bob = root / "hw4-bob"  # the starter, untouched
    shutil.copytree(EXERCISES, bob / "exercises")
    (bob / ".git").mkdir()
    with zipfile.ZipFile(root / "hw4-carol.zip", "w") as z:  # a repository downloaded as a zip
        for file in SOLUTIONS.glob("*.py"):
            z.write(file, f"hw4-carol-main/exercises/{file.name}")
    dave = root.parent / "dave"  # a tarball, with one wrong function
    shutil.copytree(SOLUTIONS, dave / "exercises")
    with open(dave / "exercises" / "ex1_atomic.py", "a") as f:
        f.write(WRONG_H)
    with tarfile.open(root / "hw4-dave.tar.gz", "w:gz") as tar:
        tar.add(dave, arcname="hw4-dave")
    erin = root / "hw4-erin"  # a notebook only, every function in it
    erin.mkdir()
    (erin / "backprop_ninja.ipynb").write_text(json.dumps(notebook_of(modules(SOLUTIONS))))
    (root / "hw4-frank" / ".git").mkdir(parents=True)  # accepted the assignment, pushed nothing


def table(out, name="gradebook.csv"):
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / name).read_text()))}


def interrupted(work, out):
    """`backprop-ninja batch ../hw4-submissions` stopped by Ctrl-C once two reports exist."""
    code = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    code += "from grader.frontends.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", code, "batch", "../hw4-submissions", "--out", str(out), "--jobs", "1"]
    command += ["--seed", SEED]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while len(list((out / batch.REPORTS).glob("*.json"))) < 2 and time.monotonic() < deadline:
            if run.poll() is not None:
                break
            time.sleep(0.05)
        below = descendants(run.pid) if run.poll() is None else []
        if run.poll() is None:
            os.kill(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=10)
    assert ended(below)
    return run.returncode, err


def test_a_class_through_dotdot_is_graded_interrupted_resumed_and_sharded_into_one_gradebook(tmp_path, monkeypatch):
    course = tmp_path / ".term" / "solutions"  # a hidden folder and a solutions folder above it all
    root = course / "hw4-submissions"
    download(root)
    work = course / "grading"
    work.mkdir()
    monkeypatch.chdir(work)
    out = work / "out"

    code, err = interrupted(work, out)
    assert code == 130 and "Traceback" not in err, err[-3000:]
    said = err.strip().splitlines()[-1]
    assert said.startswith("backprop-ninja: interrupted: ") and "to resume: backprop-ninja batch" in said
    assert (out / "gradebook.partial.csv").exists() and not (out / "gradebook.csv").exists()

    resume = ["batch", "../hw4-submissions", "--out", "out", "--jobs", "2", "--seed", SEED]
    assert main(resume) in (0, 1)
    assert not (out / "gradebook.partial.csv").exists()
    rows = table(out)
    assert set(rows) == {"hw4-alice", "hw4-bob", "hw4-carol", "hw4-dave", "hw4-erin", "hw4-frank"}
    assert {name: row["github"] for name, row in rows.items()} == {
        "hw4-alice": "alice",
        "hw4-bob": "bob",
        "hw4-carol": "carol",
        "hw4-dave": "dave",
        "hw4-erin": "erin",
        "hw4-frank": "frank",
    }
    totals = {name: float(row["total"]) for name, row in rows.items()}
    assert totals["hw4-alice"] == totals["hw4-carol"] == totals["hw4-erin"] == FULL_MARKS
    assert totals["hw4-bob"] == totals["hw4-frank"] == 0
    dave = rows["hw4-dave"]
    assert float(dave["ex1.h_backward"]) == 0 and 0 < totals["hw4-dave"] < FULL_MARKS
    assert rows["hw4-alice"]["note"].startswith("not graded:") and "backprop_ninja.ipynb" in rows["hw4-alice"]["note"]
    assert rows["hw4-bob"]["note"].startswith("untouched starter:")
    assert rows["hw4-frank"]["note"].startswith("empty folder:")
    assert rows["hw4-carol"]["note"] == rows["hw4-erin"]["note"] == rows["hw4-dave"]["note"] == ""
    assert all(float(row["max_total"]) == FULL_MARKS for row in rows.values())

    shards = [f"shard-{k}" for k in (1, 2, 3)]
    for k, folder in enumerate(shards, 1):
        assert main(["batch", "../hw4-submissions", "--out", folder, "--seed", SEED, "--shard", f"{k}/3"]) in (0, 1)
    assert main(["merge", *shards, "--out", "merged"]) == 0
    whole = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))
    merged = list(csv.reader(io.StringIO((work / "merged" / "gradebook.csv").read_text())))
    assert merged == whole  # cell by cell
