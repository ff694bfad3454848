"""Building submissions as a student would hand them in.

A submission is the released notebook with the answer cells filled in. The
kit builds them for its sample run and its tests:

* the full solution: every answer cell holds the instructor's solution
  between the release's ``### START YOUR CODE ###`` markers;
* the untouched release: the notebook as released;
* a buggy submission: the full solution with one or more :class:`Bug` applied,
  each a plausible mistake from the assignment's bug bank;
* the three samples (:func:`write_samples`) the tests grade;
* the demo's class (:func:`write_class`): the samples and students with a few
  mistakes each, drawn from the bug bank.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader import utils

from . import assignments
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


def autograded_points(course: Course, assignment: str, notebook: str, prefix: str = "") -> float:
    """Points of the notebook's autograded test cells (those whose grade_id starts with ``prefix``).

    Read from the source notebook, so tests need not hard-code an assignment's total.
    """
    nb = nbformat.read(course.source_notebook(assignment, notebook), as_version=4)
    return float(sum(cell.metadata.nbgrader["points"] for cell in nb.cells
                     if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
                     and cell.metadata.nbgrader["grade_id"].startswith(prefix)))


def write_samples(course: Course, aid: str) -> list[str]:
    """submitted/sample-*/<aid>/: the solution, the untouched release, a partly wrong one (their ids).

    The partly wrong submission has, in each answer cell, the first bug of the
    bank that only the hidden tests catch: its visible checks all pass, and it
    still loses points.
    """
    bugs = assignments.bug_bank(aid)
    sneaky = [b for b in bugs if all(t.endswith("_hidden") for t in b.loses)] or bugs[:1]
    sneaky = list({b.cell: b for b in reversed(sneaky)}.values())  # one per cell: bugs need not compose
    for nb in course.notebooks(aid):
        full = solution_answers(course, aid, nb)
        write_submission(course, "sample-full", aid, {nb: fill_release(course, aid, nb, full)})
        write_submission(course, "sample-untouched", aid, {nb: fill_release(course, aid, nb, {})})
        partial = apply_bugs(full, [b for b in sneaky if b.cell in full])
        write_submission(course, "sample-partial", aid, {nb: fill_release(course, aid, nb, partial)})
    return ["sample-full", "sample-untouched", "sample-partial"]


#: Students in the demo's class of each assignment.
CLASS_SIZE = 30
#: How many of the bank's mistakes a synthetic student makes (drawn uniformly from this tuple).
MISTAKES = (0, 1, 1, 2, 2, 3)


def write_class(course: Course, aid: str, size: int = CLASS_SIZE, seed: int = 0) -> list[str]:
    """submitted/<student>/<aid>/ for a class of ``size``: the three samples of :func:`write_samples`,
    then ``student-04`` ... with 0 to 3 mistakes each (:data:`MISTAKES`) from the bug bank, at most
    one per answer cell so that they compose. Returns the class's student ids.

    seed: the class drawn (the same seed, the same class, on every machine).
    """
    students = write_samples(course, aid)
    rng = random.Random(f"{aid}:{seed}")
    by_cell = defaultdict(list)
    for bug in assignments.bug_bank(aid):
        by_cell[bug.cell].append(bug)
    cells = sorted(by_cell)
    solutions = {nb: solution_answers(course, aid, nb) for nb in course.notebooks(aid)}
    for i in range(len(students) + 1, size + 1):
        picked = [rng.choice(by_cell[cell]) for cell in rng.sample(cells, min(len(cells), rng.choice(MISTAKES)))]
        student = f"student-{i:02d}"
        write_submission(course, student, aid, {
            nb: fill_release(course, aid, nb, apply_bugs(full, [b for b in picked if b.cell in full]))
            for nb, full in solutions.items()})
        students.append(student)
    return students
