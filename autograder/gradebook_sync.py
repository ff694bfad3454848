"""Moving autograder results between gradebooks, so that only one process writes the real one.

Parallel grading (autograder/parallel.py) runs ``nbgrader autograde`` for a
few students at a time on a Dask worker, against a private SQLite gradebook
seeded with the assignment's definition (:func:`assignment_seed`). The worker reads
back what nbgrader wrote there (:func:`read_autogrades`), and the client, the
only writer of the real gradebook (SQLite or a server's ``db_url``), saves it
(:func:`save_autogrades`) one student after the other: no "database is locked",
no lost rows.

The fields moved are exactly those ``nbgrader autograde`` writes: the
submission's timestamp, each grade's ``auto_score`` and ``needs_manual_grade``,
each comment's ``auto_comment`` and each notebook's late penalty.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SAWarning


@dataclass(frozen=True)
class NotebookGrades:
    """What autograding wrote for one submitted notebook.

    grades: grade cell name -> (auto_score, needs_manual_grade), as nbgrader saved them
        in a gradebook with no manual scores.
    comments: solution/task cell name -> auto_comment ("No response." or None).
    late_penalty: the notebook's late submission penalty (None when not late).
    """

    grades: dict[str, tuple[float | None, bool]]
    comments: dict[str, str | None]
    late_penalty: float | None


def assignment_seed(db_url: str, course_id: str, assignment: str) -> bytes:
    """A fresh SQLite gradebook holding only ``assignment``'s definition, as bytes.

    The definition (due date, notebooks, grade/solution/task/source cells) is
    what ``nbgrader autograde`` needs: it creates the submission from it and
    RebuildSubmission restores test cells from its source cells.
    """
    with tempfile.TemporaryDirectory() as tmp:
        seed_url = f"sqlite:///{Path(tmp) / 'seed.db'}"
        with Gradebook(db_url, course_id) as real:
            _stamp(seed_url, real.db.execute(text("SELECT version_num FROM alembic_version")).scalar())
            with Gradebook(seed_url, course_id) as seed:
                _copy_definition(real.find_assignment(assignment), seed)
        return (Path(tmp) / "seed.db").read_bytes()


def _copy_definition(definition, seed: Gradebook) -> None:
    """Recreate the assignment ``definition`` (an nbgrader Assignment) in ``seed``."""
    aid = definition.name
    seed.update_or_create_assignment(aid, duedate=definition.duedate)
    for nb in definition.notebooks:
        seed.update_or_create_notebook(nb.name, aid, kernelspec=nb.kernelspec)
        for cell in nb.grade_cells:
            seed.update_or_create_grade_cell(cell.name, nb.name, aid, max_score=cell.max_score,
                                             cell_type=cell.cell_type)
        for cell in nb.solution_cells:
            seed.update_or_create_solution_cell(cell.name, nb.name, aid)
        for cell in nb.task_cells:
            seed.update_or_create_task_cell(cell.name, nb.name, aid, max_score=cell.max_score,
                                            cell_type=cell.cell_type)
        for cell in nb.source_cells:
            seed.update_or_create_source_cell(cell.name, nb.name, aid, cell_type=cell.cell_type, locked=cell.locked,
                                              source=cell.source, checksum=cell.checksum)


def _stamp(db_url: str, version: str) -> None:
    """Give a new gradebook the schema version of the real one.

    nbgrader stamps a new gradebook by running ``alembic`` by name, which is not
    on PATH unless the venv is activated; the real gradebook's version is the right one anyway.
    """
    engine = create_engine(db_url)
    with engine.begin() as db:
        db.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        db.execute(text("INSERT INTO alembic_version (version_num) VALUES (:version)"), {"version": version})
    engine.dispose()


def extension_of(db_url: str, course_id: str, assignment: str, student: str) -> timedelta | None:
    """The extension the real gradebook grants ``student`` (late penalties depend on it)."""
    with Gradebook(db_url, course_id) as gb:
        try:
            return gb.find_submission(assignment, student).extension
        except MissingEntry:
            return None


def grant_extension(db_url: str, course_id: str, assignment: str, student: str, extension: timedelta) -> None:
    """Give ``student`` the same extension in a private gradebook, before autograding."""
    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, extension=extension)


def fully_autograded(gb: Gradebook, assignment: str, student: str, notebooks: list[str]) -> bool:
    """True when every code grade of ``student``'s ``notebooks`` has an autograded score.

    A grading run killed midway leaves a submission without them.
    """
    try:
        submitted = [gb.find_submission_notebook(nb, assignment, student) for nb in notebooks]
    except MissingEntry:
        return False
    return all(g.auto_score is not None for nb in submitted for g in nb.grades if g.cell_type == "code")


def read_autogrades(db_url: str, course_id: str, assignment: str, student: str):
    """(timestamp, {notebook: NotebookGrades}) of ``student``'s submission; None if not fully autograded."""
    with Gradebook(db_url, course_id) as gb:
        if not fully_autograded(gb, assignment, student, [nb.name for nb in gb.find_assignment(assignment).notebooks]):
            return None
        submission = gb.find_submission(assignment, student)
        notebooks = {
            nb.name: NotebookGrades(grades={g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                                    comments={c.name: c.auto_comment for c in nb.comments},
                                    late_penalty=nb.late_submission_penalty)
            for nb in submission.notebooks}
        return submission.timestamp, notebooks


def record_ungraded(db_url: str, course_id: str, assignment: str, student: str) -> None:
    """A student nbgrader could not grade (no notebook of the assignment's name, say) still gets a
    submission in the gradebook, at 0 points, as serial nbgrader leaves one: the grade table then
    lists them with the reason (autograder/report.py). An existing submission is left as it is."""
    with Gradebook(db_url, course_id) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        try:
            gb.find_submission(assignment, student)
        except MissingEntry:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)


def save_autogrades(db_url: str, course_id: str, assignment: str, student: str, timestamp,
                    notebooks: dict[str, NotebookGrades], submitted: set[str]) -> None:
    """Write one student's autograded results into the real gradebook, as nbgrader autograde would.

    submitted: names of the notebooks the student handed in. For those, a manual
    score already in the gradebook flags the grade for review (SaveAutoGrades'
    rule); a missing notebook's zeros never need review.
    """
    with Gradebook(db_url, course_id) as gb, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy's autoflush warning; nbgrader autograde logs it too
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
        for name, result in notebooks.items():
            nb = gb.find_submission_notebook(name, assignment, student)
            for grade in nb.grades:
                grade.auto_score, needs_review = result.grades[grade.name]
                grade.needs_manual_grade = needs_review or (grade.manual_score is not None and name in submitted)
            for comment in nb.comments:
                comment.auto_comment = result.comments[comment.name]
            nb.late_submission_penalty = result.late_penalty
        gb.db.commit()
