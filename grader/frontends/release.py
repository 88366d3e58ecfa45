"""What an instructor hands out from the one source of truth (solutions/ and the rubric):
the student repository, and Gradescope's autograder zip.

The student repository holds the stubs (as modules, and in the notebook
backprop_ninja.ipynb), the grader with the students' rubric (the hidden
checks replaced by the news of them) and its data, a README for students, its own
pyproject.toml, and a GitHub Actions workflow that grades every push for GitHub
Classroom. The Gradescope zip holds the grader with the full rubric, hidden checks
included, and the two scripts Gradescope runs.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from importlib import resources
from pathlib import Path
from string import Template

from grader.calls.limits import training_limit
from grader.calls.version import __version__
from grader.exercises import catalogue
from grader.exercises.rubric import Rubric, for_students, to_toml, tomllib
from grader.exercises.training import NAMES
from grader.frontends import student_notebook
from grader.frontends.stubs import expected_stubs

PACKAGE = Path(str(resources.files("grader")))
TEMPLATES = PACKAGE / "templates"
COURSES = "courses"  # where a release puts the course file, beside the rubric that names it
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.tmp", "build_names.py")


# The confinement layers Gradescope's containers give, which run_autograder requires
# (BACKPROP_NINJA_REQUIRE overrides them) and setup.sh tries when the image is built.
GRADESCOPE_LAYERS = "identity,no_new_privs,non_dumpable,seccomp,limits"


# Where students may get the grader from, said when a release cannot tell.
INSTALL_FROM = (
    "--install-from git+https://github.com/ORG/REPO (the student repository once pushed, public: "
    "it installs the grader), or the URL of a wheel"
)


# A remote as git writes it: https://[user@]host[:port]/path, ssh://[user@]host[:port]/path,
# or user@host:path.
REMOTE = re.compile(
    r"(?:(?:https|ssh)://(?:[^@/\s]*@)?(?P<host>[\w.-]+)(?::\d+)?/|[\w.-]+@(?P<scp_host>[\w.-]+):)(?P<path>[\w.~/-]+)"
)


class ReleaseError(ValueError):
    """A release that would overwrite something, or lacks what it needs."""


def release(out: Path, solutions: Path, rubric: Rubric, install: str | None = None) -> list[Path]:
    """Write the student repository into `out`, which must be new, empty, or a clone
    of the course's empty repository (nothing but .git); the files written. `install`:
    what the notebook's first cell has pip install in Colab (by default, the clone's
    own remote: install_source)."""
    _empty(out)
    install = install_source(out, install)
    stubs = expected_stubs(solutions)
    student_notebook.build(stubs, install)  # refused before anything is written
    (out / "exercises").mkdir(parents=True)
    for name, text in stubs.items():
        (out / "exercises" / name).write_text(text, encoding="utf-8")
    _copy_grader(out / "grader", for_students(rubric))
    student_notebook.write(out / student_notebook.FILE, stubs, install)
    (out / "README.md").write_text(_filled("README.students.md"), encoding="utf-8")
    (out / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    (out / ".gitignore").write_text((TEMPLATES / "gitignore").read_text(encoding="utf-8"), encoding="utf-8")
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_filled("classroom.yml"), encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())


def gradescope(zip_path: Path, rubric: Rubric) -> list[str]:
    """Write Gradescope's autograder zip: setup.sh and run_autograder at its root, the
    grader with its default rubric and a pyproject.toml to install it, and the full
    rubric (hidden checks included) beside them, as rubric.toml: outside the installed
    package, where setup.sh makes it readable by root alone; the names inside."""
    if zip_path.exists():
        raise ReleaseError(f"{zip_path} exists: remove it, or give another name")
    staging = zip_path.with_name(zip_path.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(PACKAGE, staging / "grader", ignore=SKIPPED)
        _copy_data(staging / "grader")
        (staging / "rubric.toml").write_text(to_toml(rubric, _course_beside(rubric, staging)), encoding="utf-8")
        (staging / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
        (staging / "README.md").write_text("The grader of the backprop ninja exercises, for Gradescope.\n")
        names = []
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
            for script in ("setup.sh", "run_autograder"):
                info = zipfile.ZipInfo(script)
                info.external_attr = (stat.S_IFREG | 0o755) << 16  # executable, as Gradescope runs them
                z.writestr(info, _filled(script))
                names.append(script)
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    z.write(path, path.relative_to(staging).as_posix())
                    names.append(path.relative_to(staging).as_posix())
        return names
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_grader(target: Path, rubric: Rubric) -> None:
    """The grader, with `rubric` as its default rubric, and the course file it names."""
    shutil.copytree(PACKAGE, target, ignore=SKIPPED)
    _copy_data(target)
    (target / "rubric.toml").write_text(to_toml(rubric, _course_beside(rubric, target)), encoding="utf-8")


def _copy_data(package: Path) -> None:
    """The data set into the copied package's data/, where an installed package holds it
    (in this repository it sits in data/ at the top)."""
    shutil.copytree(NAMES.parent, package / "data", ignore=SKIPPED, dirs_exist_ok=True)


def _course_beside(rubric: Rubric, folder: Path) -> str | None:
    """Copy the rubric's course file into folder/courses/, where the rubric written into
    `folder` finds it; its path relative to that rubric (None: no course)."""
    if rubric.course is None:
        return None
    (folder / COURSES).mkdir(parents=True, exist_ok=True)
    shutil.copy(rubric.course, folder / COURSES / rubric.course.name)
    return f"{COURSES}/{rubric.course.name}"


def torch_requirement() -> str:
    """The package's own torch requirement: the scripts install torch's CPU build within
    it, never a newer release than the package admits."""
    dependencies = tomllib.loads(_pyproject())["project"]["dependencies"]
    return next(d for d in dependencies if re.match(r"torch\b", d))


# What each of the lecture's modules holds, for the students' README.
LECTURE_MODULES = {
    "ex1_atomic": "one backward function per line of the forward pass, then `manual_backward`, the whole chain",
    "ex2_cross_entropy": "the gradient of the cross-entropy in one go",
    "ex3_batchnorm": "the gradient through batchnorm in one go",
    "ex4_train": "`mlp_backward`, the whole backward pass, used to train",
}


def _filled(template: str) -> str:
    """A script, workflow or README template with the torch requirement, the layers, the
    training run's time limit and the modules the students fill in."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    limit = f"{training_limit(200_000):g}"
    return Template(text).safe_substitute(
        torch=torch_requirement(), required=GRADESCOPE_LAYERS, training_limit=limit, exercises=_modules_listed()
    )


def _modules_listed() -> str:
    """A line per module of the exercises graded: the lecture's as the lecture has them,
    a course's by the functions it asks for."""
    lines = []
    for module in catalogue.MODULES:
        functions = [f"`{e.function}`" for e in catalogue.EXERCISES if e.module == module]
        said = LECTURE_MODULES.get(module) or ", ".join(dict.fromkeys(functions))
        lines.append(f"- `exercises/{module}.py`: {said}.")
    return "\n".join(lines)


def _pyproject() -> str:
    return Template((TEMPLATES / "pyproject.toml").read_text(encoding="utf-8")).substitute(version=__version__)


def install_source(out: Path | None, given: str | None) -> str:
    """What the students' notebook has pip install where the grader is missing (Colab):
    `given` (--install-from), or else the student repository itself, from the remote
    `origin` of `out` when it is a git clone; no package index has backprop-ninja, so
    without either the release is refused, saying what to pass."""
    if given:
        return given
    remote = _origin(out) if out is not None else None
    if remote is None:
        raise ReleaseError(
            "the students' notebook installs the grader where it is missing (in Colab), and no package index "
            f"has backprop-ninja: say where students get it, with {INSTALL_FROM}; or release into a clone of "
            "the course's empty repository, whose remote is used"
        )
    return remote


def _origin(folder: Path) -> str | None:
    """The pip requirement of the git repository `folder`'s remote `origin`, over https
    and without credentials (they would be written into every student's notebook); None
    when `folder` has no such remote, or one pip cannot reach anonymously."""
    try:
        config = (folder / ".git" / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    section = re.search(r'^\[remote "origin"\][^\n]*\n(?P<body>(?:[^\[][^\n]*\n?)*)', config, re.MULTILINE)
    url = re.search(r"^\s*url\s*=\s*(\S+)\s*$", section["body"], re.MULTILINE) if section else None
    if url is None:
        return None
    found = re.fullmatch(REMOTE, url[1])
    return f"git+https://{found['host'] or found['scp_host']}/{found['path']}" if found else None


def _empty(out: Path) -> None:
    """`out` is new, empty, or holds nothing but .git: a clone of an empty repository."""
    if out.exists() and (not out.is_dir() or any(p.name != ".git" for p in out.iterdir())):
        raise ReleaseError(
            f"{out} exists and is not empty: release into a new or empty folder (or a clone of an empty "
            "repository), nothing is overwritten"
        )
