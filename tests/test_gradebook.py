"""A gradebook that imports: who handed each submission in, in columns of their own, from
Gradescope's export and from GitHub Classroom's download as they really are, the
documented column set, and a note on every row that is not a plain grade."""

import contextlib
import csv
import io
import json
import re
import shutil

import pytest

from grader.exercises.rubric import load_rubric
from grader.frontends import batch
from grader.frontends.cli import main
from grader.handins.submitters import assignment_slug, gradescope
from grader.reporting import gradebook
from tests.conftest import EXERCISES, FULL_MARKS, ROOT, SOLUTIONS, shared

# As Gradescope's "Export Submissions" writes it: submission_<id> -> :submitters:, each
# with :name:, :sid: and :email: (a group submission lists every member).
METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.org
  :created_at: 2026-11-20 10:00:00.000000000 -08:00
  :score: 78.0
submission_1002:
  :submitters:
  - :name: Pair One
    :sid: 2001
    :email: one@example.org
  - :name: Pair Two
    :sid: '2002'
    :email: two@example.org
  :created_at: 2026-11-20 11:00:00.000000000 -08:00
submission_1003:
  :submitters:
  - :name: "=Mallory"
    :email: mallory@example.org
"""
WANTED = "ex1_atomic.py, ex2_cross_entropy.py, ex3_batchnorm.py, ex4_train.py or a notebook (.ipynb)"
UNTOUCHED = "untouched starter: every exercise still raises NotImplementedError"
NOTEBOOK = (
    "not graded: backprop_ninja.ipynb: the exercise modules of exercises/ are graded, and a notebook only where "
    "there are none"
)


def table(path):
    """The gradebook's rows, each cut to who, the total and the note."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [[row[c] for c in (*gradebook.WHO, "total", "max_total", "note")] for row in rows]


@shared
def gradescope_export(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    (root / "submission_metadata.yml").write_text(METADATA)
    shutil.copytree(SOLUTIONS, root / "submission_1001")
    shutil.copytree(EXERCISES, root / "submission_1002")
    (root / "submission_1003").mkdir()
    out = root.parent / f"{root.name}-out"
    batch.run(root, out, load_rubric(), jobs=2)
    return out


def test_a_gradescope_export_gives_a_row_per_student_with_name_email_and_sid_apart(gradescope_export):
    assert table(gradescope_export / "gradebook.csv") == [
        ["submission_1001", "Ada Lovelace", "ada@example.org", "1001", "", f"{FULL_MARKS}", f"{FULL_MARKS}", ""],
        ["submission_1002", "Pair One", "one@example.org", "2001", "", "0.0", f"{FULL_MARKS}", UNTOUCHED],
        ["submission_1002", "Pair Two", "two@example.org", "2002", "", "0.0", f"{FULL_MARKS}", UNTOUCHED],
        [
            "submission_1003",
            "'=Mallory",  # read by no spreadsheet as a formula
            "mallory@example.org",
            "",
            "",
            "0.0",
            f"{FULL_MARKS}",
            f"empty folder: nothing was handed in; every id scores 0 (expected {WANTED})",
        ],
    ]


def test_the_gradebooks_header_is_who_then_one_column_per_id_then_the_totals(gradescope_export):
    rubric = load_rubric()
    header = (gradescope_export / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header == [*gradebook.WHO, *(i for i in rubric.points if i in rubric.graded), *gradebook.TOTALS]


@shared
def classroom_download(tmp_path_factory):
    """GitHub Classroom's download as `gh classroom clone student-repos` lays it out
    (<slug>-submissions/<slug>-<user>/, each a copy of the released repository), under a
    hidden folder and a solutions/ folder, graded from a folder beside it as `../`."""
    base = tmp_path_factory.mktemp("course")
    download = base / ".course" / "solutions" / "hw4-submissions"
    for user, modules in (("ann", SOLUTIONS), ("ben-lee", EXERCISES)):
        repo = download / f"hw4-{user}"
        shutil.copytree(modules, repo / "exercises")
        (repo / "backprop_ninja.ipynb").write_text("{}")
        (repo / ".git").mkdir()
    shutil.copytree(EXERCISES, download / "hw4-dee" / "exercises")
    worked = "def cross_entropy_backward(logits, Yb):\n    return logits * 0\n"
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": worked}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (download / "hw4-dee" / "backprop_ninja.ipynb").write_text(json.dumps(notebook))
    (download / "hw4-cy" / ".git").mkdir(parents=True)
    (download / "hw4-cy" / "README.md").write_text("# hw4\n")
    work = base / ".course" / "solutions" / "work"
    work.mkdir()
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.chdir(work)
        assert main(["batch", "../hw4-submissions", "--out", "out", "--jobs", "2"]) == 0
    return work / "out", printed.getvalue()


def test_a_classroom_download_gives_each_repository_its_github_user_and_notes(classroom_download):
    out, printed = classroom_download
    said = "notes: 1 no exercise module, 3 not graded, 2 untouched starter, 1 notebook holds work (the gradebook's note"
    assert said in printed
    assert table(out / "gradebook.csv") == [
        ["hw4-ann", "", "", "", "ann", f"{FULL_MARKS}", f"{FULL_MARKS}", NOTEBOOK],
        ["hw4-ben-lee", "", "", "", "ben-lee", "0.0", f"{FULL_MARKS}", f"{NOTEBOOK}; {UNTOUCHED}"],
        [
            "hw4-cy",
            "",
            "",
            "",
            "cy",
            "0.0",
            f"{FULL_MARKS}",
            f"no exercise module: it holds README.md, but none of {WANTED}; every id scores 0",
        ],
        [
            "hw4-dee",
            "",
            "",
            "",
            "dee",
            "0.0",
            f"{FULL_MARKS}",
            f"{NOTEBOOK}; notebook holds work: backprop_ninja.ipynb holds exercise functions that are not stubs: grade "
            f"it alone with  backprop-ninja grade --submission ../hw4-submissions/hw4-dee/backprop_ninja.ipynb; {UNTOUCHED}",
        ],
    ]


def test_the_assignment_slug_comes_from_the_clone_folder_or_the_prefix_the_repositories_share(tmp_path):
    assert assignment_slug(tmp_path / "hw4-part-2-submissions", ["hw4-part-2-ann"]) == "hw4-part-2"
    assert assignment_slug(tmp_path / "downloads", ["hw4-ann", "hw4-ann-lee", "hw4-bo"]) == "hw4"
    assert assignment_slug(tmp_path / "downloads", ["submission_1", "submission_2"]) == ""
    assert assignment_slug(tmp_path / "downloads", ["hw4-ann"]) == ""  # one repository: nothing says where it cuts


def test_gradescopes_metadata_reads_with_tags_yaml_does_not_know_and_refuses_what_is_not_metadata(tmp_path):
    path = tmp_path / "submission_metadata.yml"
    path.write_text(METADATA.replace(":score: 78.0", ":score: !ruby/object:BigDecimal 18:0.78e2"))
    assert [p.sid for p in gradescope(path)["submission_1002"]] == ["2001", "2002"]
    path.write_text("- submission_1001\n")
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()  # refused before anything was graded


def test_the_instructors_page_documents_every_column_and_every_note():
    page = (ROOT / "docs" / "instructors.md").read_text()
    section = page[page.index("### The gradebook") :]
    documented = re.findall(r"^\| `([\w.]+)`", section, re.MULTILINE)
    assert documented == [*gradebook.WHO, "ex1.loss_backward", *gradebook.TOTALS]
    for heading in gradebook.NOTED:
        assert f"`{heading}:" in section, heading


def test_a_groups_rows_come_through_a_merge_of_shards_as_one_batch_writes_them(tmp_path):
    from grader.frontends.merge import merge
    from grader.frontends.shards import Shard

    root = tmp_path / "export"
    shutil.copytree(EXERCISES, root / "submission_1001")
    shutil.copytree(EXERCISES, root / "submission_1002")
    (root / "submission_1003").mkdir()
    (root / "submission_metadata.yml").write_text(METADATA)
    for k in (1, 2):
        batch.run(root, tmp_path / f"shard{k}", load_rubric(), jobs=1, sandbox=False, seed=7, shard=Shard(k, 2))
    merge([tmp_path / "shard1", tmp_path / "shard2"], tmp_path / "merged")
    batch.run(root, tmp_path / "whole", load_rubric(), jobs=1, sandbox=False, seed=7)
    merged = (tmp_path / "merged" / "gradebook.csv").read_text()
    assert merged == (tmp_path / "whole" / "gradebook.csv").read_text() and merged.count("submission_1002,") == 2
