"""hprebn_backward sums db1 with keepdim=True, shape (1, H), while b1 has shape (H,)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.hprebn_backward": ("db1",),
}
DIAGNOSIS = {
    "ex1.hprebn_backward": {"db1": "wrong_shape"},
}


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0, keepdim=True)
