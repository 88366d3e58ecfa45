"""The `backprop-ninja` command: grade, check, batch, merge, train, list, stubs, release,
gradescope, doctor.

Exit codes: 0 everything asked for is right, 1 something is not (yet) right, 2 the
command itself was wrong (a missing folder, a bad rubric, an unknown id), 130 a batch
stopped with Ctrl-C.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from grader.calls.files import write_atomically
from grader.calls.limits import BUDGET_HELP, LIMIT_HELP, TRAINING_LIMIT_HELP, training_limits
from grader.calls.version import __version__
from grader.exercises.seeds import LECTURE as LECTURE_SEED
from grader.frontends import shards

if TYPE_CHECKING:
    from grader.calls.call import Call
    from grader.exercises.rubric import Rubric
    from grader.exercises.training import Config
    from grader.grading.results import ItemResult, Report
    from grader.sandbox.confinement import Required

T = TypeVar("T")

EXIT_RIGHT, EXIT_WRONG, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command that Ctrl-C stopped
FORMATS = ("table", "json", "gradescope", "junit", "html", "classroom", "markdown")  # reports.FORMATS, without torch

HELP_SUBMISSION = (
    "the folder holding your ex1_atomic.py ... ex4_train.py, or your notebook (.ipynb) (default: exercises)"
)
HELP_RUBRIC = (
    "a TOML rubric overriding the default points and tolerance (see grader/rubric.toml); without it, the "
    "rubric.toml of the current folder or the nearest above it (up to a repository's root) is used"
)
HELP_ONLY = "grade only these ids; shell-style patterns and prefixes work (ex1, ex1.manual_backward.*)"
HELP_TIMING = (
    "also time each right function against autograd at n = 4096 and flag the slow ones (the rubric's [timing])"
)
HELP_NO_SANDBOX = "run student code in this process, without limits (to debug it with pdb); the report says so"
LIMIT_FLAGS = (
    ("--timeout", "wall_time", float, "SECONDS"),
    ("--cpu-time", "cpu_time", float, "SECONDS"),
    ("--memory", "memory", int, "MB"),
    ("--output-limit", "output", int, "KB"),
)
HELP_SEED = "draw the trials from this seed, to repeat a run (the report of every run names its seed)"
HELP_REQUIRE = (
    "refuse to grade unless student code is confined by these layers (comma-separated; without a value: every "
    "layer but pid_namespace, identity only as root); `backprop-ninja doctor` lists them"
)


class UsageError(Exception):
    """A mistake in how the command was called, reported without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = list(sys.argv[1:] if argv is None else argv)
    if getattr(args, "early_zygote", False) and not getattr(args, "no_sandbox", False):
        from grader.sandbox import zygote

        zygote.start()  # its torch import runs beside this process's own
    try:
        return args.run(args)
    except UsageError as error:
        print(f"backprop-ninja: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backprop-ninja",
        description="Grade the backprop ninja exercises against PyTorch autograd.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    grade = commands.add_parser("grade", help="grade a submission and print a score per exercise id")
    grade.add_argument("--submission", default="exercises", metavar="DIR", help=HELP_SUBMISSION)
    grade.add_argument(
        "--format",
        action="append",
        choices=FORMATS,
        metavar="FORMAT",
        help=f"the report's format: {', '.join(FORMATS)} (default: table); repeat it, "
        "with one --output each, for several reports",
    )
    grade.add_argument(
        "--output",
        action="append",
        metavar="FILE",
        help="write the report there (one per --format, in order); the table still goes to the terminal",
    )
    grade.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC)
    grade.add_argument("--only", nargs="+", action="extend", metavar="ID", help=HELP_ONLY)
    grade.add_argument("-v", "--verbose", action="store_true", help="also print the traceback of every error")
    grade.add_argument("--timing", action="store_true", help=HELP_TIMING)
    add_running_options(grade)
    grade.set_defaults(run=run_grade, early_zygote=True)

    batch = commands.add_parser("batch", help="grade a folder of submissions into a gradebook, on every core")
    batch.add_argument(
        "submissions",
        metavar="SUBMISSIONS",
        help="a folder holding one folder, archive (.zip, .tar.gz) or notebook (.ipynb) per submission",
    )
    batch.add_argument("--out", required=True, metavar="DIR", help="where gradebook.csv, summary.md and reports/ go")
    batch.add_argument(
        "--jobs",
        type=_positive(int),
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes grading at once (default: the number of cores)",
    )
    batch.add_argument("--force", action="store_true", help="grade again the submissions that have a report already")
    batch.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC)
    batch.add_argument("--shard", type=_shard, metavar="K/N", help="grade only the K-th of N shares (needs --seed)")
    add_running_options(batch)
    batch.set_defaults(run=run_batch)

    merge = commands.add_parser("merge", help="merge the folders of `batch --shard K/N` into one class's gradebook")
    merge.add_argument("shards", nargs="+", metavar="SHARD_DIR", help="the --out folder of every shard, 1 to N")
    merge.add_argument("--out", required=True, metavar="DIR", help="a new folder for gradebook.csv, summary.md ...")
    merge.set_defaults(run=run_merge)

    tr = commands.add_parser("train", help="train the lecture's network with your mlp_backward alone")
    tr.add_argument("--submission", default="exercises", metavar="DIR", help=HELP_SUBMISSION)
    tr.add_argument("--steps", type=_positive(int), default=200_000, metavar="N", help="SGD steps (default: 200000)")
    tr.add_argument(
        "--data", metavar="PATH", help="one name per line (default: the package's names.txt, 29,910 US first names)"
    )
    tr.add_argument(
        "--seed", type=int, default=LECTURE_SEED, metavar="S", help="the generator's seed (the lecture's by default)"
    )
    tr.add_argument("--plot", metavar="PNG", help="draw the loss curve (log10, averaged per 1000 steps) into this PNG")
    tr.add_argument(
        "--check-every",
        type=_positive(int),
        default=0,
        metavar="K",
        help="compare your gradients with autograd's every K steps; stop at the first wrong one",
    )
    tr.add_argument("--no-sandbox", action="store_true", help=HELP_NO_SANDBOX)
    tr.add_argument("--timeout", type=_positive(float), metavar="SECONDS", help=TRAINING_LIMIT_HELP)
    tr.set_defaults(run=run_train, early_zygote=True)

    rel = commands.add_parser(
        "release", help="write the student repository (or notebook) from solutions/ and the rubric"
    )
    rel.add_argument("out", nargs="?", metavar="OUT_DIR", help="a new or empty folder for the repository")
    rel.add_argument(
        "--notebook",
        metavar="FILE.ipynb",
        help="write the students' notebook alone there (the repository holds it too, as backprop_ninja.ipynb)",
    )
    rel.add_argument(
        "--install-from",
        default=None,
        metavar="SPEC",
        help="what the notebook's first cell has pip install where the grader is missing, as in Colab: the "
        "student repository's git+https URL, say (default: OUT_DIR's git remote origin, where OUT_DIR is a clone)",
    )
    rel.add_argument("--solutions", default="solutions", metavar="DIR", help="default: solutions")
    rel.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC + "; hidden checks stay out of the release")
    rel.set_defaults(run=run_release)

    scope = commands.add_parser(
        "gradescope", help="write Gradescope's autograder zip (hidden checks included), or try it on a submission"
    )
    scope.add_argument("zip", nargs="?", metavar="OUT.zip")
    scope.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC)
    scope.add_argument(
        "--simulate",
        metavar="SUBMISSION",
        help="run the zip (OUT.zip, or one made for the run) on this upload as Gradescope would, in a temporary "
        "/autograder tree, and print its output and results.json",
    )
    scope.set_defaults(run=run_gradescope)

    listing = commands.add_parser("list", help="list every exercise id with its points")
    listing.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC)
    listing.set_defaults(run=run_list)

    check = commands.add_parser("check", help="show every trial of one id, in the lecture's cmp style")
    check.add_argument("id", help="an exercise id, e.g. ex1.logits_backward (see `backprop-ninja list`)")
    check.add_argument("--submission", default="exercises", metavar="DIR", help=HELP_SUBMISSION)
    check.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC)
    check.add_argument(
        "--plot", metavar="PNG", help="also draw each wrong gradient, yours beside autograd's, into this PNG"
    )
    add_running_options(check)
    check.set_defaults(run=run_check, early_zygote=True)

    doctor = commands.add_parser("doctor", help="show which layers confine student code on this machine, and test them")
    doctor.add_argument("--require-confinement", nargs="?", const="all", metavar="LAYERS", help=HELP_REQUIRE)
    doctor.set_defaults(run=run_doctor, early_zygote=True)

    stubs = commands.add_parser("stubs", help="write the student's stubs from the solutions")
    stubs.add_argument("--solutions", default="solutions", metavar="DIR", help="default: solutions")
    stubs.add_argument("--exercises", default="exercises", metavar="DIR", help="default: exercises")
    stubs.add_argument("--check", action="store_true", help="write nothing; exit 1 if the stubs are out of date")
    stubs.add_argument("--rubric", metavar="FILE", help=HELP_RUBRIC + "; its course's modules get stubs too")
    stubs.set_defaults(run=run_stubs)
    return parser


def add_running_options(parser: argparse.ArgumentParser) -> None:
    """How student code runs: in confined worker processes under limits (the rubric's
    [limits] unless given here), or in this process for debugging; on which trials."""
    parser.add_argument("--no-sandbox", action="store_true", help=HELP_NO_SANDBOX)
    for flag, name, kind, unit in LIMIT_FLAGS:
        parser.add_argument(
            flag,
            dest=f"limit_{name}",
            type=_positive(kind),
            metavar=unit,
            help=f"{LIMIT_HELP[name]} (default: the rubric's [limits] {name})",
        )
    parser.add_argument(
        "--budget",
        type=_positive(float),
        metavar="SECONDS",
        help=f"{BUDGET_HELP} (default: the rubric's [limits] budget)",
    )
    parser.add_argument("--seed", type=_seed, metavar="SEED", help=HELP_SEED)
    parser.add_argument("--require-confinement", nargs="?", const="all", metavar="LAYERS", help=HELP_REQUIRE)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 1 (a report's seed), got {text!r}")
    return value


def _shard(text: str) -> shards.Shard:
    try:
        return shards.parse(text)
    except shards.ShardError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number > 0, got {text!r}")
        return value

    return parse


def run_grade(args: argparse.Namespace) -> int:
    from grader.reporting import reports

    formats, outputs = args.format or ["table"], args.output or []
    if outputs and len(outputs) != len(formats) and not (len(formats) == 1 and len(outputs) == 1):
        raise UsageError(
            f"give one --output per --format, in the same order: got {len(formats)} formats, {len(outputs)} outputs"
        )
    if not outputs and len(formats) > 1:
        raise UsageError("several --format need as many --output files")
    report = _graded(args, args.only)
    _notebook_hint(args, report)
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if outputs:
        for fmt, output in zip(formats, outputs):
            try:
                write_atomically(Path(output), reports.FORMATS[fmt](report))
            except OSError as error:
                raise UsageError(f"cannot write the {fmt} report to {output}: {error.strerror}") from None
        print(reports.table(report, color=color, verbose=args.verbose), end="")
        for fmt, output in zip(formats, outputs):
            print(f"wrote the {fmt} report to {output}")
        if reports.confinement(report):  # a run that writes reports files is an instructor's, or CI's
            print(reports.confinement(report))
    elif formats == ["table"]:
        print(reports.table(report, color=color, verbose=args.verbose), end="")
    else:
        print(reports.FORMATS[formats[0]](report), end="")
    return EXIT_RIGHT if report.passed else EXIT_WRONG


def run_batch(args: argparse.Namespace) -> int:
    from grader.frontends import batch
    from grader.frontends.progress import Progress
    from grader.handins.submissions import SubmissionError
    from grader.reporting import gradebook

    rubric = _rubric(args.rubric, args)
    out = Path(args.out)
    if args.shard and args.seed is None:
        raise UsageError(shards.NEEDS_SEED)
    try:
        outcomes = _sandboxed(
            lambda: batch.run(
                Path(args.submissions),
                out,
                rubric,
                args.jobs,
                args.force,
                not args.no_sandbox,
                Progress("graded"),
                args.seed,
                _required(args),
                args.shard,
            )
        )
    except SubmissionError as error:
        raise UsageError(str(error)) from None
    except batch.Interrupted as stopped:
        return _interrupted(str(stopped), args.command_line)
    except KeyboardInterrupt:
        return _interrupted("interrupted", args.command_line)
    graded = [o for o in outcomes if o.graded]
    failed = [o for o in graded if o.error]
    print(
        f"{len(graded)} submissions graded, {len(outcomes) - len(graded)} already graded (--force grades them "
        f"again), {len(failed)} could not be: {out / batch.GRADEBOOK}, {out / batch.SUMMARY}, {out / batch.REPORTS}/"
    )
    for outcome in failed:
        print(f"  {outcome.name}: {outcome.error}")
    noted = gradebook.tally((out / batch.GRADEBOOK).read_text(encoding="utf-8"))
    if noted:
        counts = ", ".join(f"{noted[heading]} {heading}" for heading in gradebook.NOTED if noted[heading])
        print(f"notes: {counts} (the gradebook's note column says what each is)")
    return EXIT_RIGHT


def run_merge(args: argparse.Namespace) -> int:
    from grader.frontends.merge import merge

    try:
        merged = merge([Path(folder) for folder in args.shards], Path(args.out))
    except shards.ShardError as error:
        raise UsageError(str(error)) from None
    print(
        f"merged {merged.shards} shards: {merged.submissions} submissions on seed {merged.seed}: "
        f"{Path(args.out) / 'gradebook.csv'}, {Path(args.out) / 'summary.md'}"
    )
    return EXIT_RIGHT


def _interrupted(said: str, command_line: list[str]) -> int:
    """A batch stopped with Ctrl-C: one line, after the progress bar's, that says how far
    it got and the command that resumes it (the same, without --force, which would grade
    everything again)."""
    again = [arg for arg in command_line if not (len(arg) > 2 and "--force".startswith(arg))]
    start = "\n" if sys.stderr.isatty() else ""
    print(f"{start}backprop-ninja: {said}; to resume: {shlex.join(['backprop-ninja', *again])}", file=sys.stderr)
    return EXIT_INTERRUPTED


def run_train(args: argparse.Namespace) -> int:
    from grader.exercises import training as train
    from grader.frontends.progress import Progress
    from grader.grading.lockstep import check_step
    from grader.grading.timing import explained
    from grader.handins.submissions import SubmissionError, hand_in
    from grader.sandbox import open_runner

    folder = _submission(args)
    data = Path(args.data).resolve() if args.data else train.NAMES
    try:
        words = train.read_words(data)
    except train.DataError as error:
        raise UsageError(str(error)) from None
    config = train.Config(steps=args.steps, seed=args.seed, check_every=args.check_every, timeout=args.timeout or 0.0)
    limits = training_limits(_rubric(None, discover=False).limits, config.limit)
    try:
        handed = hand_in(folder)
    except SubmissionError as error:
        raise UsageError(str(error)) from None
    try:
        runner = _sandboxed(lambda: open_runner(handed.folder, limits, not args.no_sandbox))
        show = Progress("steps")
        try:
            progress = lambda p: show(int(p["step"]), int(p["steps"]), p["seconds"], p["loss"])  # noqa: E731
            call = runner.train(words, asdict(config), progress, limits, check_step)
            call = handed.origins.relocated(explained(call, handed.folder))
        finally:
            runner.close()
    finally:
        handed.close()
    return report_training(call, config, data, args.plot)


def report_training(call: Call, config: Config, data: Path, plot: str | None) -> int:
    """Print what a training run reached, and draw its curve."""
    from grader.reporting import reports

    if plot and not call.failure and call.value.get("curve"):
        from grader.reporting import pictures

        Path(plot).write_bytes(pictures.curve(call.value["curve"], config.every, f"log10 loss, {data.name}"))
        print(f"wrote the loss curve to {plot}")
    lines, reached = reports.training(call, config, "cli")
    print("\n".join(lines))
    return EXIT_RIGHT if reached else EXIT_WRONG


def run_release(args: argparse.Namespace) -> int:
    from grader.frontends import release, student_notebook
    from grader.frontends.stubs import MarkerError, expected_stubs

    if not args.out and not args.notebook:
        raise UsageError("give the folder for the student repository (OUT_DIR), or --notebook FILE.ipynb, or both")
    if args.notebook and not args.notebook.endswith(".ipynb"):
        raise UsageError(f"--notebook {args.notebook}: expected a file name ending in .ipynb")
    rubric = _rubric(args.rubric)
    try:
        install = release.install_source(Path(args.out) if args.out else None, args.install_from)
        stubs = expected_stubs(Path(args.solutions))
        student_notebook.build(stubs, install)
        if args.out:
            written = release.release(Path(args.out), Path(args.solutions), rubric, install)
        if args.notebook:
            student_notebook.write(Path(args.notebook), stubs, install)
    except (release.ReleaseError, FileNotFoundError, MarkerError, ValueError, OSError) as error:
        raise UsageError(str(error)) from None
    if args.out:
        hidden = len(rubric.hidden_items) + len(rubric.hidden_trials)
        print(
            f"wrote the student repository to {args.out}: {len(written)} files, no solution code"
            + (f"; {hidden} hidden checks kept back and announced" if hidden else "")
            + f"; in Colab its notebook's first cell installs {install}"
        )
    if args.notebook:
        print(
            f"wrote the students' notebook to {args.notebook}: the stubs, a check under each, no solution code; "
            f"in Colab its first cell installs {install}"
        )
    return EXIT_RIGHT


def run_gradescope(args: argparse.Namespace) -> int:
    import tempfile

    from grader.frontends import release, simulation

    if not args.zip and not args.simulate:
        raise UsageError("give OUT.zip to write the autograder, --simulate SUBMISSION to try it, or both")
    rubric = _rubric(args.rubric)
    with tempfile.TemporaryDirectory(prefix="backprop-ninja-zip-") as scratch:
        zip_path = Path(args.zip) if args.zip else Path(scratch) / "autograder.zip"
        try:
            names = release.gradescope(zip_path, rubric)
            if args.zip:
                print(
                    f"wrote {args.zip}: {len(names)} files; upload it as the autograder of a Gradescope "
                    "programming assignment"
                )
            if not args.simulate:
                return EXIT_RIGHT
            simulated = simulation.simulate(zip_path, Path(args.simulate))
        except (release.ReleaseError, simulation.SimulationError) as error:
            raise UsageError(str(error)) from None
    print(simulated.log, end="")
    print(simulated.summary(), end="")
    return EXIT_RIGHT if simulated.results.get("tests") and simulated.score >= simulated.max_score else EXIT_WRONG


def run_list(args: argparse.Namespace) -> int:
    from grader.exercises import catalogue

    rubric = _rubric(args.rubric)
    width = max(map(len, rubric.points))
    print(f"{'id':<{width}}  {'points':>6}  function / forward op")
    for item_id in rubric.points:
        if item_id == catalogue.TRAINING.id:
            training = catalogue.TRAINING
            what = f"{training.module}.{training.function}: {training.description}"
        else:
            exercise = catalogue.ITEM_BY_ID[item_id].exercise
            what = f"{exercise.module}.{exercise.signature}: {exercise.forward}"
        print(f"{item_id:<{width}}  {rubric.points[item_id]:>6g}  {what}")
    print(f"\n{len(rubric.points)} ids, {sum(rubric.points.values()):g} points")
    return EXIT_RIGHT


def run_check(args: argparse.Namespace) -> int:
    from grader.reporting import reports

    rubric = _rubric(args.rubric, args)  # its course's ids join the catalogue before the id is looked up
    matches = select([args.id], rubric)
    if len(matches) > 1:
        raise UsageError(f"check takes one id; {args.id!r} matches {len(matches)}: {', '.join(matches[:5])} ...")
    (item_id,) = matches
    result = _graded(args, [item_id], rubric).items[0]
    print(reports.checked(result), end="")
    if args.plot:
        plot(result, Path(args.plot))
    return EXIT_RIGHT if result.status == "passed" else EXIT_WRONG


def plot(result: ItemResult, path: Path) -> None:
    """The picture of every wrong gradient of one id, into a PNG."""
    from grader.reporting import pictures

    drawn = [
        (g.name, g.example.got, g.example.expected, g.example.trial, g.diagnosis)
        for g in result.gradients
        if g.example is not None
    ]
    if not drawn:
        print(f"nothing to plot for {result.id}: no gradient was a wrong tensor of the right shape")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pictures.pictures(drawn))
    print(f"wrote the picture of {len(drawn)} gradient(s) to {path}")


def run_stubs(args: argparse.Namespace) -> int:
    from grader.frontends import stubs

    _rubric(args.rubric)  # its course's exercises join the catalogue
    solutions, exercises = Path(args.solutions), Path(args.exercises)
    try:
        if args.check:
            stale = stubs.drift(solutions, exercises)
            for name in stale:
                print(f"{exercises / name} is out of date: run `backprop-ninja stubs`")
            return EXIT_WRONG if stale else EXIT_RIGHT
        for path in stubs.write_stubs(solutions, exercises):
            print(f"wrote {path}")
    except (FileNotFoundError, stubs.MarkerError, stubs.SolutionError) as error:
        raise UsageError(str(error)) from None
    return EXIT_RIGHT


def select(patterns: Sequence[str] | None, rubric: Rubric | None = None) -> list[str]:
    """The ids that the patterns name among the rubric's (the catalogue's without one):
    exact ids, shell-style patterns, or prefixes; with no pattern, the ids it grades."""
    from grader.exercises import catalogue

    known = list(rubric.points) if rubric is not None else list(catalogue.IDS)
    if not patterns:
        return list(rubric.graded) if rubric is not None else known
    chosen = []
    for pattern in patterns:
        found = [i for i in known if fnmatch.fnmatchcase(i, pattern) or i.startswith(f"{pattern}.")]
        if not found:
            raise UsageError(f"no exercise id matches {pattern!r}: `backprop-ninja list` shows them all")
        chosen += [i for i in found if i not in chosen]
    return chosen


def _rubric(path: str | None, args: argparse.Namespace | None = None, discover: bool = True) -> Rubric:
    """The rubric at `path` (or, with `discover`, the rubric.toml found from the current
    folder up) over the default, with the limits and timing given on the command line."""
    from grader.exercises.rubric import RubricError, find_rubric, load_rubric

    found = find_rubric(Path.cwd()) if path is None and discover else None
    if found is not None:
        print(
            f"backprop-ninja: rubric: {found} (found from the current folder; --rubric FILE overrides)", file=sys.stderr
        )
    try:
        rubric = load_rubric(path or found)
    except RubricError as error:
        raise UsageError(str(error)) from None
    given = {
        name: getattr(args, f"limit_{name}") for _, name, _, _ in LIMIT_FLAGS if getattr(args, f"limit_{name}", None)
    }
    if given:
        rubric = replace(rubric, limits=replace(rubric.limits, **given))
    budget = getattr(args, "budget", None)
    if budget:
        rubric = replace(rubric, budget=budget)
    if getattr(args, "timing", False):
        rubric = replace(rubric, timing=replace(rubric.timing, enabled=True))
    return rubric


def _submission(args: argparse.Namespace, ids: Sequence[str] = ()) -> Path:
    """What --submission names: a notebook, or a folder of modules or notebooks (the
    folder below it that holds the modules is found when grading); `ids`, the ids to be
    graded, whose modules it should hold (any of the catalogue's if none)."""
    from grader.exercises.catalogue import modules_of
    from grader.handins.submissions import SubmissionError, given

    try:
        path, warning = given(args.submission, modules_of(ids))
    except SubmissionError as error:
        raise UsageError(f"{error}, with --submission") from None
    if warning:
        print(f"backprop-ninja: warning: {warning}", file=sys.stderr)
    return path


def _graded(args: argparse.Namespace, only: Sequence[str] | None, rubric: Rubric | None = None) -> Report:
    """The report of --submission on the ids `only` names (all the rubric grades by
    default): graded with the command line's rubric (or `rubric`), limits, seed and
    confinement."""
    from grader.grading.grader import grade

    rubric = rubric or _rubric(args.rubric, args)
    ids = select(only, rubric)
    folder = _submission(args, ids)
    return _sandboxed(lambda: grade(folder, rubric, ids, not args.no_sandbox, args.seed, _required(args)))


def _notebook_hint(args: argparse.Namespace, report: Report) -> None:
    """A folder where nothing is written yet, beside a notebook that holds work: the
    student did the notebook, and --submission names it (or every id scores 0)."""
    from grader.handins.submissions import worked_notebooks

    if not report.items or any(item.status != "not_implemented" for item in report.items):
        return
    found = worked_notebooks(Path(args.submission))
    if found:
        print(
            f"backprop-ninja: note: every function in {args.submission} is still a stub, and {found[0].name} "
            f"holds your work: grade the notebook with  backprop-ninja grade --submission {shlex.quote(str(found[0]))}",
            file=sys.stderr,
        )


def _required(args: argparse.Namespace) -> Required:
    """What --require-confinement asks for: False when not given."""
    from grader.sandbox.confinement import parse_required

    if getattr(args, "require_confinement", None) is None:
        return False
    try:
        return parse_required("" if args.require_confinement == "all" else args.require_confinement)
    except ValueError as error:
        raise UsageError(f"--require-confinement: {error}") from None


def _sandboxed(make: Callable[[], T]) -> T:
    """make(), with the sandbox's refusals (a required layer missing, a worker that
    cannot start, a submission too large to copy) as usage errors."""
    from grader.handins.submissions import SubmissionError
    from grader.sandbox.client import ConfinementError, SandboxError

    try:
        return make()
    except ConfinementError as error:
        raise UsageError(f"{error}\n`backprop-ninja doctor` shows what this machine gives") from None
    except SandboxError as error:
        raise UsageError(f"{error}\nrun `backprop-ninja doctor`, or grade with --no-sandbox") from None
    except SubmissionError as error:
        raise UsageError(str(error)) from None


def run_doctor(args: argparse.Namespace) -> int:
    """The confinement this machine gives student code, each layer tried from inside a
    worker."""
    import platform
    import tempfile

    from grader.sandbox.client import Sandbox
    from grader.sandbox.confinement import LAYERS

    rubric = _rubric(None, discover=False)
    print(
        f"backprop-ninja {__version__} on {platform.system()} {platform.release()} ({platform.machine()}), "
        f"Python {platform.python_version()} at {sys.prefix}, uid {os.geteuid()}"
    )
    with tempfile.TemporaryDirectory(prefix="backprop-ninja-doctor-") as empty:
        sandbox = _sandboxed(lambda: Sandbox(empty, rubric.limits))
        try:
            probes = sandbox.probe()
        finally:
            sandbox.close()
    confinement = sandbox.confinement
    width = max(map(len, LAYERS))
    print(f"\nconfinement: {confinement.summary()}")
    for layer in confinement.layers:
        print(f"  {layer.name:<{width}}  {'on ' if layer.active else 'off'}  {layer.detail}")
    print("\ntried from inside a confined worker:")
    for what, outcome in probes.items():
        print(f"  {what:<42} {outcome}")
    allowed = [what for what, outcome in probes.items() if not outcome.startswith("blocked")]
    required = _required(args)
    missing = [] if required is False else confinement.missing(required)
    if missing:
        print(f"\nmissing for --require-confinement: {', '.join(layer.name for layer in missing)}")
    if allowed:
        print(f"\nnot blocked here: {', '.join(allowed)}")
    return EXIT_WRONG if missing else EXIT_RIGHT
