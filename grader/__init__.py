"""backprop-ninja: grade the exercises of "makemore Part 4: Becoming a Backprop Ninja"
against PyTorch autograd.

`grader.grading.grade(folder)` returns a Report; the CLI (`backprop-ninja`), the pytest
plugin (`pytest grader`) and a notebook's `from grader import check` (notebook.py) are
thin layers over it. Importing this package alone does not import torch, so that the
pytest plugin costs nothing in unrelated test runs.
"""

from typing import Any

__version__ = "0.1.0"
NOTEBOOK_API = ("check", "train_network")  # grader.notebook's, imported on first use


def __getattr__(name: str) -> Any:
    if name in NOTEBOOK_API:
        from grader import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
