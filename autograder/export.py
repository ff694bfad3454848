"""Grades out of the gradebook, as CSV files an LMS imports: ``reports/grades-<format>.csv``.

``python -m autograder export --format nbgrader|moodle|canvas``

Every format has one grade per student and assignment: the total of the
autograded points and the points given by hand in the formgrader (written
answers, and any score the instructor overrode), less nbgrader's late
penalty, never below 0 -- nbgrader's own ``score``. Every student of the
gradebook has a row (collect ``--roster`` puts the whole class there, with
names, emails and Canvas ids).

``nbgrader`` (``grades-nbgrader.csv``): nbgrader's own ``nbgrader export``,
one row per student and assignment: ``assignment, duedate, timestamp,
student_id, last_name, first_name, email, raw_score,
late_submission_penalty, score, max_score``; a student without a submission
scores 0.

``moodle`` (``grades-moodle.csv``), for Grades > Import > CSV file:
``First name, Last name, ID number, Email address, <assignment>...``, one
column of points per assignment. In Moodle's import, "Identify user by" maps
``Email address`` to the user's email address (or ``ID number``, the kit's
student id, to the user's ID number when those are your institution's ids),
and each assignment column to its grade item (its maximum should be the
assignment's points).

``canvas`` (``grades-canvas.csv``), for Grades > Import: Canvas's gradebook
layout, ``Student, ID, SIS User ID, SIS Login ID, Section,
<assignment>...``, then a ``Points Possible`` row with each assignment's
maximum. ``Student`` is "Family, Given", ``ID`` the Canvas user id
(the roster's ``canvas_id``) by which Canvas matches the row, ``SIS User ID``
the kit's student id (Canvas matches by it when ``ID`` is empty), ``SIS Login
ID`` and ``Section`` empty. An assignment column is named after the kit's
assignment: Canvas puts it in the assignment of that title (name the Canvas
assignment alike, or rename the header to the ``Title (id)`` of Canvas's own
export; a title Canvas does not know becomes a new assignment).

In the LMS files a student without a submission has an empty cell (the LMS
leaves the grade as it was: missing work is the instructor's call, not the
kit's). Written answers still waiting to be graded by hand count 0 in every
format: :func:`ungraded_written` names them, so grade them first.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import Course

FORMATS = ("nbgrader", "moodle", "canvas")
MOODLE_COLUMNS = ("First name", "Last name", "ID number", "Email address")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


@dataclass(frozen=True)
class StudentGrades:
    """One gradebook student: their fields and their total per assignment (None: no submission)."""

    student_id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    totals: dict[str, float | None]


@dataclass(frozen=True)
class GradeTable:
    """assignments: (name, points possible) in the gradebook's order; students sorted by name."""

    assignments: list[tuple[str, float]]
    students: list[StudentGrades]


def export_grades(course: Course, fmt: str) -> Path:
    """Write ``reports/grades-<fmt>.csv`` (see the module doc) and return its path.

    ValueError for an unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    out = course.root / "reports" / f"grades-{fmt}.csv"
    out.parent.mkdir(exist_ok=True)
    if fmt == "nbgrader":
        course.nbgrader("export", f"--to={out}")
        return out
    table = grade_table(course)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        names = [name for name, _ in table.assignments]
        if fmt == "moodle":
            writer.writerow([*MOODLE_COLUMNS, *names])
            for s in table.students:
                writer.writerow([s.first_name, s.last_name, s.student_id, s.email, *_points(s, names)])
        else:
            writer.writerow([*CANVAS_COLUMNS, *names])
            writer.writerow(["Points Possible", "", "", "", "", *(_number(p) for _, p in table.assignments)])
            for s in table.students:
                writer.writerow([_sortable_name(s), s.lms_user_id, s.student_id, "", "", *_points(s, names)])
    return out


def grade_table(course: Course) -> GradeTable:
    """Every gradebook student's total on every assignment, read from the course's gradebook."""

    with Gradebook(course.db_url, course.course_id) as gb:
        assignments = [(a.name, float(a.max_score)) for a in gb.assignments]
        students = []
        for st in gb.students:
            totals = {name: _total(gb, name, st.id) for name, _ in assignments}
            students.append(StudentGrades(st.id, st.first_name or "", st.last_name or "", st.email or "",
                                          st.lms_user_id or "", totals))
    students.sort(key=lambda s: (s.last_name.casefold(), s.first_name.casefold(), s.student_id))
    return GradeTable(assignments, students)


def ungraded_written(course: Course) -> list[str]:
    """One line per assignment naming the submissions whose written answers are not all graded by hand
    (they count 0 so far); a class of 30 is one line, not 30."""
    lines = []
    with Gradebook(course.db_url, course.course_id) as gb:
        for a in gb.assignments:
            waiting = sorted(sub.student.id for sub in a.submissions if sub.needs_manual_grade)
            if waiting:
                lines.append(f"{a.name}: written answers not graded yet in {len(waiting)} "
                             f"submission{'s' * (len(waiting) > 1)} (they count 0 in the export): {', '.join(waiting)}")
    return lines


def _total(gb: Gradebook, assignment: str, student: str) -> float | None:
    """nbgrader's score: autograded + by hand - late penalty, at least 0; None without a submission."""
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return None
    return max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))


def _points(student: StudentGrades, names: list[str]) -> list[str]:
    return ["" if student.totals[name] is None else _number(student.totals[name]) for name in names]


def _number(x: float) -> str:
    """Points as an LMS reads them: 27, 23.5 (no 27.0, no exponent)."""
    return f"{x:.10g}"


def _sortable_name(s: StudentGrades) -> str:
    """Canvas's "Family, Given" (the student id when the gradebook has no name)."""
    return ", ".join(filter(None, (s.last_name, s.first_name))) or s.student_id
