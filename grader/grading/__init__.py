"""Grading: the Grader's pipeline from a hand-in to a report (grader.py), the one
comparison with autograd (compare.py), what is wrong (diagnosis.py, clues.py), scores
(scoring.py), the results as data (results.py), the training check (lockstep.py),
numerical differentiation (numerical.py), slow code (timing.py), and what a student's
source says without running it (sources.py, scan.py, sizes.py).

It may import grader.handins, grader.sandbox, grader.exercises and grader.calls.
"""
