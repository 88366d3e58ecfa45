"""Exercise 4 for real: `backprop-ninja train` trains the lecture's network with nothing
but the submission's mlp_backward."""

import re
import shutil
from dataclasses import replace

import pytest
import torch

from grader.calls.limits import MORE_TIME, training_limit, training_limits
from grader.exercises import training as train
from grader.exercises.rubric import load_rubric
from grader.frontends import release
from grader.frontends.cli import main
from grader.frontends.student_notebook import TRAINING_CELL
from grader.grading import timing
from grader.sandbox.client import Sandbox
from grader.sandbox.inprocess import InProcess
from tests.conftest import ROOT, SOLUTIONS

NAMES = train.NAMES
LECTURE_NAMES = ROOT.parent / "shared" / "data" / "names.txt"
WRONG = ROOT / "tests" / "formulations" / "wrong"
WORDS = train.read_words(NAMES)


def with_mistake(tmp_path, name):
    folder = tmp_path / name
    shutil.copytree(SOLUTIONS, folder)
    with open(folder / "ex4_train.py", "a") as f:
        f.write("\n\n" + (WRONG / f"{name}.py").read_text())
    return folder


def test_the_data_is_split_as_in_the_lecture():
    data = train.load(NAMES)
    assert data.itos[0] == "." and len(data.itos) == 27
    assert [len(split[0]) for split in (data.train, data.dev, data.test)] == [171806, 21500, 21458]
    assert data.train[0].shape[1] == 3 and data.train[0].dtype == torch.int64


@pytest.mark.parametrize("text, problem", [(None, "no names file"), ("ab\n", "holds 1 names"), ("a.b\n" * 20, "'.'")])
def test_a_names_file_that_cannot_be_trained_on_is_refused(tmp_path, text, problem):
    path = tmp_path / "names.txt"
    if text is not None:
        path.write_text(text)
    with pytest.raises(train.DataError, match=problem):
        train.load(path)


def test_a_short_run_with_the_solutions_brings_the_loss_down():
    call = InProcess(SOLUTIONS, load_rubric().limits).train(WORDS, {**vars(train.Config(steps=3000))})
    result = call.value
    assert result["stopped"] is None and result["steps_done"] == 3000
    assert result["curve"][0] > result["curve"][-1]
    assert result["train_loss"] < 2.40 and result["val_loss"] < 2.40  # measured: 2.33 and 2.33
    assert len(result["samples"]) == 20 and all(set(s) <= set("abcdefghijklmnopqrstuvwxyz") for s in result["samples"])


def test_the_sandbox_and_the_grader_process_train_to_the_same_figures():
    config = {**vars(train.Config(steps=1500, samples=3))}
    limits = load_rubric().limits
    inside = InProcess(SOLUTIONS, limits).train(WORDS, config).value
    seen = []
    with Sandbox(SOLUTIONS, limits) as sandbox:
        outside = sandbox.train(WORDS, config, seen.append).value
        unheard = sandbox.train(WORDS, config).value  # the progress reports are read past
    assert inside["curve"] == outside["curve"] == unheard["curve"] and inside["samples"] == outside["samples"]
    assert [p["step"] for p in seen] == [1000.0, 1500.0]


def test_a_wrong_gradient_visibly_fails_to_train(tmp_path, capsys):
    folder = with_mistake(tmp_path, "mlp_backward_tanh_derivative_of_hpreact")
    assert main(["train", "--submission", str(folder), "--steps", "5000", "--data", str(NAMES)]) == 1
    out = capsys.readouterr().out
    assert "stopped at step" in out and "inf or nan" in out


def test_check_every_stops_at_the_first_wrong_step_and_names_the_parameter(tmp_path, capsys):
    folder = with_mistake(tmp_path, "mlp_backward_dC_fancy_index")
    args = ["train", "--submission", str(folder), "--steps", "5000", "--data", str(NAMES), "--check-every", "1000"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "stopped at step 0: at step 0, your gradient of C (relative error" in out


def test_check_every_reports_the_largest_difference_per_parameter(tmp_path, capsys):
    plot = tmp_path / "loss.png"
    args = [
        "train",
        "--submission",
        str(SOLUTIONS),
        "--steps",
        "2000",
        "--data",
        str(NAMES),
        "--check-every",
        "500",
        "--plot",
        str(plot),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "autograd checks: 4, every 500 steps" in out and "bnbias" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"


# Ways mlp_backward may reach for autograd: each stops the run, in a worker and in the
# grader's own process (where torch's gradient operators refuse for the run's span).
AUTOGRAD_USES = {
    "backward": "x = fwd.logits.clone().requires_grad_()\n    with torch.enable_grad():\n"
    "        (x * 2).sin().sum().backward()\n",
    "gradient_operator_caught": "try:\n        torch.ops.aten.tanh_backward(fwd.h, fwd.h)\n"
    "    except Exception:\n        pass\n",
    "forward_ad": "import torch.autograd.forward_ad as fwAD\n    with fwAD.dual_level():\n"
    "        fwAD.make_dual(fwd.h, torch.ones_like(fwd.h))\n",
}


def with_extra(tmp_path, name, body):
    """The solutions, with mlp_backward running `body` before the right gradients."""
    folder = tmp_path / name
    shutil.copytree(SOLUTIONS, folder)
    with open(folder / "ex4_train.py", "a") as f:
        f.write(f"\n\n_right = mlp_backward\ndef mlp_backward(fwd):\n    {body}    return _right(fwd)\n")
    return folder


@pytest.mark.parametrize("sandbox", [[], ["--no-sandbox"]], ids=["sandbox", "no_sandbox"])
@pytest.mark.parametrize("use", AUTOGRAD_USES)
def test_autograd_in_mlp_backward_stops_the_training(tmp_path, capsys, use, sandbox):
    folder = with_extra(tmp_path, use, AUTOGRAD_USES[use])
    assert main(["train", "--submission", str(folder), "--steps", "1000", "--data", str(NAMES), *sandbox]) == 1
    out = capsys.readouterr().out
    assert re.search(r"uses autograd|autograd is switched off|your code may not", out) and "train loss" not in out, out
    x = torch.ones(3, requires_grad=True)
    torch.tanh(x).sum().backward()  # the grader's own autograd is as it was
    assert x.grad is not None


def test_without_the_sandbox_the_autograd_checks_still_run_between_the_refused_steps(capsys):
    args = ["train", "--submission", str(SOLUTIONS), "--steps", "1000", "--data", str(NAMES), "--no-sandbox"]
    assert main([*args, "--check-every", "250"]) == 0
    assert "autograd checks: 4, every 250 steps" in capsys.readouterr().out


# The lecture's dC, a Python loop over the batch: right, and several times slower.
LECTURE_DC = (
    "dC = torch.zeros_like(fwd.C)\n    demb = torch.zeros(fwd.Xb.shape + (fwd.C.shape[1],))\n"
    "    for k in range(fwd.Xb.shape[0]):\n        for j in range(fwd.Xb.shape[1]):\n"
    "            dC[fwd.Xb[k, j]] += demb[k, j]\n"
)


def test_a_run_out_of_time_says_how_far_it_got_its_limit_and_how_to_raise_it(capsys):
    assert main(["train", "--submission", str(SOLUTIONS), "--data", str(NAMES), "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"stopped at step [\d,]+ of 200,000, running loss \d\.\d+: it reached its time limit, 1 s", out)
    assert "backprop-ninja train --timeout " in out
    assert "Python loop" not in out  # the solution's pace: nothing of the student's to blame


@pytest.mark.parametrize("sandbox", [[], ["--no-sandbox"]], ids=["sandbox", "no_sandbox"])
def test_a_slow_loop_in_mlp_backward_is_measured_and_named_with_its_fix(tmp_path, capsys, sandbox):
    folder = with_extra(tmp_path, "lecture_dc", LECTURE_DC)
    assert main(["train", "--submission", str(folder), "--data", str(NAMES), "--timeout", "2", *sandbox]) == 1
    out = capsys.readouterr().out
    line = next(i for i, text in enumerate((folder / "ex4_train.py").read_text().splitlines(), 1) if "for k" in text)
    assert f"Python loop at line {line} of ex4_train.py, like the lecture's dC loop?" in out, out
    assert "index_add_" in out and "times as long on a batch 8 times larger" in out


def test_a_step_that_never_ends_is_stopped_from_outside_with_the_figures_of_its_last_report(tmp_path):
    folder = with_extra(tmp_path, "hangs", "if fwd.loss < 3.2:\n        while True:\n            pass\n")
    config = {**vars(train.Config(every=10, timeout=1.0))}
    limits = replace(load_rubric().limits, wall_time=3.0, cpu_time=3.0)  # limits.GRACE, shortened
    with Sandbox(folder, limits) as sandbox:
        result = sandbox.train(WORDS, config, limits=limits).value
    assert result["stopped"]["kind"] == "time_limit" and result["steps_done"] > 0
    assert "mlp_backward was still running" in result["stopped"]["message"]


def test_the_pace_foretells_a_run_that_would_pass_its_limit_once_it_has_shown_itself():
    assert train.over_time(train.EARLY - 1, 10, 200_000, 660) == ""  # too early to tell
    assert train.over_time(train.EARLY + 1, 100_000, 200_000, 660) == ""  # on its way to 22 s
    late = train.over_time(train.EARLY + 1, 1000, 200_000, 660)
    assert "about 37 min, beyond its time limit of 660 s" in late
    assert train.over_time(661, 199_999, 200_000, 660) == "it reached its time limit, 660 s"


def test_a_slow_run_is_blamed_on_mlp_backward_only_where_measured(tmp_path):
    path = tmp_path / "ex4_train.py"
    path.write_text("def mlp_backward(fwd):\n    return {}\n")
    right = {"step": 2e-4, "backward": 1e-4, "growth": 3.2}
    assert timing.training_note(right, path, stopped=False) == ""
    busy = timing.training_note({**right, "step": 4e-3}, path, stopped=True)
    assert "busy" in busy and "loop" not in busy
    looping = timing.training_note({"step": 1e-3, "backward": 8e-4, "growth": 7.3}, path, stopped=False)
    assert "a Python loop in a function it calls" in looping and "index_add_" in looping


def test_the_help_and_the_notebook_state_the_limit_from_one_place(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert f"{training_limit(200_000):g} s for 200,000 steps" in " ".join(capsys.readouterr().out.split())
    assert f"stops at {training_limit(200_000):g} s" in TRAINING_CELL
    assert MORE_TIME["notebook"].format(seconds="SECONDS") in TRAINING_CELL
    assert f"its limit, {training_limit(200_000):g} s for 200,000 steps" in release._filled("README.students.md")
    students = " ".join((ROOT / "docs" / "students.md").read_text().split())
    assert f"{training_limit(200_000):g} s for 200,000 steps" in students and "--timeout SECONDS" in students


def test_a_missing_mlp_backward_is_said_plainly(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert main(["train", "--submission", str(folder), "--steps", "100", "--data", str(NAMES)]) == 1
    assert "ex4_train.py not found" in capsys.readouterr().out


@pytest.mark.slow
def test_the_full_run_reaches_the_lectures_figures_on_the_lectures_data():
    if not LECTURE_NAMES.is_file():
        pytest.skip(f"the lecture's data set is not beside the project ({LECTURE_NAMES})")
    words = train.read_words(LECTURE_NAMES)
    limits = training_limits(load_rubric().limits, training_limit(200_000))
    # In a worker, as `backprop-ninja train` runs it (sealed, it needs no guard per call).
    with Sandbox(SOLUTIONS, limits) as runner:
        result = runner.train(words, {**vars(train.Config())}, limits=limits).value
    assert result["stopped"] is None and result["steps_done"] == 200_000
    assert result["train_loss"] <= 2.08 and result["val_loss"] <= 2.12  # measured: 2.0711 and 2.1119


def test_without_the_sandbox_training_runs_on_one_thread_and_puts_the_processs_own_back(tmp_path):
    folder = tmp_path / "threads"
    shutil.copytree(SOLUTIONS, folder)
    with open(folder / "ex4_train.py", "a") as f:
        f.write(
            "\n\n_right = mlp_backward\ndef mlp_backward(fwd):\n"
            "    if not globals().get('_said'):\n"
            "        print('threads', torch.get_num_threads())\n"
            "        globals()['_said'] = True\n"
            "    return _right(fwd)\n"
        )
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # as a notebook's kernel has it
    try:
        call = InProcess(folder, load_rubric().limits).train(WORDS, {**vars(train.Config(steps=50, samples=1))})
        assert "threads 1" in call.output and torch.get_num_threads() == 2, call.output
    finally:
        torch.set_num_threads(before)
