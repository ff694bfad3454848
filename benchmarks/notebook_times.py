"""How long each solution notebook takes to run, as a student's Jupyter would run it.

    .venv/bin/python benchmarks/notebook_times.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import KIT_ROOT, Course  # noqa: E402


def main() -> None:
    kit = Course(KIT_ROOT)
    for aid in kit.assignments():
        for name in kit.notebooks(aid):
            nb = nbformat.read(kit.source_notebook(aid, name), as_version=4)
            started = time.perf_counter()
            NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(kit.source / aid)}}).execute()
            print(f"{aid}/{name}.ipynb: {time.perf_counter() - started:5.1f} s (kernel start included)")


if __name__ == "__main__":
    main()
