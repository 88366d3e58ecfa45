"""norm_logits_backward forgets the minus sign of the subtracted logit_maxes: dlogit_maxes =
+sum instead of -sum."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.norm_logits_backward": ("dlogit_maxes",),
}
DIAGNOSIS = {
    "ex1.norm_logits_backward": {"dlogit_maxes": "sign"},
}


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), dnorm_logits.sum(1, keepdim=True)
