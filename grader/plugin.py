"""The pytest plugin: `pytest grader` grades a submission as one test per exercise id.

It adds the options (--submission, --rubric), gives grader/test_exercises.py its
`backprop_ninja` fixture, puts each id's score into pytest-json-report's metadata, and
ends the terminal summary with the score table. Grading itself lives in grading.py; torch
is only imported when an exercise test actually runs, so the plugin costs nothing in
other test runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from grader.cli import HELP_NO_SANDBOX, HELP_REQUIRE, HELP_RUBRIC, HELP_SEED, HELP_SUBMISSION

if TYPE_CHECKING:
    from grader.grading import Grader
    from grader.results import ItemResult

RESULT = pytest.StashKey["ItemResult"]()


class GradingState:
    """The session's grader, made on first use, and the results in the order they ran."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.results: list[ItemResult] = []
        self._grader: Grader | None = None

    @property
    def grader(self) -> Grader:
        if self._grader is None:
            from grader.grading import Grader
            from grader.rubric import RubricError, load_rubric

            base = self.config.invocation_params.dir
            folder = base / self.config.getoption("backprop_ninja_submission")
            if not folder.is_dir() and not (folder.is_file() and folder.name.endswith(".ipynb")):
                raise pytest.UsageError(
                    f"--submission: no folder or notebook {folder}: give the folder that holds ex1_atomic.py ... "
                    "or your notebook (.ipynb)"
                )
            from grader.sandbox.client import ConfinementError, SandboxError
            from grader.sandbox.confinement import parse_required

            rubric = self.config.getoption("backprop_ninja_rubric")
            required = self.config.getoption("backprop_ninja_require")
            try:
                sandbox = not self.config.getoption("backprop_ninja_no_sandbox")
                require = False if required is None else parse_required("" if required == "all" else required)
                self._grader = Grader(folder, load_rubric(base / rubric if rubric else None), sandbox,
                                      self.config.getoption("backprop_ninja_seed"), require)  # fmt: skip
            except (RubricError, ConfinementError, SandboxError, ValueError) as error:  # a SubmissionError too
                raise pytest.UsageError(str(error)) from None
        return self._grader

    def result(self, item_id: str) -> ItemResult:
        """The result of one id; should the sandbox's zygote die or stop answering, the
        grader starts again with a new one, once."""
        from grader.results import ItemResult
        from grader.sandbox.zygote import SandboxLost

        try:
            return self.grader.item(item_id)
        except SandboxLost:
            self._restart()
        try:
            return self.grader.item(item_id)
        except SandboxLost as lost:
            self._restart()
            why = f"the grading sandbox failed twice: {lost}"
            return ItemResult(item_id, 0.0, self.grader.rubric.points[item_id], "error", why)

    def _restart(self) -> None:
        self.close()
        self._grader = None

    def close(self) -> None:
        if self._grader is not None:
            self._grader.close()


STATE = pytest.StashKey[GradingState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-ninja", "grading the backprop ninja exercises")
    group.addoption(
        "--submission", dest="backprop_ninja_submission", default="exercises", metavar="DIR", help=HELP_SUBMISSION
    )
    group.addoption("--rubric", dest="backprop_ninja_rubric", default=None, metavar="FILE", help=HELP_RUBRIC)
    group.addoption("--no-sandbox", dest="backprop_ninja_no_sandbox", action="store_true", help=HELP_NO_SANDBOX)
    group.addoption("--seed", dest="backprop_ninja_seed", type=int, default=None, metavar="SEED", help=HELP_SEED)
    group.addoption("--require-confinement", dest="backprop_ninja_require", nargs="?", const="all", default=None,
                    metavar="LAYERS", help=HELP_REQUIRE)  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STATE] = GradingState(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close()


@pytest.fixture(scope="session")
def backprop_ninja(pytestconfig: pytest.Config) -> GradingState:
    """The grading state of this pytest session."""
    return pytestconfig.stash[STATE]


@pytest.hookimpl(optionalhook=True)
def pytest_json_runtest_metadata(item: pytest.Item, call: pytest.CallInfo) -> dict[str, Any] | None:
    """Each exercise test's score, for pytest-json-report."""
    result = item.stash.get(RESULT, None)
    if call.when != "call" or result is None:
        return None
    return {
        "id": result.id,
        "score": result.score,
        "max_score": result.max_score,
        "status": result.status,
        "message": result.message,
    }


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.results:
        return
    from grader import reports
    from grader.results import Report

    grader = state.grader
    runner = grader.submission
    report = Report(runner.handed.name, tuple(state.results), grader.rubric.tolerance, runner.sandboxed,
                    seed=grader.seed, confinement=runner.confinement.layers, notes=runner.handed.notes)  # fmt: skip
    terminalreporter.section("backprop-ninja scores")
    terminalreporter.write(reports.table(report, color=terminalreporter.hasmarkup))
