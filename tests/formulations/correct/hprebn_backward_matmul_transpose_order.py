"""hprebn_backward written as (W1 @ dhprebn.T).T and (dhprebn.T @ embcat).T: transposes of the
right products, so the same values and shapes."""

MODULE = "ex1_atomic"
WRONG = {}


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = (W1 @ dhprebn.T).T
    dW1 = (dhprebn.T @ embcat).T
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1
