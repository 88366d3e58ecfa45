"""The trials hold the quirks that catch the subtle mistakes (spec/comparison.md)."""

import pytest
import torch

from grader import catalogue, model, trials
from grader.trials import TrialData

ALL = sorted({t for e in catalogue.EXERCISES for t in e.trials}, key=lambda t: t.seed)
UNTIED = [t for t in ALL if not t.ties]


@pytest.mark.parametrize("trial", ALL, ids=lambda t: t.label)
def test_every_trial_repeats_tokens_and_has_three_distinct_contexts(trial):
    data = TrialData(trial)
    assert data.Xb.numel() > trial.shape.V  # so some token occurs twice
    assert len(torch.unique(data.Xb, dim=0)) >= min(3, trial.shape.n)


@pytest.mark.parametrize("trial", UNTIED, ids=lambda t: t.label)
def test_the_exploded_and_fused_passes_agree(trial):
    data = TrialData(trial)
    for name in model.FUSED:
        torch.testing.assert_close(data.exploded[name], data.fused[name])


def test_sizes_other_than_the_lectures_are_checked_everywhere():
    for exercise in catalogue.EXERCISES:
        assert {t.shape.n for t in exercise.trials} - {32}, exercise.function
        assert {t.shape.V for t in exercise.trials} - {27}, exercise.function
        assert min(t.shape.n for t in exercise.trials) <= 3, exercise.function
        assert all(t.shape.H != t.shape.V for t in exercise.trials)


def test_the_small_variance_trial_puts_some_batch_variances_below_eps():
    bnvar = TrialData(trials.WIDE).exploded["bnvar"]
    assert (bnvar[0, : trials.SMALL_VARIANCE_COLUMNS] < model.EPS).all()
    assert (bnvar[0, trials.SMALL_VARIANCE_COLUMNS :] > model.EPS).all()


def test_the_ties_trial_has_rows_with_several_maxima_and_an_all_equal_row():
    logits = TrialData(trials.TIES).exploded["logits"]
    maxima = (logits == logits.max(1, keepdim=True).values).sum(1)
    assert (maxima >= 2).sum() >= 4
    assert maxima[-1] == logits.shape[1]


def test_n_equal_2_is_only_used_where_nothing_flows_back_through_batchnorm():
    batchnorm = {"hpreact_backward", "bnraw_backward", "bnvar_inv_backward", "bnvar_backward", "bndiff2_backward",
                 "bndiff_backward", "bnmeani_backward", "manual_backward", "batchnorm_backward", "mlp_backward"}  # fmt: skip
    for exercise in catalogue.EXERCISES:
        if exercise.function in batchnorm:
            assert 2 not in {t.shape.n for t in exercise.trials}, exercise.function


def test_the_same_trial_gives_the_same_values_and_upstream_every_time():
    a, b = TrialData(trials.SMALL), TrialData(trials.SMALL)
    for name, value in a.exploded.items():
        assert torch.equal(value, b.exploded[name]), name
    assert torch.equal(a.upstream(a.exploded["h"], "h_backward"), b.upstream(b.exploded["h"], "h_backward"))
    assert not torch.equal(a.upstream(a.exploded["h"], "h_backward"), a.upstream(a.exploded["h"], "x"))
