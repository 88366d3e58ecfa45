"""Autograd is switched off inside a student's call, and each way into it is recorded;
the source scan finds what a run may not reach, and nothing in comments or strings."""

import pytest
import torch
import torch.nn.functional as F

from grader.guard import AutogradGuard, AutogradUnavailable, autograd_in_source

X = torch.randn(4, 5)
Y = torch.tensor([0, 1, 2, 3])


def backward():
    x = X.clone().requires_grad_()
    F.cross_entropy(x, Y).backward()


def autograd_grad():
    x = X.clone().requires_grad_()
    torch.autograd.grad(F.cross_entropy(x, Y), x)


def enable_grad():
    with torch.enable_grad():
        pass


def func_grad():
    torch.func.grad(lambda x: F.cross_entropy(x, Y))(X)


def func_jvp():
    torch.func.jvp(lambda x: x * 2, (X,), (torch.ones_like(X),))


def autograd_functional():
    torch.autograd.functional.jacobian(lambda x: x * 2, X)


@pytest.mark.parametrize("use", [backward, autograd_grad, enable_grad, func_grad, func_jvp, autograd_functional])
def test_every_way_into_autograd_raises_and_is_recorded_even_when_caught(use):
    with AutogradGuard() as guard:
        with pytest.raises(AutogradUnavailable, match="write the gradient by hand"):
            use()
        try:
            use()
        except Exception:  # noqa: BLE001 - a student may swallow it
            pass
    assert guard.evidence


def test_plain_tensor_code_and_no_grad_pass_and_autograd_works_again_afterwards():
    with AutogradGuard() as guard:
        with torch.no_grad():
            out = F.softmax(X, 1) - F.one_hot(Y, 5)
        torch.set_grad_enabled(False)
    assert guard.evidence == [] and out.shape == X.shape
    assert torch.is_grad_enabled()
    x = X.clone().requires_grad_()
    F.cross_entropy(x, Y).backward()
    assert x.grad is not None


SOURCE = '''
import torch

def clean(d, h):
    """Do not call .backward() or torch.autograd.grad here."""
    # loss.backward() would be cheating
    torch.set_grad_enabled(False)
    return (1 - h**2) * d

def cheats(d, h):
    h = h.clone().requires_grad_()
    torch.tanh(h).backward(d)
    return h.grad

def via_func(x):
    return torch.func.grad(f)(x)

def via_autograd_grad(x):
    return torch.autograd.grad(y, x)[0]

def makes_leaf(x):
    return torch.zeros(3, requires_grad=True)

def own_grad(x):
    return grad(x)
'''


@pytest.mark.parametrize(
    "function, found",
    [
        ("clean", []),
        ("cheats", ["sets requires_grad", "calls .backward()"]),
        ("via_func", ["uses a torch.func transform"]),
        ("via_autograd_grad", ["calls torch.autograd.grad"]),
        ("makes_leaf", ["creates a tensor with requires_grad=True"]),
        ("own_grad", []),
        ("missing", []),
    ],
)
def test_the_source_scan_reads_calls_not_comments_or_strings(tmp_path, function, found):
    path = tmp_path / "module.py"
    path.write_text(SOURCE)
    assert sorted(autograd_in_source(path, function)) == sorted(found)
