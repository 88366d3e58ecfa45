"""The trials hold the quirks that catch the subtle mistakes (README: "How a gradient is checked"), are
drawn anew from every run's secret seed, and keep clear of what would blur a verdict on
every draw."""

import pytest
import torch

from grader.exercises import catalogue, model, trials
from grader.exercises.seeds import new_seed
from grader.exercises.trials import TrialData

ALL = sorted({t for e in catalogue.EXERCISES for t in e.trials}, key=lambda t: t.salt)
UNTIED = [t for t in ALL if not t.ties]
SEEDS = [new_seed() for _ in range(4)]  # fresh each session: the properties hold on any draw
# Named by place, not value, so that the test ids agree between pytest-xdist's workers.
DRAW_IDS = [f"draw{i + 1}" for i in range(len(SEEDS))]


@pytest.mark.parametrize("seed", SEEDS, ids=DRAW_IDS)
@pytest.mark.parametrize("trial", ALL, ids=lambda t: t.label)
def test_every_draw_repeats_tokens_has_three_distinct_contexts_and_keeps_clear_of_ties_and_eps(trial, seed):
    data = TrialData(trial, seed)
    assert data.Xb.numel() > trial.shape.V, seed  # so some token occurs twice
    assert len(torch.unique(data.Xb, dim=0)) >= min(3, trial.shape.n), seed
    values = data.exploded
    if not trial.ties:
        top = values["logits"].topk(2, dim=1).values
        assert ((top[:, 0] - top[:, 1]) >= trials.LOGIT_GAP).all(), seed
    variance = values["bnvar"].flatten()[trials.SMALL_VARIANCE_COLUMNS if trial.small_variance else 0 :]
    if trial.shape.n > 2:
        assert (variance >= trials.LEAST_VARIANCE).all(), seed


@pytest.mark.parametrize("trial", UNTIED, ids=lambda t: t.label)
def test_the_exploded_and_fused_passes_agree(trial):
    data = TrialData(trial, SEEDS[0])
    for name in model.FUSED:
        torch.testing.assert_close(data.exploded[name], data.fused[name])


def test_sizes_other_than_the_lectures_are_checked_everywhere():
    for exercise in catalogue.EXERCISES:
        assert {t.shape.n for t in exercise.trials} - {32}, exercise.function
        assert {t.shape.V for t in exercise.trials} - {27}, exercise.function
        assert min(t.shape.n for t in exercise.trials) <= 3, exercise.function
        assert all(t.shape.H != t.shape.V for t in exercise.trials)


@pytest.mark.parametrize("seed", SEEDS, ids=DRAW_IDS)
def test_the_small_variance_trial_puts_some_batch_variances_below_eps(seed):
    bnvar = TrialData(trials.WIDE, seed).exploded["bnvar"]
    assert (bnvar[0, : trials.SMALL_VARIANCE_COLUMNS] < model.EPS).all()
    assert (bnvar[0, trials.SMALL_VARIANCE_COLUMNS :] > model.EPS).all()


@pytest.mark.parametrize("seed", SEEDS, ids=DRAW_IDS)
def test_the_ties_trial_has_rows_with_several_maxima_and_an_all_equal_row(seed):
    logits = TrialData(trials.TIES, seed).exploded["logits"]
    maxima = (logits == logits.max(1, keepdim=True).values).sum(1)
    assert (maxima >= 2).sum() >= 4
    assert maxima[-1] == logits.shape[1]


def test_n_equal_2_is_only_used_where_nothing_flows_back_through_batchnorm():
    batchnorm = {
        "hpreact_backward",
        "bnraw_backward",
        "bnvar_inv_backward",
        "bnvar_backward",
        "bndiff2_backward",
        "bndiff_backward",
        "bnmeani_backward",
        "manual_backward",
        "batchnorm_backward",
        "mlp_backward",
    }
    for exercise in catalogue.EXERCISES:
        if exercise.function in batchnorm:
            assert 2 not in {t.shape.n for t in exercise.trials}, exercise.function


def test_one_seed_gives_the_same_values_and_upstream_every_time():
    a, b = TrialData(trials.SMALL, 7), TrialData(trials.SMALL, 7)
    for name, value in a.exploded.items():
        assert torch.equal(value, b.exploded[name]), name
    assert torch.equal(a.upstream(a.exploded["h"], "h_backward"), b.upstream(b.exploded["h"], "h_backward"))
    assert not torch.equal(a.upstream(a.exploded["h"], "h_backward"), a.upstream(a.exploded["h"], "x"))


def test_every_run_draws_other_values_so_no_table_of_answers_can_be_made_in_advance():
    seeds = {new_seed() for _ in range(20)}
    assert len(seeds) == 20
    first, second = (TrialData(trials.LECTURE, seed) for seed in sorted(seeds)[:2])
    assert not torch.equal(first.exploded["logits"], second.exploded["logits"])
    assert not torch.equal(
        first.upstream(first.exploded["h"], "h_backward"), second.upstream(second.exploded["h"], "h_backward")
    )
