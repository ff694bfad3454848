"""Assignment 02 (activation functions, their calculus, and gradient descent): hidden tests and bug bank."""
