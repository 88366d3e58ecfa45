"""Exercise 4 for real: `backprop-ninja train` trains the lecture's network with nothing
but the submission's mlp_backward."""

import shutil
from dataclasses import replace

import pytest
import torch

from grader.exercises import training as train
from grader.exercises.rubric import load_rubric
from grader.frontends.cli import main
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


def test_autograd_in_mlp_backward_stops_the_training(tmp_path, capsys):
    folder = tmp_path / "cheat"
    shutil.copytree(SOLUTIONS, folder)
    with open(folder / "ex4_train.py", "a") as f:
        f.write(
            "\n\n_right = mlp_backward\ndef mlp_backward(fwd):\n    x = fwd.logits.clone().requires_grad_()\n"
            "    with torch.enable_grad():\n        (x * 2).sin().sum().backward()\n"
            "    return _right(fwd)\n"
        )
    assert main(["train", "--submission", str(folder), "--steps", "1000", "--data", str(NAMES)]) == 1
    assert "uses autograd" in capsys.readouterr().out


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
    seconds = train.time_limit(200_000)
    limits = replace(load_rubric().limits, wall_time=seconds, cpu_time=seconds)
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
