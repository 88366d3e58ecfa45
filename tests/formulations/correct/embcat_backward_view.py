"""embcat_backward returning dembcat.view(emb.shape), a view of the argument, which undoes the
forward view without copying."""

MODULE = "ex1_atomic"
WRONG = {}


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)
