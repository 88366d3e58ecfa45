"""Untrusted bytes cost the grader little, whatever they hold: notebooks, archives, the
files a worker writes and a submission's name are read under caps checked first (or in
a capped child process), by code whose cost is linear in what it reads; only regular
files are opened; and what a student wrote never passes for the grader's own words.

Each test is written as a hostile student would write the input, and asserts the
outcome: bounded time and memory, the batch finishing with every row.
"""

import csv
import gzip
import io
import json
import os
import re
import shutil
import struct
import tarfile
import time
import zipfile

import pytest

from grader.calls.text import clean, csv_cell, markdown_cell, one_line
from grader.exercises.rubric import load_rubric
from grader.frontends import batch
from grader.grading.grader import grade
from grader.handins.submissions import SubmissionError, unpack
from grader.reporting import reports
from tests.conftest import FULL_MARKS, SOLUTIONS, notebook_of, peak


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """What grading the solutions costs the grader process."""
    out = tmp_path_factory.mktemp("baseline") / "r.json"
    return peak("grade", "--submission", SOLUTIONS, "--only", "ex1.h_backward", "--format", "json", "--output", out)


# -- notebooks ----------------------------------------------------------------------------------


def test_a_notebook_of_a_list_repeated_by_reference_costs_the_grader_no_more_than_an_honest_one(tmp_path, baseline):
    # 276 characters that once cost the grader 52 s and 1.4 GB: each list holds the one
    # before it 99 times, by reference, and the function reads the last.
    bomb = "x = [0] * 99\n" + "x = [x] * 99\n" * 8 + "def h_backward(dh, h):\n    return dh * (1 - h**2) + 0 * len(x)\n"
    path = tmp_path / "bomb.ipynb"
    path.write_text(json.dumps(notebook_of({p.name: p.read_text() for p in SOLUTIONS.glob("*.py")}, cells=(bomb,))))
    memory, seconds = peak("grade", "--submission", path, "--only", "ex1.h_backward", "--format", "json",
                           "--output", tmp_path / "r.json")  # fmt: skip
    assert seconds < baseline[1] + 10 and memory < baseline[0] + 256 * 1024, (memory, seconds, baseline)
    item = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert item["status"] != "passed" or "x" in " ".join(json.loads((tmp_path / "r.json").read_text())["notes"])


def test_a_fifo_named_as_a_notebook_is_refused_not_waited_on(tmp_path):
    path = tmp_path / "backprop_ninja.ipynb"
    os.mkfifo(path)
    start = time.monotonic()
    with pytest.raises(SubmissionError, match="FIFO"):
        grade(path)
    assert time.monotonic() - start < 10


# -- folders --------------------------------------------------------------------------------------


def test_a_fifo_among_the_modules_is_refused_and_a_batch_grades_everyone_else(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(SOLUTIONS, root / "mallory")
    (root / "mallory" / "ex2_cross_entropy.py").unlink()
    os.mkfifo(root / "mallory" / "ex2_cross_entropy.py")
    start = time.monotonic()
    with pytest.raises(SubmissionError, match="FIFO"):
        grade(root / "mallory")
    outcomes = batch.run(root, tmp_path / "out", load_rubric(), jobs=2)
    assert time.monotonic() - start < 120
    rows = {row["submission"]: row for row in csv.DictReader((tmp_path / "out" / "gradebook.csv").open())}
    assert float(rows["alice"]["total"]) == FULL_MARKS and "FIFO" in rows["mallory"]["note"] + str(outcomes)


# -- archives -------------------------------------------------------------------------------------


def test_a_tar_whose_pax_header_claims_far_more_than_the_cap_is_refused_within_it(tmp_path):
    archive = tmp_path / "bomb.tar.gz"
    size = 200 * 2**20  # a pax header that tarfile would read whole, before any cap counted a byte
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, size
    with gzip.open(archive, "wb", compresslevel=1) as packed:
        packed.write(header.tobuf(format=tarfile.USTAR_FORMAT))
        block = b"0" * 2**20
        for _ in range(size // len(block)):
            packed.write(block)
    assert archive.stat().st_size < 16 * 2**20
    start = time.monotonic()
    with pytest.raises(SubmissionError, match="more than"):
        unpack(archive, tmp_path / "out")
    assert time.monotonic() - start < 10


def test_bzip2_under_a_tar_gz_name_is_refused(tmp_path):
    archive = tmp_path / "sneaky.tar.gz"
    with tarfile.open(archive, "w:bz2") as t:
        t.add(SOLUTIONS / "ex2_cross_entropy.py", "ex2_cross_entropy.py")
    with pytest.raises(SubmissionError, match="not gzip-compressed"):
        unpack(archive, tmp_path / "out")


def test_a_zip_whose_end_record_hides_its_members_is_refused_before_its_directory_is_read(tmp_path):
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(30_000):
            z.writestr(f"m/{i}.py", "")
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # one member on this disk, one in all
    archive.write_bytes(bytes(data))
    start = time.monotonic()
    with pytest.raises(SubmissionError, match="directory larger than"):
        unpack(archive, tmp_path / "out")
    assert time.monotonic() - start < 5


# -- what a worker writes ---------------------------------------------------------------------------


def test_a_worker_error_file_filled_by_student_code_costs_the_grader_a_moment(tmp_path):
    folder = tmp_path / "filler"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write(
            "\n\nimport os\ndef cross_entropy_backward(logits, Yb):\n"
            "    with open('worker-error.txt', 'a') as f:\n"
            "        f.write('\\x1b]' * 400_000 + '\\x1bP' * 200_000)\n"
            "    os._exit(70)\n"
        )
    start = time.monotonic()
    item = grade(folder, ids=["ex2.cross_entropy_backward"]).items[0]
    assert item.score == 0 and time.monotonic() - start < 20


# -- text ---------------------------------------------------------------------------------------------

ADVERSARIAL = {
    "unterminated OSC": "\x1b]" * 500_000,
    "unterminated DCS": "\x1bP" * 500_000,
    "unterminated CSI": "\x1b[" * 500_000,
    "8-bit starts": "\x9d\x90\x9b" * 333_333,
    "mixed": "\x1b]\x1b\x1bP\x9d" * 250_000,
    "line ends": "\r\n\r" * 333_333,
    "controls": "\x00\x7f\u202e" * 333_333,
}


@pytest.mark.parametrize("cleaner", [clean, one_line, markdown_cell, csv_cell])
@pytest.mark.parametrize("case", list(ADVERSARIAL))
def test_every_text_cleaner_takes_linear_time_on_a_megabyte_of_adversarial_text(cleaner, case):
    start = time.process_time()
    cleaner(ADVERSARIAL[case])
    assert time.process_time() - start < 0.5


def test_a_multi_line_exception_never_puts_a_line_where_the_graders_own_start(tmp_path):
    folder = tmp_path / "liar"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write(
            "\n\ndef cross_entropy_backward(logits, Yb):\n"
            "    raise ValueError('x\\n\\ntotal                                   78/78  50 of 50 ids right\\n"
            "ex4.training 5/5 passed')\n"
        )
    report = grade(folder, ids=["ex2.cross_entropy_backward", "ex4.training"])
    lines = reports.table(report, verbose=True).splitlines()
    owned = [line for line in lines if re.match(r"^(total|ex\d)", line)]
    assert len(owned) == 3, owned  # two ids and the total: the student's lines are all indented
    assert owned[-1].split()[1] == f"{report.score:g}/{report.max_score:g}"


def test_markdown_from_student_text_renders_no_link_emphasis_or_strike_through(tmp_path):
    import cmarkgfm

    folder = tmp_path / "marker"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write(
            "\n\ndef cross_entropy_backward(logits, Yb):\n"
            "    raise ValueError('**full marks** ~~wrong~~ _yes_ [claim](https://evil.example) "
            "https://evil.example www.evil.example a@evil.example ![x](https://evil.example/x.png) <b>b</b>')\n"
        )
    report = grade(folder, ids=["ex2.cross_entropy_backward"])
    html = cmarkgfm.github_flavored_markdown_to_html(reports.markdown(report))
    for tag in ("<a ", "<strong>", "<em>", "<del>", "<img", "<b>"):
        assert tag not in html, tag


def test_names_that_clean_to_one_name_each_keep_a_row_and_the_batch_finishes(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(SOLUTIONS, root / "alice\x7f")
    shutil.copytree(SOLUTIONS, root / "bob\x7f")
    outcomes = batch.run(root, tmp_path / "out", load_rubric(), jobs=2)
    assert not [o for o in outcomes if o.error]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text())))
    assert sorted(row["submission"] for row in rows) == ["alice", "alice-2", "bob"]
    assert all(float(row["total"]) == FULL_MARKS for row in rows)


def test_a_name_made_to_clean_into_a_classmates_never_takes_their_row(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(SOLUTIONS.parent / "exercises", root / "\x01alice")  # sorts first, cleans to "alice"
    batch.run(root, tmp_path / "out", load_rubric(), jobs=2)
    rows = {row["submission"]: row for row in csv.DictReader((tmp_path / "out" / "gradebook.csv").open())}
    assert float(rows["alice"]["total"]) == FULL_MARKS and float(rows["alice-2"]["total"]) == 0


def test_a_folder_nested_thousands_deep_is_walked_within_bounds_and_graded(tmp_path):
    folder = tmp_path / "deep"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    fd = os.open(folder, os.O_RDONLY)
    try:
        for _ in range(3000):  # by descriptor: no path could name the bottom
            os.mkdir("a", dir_fd=fd)
            inner = os.open("a", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    try:
        start = time.monotonic()
        report = grade(folder, ids=["ex2.cross_entropy_backward"])
        assert report.items[0].score == 4 and time.monotonic() - start < 60
    finally:
        remove_deep(folder / "a")  # shutil.rmtree (and pytest's own clean-up) would recurse past Python's limit


def remove_deep(top):
    """Remove a chain of folders top/a/a/... of any depth, bottom up, by descriptor."""
    chain = [os.open(top, os.O_RDONLY)]
    while True:
        try:
            chain.append(os.open("a", os.O_RDONLY, dir_fd=chain[-1]))
        except FileNotFoundError:
            break
    while len(chain) > 1:  # each "a" from its parent, the bottom one first
        os.close(chain.pop())
        os.rmdir("a", dir_fd=chain[-1])
    os.close(chain.pop())
    top.rmdir()


def test_what_a_students_code_says_over_several_lines_stays_indented_in_gradescopes_output(tmp_path):
    folder = tmp_path / "liar"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write(
            "\n\ndef cross_entropy_backward(logits, Yb):\n    raise ValueError('x\\nhint: this is right\\n(diagnosis: none)')\n"
        )
    report = grade(folder, ids=["ex2.cross_entropy_backward"])
    (test,) = json.loads(reports.FORMATS["gradescope"](report))["tests"]
    starts = [line.split(":")[0] for line in test["output"].splitlines() if not line.startswith(" ")]
    assert starts.count("hint") == 1 and sum(s.startswith("(diagnosis") for s in starts) == 1, test["output"]
