"""Assignment 05 (an MLP with hand-written backprop, gradient checking and elastic net): hidden tests and bug bank."""

#: Wall-clock seconds the grader gives one notebook, from kernel start to its last cell
#: (the solution grades in about 5 s through nbgrader, bugs in up to 7 s: the floor of 60 applies).
TIME_BUDGET = 60
