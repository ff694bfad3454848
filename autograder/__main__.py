"""``python -m autograder``: the instructor's command line (see autograder/cli.py)."""

from .cli import main

raise SystemExit(main())
