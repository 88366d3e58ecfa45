"""embcat_backward reshapes dembcat as (n, E, B) and transposes, putting the columns back in
the wrong order (the forward view is (B, E) row-major)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.embcat_backward": ("demb",),
}
DIAGNOSIS = {
    "ex1.embcat_backward": {"demb": "unknown"},
}


def embcat_backward(dembcat, emb):
    n, B, E = emb.shape
    return dembcat.view(n, E, B).transpose(1, 2)
