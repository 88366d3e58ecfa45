"""hprebn_backward computes dembcat = dhprebn @ W1 (W1 not transposed), which only runs when
B*E == H and gives the wrong values even then; here it raises."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.hprebn_backward": ("dembcat", "dW1", "db1"),
}
DIAGNOSIS = {
    "ex1.hprebn_backward": {"dembcat": "exception", "dW1": "exception", "db1": "exception"},
}


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1, embcat.T @ dhprebn, dhprebn.sum(0)
