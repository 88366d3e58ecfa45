"""Runs in a grading worker, as a student's module would (tests/test_attacks.py): walks
torch's operator registry for its gradient operators, calls each one with arguments of
its schema's types, and tells which calls got an answer; then does the same with the
Python functions of torch's decomposition tables for those operators.

The list is made here, with a rule of its own, not from the grader's.
"""

import re

import torch

WORDS = re.compile(r"(?:^|_)(?:backward|grad|jvp|vjp|make_dual)(?:_|$)")


def gradient_operators():
    names = torch._C._dispatch_get_all_op_names()
    return sorted(n for n in names if WORDS.search(n.split("::")[-1].split(".")[0]))


def overload(name):
    namespace, _, rest = name.partition("::")
    packet, _, which = rest.partition(".")
    return getattr(getattr(getattr(torch.ops, namespace), packet), which or "default")


SAMPLES = {
    "Tensor": lambda: torch.zeros(2, 2),
    "List[Tensor]": lambda: [torch.zeros(2, 2)],
    "int": lambda: 1,
    "SymInt": lambda: 1,
    "List[int]": lambda: [2, 2],
    "List[SymInt]": lambda: [2, 2],
    "float": lambda: 1.0,
    "bool": lambda: False,
    "List[bool]": lambda: [False, False, False],
    "number": lambda: 1,
    "Scalar": lambda: 1,
    "ScalarType": lambda: torch.float32,
    "str": lambda: "none",
}


def sample(kind):
    """A value of a schema type, or KeyError."""
    text = str(kind)
    return None if text.startswith("Optional[") else SAMPLES[text]()


def arguments(op):
    args, kwargs = [], {}
    for argument in op._schema.arguments:
        if argument.has_default_value():
            continue
        value = sample(argument.type)
        if argument.kwarg_only:
            kwargs[argument.name] = value
        else:
            args.append(value)
    return args, kwargs


def walk():
    """Prints what it found, as JSON: the call that refused is autograd's use, and fails."""
    import json

    print(json.dumps(_walk()))


def _walk():
    names = gradient_operators()
    called, answered = 0, []
    for name in names:
        try:
            op = overload(name)
            args, kwargs = arguments(op)
        except (AttributeError, KeyError, RuntimeError):
            continue
        try:
            op(*args, **kwargs)
        except PermissionError as error:
            called += "gradient operator" in str(error)
            continue
        except Exception:  # noqa: BLE001 - arguments the schema took but the operator did not: not a call
            continue
        answered.append(name)
    return {"operators": len(names), "called": called, "answered": answered}


def python_implementations():
    from torch._decomp import global_decomposition_table

    wanted = set(gradient_operators())
    found, answered = 0, []
    for table in global_decomposition_table.values():
        for op, fn in table.items():
            if op.name() not in wanted:
                continue
            found += 1
            try:
                fn(*[torch.zeros(2, 2)] * 3)
            except PermissionError:
                continue
            except Exception:  # noqa: BLE001 - reached its body: it computed
                pass
            answered.append(op.name())
    return {"functions": found, "answered": answered}
