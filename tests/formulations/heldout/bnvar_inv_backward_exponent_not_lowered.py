"""bnvar_inv_backward brings down the -0.5 but keeps the exponent -0.5 instead of lowering it to -1.5."""

MODULE = "ex1_atomic"
WRONG = {"ex1.bnvar_inv_backward": ("dbnvar",)}
DIAGNOSIS = {"ex1.bnvar_inv_backward": {"dbnvar": "localized"}}


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -0.5 * dbnvar_inv
