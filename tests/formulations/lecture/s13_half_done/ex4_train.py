import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    raise NotImplementedError
