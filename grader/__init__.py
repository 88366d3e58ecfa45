"""backprop-ninja: grade the exercises of "makemore Part 4: Becoming a Backprop Ninja"
against PyTorch autograd.

`grader.grading.grader.grade(folder)` returns a Report; the CLI (`backprop-ninja`), the pytest
plugin (`pytest grader`) and a notebook's `from grader import check` (notebook.py) are
thin layers over it. Importing this package alone does not import torch, so that the
pytest plugin costs nothing in unrelated test runs.
"""

from typing import Any

from grader.calls.version import __version__

__all__ = ["__version__", "check", "train_network"]
NOTEBOOK_API = ("check", "train_network")  # grader.frontends.notebook's, imported on first use


def __getattr__(name: str) -> Any:
    if name in NOTEBOOK_API:
        from grader.frontends import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
