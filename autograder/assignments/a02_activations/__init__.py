"""Assignment 02 (activation functions, their calculus, and gradient descent): hidden tests and bug bank."""

#: Wall-clock seconds the grader gives one notebook, from kernel start to its last cell
#: (the solution takes about 6 s; tests/test_assignments.py checks it stays within half).
TIME_BUDGET = 120
