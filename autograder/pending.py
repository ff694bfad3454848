"""Written answers that still await grading by hand, said where students and instructors look.

nbgrader scores a written answer 0 until the instructor grades it in the formgrader, and its
feedback then shows "0 / 4" for a good answer with no warning. The feedback stage
(``NotePendingAnswers``, after nbgrader's GetGrades) puts a note at the top of the page naming
the answers still to be graded, and the grade table (autograder/report.py) shows the written
points scored so far and how many answers are pending.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbformat.v4 import new_markdown_cell
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor


@dataclass(frozen=True)
class Written:
    """The written answers of one submitted notebook: points scored by hand, points possible,
    and the grade_ids (with their points) of those nobody has graded yet."""

    scored: float
    possible: float
    pending: tuple[tuple[str, float], ...]


def written(nb) -> Written:
    """The written answers of a submitted notebook (nbgrader's SubmittedNotebook, from the gradebook)."""
    grades = [g for g in nb.grades if g.cell_type == "markdown"]
    pending = tuple((g.name, float(g.max_score)) for g in grades if g.needs_manual_grade)
    return Written(scored=float(sum(g.score for g in grades if not g.needs_manual_grade)),
                   possible=float(sum(g.max_score for g in grades)), pending=pending)


def pending_note(state: Written) -> str:
    """The feedback's note: which written answers are not graded yet (their 0 is not a grade)."""
    names = ", ".join(f"`{name}` ({points:g} points)" for name, points in state.pending)
    return (f"**Not graded yet:** {len(state.pending)} written answer(s), {names}. They show 0 points "
            f"below only because nobody has graded them yet; your final score will include them.")


class NotePendingAnswers(NbGraderPreprocessor):
    """Insert the pending-answers note at the top of a notebook's feedback (nothing if none is pending)."""

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        with Gradebook(nbg["db_url"]) as gb:
            try:
                state = written(gb.find_submission_notebook(nbg["notebook"], nbg["assignment"], nbg["student"]))
            except MissingEntry:
                return nb, resources
        if state.pending:
            nb.cells.insert(0, new_markdown_cell(pending_note(state)))
        return nb, resources
