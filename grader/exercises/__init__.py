"""What is graded: the exercises as data (catalogue.py), the network and its forward
pass (model.py), the trials and their values (trials.py, inputs.py), a course's own
exercises (course.py), the rubric (rubric.py), a run's secret seed (seeds.py), and
exercise 4's training run (training.py).

It may import grader.calls, and nothing else of the grader's.
"""
