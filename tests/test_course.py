"""A course's own exercises (examples/bonus: LayerNorm and GELU), declared in the
instructor's repository and graded by the installed grader, none of whose files changes."""

import csv
import importlib.util
import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from grader.exercises import catalogue
from grader.exercises.rubric import RubricError, load_rubric
from grader.frontends.release import gradescope
from tests.conftest import FULL_MARKS, ID_COUNT, INSTALL, ROOT, SOLUTIONS, run_grader, shared, solution_lines

BONUS = ROOT / "examples" / "bonus"
RUBRIC = BONUS / "rubric.toml"  # the bonus graded alone (lecture = false)
# The bonus beside the lecture's exercises: a rubric that names its course file, no more.
BESIDE = f'[course]\nexercises = "{(BONUS / "course.py").as_posix()}"\n'
# Each wrong submission of the example, the id it gets wrong and the words of its hint.
WRONG = {
    "layernorm_over_the_batch": ("ex5.layernorm_backward", "each row (dim 1)"),
    "layernorm_variance_over_h_minus_1": ("ex5.layernorm_backward", "divides by H, not H - 1"),
    "gelu_without_the_density_term": ("ex5.gelu_backward", "product rule"),
}
COURSE_MARKS = 3 + 2  # the points course.py gives its two exercises
WRONG_IDS = ("ex5.layernorm_backward", "ex5.gelu_backward")


@pytest.fixture(scope="module")
def beside(tmp_path_factory):
    """The rubric of the bonus beside the lecture."""
    path = tmp_path_factory.mktemp("beside") / "rubric.toml"
    path.write_text(BESIDE)
    return path


@pytest.fixture(autouse=True)
def lecture_again():
    """Every test leaves the catalogue as the lecture's, whatever rubric it loaded."""
    yield
    catalogue.use()


def run(*args, cwd=ROOT):
    command = [str(Path(sys.executable).with_name("backprop-ninja")), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=600)


def submission(folder: Path, bonus: Path) -> Path:
    """A student's repository: the lecture's solutions and this ex5_bonus.py."""
    shutil.copytree(SOLUTIONS, folder)
    shutil.copy(bonus, folder / "ex5_bonus.py")
    return folder


@shared
def graded_class(tmp_path_factory):
    """The example's solutions and its wrong submissions, graded in one batch beside the lecture's."""
    root = tmp_path_factory.mktemp("class")
    (root / "rubric.toml").write_text(BESIDE)
    submission(root / "submissions" / "right", BONUS / "solutions" / "ex5_bonus.py")
    for name in WRONG:
        submission(root / "submissions" / name, BONUS / "wrong" / name / "ex5_bonus.py")
    done = run("batch", str(root / "submissions"), "--out", str(root / "out"), "--rubric", str(root / "rubric.toml"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return root / "out"


def test_the_courses_solutions_get_full_marks_with_the_lectures(graded_class):
    report = json.loads((graded_class / "reports" / "right.json").read_text())
    assert report["score"] == report["max_score"] == FULL_MARKS + COURSE_MARKS
    ids = [item["id"] for item in report["items"]]
    assert ids[:ID_COUNT] == list(catalogue.IDS) and ids[ID_COUNT:] == ["ex5.layernorm_backward", "ex5.gelu_backward"]
    schema = json.loads((resources.files("grader") / "report.schema.json").read_text())
    jsonschema.validate(report, schema)


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_submission_gets_the_courses_own_diagnosis_for_its_mistake(graded_class, name):
    wrong_id, hint = WRONG[name]
    report = json.loads((graded_class / "reports" / f"{name}.json").read_text())
    items = {item["id"]: item for item in report["items"]}
    assert items[wrong_id]["diagnosis"]["code"] == "known_mistake" and hint in items[wrong_id]["diagnosis"]["hint"]
    assert all(item["status"] == "passed" for i, item in items.items() if i != wrong_id)
    rows = {row["submission"]: row for row in csv.DictReader((graded_class / "gradebook.csv").open())}
    assert float(rows[name]["total"]) < FULL_MARKS + COURSE_MARKS and wrong_id in rows[name]


def test_a_course_moves_nothing_that_the_lecture_draws(make_submission, beside):
    from grader.grading.grader import grade

    folder = make_submission(append={"ex1_atomic": "def h_backward(dh, h):\n    return dh * (1 - h)\n"})
    lecture = grade(folder, load_rubric(), seed=1234, ids=["ex1.h_backward", "ex3.batchnorm_backward"])
    shutil.copy(BONUS / "solutions" / "ex5_bonus.py", folder / "ex5_bonus.py")
    course = grade(folder, load_rubric(beside), seed=1234, ids=["ex1.h_backward", "ex3.batchnorm_backward"])
    assert [g.comparisons for i in lecture.items for g in i.gradients] == [
        g.comparisons for i in course.items for g in i.gradients
    ]


def test_the_release_of_a_course_holds_its_module_its_file_and_its_cells_and_no_solution_line(tmp_path):
    repo = tmp_path / "instructor"  # the instructor's repository: solutions/, course.py, rubric.toml
    submission(repo / "solutions", BONUS / "solutions" / "ex5_bonus.py")
    shutil.copy(BONUS / "course.py", repo)
    (repo / "rubric.toml").write_text('[course]\nexercises = "course.py"\n')  # beside the lecture's
    done = run("release", "out", "--rubric", "rubric.toml", "--install-from", INSTALL, cwd=repo)
    assert done.returncode == 0, done.stderr
    out = repo / "out"
    stub = (out / "exercises" / "ex5_bonus.py").read_text()
    assert stub.count("raise NotImplementedError") == 2
    assert (out / "grader" / "courses" / "course.py").read_bytes() == (BONUS / "course.py").read_bytes()
    notebook = json.loads((out / "backprop_ninja.ipynb").read_text())
    sources = ["".join(c["source"]) for c in notebook["cells"]]
    assert any(s.startswith("def layernorm_backward(") for s in sources) and "check(gelu_backward)" in sources
    hidden = solution_lines([BONUS / "solutions" / "ex5_bonus.py"])
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".toml"):
            text = path.read_text()
            lines = {line.strip() for line in text.splitlines()}
            assert not [h for h in hidden if h in lines or (len(h) >= 20 and h in text)], path
    # The released grader (imported from the repository, as its own install would) grades it.
    (out / ".git").mkdir()  # a clone: the instructor's rubric.toml above it is not its own
    graded = run_grader("grade", cwd=out)
    marks = sum(load_rubric(repo / "rubric.toml").points.values())
    assert f"0/{marks:g}  0 of {ID_COUNT + 2} ids right" in graded.stdout, graded.stdout[-2000:] + graded.stderr


def test_gradescope_grades_a_course_with_the_file_beside_its_rubric(tmp_path, beside):
    names = gradescope(tmp_path / "autograder.zip", load_rubric(beside))
    assert "courses/course.py" in names
    folder = submission(tmp_path / "submission", BONUS / "solutions" / "ex5_bonus.py")
    done = run("gradescope", "--simulate", str(folder), "--rubric", str(beside), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    marks = f"{FULL_MARKS + COURSE_MARKS:g}"
    assert f"Gradescope's results.json: {marks}/{marks} points, {ID_COUNT + 2} tests" in done.stdout


def test_the_bonus_example_is_listed_graded_released_and_tried_on_gradescope_as_the_readme_says(tmp_path):
    course = tmp_path / "bonus"
    shutil.copytree(BONUS, course)
    listed = run("list", cwd=course)  # its rubric.toml is found: no --rubric
    assert "rubric: " in listed.stderr and str(course / "rubric.toml") in listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:3]] == list(WRONG_IDS)
    graded = run("grade", "--submission", "solutions", cwd=course)
    assert graded.returncode == 0 and f"{COURSE_MARKS}/{COURSE_MARKS}  2 of 2 ids right" in graded.stdout
    assert "warning" not in graded.stderr
    released = run("release", "out", "--install-from", INSTALL, cwd=course)
    assert released.returncode == 0, released.stderr
    out = course / "out"
    assert sorted(p.name for p in (out / "exercises").iterdir()) == ["ex5_bonus.py"]
    readme = (out / "README.md").read_text()
    assert "`exercises/ex5_bonus.py`" in readme and "ex1_atomic" not in readme  # the modules students fill in
    (out / ".git").mkdir()  # the students' clone
    stubs = run_grader("grade", cwd=out)
    assert f"0/{COURSE_MARKS}  0 of 2 ids right" in stubs.stdout, stubs.stdout[-2000:] + stubs.stderr
    shutil.copy(course / "solutions" / "ex5_bonus.py", out / "exercises")
    assert run_grader("grade", cwd=out).returncode == 0
    simulated = run("gradescope", "--simulate", "solutions", cwd=course)
    assert simulated.returncode == 0, simulated.stdout[-2000:] + simulated.stderr
    assert f"Gradescope's results.json: {COURSE_MARKS}/{COURSE_MARKS} points, 2 tests" in simulated.stdout


def test_only_the_courses_ids_grade_its_module_alone_without_a_warning(tmp_path, beside):
    folder = tmp_path / "sub"
    folder.mkdir()
    shutil.copy(BONUS / "solutions" / "ex5_bonus.py", folder)
    done = run("grade", "--only", "ex5", "--submission", str(folder), "--rubric", str(beside), "--no-sandbox")
    assert done.returncode == 0 and f"{COURSE_MARKS}/{COURSE_MARKS}" in done.stdout, done.stdout + done.stderr
    assert "warning" not in done.stderr
    (tmp_path / "empty").mkdir()
    nothing = run("grade", "--only", "ex5", "--submission", str(tmp_path / "empty"), "--rubric", str(beside))
    assert "holds none of ex5_bonus" in nothing.stderr  # a folder without the course's module is still told


def test_pytest_and_stubs_take_the_course_from_the_rubric(tmp_path):
    folder = submission(tmp_path / "sub", BONUS / "wrong" / "gelu_without_the_density_term" / "ex5_bonus.py")
    tested = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT / "grader"),
            "--bpn-rubric",
            str(RUBRIC),
            "--bpn-submission",
            str(folder),
            "-k",
            "ex5",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
    )
    assert "1 failed, 1 passed" in tested.stdout and "known mistake: Phi(x) alone" in tested.stdout, tested.stdout[
        -2000:
    ]
    stubbed = run("stubs", "--rubric", str(RUBRIC), "--solutions", str(folder), "--exercises", str(tmp_path / "stubs"))
    assert stubbed.returncode == 0 and (tmp_path / "stubs" / "ex5_bonus.py").is_file(), stubbed.stderr


def test_a_notebook_check_grades_a_course_function():
    from grader.frontends.notebook import check

    path = BONUS / "wrong" / "gelu_without_the_density_term" / "ex5_bonus.py"
    spec = importlib.util.spec_from_file_location("wrong_bonus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # a function with a file, as a notebook's cell has one
    checked = check("ex5.gelu_backward", module.gelu_backward, rubric=RUBRIC, sandbox=False)
    assert not checked.passed and "known mistake" in str(checked)


@pytest.mark.parametrize(
    "course, says",
    [
        ("", "EXERCISES must be a list of exercise(...)"),
        (
            "from grader.exercises.course import exercise\nEXERCISES = [exercise('ex5_bonus', 'h_backward', 'h', "
            "lambda fwd: 2 * fwd.h, wrt=('h',), upstream='out', args=('h',))]\n",
            "h_backward is the lecture's exercise ex1_atomic.h_backward",
        ),
        (
            "from grader.exercises.course import exercise\nEXERCISES = [exercise('ex5_bonus', 'f', 'f', lambda fwd: fwd.h, "
            "wrt=())]\n",
            "wrt names no gradient",
        ),
        (
            "from grader.exercises.course import exercise\nEXERCISES = [exercise('ex5_bonus', 'f', 'f', lambda fwd: fwd.h, "
            "wrt=('h',), points=-1)]\n",
            "points must be a positive number",
        ),
    ],
)
def test_a_course_file_that_cannot_be_used_says_what_to_change(tmp_path, course, says):
    (tmp_path / "course.py").write_text(course)
    (tmp_path / "rubric.toml").write_text('[course]\nexercises = "course.py"\n')
    with pytest.raises(RubricError, match="course.exercises") as raised:
        load_rubric(tmp_path / "rubric.toml")
    assert says in str(raised.value)
    assert len(catalogue.IDS) == ID_COUNT  # the lecture's catalogue, untouched


def relu(**settings):
    """A course file of one ReLU exercise, with these settings of exercise(...) changed."""
    given = {
        "values": "lambda lecture, shape, g: {'x': lecture['hpreact']}",
        "args": "('x',)",
        "wrt": "('x',)",
        "op": "lambda fwd: fwd.x.clamp(min=0)",
        "upstream": "'out'",
        "mistakes": "[]",
        **settings,
    }
    arguments = ", ".join(f"{k}={v}" for k, v in given.items())
    return f"from grader.exercises.course import exercise, wrong\nEXERCISES = [exercise('ex6_extra', 'relu_backward', 'relu', {arguments})]\n"


@pytest.mark.parametrize(
    "settings, says",
    [
        ({"args": "('xx',)"}, "args names xx, which is no forward value; there are: "),
        ({"wrt": "('xx',)"}, "wrt names xx, which is no forward value"),
        (
            {"values": "lambda lecture, shape, g: {'x': lecture['hpreactt']}"},
            "values() raised KeyError: 'hpreactt' at line 2",
        ),
        ({"op": "lambda fwd: fwd.xx"}, "its op raised AttributeError: fwd has no attribute 'xx'"),
        ({"upstream": "'x'"}, "upstream='x' names an input"),
        ({"upstream": "None"}, "its op gives a tensor, not a scalar: name its output with upstream='out'"),
        (
            {"mistakes": "[wrong('m', 'h', gradients=lambda fwd, dout: {'xx': dout})]"},
            "key them by the names in wrt: x",
        ),
        (
            {"mistakes": "[wrong('m', 'h', gradients=lambda fwd, dout: {'x': fwd.nope})]"},
            "the mistake 'm' raised AttributeError",
        ),
        ({"mistakes": "[wrong('m', 'h', forward=lambda fwd: fwd.x.clamp(min=0))]"}, "gives the right gradients"),
        ({"op": "lambda fwd: fwd.x.clamp(min=0) +"}, "running it raised SyntaxError"),
    ],
)
def test_a_course_exercise_is_tried_when_it_loads_and_a_wrong_name_or_raising_code_is_told(tmp_path, settings, says):
    (tmp_path / "course.py").write_text(relu(**settings))
    (tmp_path / "rubric.toml").write_text('[course]\nexercises = "course.py"\n')
    with pytest.raises(RubricError) as raised:
        load_rubric(tmp_path / "rubric.toml")
    assert says in str(raised.value) and str(raised.value).count(str(tmp_path / "course.py")) == 1


def test_a_right_course_exercise_loads(tmp_path):
    (tmp_path / "course.py").write_text(relu())
    (tmp_path / "rubric.toml").write_text('[course]\nexercises = "course.py"\n')
    assert "ex6.relu_backward" in load_rubric(tmp_path / "rubric.toml").points


def test_a_rubric_that_names_no_course_file_says_so(tmp_path):
    (tmp_path / "rubric.toml").write_text('[course]\nexercises = "nowhere.py"\n')
    with pytest.raises(RubricError, match="no such course file"):
        load_rubric(tmp_path / "rubric.toml")


def test_check_and_list_take_the_courses_ids_in_declaration_order(tmp_path, beside):
    folder = submission(tmp_path / "sub", BONUS / "wrong" / "layernorm_over_the_batch" / "ex5_bonus.py")
    checked = run("check", "ex5.layernorm_backward", "--rubric", str(RUBRIC), "--submission", str(folder))
    assert checked.returncode == 1 and "dx matches a known mistake: normalising over the batch" in checked.stdout
    listed = run("list", "--rubric", str(beside)).stdout.splitlines()
    ids = [line.split()[0] for line in listed[1:] if line.startswith("ex")]
    assert ids == [*catalogue.IDS, "ex5.layernorm_backward", "ex5.gelu_backward"]


@pytest.mark.parametrize(
    "change, says",
    [
        (("def gelu_backward(dout, x):", "def gelu_backward_(dout, x):"), "lacks gelu_backward"),
        (
            ("def gelu_backward(dout, x):", "def gelu_backward(dprobs, x):"),
            "but the grader calls gelu_backward(dout, x)",
        ),
    ],
)
def test_a_solution_module_the_course_cannot_call_stops_stubs_and_release(tmp_path, change, says):
    folder = submission(tmp_path / "solutions", BONUS / "solutions" / "ex5_bonus.py")
    module = folder / "ex5_bonus.py"
    module.write_text(module.read_text().replace(*change))
    stubbed = run("stubs", "--rubric", str(RUBRIC), "--solutions", str(folder), "--exercises", str(tmp_path / "stubs"))
    assert stubbed.returncode == 2 and says in stubbed.stderr, stubbed.stderr
    released = run(
        "release", str(tmp_path / "out"), "--rubric", str(RUBRIC), "--solutions", str(folder), "--install-from", INSTALL
    )
    assert released.returncode == 2 and says in released.stderr and not (tmp_path / "out").exists()


def test_a_course_reads_the_lectures_values_as_attributes_or_by_name(tmp_path):
    for read in ("lecture.hpreact", "lecture['hpreact']"):
        (tmp_path / "course.py").write_text(relu(values=f"lambda lecture, shape, g: {{'x': {read}}}"))
        (tmp_path / "rubric.toml").write_text('[course]\nexercises = "course.py"\n')
        assert "ex6.relu_backward" in load_rubric(tmp_path / "rubric.toml").points


@pytest.mark.parametrize(
    "values, found",
    [
        ("lambda lecture, shape, g: (lecture.hpreact,)", "it returned a tuple"),
        ("lambda lecture, shape, g: {'x': lecture.hpreact.tolist()}", "its 'x' is a list"),
    ],
)
def test_values_that_return_no_dict_of_tensors_are_told_the_contract(tmp_path, values, found):
    (tmp_path / "course.py").write_text(relu(values=values))
    (tmp_path / "rubric.toml").write_text('[course]\nexercises = "course.py"\n')
    with pytest.raises(RubricError) as raised:
        load_rubric(tmp_path / "rubric.toml")
    said = str(raised.value)
    assert "values() must return a dict of float64 tensors by name" in said and found in said
    assert "at line 2 of course.py" in said


NEAR_MISS = """import math
import torch


def gelu_backward(dout, x):
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    pdf = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    return dout * (cdf + x * pdf) + 1e-3 * dout.abs().mean()
"""


def test_a_near_miss_in_a_course_exercise_gets_a_hint_that_names_nothing_of_batchnorm(tmp_path):
    from grader.grading.grader import grade

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "ex5_bonus.py").write_text(NEAR_MISS)
    (item,) = grade(folder, load_rubric(RUBRIC), ["ex5.gelu_backward"], sandbox=False, seed=3).items
    assert item.diagnosis.code == "close_but_not_within_tolerance", item.diagnosis
    assert "eps" not in item.diagnosis.hint and "batchnorm" not in item.diagnosis.hint.lower()
