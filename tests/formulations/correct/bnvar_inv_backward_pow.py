"""bnvar_inv_backward as -0.5 * (bnvar + 1e-5)**-1.5 * dbnvar_inv, the power rule with eps kept
inside."""

MODULE = "ex1_atomic"
WRONG = {}


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
