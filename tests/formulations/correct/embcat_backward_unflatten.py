"""embcat_backward with unflatten, splitting the B*E columns back into (B, E) in the same
row-major order as the forward view."""

MODULE = "ex1_atomic"
WRONG = {}


def embcat_backward(dembcat, emb):
    return dembcat.unflatten(1, (emb.shape[1], emb.shape[2]))
