"""Building submissions as a student would hand them in.

A submission is the released notebook with the answer cells filled in. The
kit builds them for its sample run and its tests:

* the full solution: every answer cell holds the instructor's solution
  between the release's ``### START YOUR CODE ###`` markers;
* the untouched release: the notebook as released;
* a buggy submission: the full solution with one or more :class:`Bug` applied,
  each a plausible mistake from the assignment's bug bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import Course

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
START, STOP = "### START YOUR CODE ###", "### END YOUR CODE ###"


@dataclass(frozen=True)
class Bug:
    """A plausible wrong answer.

    name: short id, e.g. ``"one_hot_transposed"``.
    cell: grade_id of the answer cell it changes.
    old, new: the solution text replaced (must occur in that cell) and its replacement.
    loses: grade_ids of the test cells that must score 0 with this bug.
    why: the mistake it models, in one sentence.
    """

    name: str
    cell: str
    old: str
    new: str
    loses: tuple[str, ...]
    why: str


def solution_answers(course: Course, assignment: str, notebook: str) -> dict[str, str]:
    """Answer-cell grade_id -> the solution as a student would type it."""
    nb = nbformat.read(course.source_notebook(assignment, notebook), as_version=4)
    answers = {}
    for cell in nb.cells:
        nbg = cell.metadata.get("nbgrader", {})
        if nbg.get("solution") and cell.cell_type == "code":
            answers[nbg["grade_id"]] = cell.source.replace(BEGIN, START).replace(END, STOP)
        elif nbg.get("solution"):  # a written answer: the model answer without the markers
            answers[nbg["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if line.strip() not in (BEGIN, END)).strip()
    return answers


def apply_bugs(answers: dict[str, str], bugs: list[Bug]) -> dict[str, str]:
    """A copy of ``answers`` with each bug applied; ValueError if a bug no longer applies."""
    answers = dict(answers)
    for bug in bugs:
        if bug.old not in answers.get(bug.cell, ""):
            raise ValueError(f"bug {bug.name!r}: {bug.old!r} not found in answer cell {bug.cell!r}")
        answers[bug.cell] = answers[bug.cell].replace(bug.old, bug.new)
    return answers


def fill_release(course: Course, assignment: str, notebook: str,
                 answers: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with the given answer cells' sources replaced."""
    nb = nbformat.read(course.release_notebook(assignment, notebook), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers and cell.metadata.nbgrader.get("solution"):
            cell.source = answers[gid]
    return nb


def write_submission(course: Course, student: str, assignment: str,
                     notebooks: dict[str, nbformat.NotebookNode]) -> Path:
    """Place notebooks in submitted/<student>/<assignment>/ as nbgrader collect would."""
    folder = course.root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder
