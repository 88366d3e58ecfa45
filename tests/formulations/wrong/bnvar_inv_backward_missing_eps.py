"""bnvar_inv_backward leaves eps out: -0.5 * bnvar**-1.5 instead of -0.5 * (bnvar +
1e-5)**-1.5, far off when the batch variance is near or below eps."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bnvar_inv_backward": ("dbnvar",),
}
# Revised after review: first annotated close_but_not_within_tolerance (marked unsure:
# "if the grader passes every plain trial, expect unknown"). It does pass them, and only the
# columns whose batch variance is below eps are wrong: the localized pattern.
DIAGNOSIS = {
    "ex1.bnvar_inv_backward": {"dbnvar": "localized"},
}


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * bnvar**-1.5 * dbnvar_inv
