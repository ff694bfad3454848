"""Assignment 03 (a perceptron trained by gradient descent on MNIST 1 vs 7): hidden tests and bug bank."""

#: Wall-clock seconds the grader gives one notebook, from kernel start to its last cell
#: (about twice the measured grading time of the solution, and at least 60).
TIME_BUDGET = 60
