"""Assignment 06 (deeper sigmoid networks from scratch, overfitting made measurable, the capacity of a tiny net):
hidden tests and bug bank."""

#: Wall-clock seconds the grader gives one notebook, from kernel start to its last cell
#: (every experiment cell is skipped at grade time: the graded cells run in a few seconds, the floor of 60 applies).
TIME_BUDGET = 60
