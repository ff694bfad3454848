"""Assignment 01 (numpy in a nutshell): hidden tests and bug bank."""
