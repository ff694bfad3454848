"""Every solution notebook run as a student runs it: a plain Jupyter kernel, no grading.

Apart from tests/test_assignments.py (which grades through nbgrader) so that pytest-xdist, which
hands out whole files, can run the two at once.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import Course
from conftest import NOTEBOOKS, ROOT

KIT = Course(ROOT)


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_solution_runs_for_a_student_and_draws_its_figures(aid, notebook):
    """Run the solution as a student would (plain Jupyter kernel, no grading):
    no errors anywhere, every visible check prints ok, every plotting cell shows a figure."""
    nb = nbformat.read(KIT.source_notebook(aid, notebook), as_version=4)
    NotebookClient(nb, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(KIT.source / aid)}}).execute()
    errors = [(i, o.ename, o.evalue[:200]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors == []
    plotting = [c for c in nb.cells if c.cell_type == "code" and re.search(r"\bplt\.|show_images\(", c.source)]
    assert plotting, "every assignment teaches with pictures"
    for cell in plotting:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source[:80]
