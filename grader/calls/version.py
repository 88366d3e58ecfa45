"""The grader's version, which every report names."""

__version__ = "0.1.0"
