"""Grade export (autograder/export.py): nbgrader's CSV, Moodle's and Canvas's import formats.

One scratch course is graded for real once (the three sample students of
01_numpy, about 30 s); the instructor then gives a point and a half by hand
and leaves one answer waiting for manual grading. Every figure in the LMS
files is checked against the gradebook's grades and against nbgrader's own
export, never against hard-coded totals.
"""

from __future__ import annotations

import csv

import pytest
from nbgrader.api import Gradebook

from autograder.course import Course
from autograder.export import CANVAS_COLUMNS, MOODLE_COLUMNS, export_grades, ungraded_written
from autograder.lms import Roster, register_students
from autograder.submissions import autograded_points, write_samples

AID = NB = "01_numpy"
BY_HAND = 1.5  # points the instructor gives sample-untouched in the formgrader
OVERRIDDEN = "test_one_hot_hidden"
ROSTER = """student_id,first_name,last_name,email,canvas_id
sample-full,Ada,Lovelace,ada@uni.example,5001
sample-partial,Grace,Hopper,grace@uni.example,5002
absent,Alan,Turing,alan@uni.example,5003
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course whose samples are autograded, with names from a roster and a manual grade."""
    tmp = tmp_path_factory.mktemp("export")
    course = Course.scratch(tmp / "course", [AID])
    write_samples(course, AID)
    (tmp / "roster.csv").write_text(ROSTER, encoding="utf-8")
    register_students(course.db_url, course.course_id, Roster.read(tmp / "roster.csv"))
    course.nbgrader("autograde", AID, "--create")
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.find_grade(OVERRIDDEN, NB, AID, "sample-untouched").manual_score = BY_HAND
        gb.find_grade(OVERRIDDEN, NB, AID, "sample-partial").needs_manual_grade = True
        gb.db.commit()
    return course


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _gradebook_totals(course) -> dict[str, float]:
    """Each submission's total summed from its grades (the manual score where one was given)."""
    with Gradebook(course.db_url, course.course_id) as gb:
        totals = {}
        for sub in gb.assignment_submissions(AID):
            points = sum(g.manual_score if g.manual_score is not None else (g.auto_score or 0.0)
                         for nb in sub.notebooks for g in nb.grades)
            totals[sub.student.id] = max(0.0, points - (sub.late_submission_penalty or 0.0))
        return totals


def test_nbgrader_export_is_nbgraders_own(graded):
    rows = _rows(export_grades(graded, "nbgrader"))
    assert rows[0][:4] == ["assignment", "duedate", "timestamp", "student_id"]
    scores = {r[3]: float(r[rows[0].index("score")]) for r in rows[1:]}
    totals = _gradebook_totals(graded)
    assert scores == {**totals, "absent": 0.0}


def test_moodle_export_has_an_identifier_and_a_grade_column_per_assignment(graded):
    rows = _rows(export_grades(graded, "moodle"))
    assert rows[0] == [*MOODLE_COLUMNS, AID]
    by_id = {r[2]: r for r in rows[1:]}
    totals = _gradebook_totals(graded)
    assert sorted(by_id) == sorted([*totals, "absent"])
    for sid, total in totals.items():
        assert float(by_id[sid][4]) == pytest.approx(total)
    assert by_id["absent"][4] == ""  # no submission: the LMS keeps what it has
    assert by_id["sample-full"][:4] == ["Ada", "Lovelace", "sample-full", "ada@uni.example"]
    assert by_id["sample-untouched"][:4] == ["", "", "sample-untouched", ""]


def test_canvas_export_uses_canvas_columns_and_points_possible(graded):
    rows = _rows(export_grades(graded, "canvas"))
    assert rows[0] == [*CANVAS_COLUMNS, AID]
    assert rows[1][:5] == ["Points Possible", "", "", "", ""]
    assert float(rows[1][5]) == autograded_points(graded, AID, NB)  # 01_numpy has no written answers
    by_sis = {r[2]: r for r in rows[2:]}
    assert by_sis["sample-full"][:2] == ["Lovelace, Ada", "5001"]
    assert by_sis["sample-untouched"][:2] == ["sample-untouched", ""]
    for sid, total in _gradebook_totals(graded).items():
        assert float(by_sis[sid][5]) == pytest.approx(total)
    assert by_sis["absent"][5] == ""


def test_lms_totals_hold_autograded_and_manual_points(graded):
    """The full solution gets every point; the untouched release gets only what was given by hand."""
    rows = {r[2]: r for r in _rows(export_grades(graded, "moodle"))[1:]}
    assert float(rows["sample-full"][4]) == autograded_points(graded, AID, NB)
    with Gradebook(graded.db_url, graded.course_id) as gb:
        sub = gb.find_submission(AID, "sample-untouched")
        autograded = sum(g.auto_score or 0.0 for nb in sub.notebooks for g in nb.grades if g.name != OVERRIDDEN)
    assert float(rows["sample-untouched"][4]) == pytest.approx(autograded + BY_HAND)
    assert float(rows["sample-partial"][4]) < autograded_points(graded, AID, NB)


def test_answers_awaiting_manual_grading_are_named(graded):
    assert ungraded_written(graded) == [
        f"{AID}: written answers not graded yet in 1 submission (they count 0 in the export): sample-partial"]


def test_an_unknown_format_is_refused(graded):
    with pytest.raises(ValueError, match="unknown export format 'blackboard'"):
        export_grades(graded, "blackboard")
