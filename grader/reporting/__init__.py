"""What is said: the report in every format (reports.py, with report.schema.json),
GitHub Classroom's result (classroom.py), a class's gradebook (gradebook.py), and the
pictures of a wrong gradient (pictures.py).

It may import grader.grading and everything below it.
"""
