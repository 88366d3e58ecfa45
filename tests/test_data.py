"""The data set lives in data/ at the top of the repository, and travels in the wheel as
the package's grader/data/, where an installed grader finds it."""

import os
import shutil
import subprocess
import sys
import zipfile

from grader.exercises import training
from tests.conftest import ROOT


def test_the_grader_finds_the_data_set_at_the_top_of_the_repository():
    assert training.NAMES == ROOT / "data" / "names.txt"
    assert len(training.read_words(training.NAMES)) == 29_910


def test_a_built_wheel_holds_the_data_set_and_the_installed_package_finds_it(tmp_path):
    source = tmp_path / "source"  # the build writes beside its sources: a copy, never the repository
    for folder in ("grader", "data"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--no-input", "--disable-pip-version-check"]
    wheels = tmp_path / "wheels"
    # No build isolation: the build uses this environment's setuptools, and needs no network.
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w", str(wheels)]
    subprocess.run([*pip, *build], check=True, cwd=tmp_path, timeout=300, capture_output=True)
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert z.read("grader/data/names.txt") == (ROOT / "data" / "names.txt").read_bytes()
        assert "grader/data/README.md" in z.namelist()
    site = tmp_path / "site"
    install = ["install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel)]
    subprocess.run([*pip, *install], check=True, timeout=300, capture_output=True)
    code = "from grader.exercises import training; print(training.NAMES, len(training.read_words(training.NAMES)))"
    found = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert found.stdout.split() == [str(site / "grader" / "data" / "names.txt"), "29910"], found.stderr
