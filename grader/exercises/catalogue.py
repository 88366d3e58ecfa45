"""The catalogue: every function a student writes, as data.

An exercise names the student's module and function, the forward op it reverses (as
plain torch, from which the reference gradient is taken by autograd), the forward
values it is called with, the gradients it returns and the trials it is checked on.
The grader has one generic path for all of them; adding an exercise is adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F

from grader.calls.vocabulary import Code
from grader.exercises import model, trials
from grader.exercises.trials import Trial

Tensors = Mapping[str, torch.Tensor]
Reference = Callable[[Tensors, "torch.Tensor | None"], dict[str, torch.Tensor]]
# A course's own forward values: from the lecture's values of the trial (read them, do
# not change them), its sizes, and a generator of the exercise's own.
OwnValues = Callable[[Tensors, model.Shape, torch.Generator], dict[str, torch.Tensor]]


class Values:
    """Read-only attribute access to a dict of tensors: `fwd.logits`, as the spec has it.
    The reference ops read their inputs through it, and so do students' `fwd`. The values
    sit in the instance's __dict__, so that reading one costs no more than any attribute
    (the training loop reads twenty of them 200,000 times)."""

    _called = "fwd"  # what messages call it

    def __init__(self, values: Mapping[str, object]):
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # a tensor, or the batch size n
        raise AttributeError(f"{self._called} has no attribute {name!r}; it has: {', '.join(self.__dict__)}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(
            f"{self._called} is read-only: cannot set {self._called}.{name}; keep your own variables instead"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self._called} is read-only: cannot delete {self._called}.{name}")

    def __dir__(self) -> list[str]:
        return list(self.__dict__)

    def __repr__(self) -> str:
        return f"{self._called}({', '.join(self.__dict__)})"


@dataclass(frozen=True)
class Exercise:
    """One function a student writes, and how it is checked."""

    module: str  # the student's module, e.g. "ex1_atomic"
    function: str  # the function in it, e.g. "probs_backward"
    forward: str  # the forward op it reverses, as the lecture writes it
    wrt: tuple[str, ...]  # the forward values whose gradients it returns, in return order
    reference: Reference  # (float64 forward values, upstream) -> gradients by autograd, keyed by wrt
    upstream: str | None = None  # the output whose gradient comes as the first argument
    args: tuple[str, ...] = ()  # the forward values passed next, in order
    fwd: Literal["exploded", "fused"] | None = None  # call f(fwd) with this pass's values instead
    trials: tuple[Trial, ...] = trials.STANDARD
    per_key: bool = False  # a dict-returning function whose every key is a scored item
    # For gradients that are exactly zero in theory: the size of the terms that cancel,
    # from the reference gradients (see compare.py).
    zero_scale: Mapping[str, Callable[[Tensors], float]] = field(default_factory=dict)
    faster: str = ""  # how to vectorise it, for a function found slow (timing.py has a generic way)
    # A course's exercise (course.py): its forward values, drawn from a random stream of
    # its own beside the lecture's; the mistakes the diagnosis tries first; its points.
    values: OwnValues | None = None
    mistakes: tuple[Mistake, ...] = ()
    points: float | None = None
    # The forward op itself, on the forward values: what a numerical derivative evaluates
    # again and again, and whose operators the grader counts (numerical.py).
    evaluate: Callable[[Tensors], object] | None = None

    @property
    def of_course(self) -> bool:
        """Whether a course declared it (course.py): what is known of the lecture's
        network (its batchnorm, its eps) says nothing about it."""
        return not any(self is exercise for exercise in LECTURE)

    @property
    def prefix(self) -> str:
        return self.module.split("_")[0]

    @property
    def returns_dict(self) -> bool:
        return self.fwd is not None

    @property
    def gradient_names(self) -> tuple[str, ...]:
        """How the returned gradients are named: keys for dicts, d<name> otherwise."""
        return self.wrt if self.returns_dict else tuple(f"d{w}" for w in self.wrt)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The function's parameters, in the order it is called with them."""
        if self.fwd:
            return ("fwd",)
        return (*([f"d{self.upstream}"] if self.upstream else []), *self.args)

    @property
    def signature(self) -> str:
        return f"{self.function}({', '.join(self.parameters)})"

    @property
    def items(self) -> tuple[Item, ...]:
        """The scored ids this function earns points for."""
        base = f"{self.prefix}.{self.function}"
        if self.per_key:
            return tuple(Item(f"{base}.{key}", self, (key,)) for key in self.gradient_names)
        return (Item(base, self, self.gradient_names),)


@dataclass(frozen=True)
class Mistake:
    """A mistake a course knows for one exercise: the gradients it gives, from the trial's
    forward values and upstream gradient (`course.wrong_forward` makes them from the
    mistaken forward op), and what to do about it."""

    name: str  # what the student did, as a phrase: "normalised over the batch (dim 0)"
    gradients: Reference
    hint: str
    # A course's mistakes are known_mistake; one the lecture's exercises know keeps the
    # code of the pattern it is a case of, with its own words.
    code: Code = "known_mistake"


@dataclass(frozen=True)
class Item:
    """One scored id: some or all of the gradients of one exercise."""

    id: str  # e.g. "ex1.probs_backward" or "ex1.manual_backward.W2"
    exercise: Exercise
    gradients: tuple[str, ...]  # the gradient names it is scored on


@dataclass(frozen=True)
class Training:
    """The training check: a short SGD run driven by a student's backward pass must follow
    the autograd-driven run."""

    id: str
    module: str
    function: str
    description: str


def autograd_of(op: Callable[[Values], torch.Tensor], wrt: tuple[str, ...]) -> Reference:
    """The reference of an atomic op: autograd of exactly `op`, at the given values, with
    the given upstream gradient."""

    def reference(values: Tensors, upstream: torch.Tensor | None) -> dict[str, torch.Tensor]:
        leaves = {name: values[name].detach().clone().requires_grad_() for name in wrt}
        with torch.enable_grad():
            out = op(Values({**values, **leaves}))
            # The vector-Jacobian product as the gradient of a scalar: the same numbers, and
            # torch.autograd.grad given grad_outputs imports sympy (0.2 s) on first use.
            scalar = out if upstream is None else (out * upstream).sum()
            grads = torch.autograd.grad(scalar, list(leaves.values()))
        return dict(zip(wrt, grads))

    return reference


def chain_reference(values: Tensors, upstream: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """What loss.backward() leaves in .grad of every tensor of the exploded pass."""
    params = {k: values[k].detach().clone().requires_grad_() for k in model.PARAMETERS}
    with torch.enable_grad():
        graph = model.forward(params, values["Xb"], values["Yb"])
        grads = torch.autograd.grad(graph["loss"], [graph[k] for k in model.CHAIN])
    return dict(zip(model.CHAIN, grads))


def fused_reference(values: Tensors, upstream: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Gradients of the fused pass's loss for the parameters, and for hprebn (the size of
    the terms that cancel in b1's gradient)."""
    params = {k: values[k].detach().clone().requires_grad_() for k in model.PARAMETERS}
    with torch.enable_grad():
        graph = model.fused_forward(params, values["Xb"], values["Yb"])
        wrt = [*model.PARAMETERS, "hprebn"]
        grads = torch.autograd.grad(graph["loss"], [graph[k] for k in wrt])
    return dict(zip(wrt, grads))


def cancelling(name: str, dim: int) -> Callable[[Tensors], float]:
    """The largest sum of |reference gradient of `name`| over `dim`: the size of the terms
    whose sum is a gradient that is zero in theory."""
    return lambda ref: float(ref[name].abs().sum(dim).max())


def atomic(
    function: str,
    forward: str,
    op: Callable[[Values], torch.Tensor],
    upstream: str,
    args: tuple[str, ...],
    wrt: tuple[str, ...],
    trials: tuple[Trial, ...] = trials.STANDARD,
    faster: str = "",
) -> Exercise:
    return Exercise(
        "ex1_atomic",
        function,
        forward,
        wrt,
        autograd_of(op, wrt),
        upstream,
        args,
        trials=trials,
        faster=faster,
        evaluate=evaluating(op),
    )


def evaluating(op: Callable[[Values], object]) -> Callable[[Tensors], object]:
    """An op on Values, as a function of the forward values."""
    return lambda values: op(Values(values))


# The lecture's slow spot: accumulating dC token by token.
FASTER_DC = (
    "accumulate every token's rows at once with torch.zeros_like(C).index_add_(0, Xb.view(-1), demb.view(-1, E)), "
    "or one-hot and tensordot: torch.tensordot(F.one_hot(Xb, V).float(), demb, dims=([0, 1], [0, 1]))"
)


OUT = trials.OUTSIDE_BATCHNORM

ATOMIC = (
    atomic("loss_backward", "loss = -logprobs[range(n), Yb].mean()",
           lambda v: -v.logprobs[torch.arange(v.logprobs.shape[0]), v.Yb].mean(),
           "loss", ("logprobs", "Yb"), ("logprobs",), OUT),
    atomic("logprobs_backward", "logprobs = probs.log()", lambda v: v.probs.log(),
           "logprobs", ("probs",), ("probs",), OUT),
    atomic("probs_backward", "probs = counts * counts_sum_inv", lambda v: v.counts * v.counts_sum_inv,
           "probs", ("counts", "counts_sum_inv"), ("counts", "counts_sum_inv"), OUT),
    atomic("counts_sum_inv_backward", "counts_sum_inv = counts_sum**-1", lambda v: v.counts_sum**-1,
           "counts_sum_inv", ("counts_sum",), ("counts_sum",), OUT),
    atomic("counts_sum_backward", "counts_sum = counts.sum(1, keepdim=True)", lambda v: v.counts.sum(1, keepdim=True),
           "counts_sum", ("counts",), ("counts",), OUT),
    atomic("counts_backward", "counts = norm_logits.exp()", lambda v: v.norm_logits.exp(),
           "counts", ("counts",), ("norm_logits",), OUT),
    atomic("norm_logits_backward", "norm_logits = logits - logit_maxes", lambda v: v.logits - v.logit_maxes,
           "norm_logits", (), ("logits", "logit_maxes"), OUT),
    atomic("logit_maxes_backward", "logit_maxes = logits.max(1, keepdim=True).values",
           lambda v: v.logits.max(1, keepdim=True).values,
           "logit_maxes", ("logits",), ("logits",), trials.WITH_TIES),
    atomic("logits_backward", "logits = h @ W2 + b2", lambda v: v.h @ v.W2 + v.b2,
           "logits", ("h", "W2"), ("h", "W2", "b2"), OUT),
    atomic("h_backward", "h = torch.tanh(hpreact)", lambda v: torch.tanh(v.hpreact),
           "h", ("h",), ("hpreact",), OUT),
    atomic("hpreact_backward", "hpreact = bngain * bnraw + bnbias", lambda v: v.bngain * v.bnraw + v.bnbias,
           "hpreact", ("bngain", "bnraw"), ("bngain", "bnraw", "bnbias")),
    atomic("bnraw_backward", "bnraw = bndiff * bnvar_inv", lambda v: v.bndiff * v.bnvar_inv,
           "bnraw", ("bndiff", "bnvar_inv"), ("bndiff", "bnvar_inv")),
    atomic("bnvar_inv_backward", "bnvar_inv = (bnvar + 1e-5)**-0.5", lambda v: (v.bnvar + model.EPS) ** -0.5,
           "bnvar_inv", ("bnvar",), ("bnvar",)),
    atomic("bnvar_backward", "bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)",
           lambda v: 1 / (v.bndiff2.shape[0] - 1) * v.bndiff2.sum(0, keepdim=True),
           "bnvar", ("bndiff2",), ("bndiff2",)),
    atomic("bndiff2_backward", "bndiff2 = bndiff**2", lambda v: v.bndiff**2,
           "bndiff2", ("bndiff",), ("bndiff",)),
    atomic("bndiff_backward", "bndiff = hprebn - bnmeani", lambda v: v.hprebn - v.bnmeani,
           "bndiff", (), ("hprebn", "bnmeani")),
    atomic("bnmeani_backward", "bnmeani = 1/n * hprebn.sum(0, keepdim=True)",
           lambda v: 1 / v.hprebn.shape[0] * v.hprebn.sum(0, keepdim=True),
           "bnmeani", ("hprebn",), ("hprebn",)),
    atomic("hprebn_backward", "hprebn = embcat @ W1 + b1", lambda v: v.embcat @ v.W1 + v.b1,
           "hprebn", ("embcat", "W1"), ("embcat", "W1", "b1"), OUT),
    atomic("embcat_backward", "embcat = emb.view(emb.shape[0], -1)", lambda v: v.emb.view(v.emb.shape[0], -1),
           "embcat", ("emb",), ("emb",), OUT),
    atomic("emb_backward", "emb = C[Xb]", lambda v: v.C[v.Xb],
           "emb", ("C", "Xb"), ("C",), OUT, faster=FASTER_DC),
)  # fmt: skip

MANUAL_BACKWARD = Exercise(
    "ex1_atomic",
    "manual_backward",
    "the whole exploded forward pass, from loss back to C",
    model.CHAIN,
    chain_reference,
    fwd="exploded",
    per_key=True,
    zero_scale={"logit_maxes": cancelling("norm_logits", 1), "b1": cancelling("hprebn", 0)},
    faster=FASTER_DC,
    evaluate=lambda values: model.forward({k: values[k] for k in model.PARAMETERS}, values["Xb"], values["Yb"]),
)

CROSS_ENTROPY = Exercise(
    "ex2_cross_entropy",
    "cross_entropy_backward",
    "loss = F.cross_entropy(logits, Yb)",
    ("logits",),
    autograd_of(lambda v: F.cross_entropy(v.logits, v.Yb), ("logits",)),
    args=("logits", "Yb"),
    trials=trials.OUTSIDE_BATCHNORM,
    evaluate=evaluating(lambda v: F.cross_entropy(v.logits, v.Yb)),
)


def _without_bessel(values: Tensors, upstream: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """The lecture's fused formula for dhprebn with 1 where Bessel's n/(n - 1) belongs."""
    if upstream is None:
        return {}
    raw, n = values["bnraw"], values["bnraw"].shape[0]
    scale = values["bngain"] * values["bnvar_inv"] / n
    return {"hprebn": scale * (n * upstream - upstream.sum(0) - raw * (upstream * raw).sum(0))}


WITHOUT_BESSEL = Mistake(
    "the variance term without Bessel's correction",
    _without_bessel,
    "the forward pass divides the variance by n - 1 (Bessel's correction), so the last term needs the factor "
    "n/(n-1): - n/(n-1) * bnraw * (dhpreact * bnraw).sum(0)",
    "close_but_not_within_tolerance",
)

BATCHNORM = Exercise(
    "ex3_batchnorm",
    "batchnorm_backward",
    "hpreact = bngain * (hprebn - mean) / sqrt(var + 1e-5) + bnbias  (Bessel-corrected var)",
    ("hprebn", "bngain", "bnbias"),
    autograd_of(
        lambda v: model.batchnorm_forward(v.hprebn, v.bngain, v.bnbias)["hpreact"], ("hprebn", "bngain", "bnbias")
    ),
    upstream="hpreact",
    args=("bnraw", "bnvar_inv", "bngain"),
    trials=trials.FUSED_BATCHNORM,
    evaluate=lambda values: model.batchnorm_forward(values["hprebn"], values["bngain"], values["bnbias"]),
    mistakes=(WITHOUT_BESSEL,),
)

MLP_BACKWARD = Exercise(
    "ex4_train",
    "mlp_backward",
    "the fused forward pass, loss = F.cross_entropy(logits, Yb)",
    model.PARAMETERS,
    fused_reference,
    fwd="fused",
    zero_scale={"b1": cancelling("hprebn", 0)},
    faster=FASTER_DC,
    evaluate=lambda values: model.fused_forward({k: values[k] for k in model.PARAMETERS}, values["Xb"], values["Yb"]),
)

LECTURE: tuple[Exercise, ...] = (*ATOMIC, MANUAL_BACKWARD, CROSS_ENTROPY, BATCHNORM, MLP_BACKWARD)


def how_computed(key: str) -> str:
    """Where the lecture's chain gets the gradient of `key` from: the atomic ops it flows
    back through, as a student would compute it ("" for a name the chain does not have)."""
    ops = [op for op in ATOMIC if key in op.wrt]
    if not ops:
        return ""
    upstreams = " and ".join(f"d{op.upstream}" for op in ops)
    forwards = "; ".join(op.forward for op in ops)
    by = " and ".join(op.function for op in ops)
    return f"compute d{key} from {upstreams} ({forwards}), as {by} {'does' if len(ops) == 1 else 'do'}"


TRAINING = Training(
    "ex4.training",
    "ex4_train",
    "mlp_backward",
    "a short SGD run driven by mlp_backward follows the autograd-driven run",
)


class CatalogueError(ValueError):
    """A course's exercises that would clash with the catalogue's."""


# The catalogue in use: the lecture's exercises and its training check, then those of the
# course the rubric names (course.py), in declaration order. Read them as attributes of
# this module (catalogue.IDS), never imported by name: use() rebinds them.
EXERCISES: tuple[Exercise, ...] = LECTURE
ITEMS: tuple[Item, ...] = ()
ITEM_BY_ID: dict[str, Item] = {}
IDS: tuple[str, ...] = ()
MODULES: tuple[str, ...] = ()  # the modules a submission holds
FUNCTIONS: dict[str, str] = {}  # every exercise function -> its module


def use(course: tuple[Exercise, ...] = (), lecture: bool = True) -> None:
    """Make the catalogue the lecture's and these course exercises (none: the lecture's).
    `lecture`: whether a submission holds the lecture's modules too; without them (a
    course graded alone) MODULES are the course's, the lecture's exercises staying known."""
    global EXERCISES, ITEMS, ITEM_BY_ID, IDS, MODULES, FUNCTIONS
    exercises = (*LECTURE, *course)
    items = tuple(item for exercise in exercises for item in exercise.items)
    ids = (
        *(item.id for item in items if item.exercise in LECTURE),
        TRAINING.id,
        *(item.id for item in items if item.exercise not in LECTURE),
    )
    _check(exercises, ids)
    EXERCISES, ITEMS, IDS = exercises, items, ids
    ITEM_BY_ID = {item.id: item for item in items}
    FUNCTIONS = {e.function: e.module for e in exercises}
    lectures = [*(e.module for e in LECTURE), TRAINING.module] if lecture else []
    MODULES = tuple(dict.fromkeys([*lectures, *(e.module for e in course)]))


def modules_of(ids: Iterable[str]) -> tuple[str, ...]:
    """The modules that hold the functions of these ids (none given: every module a
    submission holds)."""
    found = [TRAINING.module if i == TRAINING.id else ITEM_BY_ID[i].exercise.module for i in ids]
    return tuple(dict.fromkeys(found)) or MODULES


def _check(exercises: tuple[Exercise, ...], ids: tuple[str, ...]) -> None:
    seen: dict[str, Exercise] = {}
    for exercise in exercises:
        if not exercise.module.isidentifier() or not exercise.function.isidentifier():
            raise CatalogueError(f"{exercise.module}.{exercise.function}: module and function must be Python names")
        if exercise.function in seen:
            first = seen[exercise.function]
            whose = (
                f"the lecture's exercise {first.module}.{first.function}"
                if first in LECTURE
                else (f"declared twice (in {first.module} and {exercise.module})")
            )
            raise CatalogueError(f"{exercise.function} is {whose}: give each function of a course a name of its own")
        seen[exercise.function] = exercise
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise CatalogueError(f"exercise ids declared twice: {', '.join(doubled)}")


use()
