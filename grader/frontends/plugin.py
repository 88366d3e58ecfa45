"""The pytest plugin: `pytest grader` grades a submission as one test per exercise id.

Installed with the package, it is loaded by every pytest run of the environment: its
options are prefixed (--bpn-submission, ...) so that they meet no other plugin's, each
has an ini-file key of the same name (bpn_submission, ...), and it does nothing, torch
not even imported, unless the exercise tests are collected. It checks the submission once,
at collection (a usage error, exit 4, when there is nothing to grade), gives
grader/test_exercises.py its `backprop_ninja` fixture, puts each id's score and diagnosis
into pytest-json-report's metadata, and ends the terminal summary with the score table,
built from what the tests reported: under xdist, the workers' results reach the table, and
they all draw the controller's seed.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import pytest

from grader.frontends.cli import HELP_NO_SANDBOX, HELP_REQUIRE, HELP_RUBRIC, HELP_SEED, HELP_SUBMISSION

if TYPE_CHECKING:
    from grader.exercises.rubric import Rubric
    from grader.grading.grader import Grader
    from grader.grading.results import ItemResult
    from grader.sandbox.confinement import Required

RESULT = pytest.StashKey["ItemResult"]()
PROPERTY = "backprop_ninja"  # the user property that carries an id's result to the summary
WORKER_SEED = "bpn_seed"  # the controller's seed, in each xdist worker's input


class GradingState:
    """The session's grader, made on first use, and the results the tests reported."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.reported: list[dict[str, Any]] = []
        self._grader: Grader | None = None
        self._seed: int | None = None
        self._submission: Path | None = None
        self._settings: tuple[Rubric, bool, Required] | None = None

    @property
    def seed(self) -> int:
        """The run's seed: the option's, the xdist controller's, or a new one."""
        if self._seed is None:
            from grader.exercises.seeds import new_seed

            worker = getattr(self.config, "workerinput", {})
            given = setting(self.config, "bpn_seed")[0]
            if WORKER_SEED in worker:
                self._seed = worker[WORKER_SEED]
            elif given in (None, ""):
                self._seed = new_seed()
            elif isinstance(given, int) or given.strip().isdigit():
                self._seed = int(given)
            else:
                raise pytest.UsageError(f"bpn_seed: expected a whole number (a report's seed), found {given!r}")
        return self._seed

    def check(self, build: bool) -> None:
        """Stop the run with one usage error if the submission, the seed, the rubric or the
        confinement asked for is wrong; `build`: also start the grader, which finds out
        whether this machine gives the confinement."""
        _ = self.settings  # its course's modules are those the submission should hold
        self.submission()
        _ = self.seed
        if build:
            _ = self.grader

    @property
    def settings(self) -> tuple[Rubric, bool, Required]:
        """The rubric, whether to sandbox, and the confinement required, from the options."""
        if self._settings is None:
            from grader.exercises.rubric import RubricError, find_rubric, load_rubric
            from grader.sandbox.confinement import parse_required

            rubric, base = setting(self.config, "bpn_rubric")
            found = None if rubric else find_rubric(self.config.invocation_params.dir)
            required = setting(self.config, "bpn_require_confinement")[0] or None
            try:
                require: Required = False if required is None else parse_required("" if required == "all" else required)
                settings = (
                    load_rubric(base / rubric if rubric else found),
                    not setting(self.config, "bpn_no_sandbox")[0],
                    require,
                )
            except (RubricError, ValueError) as error:
                raise pytest.UsageError(str(error)) from None
            self._settings = settings
        return self._settings

    def submission(self) -> Path:
        """The submission the options name, checked once as `backprop-ninja grade` checks it."""
        from grader.exercises.catalogue import modules_of
        from grader.handins.submissions import SubmissionError, given

        if self._submission is None:
            name, base = setting(self.config, "bpn_submission")
            try:
                self._submission, warning = given(base / name, modules_of(self.settings[0].graded))
            except SubmissionError as error:
                raise pytest.UsageError(
                    f"{error}, with --bpn-submission (or bpn_submission in the pytest settings)"
                ) from None
            if warning:
                warnings.warn(pytest.PytestConfigWarning(warning), stacklevel=2)
        return self._submission

    @property
    def grader(self) -> Grader:
        if self._grader is None:
            from grader.grading.grader import Grader
            from grader.handins.submissions import SubmissionError
            from grader.sandbox.client import ConfinementError, SandboxError

            rubric, sandbox, require = self.settings
            try:
                self._grader = Grader(self.submission(), rubric, sandbox, self.seed, require)
            except (ConfinementError, SandboxError, SubmissionError) as error:
                raise pytest.UsageError(str(error)) from None
        return self._grader

    def result(self, item_id: str) -> ItemResult:
        """The result of one id; should the sandbox's zygote die or stop answering, the
        grader starts again with a new one, once. (An xdist worker that cannot grade at
        all, for want of a required layer, fails each test with the reason.)"""
        from grader.grading.results import ItemResult
        from grader.sandbox.zygote import SandboxLost

        try:
            return self.grader.item(item_id)
        except pytest.UsageError as error:
            pytest.fail(str(error), pytrace=False)
        except SandboxLost:
            self._restart()
        try:
            return self.grader.item(item_id)
        except SandboxLost as lost:
            self._restart()
            why = f"the grading sandbox failed twice: {lost}"
            return ItemResult(item_id, 0.0, self.grader.rubric.points[item_id], "error", why)

    def reported_property(self, result: ItemResult) -> dict[str, Any]:
        """What the summary's table needs of one result, as plain data that crosses from
        an xdist worker to the controller."""
        runner = self.grader.runner
        return {
            "item": {k: v for k, v in asdict(result).items() if k not in ("gradients", "detail", "printed")},
            "submission": self.grader.handed.name,
            "sandboxed": runner.sandboxed,
            "seed": self.grader.seed,
            "tolerance": self.grader.rubric.tolerance,
            "confinement": [asdict(layer) for layer in runner.confinement.layers],
            "notes": list(self.grader.handed.notes),
        }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Each id's result as its test reported it: the score table is built from
        these, on xdist's controller too. (The state is registered as a plugin.)"""
        if report.when == "call":
            self.reported += [cast(dict, value) for name, value in report.user_properties if name == PROPERTY]

    def _restart(self) -> None:
        self.close()
        self._grader = None

    def close(self) -> None:
        if self._grader is not None:
            self._grader.close()


STATE = pytest.StashKey[GradingState]()

# (option, ini key and dest, help, ini type, what argparse takes)
SETTINGS: tuple[tuple[str, str, str, Literal["string", "bool"], dict[str, Any]], ...] = (
    ("--bpn-submission", "bpn_submission", HELP_SUBMISSION, "string", {"metavar": "PATH"}),
    ("--bpn-rubric", "bpn_rubric", HELP_RUBRIC, "string", {"metavar": "FILE"}),
    ("--bpn-no-sandbox", "bpn_no_sandbox", HELP_NO_SANDBOX, "bool", {"action": "store_true", "default": None}),
    ("--bpn-seed", "bpn_seed", HELP_SEED, "string", {"type": int, "metavar": "SEED"}),
    ("--bpn-require-confinement", "bpn_require_confinement", HELP_REQUIRE, "string",
     {"nargs": "?", "const": "all", "metavar": "LAYERS"}),
)  # fmt: skip
DEFAULTS = {
    "bpn_submission": "exercises",
    "bpn_rubric": "",
    "bpn_no_sandbox": False,
    "bpn_seed": "",
    "bpn_require_confinement": "",
}


def setting(config: pytest.Config, key: str) -> tuple[Any, Path]:
    """A setting and the folder a path in it is relative to: the command line's (relative
    to where pytest was started) over the ini file's (relative to the project's root, so
    that pytest run from inside exercises/ still finds exercises/)."""
    given = config.getoption(key)
    if given is not None:
        return given, config.invocation_params.dir
    base = config.inipath.parent if config.inipath else config.rootpath
    return config.getini(key), base


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-ninja", "grading the backprop ninja exercises (pytest grader)")
    for option, key, text, kind, argparse_args in SETTINGS:
        group.addoption(option, dest=key, help=text, **{"default": None, **argparse_args})
        parser.addini(key, help=f"{text} (as {option})", type=kind, default=DEFAULTS[key])


def pytest_configure(config: pytest.Config) -> None:
    state = config.stash[STATE] = GradingState(config)
    config.pluginmanager.register(state, "backprop-ninja-state")
    # A run aimed at the exercise tests is checked before anything starts: under xdist,
    # the workers collect, and a usage error there would crash the run.
    if _aims_at_exercises(config) and not hasattr(config, "workerinput"):
        state.check(build=False)


def _aims_at_exercises(config: pytest.Config) -> bool:
    package = Path(__file__).resolve().parent.parent  # the grader package, which `pytest grader` names
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == package or package in path.parents:
            return True
    return False


def pytest_report_header(config: pytest.Config) -> str | None:
    """Which rubric grades the run, when it is not the default: given, or found."""
    state = config.stash.get(STATE, None)
    if state is None or not _aims_at_exercises(config):
        return None
    sources = state.settings[0].sources
    return f"backprop-ninja rubric: {sources[-1]}" if len(sources) > 1 else None


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist's controller: every worker draws the trials of one seed."""
    node.workerinput[WORKER_SEED] = node.config.stash[STATE].seed


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The submission and the seed are checked once, before any exercise test runs: a
    wrong path is one usage error, not fifty failures."""
    if any("backprop_ninja" in getattr(item, "fixturenames", ()) for item in items):
        config.stash[STATE].check(build=not hasattr(config, "workerinput"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One exercise test per id of the rubric, once it has put its course's exercises
    into the catalogue."""
    if "exercise_id" in metafunc.fixturenames and "backprop_ninja" in metafunc.fixturenames:
        rubric = metafunc.config.stash[STATE].settings[0]
        metafunc.parametrize("exercise_id", list(rubric.points))


@pytest.fixture(scope="session")
def backprop_ninja(pytestconfig: pytest.Config) -> GradingState:
    """The grading state of this pytest session."""
    return pytestconfig.stash[STATE]


@pytest.hookimpl(optionalhook=True)
def pytest_json_runtest_metadata(item: pytest.Item, call: pytest.CallInfo) -> dict[str, Any] | None:
    """Each exercise test's score and diagnosis, for pytest-json-report."""
    result = item.stash.get(RESULT, None)
    if call.when != "call" or result is None:
        return None
    return {
        "id": result.id,
        "score": result.score,
        "max_score": result.max_score,
        "status": result.status,
        "message": result.message,
        "diagnosis": result.diagnosis.code if result.diagnosis else None,
        "hint": result.diagnosis.hint if result.diagnosis else "",
        "seed": item.config.stash[STATE].seed,
    }


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.reported:
        return
    from grader.exercises import catalogue
    from grader.grading.diagnosis import Diagnosis
    from grader.grading.results import ItemResult, Report
    from grader.reporting import reports
    from grader.sandbox.confinement import Layer

    order = {item_id: n for n, item_id in enumerate(catalogue.IDS)}
    results = sorted(state.reported, key=lambda r: order.get(r["item"]["id"], len(order)))
    items = tuple(
        ItemResult(
            **{**r["item"], "diagnosis": Diagnosis(**r["item"]["diagnosis"]) if r["item"]["diagnosis"] else None}
        )
        for r in results
    )
    first = results[0]
    report = Report(
        first["submission"],
        items,
        first["tolerance"],
        first["sandboxed"],
        seed=first["seed"],
        confinement=tuple(Layer(**layer) for layer in first["confinement"]),
        notes=tuple(first["notes"]),
    )
    terminalreporter.section("backprop-ninja scores")
    table = reports.table(report, color=terminalreporter.hasmarkup)
    terminalreporter.write(table.replace("(--seed ", "(--bpn-seed ", 1))
