"""In the grader's own process (--no-sandbox), a call that uses autograd in any way is
found (its graph, or a gradient operator it called) and the grader's own autograd works
before and after; the source scan finds what a run may not reach, and nothing in
comments or strings."""

import pytest
import torch
import torch.nn.functional as F

from grader.grading.scan import autograd_in_source
from grader.sandbox.guard import InProcessGuard

X = torch.randn(4, 5)
Y = torch.tensor([0, 1, 2, 3])


def backward():
    x = X.clone().requires_grad_()
    with torch.enable_grad():
        F.cross_entropy(x, Y).backward()


def autograd_grad():
    x = X.clone().requires_grad_()
    with torch.enable_grad():
        torch.autograd.grad(F.cross_entropy(x, Y), x)


def func_grad():
    torch.func.grad(lambda x: F.cross_entropy(x, Y))(X)


def func_jvp():
    torch.func.jvp(lambda x: x * 2, (X,), (torch.ones_like(X),))


def autograd_functional():
    torch.autograd.functional.jacobian(lambda x: x * 2, X)


def gradient_kernel():
    torch.ops.aten.tanh_backward(X, X.tanh())


@pytest.mark.parametrize("use", [backward, autograd_grad, func_grad, func_jvp, autograd_functional, gradient_kernel])
def test_every_way_into_autograd_is_found_even_when_the_call_swallows_the_error(use):
    with InProcessGuard().watching() as guard:
        try:
            use()
        except Exception:  # noqa: BLE001 - a student may swallow it
            pass
    assert guard.evidence


def test_plain_tensor_code_passes_and_the_graders_own_autograd_works_before_and_after():
    x = X.clone().requires_grad_()
    F.cross_entropy(x, Y).backward()
    with InProcessGuard().watching() as guard:
        with torch.no_grad():
            out = F.softmax(X, 1) - F.one_hot(Y, 5)
    assert guard.evidence == [] and out.shape == X.shape
    assert torch.is_grad_enabled()
    x = X.clone().requires_grad_()
    F.cross_entropy(x, Y).backward()
    assert x.grad is not None


def test_the_elements_a_watched_operator_evaluates_are_counted_in_calls_of_any_shape():
    with InProcessGuard(["aten::tanh"]).watching() as guard:
        for _ in range(3):
            X.tanh()
        X[0].tanh()
        X.exp()
    assert guard.evaluations == {"aten::tanh": 3 * 20 + 5}


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
