"""The one comparison: shape first, then finiteness, then the normalised error."""

import pytest
import torch

from grader.grading.compare import TOLERANCE, compare


def ref(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_a_float32_copy_of_the_reference_passes_and_is_approximately_equal():
    expected = ref(32, 27)
    c = compare("dlogits", expected.float(), expected)
    assert c.passed and c.approximate and c.error < 1e-7 and c.problem is None


def test_any_float_dtype_is_accepted_since_both_sides_are_compared_in_float64():
    expected = ref(4, 5)
    assert compare("d", expected.clone(), expected).exact
    assert compare("d", expected.half(), expected, tolerance=1e-2).passed


def test_an_integer_tensor_is_a_wrong_dtype():
    c = compare("dC", torch.zeros(3, 2, dtype=torch.int64), ref(3, 2))
    assert c.problem == "wrong_dtype" and "int64" in c.message


@pytest.mark.parametrize("value, words", [(None, "forget to return"), (1.0, "float"), ([1.0], "list")])
def test_a_value_that_is_not_a_tensor_says_what_it_is(value, words):
    c = compare("dh", value, ref(2, 3))
    assert c.problem == "not_a_tensor" and words in c.message and "(2, 3)" in c.message


@pytest.mark.parametrize(
    "got, expected, hint",
    [
        ((27, 64), (64, 27), "swap the matmul operands"),
        ((64,), (1, 64), "keepdim=True"),
        ((32, 27), (27,), "sum over the batch dimension"),
        ((32, 64), (1, 64), "sum over the dimension that the forward pass broadcast"),
        ((32, 1), (32, 27), "broadcast it"),
        ((5, 5), (3, 3), ""),
    ],
)
def test_a_wrong_shape_names_both_shapes_and_the_likely_fix(got, expected, hint):
    c = compare("dx", torch.zeros(got), torch.zeros(expected, dtype=torch.float64))
    assert c.problem == "wrong_shape"
    assert f"expected shape {expected}, got {got}" in c.message
    assert hint in c.message


def test_the_lectures_dbnmeani_of_shape_h_fails_with_a_keepdim_message():
    expected = ref(1, 64)
    c = compare("dbnmeani", expected[0].float(), expected)
    assert not c.passed and "keepdim=True" in c.message and "(64,)" in c.message


def test_inf_and_nan_are_not_finite():
    got = ref(3, 3).float()
    got[1, 1] = float("nan")
    c = compare("dprobs", got, ref(3, 3))
    assert c.problem == "not_finite" and "1 of 9" in c.message


def test_the_error_is_normalised_by_the_largest_reference_entry():
    expected = torch.tensor([[100.0, 1e-6]], dtype=torch.float64)
    got = expected.clone()
    got[0, 1] = 1e-6 + 5e-3  # a large relative error on a tiny entry is noise at this scale
    c = compare("dprobs", got, expected)
    assert c.passed and c.error == pytest.approx(5e-5)


def test_an_error_just_above_the_tolerance_fails_with_its_size():
    expected = ref(8, 8)
    got = expected + 2 * TOLERANCE * expected.abs().max()
    c = compare("dW2", got, expected)
    assert c.problem == "not_close" and "2.0e-04" in c.message


def test_exact_zeros_and_rounding_noise_both_pass_where_the_true_gradient_is_zero():
    noise = ref(32, 1) * 1e-9  # what autograd returns for the chain's logit_maxes
    scale = 1.0  # the size of the terms that cancel
    assert compare("logit_maxes", torch.zeros(32, 1), noise, scale=scale).passed
    assert compare("logit_maxes", (ref(32, 1) * 1e-8).float(), noise, scale=scale).passed
    assert not compare("logit_maxes", torch.full((32, 1), 1e-2), noise, scale=scale).passed


def test_without_a_scale_noise_against_noise_is_judged_against_the_noise_itself():
    noise = ref(4, 1) * 1e-9
    assert not compare("db1", torch.zeros(4, 1), noise).passed
