"""The ways in, each a thin layer over grading: the command (cli.py), the pytest plugin
(plugin.py, with its tests in test_exercises.py), a class at once (batch.py), a
notebook's check() (notebook.py), the student repository and the Gradescope zip
(release.py, stubs.py, student_notebook.py), and progress bars (progress.py).

The top floor: it may import every other subpackage; none imports it.
"""
