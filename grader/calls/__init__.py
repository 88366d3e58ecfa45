"""What crosses from student code to the grader, shared by the sandbox that makes calls
and the grading that reads them: a call's value or failure (call.py), the failure kinds
(failures.py), the vocabularies that travel between the layers (vocabulary.py), a
call's limits (limits.py), student text made safe (text.py), and files read only when
regular and within caps, or written whole (files.py).

The ground floor: it imports nothing of the grader's.
"""
