"""Assignment 04 (10-class linear regression by minibatch gradient descent, then softmax and cross-entropy):
hidden tests and bug bank."""

#: Wall-clock seconds the grader gives one notebook, from kernel start to its last cell
#: (about twice the measured grading time of the solution, and at least 60).
TIME_BUDGET = 60
