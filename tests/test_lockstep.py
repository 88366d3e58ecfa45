"""ex4.training: SGD driven by the student's mlp_backward must follow SGD driven by autograd."""

import torch

from grader.exercises.rubric import load_rubric
from grader.grading import lockstep
from grader.grading.grader import grade
from grader.sandbox.inprocess import InProcess
from tests.conftest import SOLUTIONS

SEED = 12345


def in_process():
    return InProcess(SOLUTIONS, load_rubric().limits)


def test_the_synthetic_task_is_learnt_in_the_check_s_few_steps():
    limits = load_rubric().limits
    losses, _, ref_losses, _ = lockstep.lockstep(in_process(), lambda: limits, SEED)
    assert len(losses) == len(ref_losses) == lockstep.STEPS
    assert sum(ref_losses[-20:]) / 20 < 0.6 * ref_losses[0]


def test_the_solution_follows_autograd_to_well_within_the_tolerance():
    limits = load_rubric().limits
    comparisons, failures = lockstep.check(in_process(), 1e-4, lambda: limits, SEED)
    assert failures == []
    assert [c.name for c in comparisons["training"]] == ["loss curve", *lockstep.model.PARAMETERS]
    assert max(c.error for c in comparisons["training"]) < 1e-5


def test_a_gradient_that_is_slightly_off_makes_the_training_fail(make_submission):
    code = (
        "_reference_mlp_backward = mlp_backward\n"
        "def mlp_backward(fwd):\n"
        "    grads = _reference_mlp_backward(fwd)\n"
        "    return {**grads, 'W2': grads['W2'] * 1.01}\n"
    )
    item = grade(make_submission(append={"ex4_train": code}), ids=["ex4.training"]).items[0]
    assert item.score == 0 and item.status == "failed"
    assert "drifts from autograd's from step" in item.message


def test_a_missing_gradient_stops_the_run_at_the_first_step_with_a_reason(make_submission):
    code = "def mlp_backward(fwd):\n    return {'C': torch.zeros_like(fwd.C)}\n"
    item = grade(make_submission(append={"ex4_train": code}), ids=["ex4.training"]).items[0]
    assert item.score == 0 and item.status == "failed"
    assert "step 1" in item.message and "'W1'" in item.message


def test_the_batches_are_the_same_for_one_seed_and_differ_between_seeds():
    first, second, other = lockstep.batches(SEED), lockstep.batches(SEED), lockstep.batches(SEED + 1)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, second))
    assert not torch.equal(first[0][0], other[0][0])
