"""Every diagnosis code is given where it applies, and never to a correct function.

Each case replaces one function of the reference solution with a small wrong one and
names the code its id must get (the process-level codes, such as timeout or crashed, are
checked by tests/test_sandbox.py). The corpus in tests/formulations/ measures precision
(benchmarks/diagnosis_precision.py).
"""

import json
import re
from collections import Counter
from importlib import resources
from typing import get_args

import pytest
import torch

from grader.calls import failures
from grader.grading import compare, diagnosis
from grader.grading.compare import shape_message
from grader.grading.diagnosis import CODES, Context, Diagnosis, aggregate, diagnose_trial
from grader.grading.grader import grade
from tests.conftest import ROOT, SANDBOX_CODES

RIGHT_CE = "_ce = cross_entropy_backward\n"
RIGHT_LOGITS = "_logits = logits_backward\n"

CASES = {
    # name: (module, code appended, the id, the code it must get, words in its message or hint)
    "not_implemented": ("ex2_cross_entropy", "def cross_entropy_backward(logits, Yb):\n    raise NotImplementedError\n",
                        "ex2.cross_entropy_backward", "not_implemented", "not implemented yet"),
    "missing": ("ex2_cross_entropy", "del cross_entropy_backward\n", "ex2.cross_entropy_backward", "missing", "has no function"),
    "exception": ("ex2_cross_entropy", "def cross_entropy_backward(logits, Yb):\n    raise ValueError('nope')\n",
                  "ex2.cross_entropy_backward", "exception", "ValueError: nope"),
    "not_a_tensor": ("ex2_cross_entropy", "def cross_entropy_backward(logits, Yb):\n    return None\n",
                     "ex2.cross_entropy_backward", "not_a_tensor", "forget to return"),
    "wrong_dtype": ("ex2_cross_entropy", "def cross_entropy_backward(logits, Yb):\n    return logits.long()\n",
                    "ex2.cross_entropy_backward", "wrong_dtype", "int64"),
    "not_finite": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return _ce(logits, Yb) / 0\n",
                   "ex2.cross_entropy_backward", "not_finite", "inf or nan"),
    "wrong_shape": ("ex1_atomic", RIGHT_LOGITS + "def logits_backward(dlogits, h, W2):\n    dh, dW2, db2 = _logits(dlogits, h, W2)\n"
                    "    return dh, dW2, db2 * torch.ones(dlogits.shape[0], 1) / dlogits.shape[0]\n",
                    "ex1.logits_backward", "wrong_shape", "right once summed over dimension 0: .sum(0)"),
    "wrong_shape_kept_dimension": ("ex1_atomic", RIGHT_LOGITS + "def logits_backward(dlogits, h, W2):\n"
                                   "    dh, dW2, db2 = _logits(dlogits, h, W2)\n    return dh, dW2, dlogits.sum(0, keepdim=True)\n",
                                   "ex1.logits_backward", "wrong_shape", "drop keepdim=True"),
    "wrong_shape_lost_dimension": ("ex1_atomic", "def bndiff_backward(dbndiff):\n    return dbndiff.clone(), -dbndiff.sum(0)\n",
                                   "ex1.bndiff_backward", "wrong_shape", "keep the dimension you sum over (keepdim=True)"),
    "ignores_upstream": ("ex1_atomic", "def loss_backward(dloss, logprobs, Yb):\n    n = logprobs.shape[0]\n"
                         "    dlogprobs = torch.zeros_like(logprobs)\n    dlogprobs[range(n), Yb] = -1.0 / n\n    return dlogprobs\n",
                         "ex1.loss_backward", "ignores_upstream", "multiply by dloss"),
    "added_upstream": ("ex1_atomic", "def h_backward(dh, h):\n    return dh + (1 - h**2)\n",
                       "ex1.h_backward", "added_upstream", "multiply the local derivative by dh"),
    "aliased": ("ex1_atomic", "_manual = manual_backward\ndef manual_backward(fwd):\n    g = _manual(fwd)\n"
                "    g['hprebn'] = g['bndiff']\n    g['hprebn'] += g['bnmeani'] / fwd.n\n    return g\n",
                "ex1.manual_backward.bndiff", "aliased", "bndiff and hprebn are one tensor"),
    "precision": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return _ce(logits, Yb).half()\n",
                  "ex2.cross_entropy_backward", "precision", "float16"),
    "missing_key": ("ex1_atomic", "_manual = manual_backward\ndef manual_backward(fwd):\n    g = _manual(fwd)\n"
                    "    del g['W1']\n    return g\n", "ex1.manual_backward.W1", "missing", "missing from the dict"),
    "transposed": ("ex1_atomic", RIGHT_LOGITS + "def logits_backward(dlogits, h, W2):\n    dh, dW2, db2 = _logits(dlogits, h, W2)\n"
                   "    return dh, dlogits.T @ h, db2\n", "ex1.logits_backward", "transposed", "swap the operands"),
    "all_zeros": ("ex2_cross_entropy", "def cross_entropy_backward(logits, Yb):\n    return torch.zeros_like(logits)\n",
                  "ex2.cross_entropy_backward", "all_zeros", "all zeros"),
    "sign": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return -_ce(logits, Yb)\n",
             "ex2.cross_entropy_backward", "sign", "negative"),
    "scaled": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return _ce(logits, Yb) * logits.shape[0]\n",
               "ex2.cross_entropy_backward", "scaled", "off by a factor n = 32 [n=32 V=27 E=10 B=3 H=64] the mean's 1/n is missing"),
    "localized": ("ex2_cross_entropy", "def cross_entropy_backward(logits, Yb):\n    return torch.softmax(logits, 1) / logits.shape[0]\n",
                  "ex2.cross_entropy_backward", "localized", "target entries"),
    "missing_term": ("ex1_atomic", "_manual = manual_backward\ndef manual_backward(fwd):\n    g = _manual(fwd)\n"
                     "    g['counts'] = probs_backward(g['probs'], fwd.counts, fwd.counts_sum_inv)[0]\n    return g\n",
                     "ex1.manual_backward.counts", "missing_term", "flows back through counts_sum"),
    "propagated": ("ex1_atomic", "def counts_sum_backward(dcounts_sum, counts):\n    return 0 * counts\n",
                   "ex1.manual_backward.norm_logits", "propagated", "follows correctly from your counts"),
    "size_dependent": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return _ce(logits, Yb) * logits.shape[0] / 32\n",
                       "ex2.cross_entropy_backward", "size_dependent", "ex2_cross_entropy.py, line 26 (`return _ce(logits, Yb) * logits.shape[0] / 32`) hard-codes 32 (n, the batch size)"),
    "size_dependent_exception": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n"
                                 "    return _ce(logits, Yb) + torch.zeros(32, 27)\n",
                                 "ex2.cross_entropy_backward", "size_dependent", "RuntimeError"),
    "close": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    d = _ce(logits, Yb)\n"
              "    return d + 1e-3 * d.abs().max() * torch.sin(torch.arange(d.numel()).view(d.shape).float())\n",
              "ex2.cross_entropy_backward", "close_but_not_within_tolerance", "close to the answer"),
    "unknown": ("ex2_cross_entropy", RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return _ce(logits, Yb) ** 2\n",
                "ex2.cross_entropy_backward", "unknown", "no pattern the grader knows"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_each_code_is_given_where_it_applies(case, make_submission):
    module, code, item_id, expected, words = CASES[case]
    item = grade(make_submission(append={module: code}), ids=[item_id]).items[0]
    assert item.diagnosis is not None and item.diagnosis.code == expected, item.message
    assert words in item.message + " " + item.diagnosis.hint, (item.message, item.diagnosis.hint)
    assert item.diagnosis.code in CODES


def test_every_code_has_a_case_here_or_in_the_sandbox_and_timing_tests():
    # slow: tests/test_timing.py; not_graded: tests/test_attacks.py; left_processes: tests/test_confinement.py;
    # known_mistake: tests/test_course.py
    elsewhere = set(SANDBOX_CODES.values()) | {"slow", "not_graded", "left_processes", "known_mistake"}
    assert set(CODES) - elsewhere - {c[3] for c in CASES.values()} == set()


def test_the_codes_are_one_list_in_the_type_the_descriptions_the_schema_and_the_diagnoses_page():
    codes = get_args(diagnosis.Code)
    assert list(CODES) == list(codes)
    schema = json.loads((resources.files("grader") / "report.schema.json").read_text())
    given = next(option for option in schema["$defs"]["diagnosis"]["oneOf"] if option["type"] == "object")
    assert given["properties"]["code"]["enum"] == list(codes)
    page = (ROOT / "docs" / "diagnoses.md").read_text()
    table = page[page.index("| code |") :].split("\n\n")[0]
    first_cells = [row.split("|")[1] for row in table.splitlines()[2:]]
    assert sorted(code for cell in first_cells for code in re.findall(r"`([a-z_]+)`", cell)) == sorted(codes)


def test_the_failure_kinds_and_problems_are_one_list_each_and_each_has_a_code():
    assert list(failures.KINDS) == list(failures.KIND_NAMES)
    assert set(diagnosis.PROBLEM_CODES) == set(compare.PROBLEMS) - {"not_close"}
    assert failures.named("forged") == "exception" and failures.named("timeout") == "timeout"


def test_a_correct_solution_never_gets_a_diagnosis(solutions_report):
    assert [i.id for i in solutions_report.items if i.diagnosis is not None] == []
    assert all(g.diagnosis is None for i in solutions_report.items for g in i.gradients)


@pytest.mark.parametrize(
    "factor, words",
    [
        (32, "n = 32"),
        (1 / 32, "1/n = 1/32"),
        (31, "n - 1 = 31"),
        (31 / 32, "(n - 1)/n = 31/32"),
        (32 / 31, "n/(n - 1) = 32/31"),
        (2, "a factor 2"),
        (0.5, "1/2"),
        (3.7, "3.7"),
    ],
)
def test_a_constant_factor_is_named_when_it_is_a_known_one(factor, words):
    expected = torch.randn(32, 27, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    found = diagnose_trial("d", expected * factor, expected, Context(n=32, V=27, trial="t"))
    assert found.code == "scaled" and words in found.message


def test_only_the_rows_of_repeated_tokens_wrong_is_localized_there():
    expected = torch.randn(5, 3, dtype=torch.float64)
    got = expected.clone()
    got[[1, 3]] *= 0.5
    repeated = torch.tensor([False, True, False, True, False])
    once = torch.tensor([True, False, True, False, False])
    found = diagnose_trial("dC", got, expected, Context(n=4, V=5, trial="t", repeated=repeated, once=once))
    assert found.code == "localized" and "index_add_" in found.hint


def test_over_trials_a_function_right_only_at_the_lectures_sizes_is_size_dependent():
    wrong = diagnosis.Diagnosis("scaled", "d is off by a factor 4", gradient="d", trial="n=8")
    found = diagnosis.over_trials("d", [("n=32", True, None), ("n=8", False, wrong)], quirky=())
    assert found.code == "size_dependent" and "right at n=32 but not at n=8" in found.message


@pytest.mark.parametrize("code", ["precision", "close_but_not_within_tolerance", "propagated"])
def test_over_trials_a_near_miss_right_by_chance_in_a_small_trial_keeps_its_own_code(code):
    wrong = diagnosis.Diagnosis(code, "d misses the tolerance", gradient="d", trial="n=32")
    found = diagnosis.over_trials("d", [("n=2", True, None), ("n=32", False, wrong)], quirky=())
    assert found.code == code


def test_over_trials_a_failure_only_on_a_quirky_trial_keeps_its_code_and_gets_the_quirks_hint():
    wrong = diagnosis.Diagnosis("unknown", "d is wrong", gradient="d", trial="n=64, small variance")
    found = diagnosis.over_trials(
        "d", [("n=32", True, None), ("n=64, small variance", False, wrong)], quirky={"n=64, small variance"}
    )
    assert found.code == "unknown" and "eps" in found.hint


def test_batch_runs_count_the_codes_per_exercise(make_submission, solutions_report):
    code = RIGHT_CE + "def cross_entropy_backward(logits, Yb):\n    return -_ce(logits, Yb)\n"
    wrong = grade(make_submission(append={"ex2_cross_entropy": code}), ids=["ex2.cross_entropy_backward"])
    from grader.reporting.reports import to_json

    counts = aggregate([to_json(wrong), to_json(wrong), to_json(solutions_report)])
    assert counts == {"ex2.cross_entropy_backward": Counter({"sign": 2})}


SHAPES = [
    # the student's shape, the expected one, how the student's values relate, what the hint must say
    ((64,), (1, 64), lambda e: e.reshape(64), "keep the dimension you sum over (keepdim=True)"),
    ((1, 64), (64,), lambda e: e.reshape(1, 64), "drop keepdim=True"),
    ((32, 1), (32,), lambda e: e.reshape(32, 1), "drop keepdim=True"),
    ((32,), (32, 1), lambda e: e.reshape(32), "keep the dimension you sum over (keepdim=True)"),
    ((32, 64), (1, 64), lambda e: e.expand(32, 64) / 32, ".sum(0, keepdim=True)"),
    ((32, 27), (27,), lambda e: e.expand(32, 27) / 32, ".sum(0)"),
    ((27, 64), (64, 27), lambda e: e.T, "swap the operands"),
]


@pytest.mark.parametrize("got_shape, expected_shape, make, words", SHAPES)
def test_every_shape_hint_goes_from_the_students_shape_to_the_expected_one(got_shape, expected_shape, make, words):
    expected = torch.randn(expected_shape, dtype=torch.float64)
    got = make(expected).contiguous()
    assert tuple(got.shape) == got_shape
    message = shape_message("d", got_shape, expected_shape)
    found = diagnosis.from_problem("wrong_shape", message, "d", "n=32", got, expected)
    assert words in found.hint, (got_shape, expected_shape, found.hint)
    if "drop" in words:  # the message says the same way, never the other
        assert "drop keepdim=True" in message and "keep the dimension" not in found.hint + message
    if "keep the dimension" in words:
        assert "keep the dimension" in message and "drop" not in found.hint + message


@pytest.mark.parametrize("n", [2, 3, 32])
def test_a_factor_within_a_hair_of_one_is_no_factor_and_a_named_factor_is_never_one(n):
    expected = torch.randn(n, 7, dtype=torch.float64)
    context = Context(n=n, V=7, trial=f"n={n}")
    near = diagnose_trial("dx", expected * (1 + 5e-4), expected, context)
    assert near.code == "close_but_not_within_tolerance" and "factor" not in near.message
    bessel = diagnose_trial("dx", expected * (n - 1) / n, expected, context)
    assert bessel.code == "scaled" and "factor 1" not in bessel.message.replace("factor 1/", "")
    doubled = diagnose_trial("dx", expected * 2, expected, context)
    assert doubled.code == "scaled" and doubled.message.endswith("2")  # 2, or n = 2, or n - 1 = 2


def test_a_missing_key_is_told_how_to_compute_it_never_to_return_zeros(make_submission):
    code = "_mlp = mlp_backward\ndef mlp_backward(fwd):\n    g = _mlp(fwd)\n    del g['b1']\n    return g\n"
    item = grade(make_submission(append={"ex4_train": code}), ids=["ex4.mlp_backward"]).items[0]
    said = item.message + " " + item.diagnosis.hint
    assert "compute db1 from dhprebn (hprebn = embcat @ W1 + b1), as hprebn_backward does" in said, said
    assert "zeros" not in said


def test_two_faults_of_one_gradient_are_both_named_with_the_line_of_the_size(make_submission):
    code = (
        "def loss_backward(dloss, logprobs, Yb):\n    dlogprobs = torch.zeros_like(logprobs)\n"
        "    dlogprobs[range(logprobs.shape[0]), Yb] = -1.0 / 32\n    return dlogprobs\n"
    )
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.loss_backward"]).items[0]
    assert item.diagnosis.code == "ignores_upstream"
    assert "dloss is not multiplied in; and off by a factor n/32" in item.message, item.message
    assert "multiply by dloss" in item.diagnosis.hint and "hard-codes 32 (n, the batch size)" in item.diagnosis.hint


def test_a_pattern_only_a_quirky_trial_shows_is_no_diagnosis_where_plain_trials_say_unknown():
    scaled = Diagnosis("scaled", "d is off by a factor -2", "", "d", "small variance")
    unknown = Diagnosis("unknown", "d is wrong", "", "d", "n=32")
    found = diagnosis.over_trials(
        "d", [("n=32", False, unknown), ("n=8", False, unknown), ("small variance", False, scaled)], ["small variance"]
    )
    assert found.code == "unknown"


def test_a_plus_typed_for_a_times_is_not_called_scaled_by_the_small_variance_trial(make_submission):
    code = "def bnvar_inv_backward(dbnvar_inv, bnvar):\n    return (-0.5 + (bnvar + 1e-5) ** -1.5) * dbnvar_inv\n"
    item = grade(make_submission(append={"ex1_atomic": code}), ids=["ex1.bnvar_inv_backward"]).items[0]
    assert item.diagnosis.code == "unknown", item.message


def test_a_batchnorm_without_bessels_correction_is_told_the_missing_factor(make_submission):
    code = (
        "def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):\n    n = dhpreact.shape[0]\n"
        "    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - bnraw * (dhpreact * bnraw).sum(0))\n"
        "    return dhprebn, (dhpreact * bnraw).sum(0, keepdim=True), dhpreact.sum(0, keepdim=True)\n"
    )
    item = grade(make_submission(append={"ex3_batchnorm": code}), ids=["ex3.batchnorm_backward"]).items[0]
    assert "without Bessel's correction" in item.message and "n/(n-1)" in item.diagnosis.hint, item.message
