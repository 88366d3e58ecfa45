"""Feedback that fits real students' work: 22 whole submissions written as people who
follow the lecture in a notebook write them (tests/formulations/lecture/, each annotated
by hand, by someone who never saw the grader, before it ran on them). Every verdict must
be the annotated one, no right gradient may get a diagnosis, and the reasons that used to
send students the wrong way now point the right way.
"""

import json
import re

import pytest

from grader.grading.grader import grade
from grader.reporting.reports import table
from tests.conftest import shared
from tests.test_formulations import CORPUS, DIAGNOSIS_SEED, codes

LECTURE = CORPUS / "lecture"
SUBMISSIONS = sorted(p.name for p in LECTURE.iterdir() if p.is_dir())


def expected(name):
    return json.loads((LECTURE / name / "EXPECTED.json").read_text())["items"]


@shared
def reports():
    return {name: grade(LECTURE / name, seed=DIAGNOSIS_SEED) for name in SUBMISSIONS}


def items(report):
    return {item.id: item for item in report.items}


def why(item, gradient):
    """The diagnosis of one gradient of an id, or the id's own."""
    found = next((g.diagnosis for g in item.gradients if g.name == gradient and g.diagnosis), None)
    return found or item.diagnosis


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_every_verdict_is_the_annotated_one_and_no_right_gradient_gets_a_diagnosis(name, reports):
    want = {item_id: set(spec["gradients"]) for item_id, spec in expected(name).items()}
    got = {item_id: set(gradients) for item_id, gradients in codes(reports[name]).items()}
    assert got == want
    assert [item.id for item in reports[name].items if item.flags] == []  # lecture-followers derive


def test_the_lectures_loss_backward_is_told_to_multiply_by_dloss_not_that_a_factor_is_off(reports):
    for name in ("s01_lecture_verbatim", "s17_forgets_upstream"):
        for item_id, spec in expected(name).items():
            for gradient, annotation in spec["gradients"].items():
                if annotation["code"] == "ignores_upstream":
                    diagnosis = why(items(reports[name])[item_id], gradient)
                    assert diagnosis.code == "ignores_upstream" and "multiply by d" in diagnosis.hint, item_id


def test_two_gradients_that_are_one_tensor_after_a_plus_equals_are_named_with_the_fix(reports):
    diagnosis = why(items(reports["s04_plus_equals_alias"])["ex1.manual_backward.bndiff"], "bndiff")
    assert diagnosis.code == "aliased" and "hprebn" in diagnosis.message and ".clone()" in diagnosis.hint


@pytest.mark.parametrize(
    "name", ["s01_lecture_verbatim", "s03_keepdim_everywhere", "s13_half_done", "s18_syntax_error"]
)
def test_a_shape_hint_goes_from_the_students_shape_to_the_expected_one(name, reports):
    for item_id, spec in expected(name).items():
        for gradient, annotation in spec["gradients"].items():
            if annotation["code"] != "wrong_shape":
                continue
            hint = why(items(reports[name])[item_id], gradient).hint
            if annotation["hint_should_say"].startswith("drop keepdim"):
                assert "drop keepdim=True" in hint, (item_id, hint)
            elif annotation["hint_should_say"].startswith("keep the dimension"):
                assert "keepdim=True" in hint and "drop" not in hint, (item_id, hint)


@pytest.mark.parametrize("name", ["s02_notebook_globals", "s11_hardcoded_numbers"])
def test_a_hard_coded_size_costs_its_share_once_and_names_every_size_it_hard_codes(name, reports):
    by_id = items(reports[name])
    chain = [item for item_id, item in by_id.items() if item_id.startswith("ex1.manual_backward.")]
    lines = {item.message for item in chain if "raised at" in item.message and "line" in item.message}
    assert len(lines) <= 1  # one reason for every key, which the table shows once, not 26 times
    assert all(table(reports[name]).count(line) == 1 for line in lines)
    for item_id, spec in expected(name).items():
        for gradient, annotation in spec["gradients"].items():
            if annotation["code"] == "size_dependent":
                hint = why(by_id[item_id], gradient).hint
                sizes = re.findall(r"\((n|V|E|B|H|n \* B|B \* E)[,)]", hint)
                assert sizes, (item_id, hint)  # which size, by its name in the lecture


def test_a_function_raising_at_some_sizes_is_graded_where_it_returns_and_loses_three_points(reports):
    ex2 = items(reports["s02_notebook_globals"])["ex2.cross_entropy_backward"]
    assert ex2.score == ex2.max_score - 3 and ex2.status == "partial"
    assert ex2.diagnosis.code == "size_dependent" and "raised at" in ex2.message and "line" in ex2.message


def test_a_key_missing_from_a_returned_dict_is_missing_and_a_misspelling_is_named(reports):
    by_id = items(reports["s10_dict_and_names"])
    assert by_id["ex1.manual_backward.bndiff2"].diagnosis.code == "missing"
    assert "'emb_cat'" in by_id["ex1.manual_backward.embcat"].message
    assert "emb_backwards" in by_id["ex1.emb_backward"].message
    assert "'dC'" in items(reports["s17_forgets_upstream"])["ex4.mlp_backward"].message


def test_a_float16_answer_is_told_its_dtype_is_too_imprecise(reports):
    diagnosis = why(items(reports["s16_dtypes"])["ex1.emb_backward"], "dC")
    assert diagnosis.code == "precision" and "float16" in diagnosis.message and "float32" in diagnosis.hint


def test_no_reason_names_a_factor_of_one(reports):
    for report in reports.values():
        for item in report.items:
            text = " ".join(filter(None, [item.message, *(g.diagnosis.message for g in item.gradients if g.diagnosis)]))
            assert not re.search(r"factor (n - 1 = )?1\b(?![./\d])", text), (item.id, text)


def hint_of(name, reports, item_id, gradient=None):
    item = items(reports[name])[item_id]
    return (why(item, gradient) if gradient else item.diagnosis).hint


def test_a_name_only_the_notebook_defined_is_told_where_it_comes_from_with_the_line(reports):
    n = hint_of("s23_notebook_leftovers", reports, "ex1.bnmeani_backward")
    assert "`n` is not defined in bnmeani_backward (it was a notebook global): n = hprebn.shape[0]" in n
    assert "line 106: `dhprebn = 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)`" in n
    chain = hint_of("s23_notebook_leftovers", reports, "ex1.manual_backward.logprobs")
    assert "`dbnvar_inv` is not computed in manual_backward" in chain and "from dbnraw" in chain
    demb = hint_of("s23_notebook_leftovers", reports, "ex4.mlp_backward")
    assert "`demb` is not computed in mlp_backward" in demb and "from dembcat" in demb
    fused = hint_of("s24_pasted_chain", reports, "ex4.mlp_backward")
    assert "the fused pass has no logprobs" in fused and "exercise 2" in fused
    assert "n = logits.shape[0]" in hint_of("s31_useless_b1", reports, "ex2.cross_entropy_backward")


@pytest.mark.parametrize(
    "name, item_id, meant",
    [
        ("s24_pasted_chain", "ex1.h_backward", "did you mean `dh`? (names are case-sensitive)"),
        ("s24_pasted_chain", "ex3.batchnorm_backward", "did you mean `dhpreact`?"),
        ("s30_bnraw_plus", "ex1.counts_sum_inv_backward", "did you mean `dcounts_sum_inv`?"),
    ],
)
def test_a_typo_for_an_argument_is_told_the_argument(name, item_id, meant, reports):
    assert meant in hint_of(name, reports, item_id)


def test_a_comma_typed_for_a_dot_is_named_rather_than_the_keyword_torch_complains_of(reports):
    for item_id in ("ex1.hpreact_backward", "ex1.manual_backward.C"):
        hint = hint_of("s25_comma_typo", reports, item_id)
        assert hint.startswith("a comma where a dot belongs") and "(bnraw * dhpreact),sum(0, keepdim=True)" in hint


def test_a_read_of_autogradss_grad_is_autograd_use_named_with_its_line(reports):
    item = items(reports["s28_lecture_sizes"])["ex4.mlp_backward"]
    assert item.diagnosis.code == "uses_autograd" and item.status == "failed"
    assert "line 9: `dlogits = fwd.logits.grad`" in item.message and "compute dlogits yourself" in item.diagnosis.hint


def test_plus_for_times_is_named_where_the_upstream_is_added_and_unknown_where_the_factor_varies(reports):
    for name, item_id, gradient in [
        ("s26_plus_for_times", "ex1.h_backward", "dhpreact"),
        ("s26_plus_for_times", "ex1.logprobs_backward", "dprobs"),
        ("s30_bnraw_plus", "ex1.hpreact_backward", "dbnraw"),
        ("s30_bnraw_plus", "ex1.manual_backward.bnraw", "bnraw"),
    ]:
        diagnosis = why(items(reports[name])[item_id], gradient)
        assert diagnosis.code == "added_upstream" and "do not add them" in diagnosis.hint, (item_id, diagnosis)
    assert why(items(reports["s26_plus_for_times"])["ex1.bnvar_inv_backward"], "dbnvar").code == "unknown"


def test_the_missing_bessel_term_is_named_and_both_faults_of_a_function_are_shown(reports):
    bessel = items(reports["s27_bessel_dloss"])["ex3.batchnorm_backward"].diagnosis
    assert "n/(n-1)" in bessel.hint and "eps" not in bessel.hint
    loss = items(reports["s27_bessel_dloss"])["ex1.loss_backward"]
    assert "multiply by dloss" in loss.diagnosis.hint and "32" in loss.diagnosis.hint + loss.message


@pytest.mark.parametrize("name", [s for s in SUBMISSIONS if s >= "s23"])
def test_the_later_habits_get_the_annotated_code_for_every_gradient(name, reports):
    want = {
        (item_id, gradient): annotation["code"]
        for item_id, spec in expected(name).items()
        for gradient, annotation in spec["gradients"].items()
    }
    got = {(item_id, g): code for item_id, found in codes(reports[name]).items() for g, code in found.items()}
    assert got == want
