"""What a student hands in, and the folder of modules graded from it: folders and
archives (submissions.py), notebooks read without running them (cells.py) or a running
kernel's functions (live.py), the modules made from either (assembly.py), their
lines named by cell (origins.py), and who handed each submission of a class in
(submitters.py).

It may import grader.sandbox (its capped parsing child), grader.exercises and
grader.calls.
"""
