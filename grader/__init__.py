"""backprop-ninja: grade the exercises of "makemore Part 4: Becoming a Backprop Ninja"
against PyTorch autograd.

`grader.grading.grade(folder)` returns a Report; the CLI (`backprop-ninja`) and the
pytest plugin (`pytest grader`) are thin layers over it. Importing this package alone
does not import torch, so that the pytest plugin costs nothing in unrelated test runs.
"""

__version__ = "0.1.0"
