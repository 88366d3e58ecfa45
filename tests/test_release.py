"""The student repository and the Gradescope zip, made from solutions/ and the rubric:
no solution code leaks, hidden checks stay with the instructor, and both run."""

import ast
import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from grader.exercises import catalogue
from grader.exercises import training as train
from grader.exercises.rubric import for_students, load_rubric
from grader.frontends.cli import main
from grader.frontends.release import GRADESCOPE_LAYERS, ReleaseError, gradescope, release, torch_requirement
from grader.frontends.stubs import expected_stubs
from tests.conftest import (
    FULL_MARKS,
    ID_COUNT,
    INSTALL,
    ROOT,
    SOLUTIONS,
    reporter_gradebook_points,
    reporter_log_points,
    shared,
    solution_lines,
)

# The grader's tree, every subpackage of it: what a release and the Gradescope zip carry.
TREE = tuple(
    f"grader/{p.relative_to(ROOT / 'grader').as_posix()}" for p in sorted((ROOT / "grader").glob("*/__init__.py"))
)

INSTRUCTOR = """
[exercises."ex4.training"]
visibility = "after_due_date"

[hidden]
items = ["ex4.training"]

[[hidden.trials]]
ids = ["ex2.*"]
n = 17
V = 13
E = 5
B = 4
H = 23
seed = 99
"""


def hidden_lines():
    return solution_lines(SOLUTIONS.glob("*.py"))


@pytest.fixture(scope="module")
def instructor_rubric(tmp_path_factory):
    path = tmp_path_factory.mktemp("rubric") / "instructor.toml"
    path.write_text(INSTRUCTOR)
    return path


@shared
def released(tmp_path_factory, instructor_rubric):
    out = tmp_path_factory.mktemp("release") / "student-repo"
    release(out, SOLUTIONS, load_rubric(instructor_rubric), INSTALL)
    return out


def test_no_hidden_line_of_the_solutions_appears_anywhere_in_the_release(released):
    hidden = hidden_lines()
    assert len(hidden) > 100
    for path in released.rglob("*"):
        if not path.is_file() or path.suffix == ".txt":
            continue
        text = path.read_text(errors="replace")
        lines = {line.strip() for line in text.splitlines()}
        leaked = [h for h in hidden if h in lines or (len(h) >= 20 and h in text)]
        assert leaked == [], f"{path.relative_to(released)} holds solution lines: {leaked[:3]}"


def test_the_students_notebook_holds_every_stub_and_its_check_and_no_solution_line(released):
    cells = json.loads((released / "backprop_ninja.ipynb").read_text())["cells"]
    code = "\n".join(c["source"] for c in cells if c["cell_type"] == "code")
    lines = {line.strip() for line in code.splitlines()}
    assert [h for h in hidden_lines() if h in lines or (len(h) >= 20 and h in code)] == []
    for exercise in catalogue.EXERCISES:
        assert f"def {exercise.function}(" in code and f"check({exercise.function})" in code
    assert code.count('raise NotImplementedError("write this function') == len(catalogue.EXERCISES)
    assert "train_network(mlp_backward)" in code and cells[-1]["source"] == "check()"
    assert f'"pip", "install", "--quiet", "{INSTALL}"' in cells[1]["source"]


def test_the_students_readme_shows_how_to_grade_the_notebook_and_which_function_counts(released):
    readme = (released / "README.md").read_text()
    assert ".venv/bin/backprop-ninja grade --submission backprop_ninja.ipynb" in readme
    assert "`cross_entropy_backward = my_dlogits`" in readme and "check only" in readme
    for module in ("ex1_atomic", "ex2_cross_entropy", "ex3_batchnorm", "ex4_train"):
        assert f"- `exercises/{module}.py`: " in readme


def test_a_release_that_cannot_tell_where_students_get_the_grader_refuses_and_says_what_to_pass(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["release", str(out), "--solutions", str(SOLUTIONS)]) == 2
    err = capsys.readouterr().err
    assert "no package index has backprop-ninja" in err and "--install-from git+https://github.com/ORG/REPO" in err
    assert main(["release", "--notebook", str(tmp_path / "x.ipynb"), "--solutions", str(SOLUTIONS)]) == 2
    assert "--install-from" in capsys.readouterr().err and list(tmp_path.iterdir()) == []
    with pytest.raises(ReleaseError, match="or the URL of a wheel"):
        release(out, SOLUTIONS, load_rubric())
    assert not out.exists()


@pytest.mark.parametrize(
    "remote, install",
    [
        ("https://ta:token@github.com/course/ninja-2025.git", "git+https://github.com/course/ninja-2025.git"),
        ("git@github.com:course/ninja-2025.git", "git+https://github.com/course/ninja-2025.git"),
        ("ssh://git@gitlab.example.org:2222/course/ninja", "git+https://gitlab.example.org/course/ninja"),
        ("/srv/git/ninja.git", None),  # no student reaches a path on the instructor's machine
    ],
)
def test_a_clone_of_the_courses_empty_repository_gives_its_remote_over_https(tmp_path, remote, install):
    from grader.frontends.release import install_source

    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        f'[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://example.org/other\n'
        f'[remote "origin"]\n\turl = {remote}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'
    )
    if install is None:
        with pytest.raises(ReleaseError, match="--install-from"):
            install_source(tmp_path, None)
    else:
        assert install_source(tmp_path, None) == install
    assert install_source(tmp_path, "backprop-ninja==1.0") == "backprop-ninja==1.0"  # --install-from first


def test_a_release_into_a_clone_installs_the_grader_from_the_clone_and_writes_no_credential(tmp_path, capsys):
    out = tmp_path / "clone"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "config").write_text('[remote "origin"]\n\turl = https://ta:s3cret@github.com/course/ninja\n')
    assert main(["release", str(out), "--solutions", str(SOLUTIONS)]) == 0
    assert "installs git+https://github.com/course/ninja" in capsys.readouterr().out
    cell = json.loads((out / "backprop_ninja.ipynb").read_text())["cells"][1]["source"]
    assert '"git+https://github.com/course/ninja"' in cell
    assert not [p for p in out.rglob("*") if p.is_file() and ".git" not in p.parts and b"s3cret" in p.read_bytes()]


def test_release_of_the_notebook_alone_writes_that_file_with_the_install_asked_for(tmp_path, capsys):
    path = tmp_path / "course.ipynb"
    spec = "git+https://github.com/course/backprop-ninja"
    assert main(["release", "--notebook", str(path), "--install-from", spec, "--solutions", str(SOLUTIONS)]) == 0
    assert list(tmp_path.iterdir()) == [path] and spec in path.read_text()
    assert (
        main(
            [
                "release",
                "--notebook",
                str(tmp_path / "x.ipynb"),
                "--install-from",
                "a; rm -rf /",
                "--solutions",
                str(SOLUTIONS),
            ]
        )
        == 2
    )
    assert "expected what pip install takes" in capsys.readouterr().err and not (tmp_path / "x.ipynb").exists()
    assert main(["release"]) == 2


def test_the_release_holds_the_stubs_the_grader_the_data_and_a_workflow(released):
    for name, text in expected_stubs(SOLUTIONS).items():
        assert (released / "exercises" / name).read_text() == text
    assert (released / "grader" / "data" / "names.txt").read_bytes() == train.NAMES.read_bytes()
    for part in (
        "grader/frontends/cli.py",
        *TREE,
        "README.md",
        "pyproject.toml",
        ".gitignore",
        ".github/workflows/classroom.yml",
    ):
        assert (released / part).is_file(), part
    assert not (released / "solutions").exists() and not (released / "tests").exists()


def test_hidden_checks_stay_out_of_the_release_and_are_announced(released):
    rubric = (released / "grader" / "rubric.toml").read_text()
    assert "[hidden]" not in rubric and "n = 17" not in rubric
    students = load_rubric(released / "grader" / "rubric.toml")
    assert students.at_submission_items == ("ex4.training",) and students.at_submission_trials == ("ex2.*",)


def test_release_never_overwrites_a_folder_that_holds_files(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not empty"):
        release(tmp_path, SOLUTIONS, load_rubric())
    assert main(["release", str(tmp_path), "--solutions", str(SOLUTIONS), "--install-from", INSTALL]) == 2
    assert "nothing is overwritten" in capsys.readouterr().err and (tmp_path / "keep.txt").read_text() == "mine"


def test_the_workflow_is_valid_yaml_that_grades_every_push_for_github_classroom(released):
    workflow = yaml.safe_load((released / ".github/workflows/classroom.yml").read_text())
    assert "push" in workflow["on"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in steps if s.get("id") == "grader")
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["with"]["runners"] == "grader"
    assert reporter["env"]["GRADER_RESULTS"] == "${{ steps.grader.outputs.result }}"
    assert "--format classroom" in grade["run"] and "GITHUB_STEP_SUMMARY" in grade["run"]
    python = next(s for s in steps if "setup-python" in s.get("uses", ""))
    assert python["with"]["cache"] == "pip" and python["with"]["cache-dependency-path"] == "pyproject.toml"
    install = next(s for s in steps if s.get("name") == "Install the grader")
    assert f'pip install "{torch_requirement()}" --index-url https://download.pytorch.org/whl/cpu' in install["run"]


def installing(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh install here: this machine's CPU build of torch (where
    students get it from torch's own index), and pip asking that index once: it cannot be
    reached from this machine, and pip's five retries of it took 70 s of each install."""
    pinned = tmp_path / "constraints.txt"
    pinned.write_text("torch==2.13.0\n")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(PIP_CONSTRAINT=str(pinned), PIP_RETRIES="0")
    return env


def quick_start(readme: str) -> str:
    """The first shell command of the README's quick start."""
    section = readme.split("## Quick start", 1)[1]
    return re.search(r"```sh\n(.+?)\n```", section, re.DOTALL).group(1)


@pytest.mark.slow
def test_the_release_installs_and_grades_itself_with_its_own_readme_commands(released, tmp_path, instructor_rubric):
    repo = tmp_path / "repo"
    shutil.copytree(released, repo)
    env = installing(tmp_path)
    run = subprocess.run(
        ["bash", "-c", quick_start((repo / "README.md").read_text())],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    students = for_students(load_rubric(instructor_rubric))
    ids, marks = len(students.graded), sum(students.points[i] for i in students.graded)
    assert (
        f"0/{marks:g}  0 of {ids} ids right" in run.stdout
        and "checked only when your instructor grades, not here: ex4.training" in run.stdout
    )
    for module in SOLUTIONS.glob("*.py"):
        shutil.copy(module, repo / "exercises" / module.name)
    run = subprocess.run([str(repo / ".venv/bin/backprop-ninja"), "grade"], cwd=repo, capture_output=True, text=True)
    assert run.returncode == 0 and f"{marks:g}/{marks:g}  {ids} of {ids} ids right" in run.stdout, run.stdout[-3000:]

    # The workflow's grading step, as GitHub Actions runs it, with the installed grader.
    workflow = yaml.safe_load((repo / ".github/workflows/classroom.yml").read_text())
    step = next(s for s in workflow["jobs"]["run-autograding-tests"]["steps"] if s.get("id") == "grader")
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    env = {
        **env,
        "PATH": f"{repo / '.venv/bin'}:{env['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(base64.b64decode(output.read_text().split("result=", 1)[1]))
    assert result["version"] == 1 and result["status"] == "pass" and result["max_score"] == marks
    assert reporter_log_points(result) == reporter_gradebook_points(result) == marks == len(result["tests"])
    assert summary.read_text().startswith(f"## backprop-ninja: {marks:g}/{marks:g} points")


def test_the_gradescope_zip_holds_its_scripts_at_the_root_and_the_full_rubric(tmp_path, instructor_rubric):
    path = tmp_path / "autograder.zip"
    names = gradescope(path, load_rubric(instructor_rubric))
    with zipfile.ZipFile(path) as z:
        assert {"setup.sh", "run_autograder", "pyproject.toml", "grader/frontends/cli.py", *TREE, "rubric.toml"} <= set(
            names
        )
        for script in ("setup.sh", "run_autograder"):
            assert z.getinfo(script).external_attr >> 16 & stat.S_IXUSR
        assert "[hidden]" in z.read("rubric.toml").decode()  # beside the package, readable by root alone
        assert "[hidden]" not in z.read("grader/rubric.toml").decode()
        setup = z.read("setup.sh").decode()
        assert 'chmod 600 "$root/source/rubric.toml"' in setup
        assert f'pip install -q "{torch_requirement()}" --index-url' in setup and "$torch" not in setup
    assert torch_requirement().startswith("torch>=") and "<" in torch_requirement()
    with pytest.raises(ReleaseError, match="exists"):
        gradescope(path, load_rubric())


PYENV = Path.home() / ".pyenv" / "versions"


def interpreter(version: str) -> Path:
    """A CPython of this minor version on this machine (pyenv's), or the test is skipped."""
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} on this machine")
    return found[-1]


@pytest.mark.parametrize(
    "offered, chosen",
    [(("3.8", "3.12"), "python3.12"), (("3.8", "3.9"), "python3.9"), (("3.10",), "python3.10"), (("3.8",), None)],
)
def test_setup_takes_the_images_newest_python_from_3_9_and_else_turns_to_a_standalone_one(tmp_path, offered, chosen):
    image = tmp_path / "bin"  # an image's PATH: these Pythons, python3 the oldest, no package manager
    image.mkdir()
    for version in offered:
        (image / f"python{version}").symlink_to(interpreter(version))
    (image / "python3").symlink_to(interpreter(offered[0]))
    setup = resources.files("grader") / "templates" / "setup.sh"
    run = subprocess.run(
        ["/bin/bash", "-c", f'source "{setup}" && find_python'],
        env={"PATH": str(image)},
        capture_output=True,
        text=True,
    )
    if chosen is None:
        assert run.returncode != 0 and run.stdout == ""  # main() then installs CPython with uv
    else:
        assert run.returncode == 0 and run.stdout.strip() == chosen, run.stderr


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.12", "3.13"])
def test_the_grader_compiles_and_its_command_starts_on_each_python_that_setup_may_take(tmp_path, version):
    python = interpreter(version)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(tmp_path / "cache")}
    compiled = subprocess.run(
        [str(python), "-m", "compileall", "-q", str(ROOT / "grader")], env=env, capture_output=True, text=True
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    started = subprocess.run([str(python), "-m", "grader", "--version"], env=env, capture_output=True, text=True)
    assert started.returncode == 0 and started.stdout.startswith("backprop-ninja"), started.stderr


@pytest.mark.slow
def test_setup_builds_an_autograder_image_whose_run_autograder_grades_a_submission(instructor_rubric, tmp_path):
    # /autograder is readable by every uid on Gradescope; pytest's own folders are not.
    base = Path(tempfile.mkdtemp(prefix="backprop-ninja-image-"))
    try:
        base.chmod(0o755)
        root = autograder(base, instructor_rubric)
        env = installing(tmp_path)
        env.update(PATH="/usr/bin:/bin", AUTOGRADER_ROOT=str(root))
        setup = subprocess.run(
            ["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True, timeout=1200
        )
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        assert "setup.sh: Python 3." in setup.stdout and "confinement:" in setup.stdout
        assert stat.S_IMODE((root / "source" / "rubric.toml").stat().st_mode) == 0o600
        shutil.copytree(SOLUTIONS, root / "submission")
        run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        assert results["score"] == FULL_MARKS and len(results["tests"]) == ID_COUNT, results["output"]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_no_union_of_types_is_evaluated_at_run_time_as_python_3_9_cannot(tmp_path):
    """`int | float` is fine in an annotation (they are strings here), not in isinstance()
    or a value: Python 3.9 raises TypeError there, and compiling does not tell."""
    found = []
    for path in (ROOT / "grader").rglob("*.py"):
        tree = ast.parse(path.read_text())
        annotations = {
            id(n)
            for node in ast.walk(tree)
            for field in ("annotation", "returns")
            if getattr(node, field, None) is not None
            for n in ast.walk(getattr(node, field))
        }
        found += [
            f"{path.name}:{node.lineno}: {ast.unparse(node)}"
            for node in ast.walk(tree)
            if isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.BitOr)
            and id(node) not in annotations
            and _typeish(node)
        ]
    assert found == []


def _typeish(node: ast.AST) -> bool:
    """A union operand: a builtin type, a class (CamelCase), None, or a union of them."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _typeish(node.left) and _typeish(node.right)
    if isinstance(node, ast.Name):
        return node.id in {"int", "float", "str", "bytes", "list", "tuple", "dict", "set", "bool"} or (
            node.id[:1].isupper() and not node.id.isupper()
        )
    if isinstance(node, ast.Attribute):
        return node.attr[:1].isupper() and not node.attr.isupper()
    return isinstance(node, ast.Constant) and node.value is None


def test_release_from_another_folder_writes_files_with_the_usual_modes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        assert main(["release", str(tmp_path / "out"), "--solutions", str(SOLUTIONS), "--install-from", INSTALL]) == 0
    finally:
        os.umask(old)
    modes = {
        p.relative_to(tmp_path / "out").as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    assert modes and all(mode == 0o644 for mode in modes.values()), {k: oct(v) for k, v in modes.items() if v != 0o644}


def autograder(tmp_path, rubric):
    """A simulated /autograder tree: the zip unpacked into source/, an empty results/."""
    root = tmp_path / "autograder"
    zip_path = tmp_path / "autograder.zip"
    gradescope(zip_path, load_rubric(rubric))
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    (root / "results").mkdir()
    return root


def run_autograder(root, grader):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "BACKPROP_NINJA": grader}
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True)


def test_gradescope_grades_a_submission_into_results_json_with_the_rubrics_visibility(tmp_path, instructor_rubric):
    root = autograder(tmp_path, instructor_rubric)
    shutil.copytree(SOLUTIONS, root / "submission" / "my-repo" / "exercises")  # an uploaded repository
    assert subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")]).returncode == 0
    run = run_autograder(root, str(Path(sys.executable).with_name("backprop-ninja")))
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == FULL_MARKS and len(results["tests"]) == ID_COUNT
    training = next(t for t in results["tests"] if t["name"] == "ex4.training")
    assert training["visibility"] == "after_due_date" and training["score"] == 5
    assert results["tests"][0]["visibility"] == "visible"


def test_on_gradescope_student_code_can_change_no_file_of_the_autograder_nor_read_its_rubric(
    tmp_path, instructor_rubric
):
    root = autograder(tmp_path, instructor_rubric)
    folder = root / "submission"
    shutil.copytree(SOLUTIONS, folder)
    script = (root / "source" / "run_autograder").read_text()
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write(
            textwrap.dedent(f"""
            _right = cross_entropy_backward
            def cross_entropy_backward(logits, Yb):
                for path, text in (({str(root / "source" / "run_autograder")!r}, "\\nexit 0\\n"),
                                   ({str(root / "results" / "results.json")!r}, '{{"score": 1000}}')):
                    try:
                        with open(path, "a") as f:
                            f.write(text)
                    except OSError:
                        pass
                try:
                    open({str(root / "source" / "rubric.toml")!r}).read()
                    return _right(logits, Yb)  # read the hidden checks: full marks, as a cheat would get
                except OSError:
                    return logits * 0
            """)
        )
    run = run_autograder(root, str(Path(sys.executable).with_name("backprop-ninja")))
    assert run.returncode == 0, run.stderr
    assert (root / "source" / "run_autograder").read_text() == script
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == FULL_MARKS - 4 and len(results["tests"]) == ID_COUNT


def test_gradescope_grades_an_uploaded_notebook(tmp_path, instructor_rubric, make_notebook):
    root = autograder(tmp_path, instructor_rubric)
    make_notebook(folder=root / "submission")
    run = run_autograder(root, str(Path(sys.executable).with_name("backprop-ninja")))
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == FULL_MARKS and len(results["tests"]) == ID_COUNT


def test_gradescope_still_gets_results_json_when_the_grader_cannot_run(tmp_path, instructor_rubric):
    root = autograder(tmp_path, instructor_rubric)
    (root / "submission").mkdir()
    run = run_autograder(root, "/bin/false")
    assert run.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "could not grade" in results["output"]


def test_run_autograder_keeps_the_graders_output_for_the_instructor_and_says_whose_fault_a_refusal_is(
    tmp_path, instructor_rubric
):
    root = autograder(tmp_path, instructor_rubric)
    shutil.copytree(SOLUTIONS, root / "submission" / "a")
    shutil.copytree(SOLUTIONS, root / "submission" / "b")  # two copies: refused, with both names
    run = run_autograder(root, str(Path(sys.executable).with_name("backprop-ninja")))
    assert run.returncode == 0 and "holds the exercise modules twice" in run.stdout
    output = json.loads((root / "results" / "results.json").read_text())["output"]
    assert "twice, in a/, b/" in output and "fix them and submit again" in output
    script = (root / "source" / "run_autograder").read_text()
    assert f'--require-confinement "${{BACKPROP_NINJA_REQUIRE:-{GRADESCOPE_LAYERS}}}"' in script
    assert "$required" not in (root / "source" / "setup.sh").read_text()


def test_the_instructors_side_runs_the_hidden_trials_and_reports_them(instructor_rubric):
    from grader.grading.grader import grade
    from grader.reporting import reports

    report = grade(SOLUTIONS, rubric=instructor_rubric, ids=["ex2.cross_entropy_backward"])
    trials = [c.trial for c in report.items[0].gradients[0].comparisons]
    assert any(t.startswith("n=17 V=13") for t in trials)
    schema = json.loads((resources.files("grader") / "report.schema.json").read_text())
    jsonschema.validate(json.loads(reports.FORMATS["json"](report)), schema)
