"""Written answers not graded yet: the feedback says so, the grade table counts them."""

from __future__ import annotations

from nbgrader.api import Gradebook

from autograder.report import format_table, grade_rows
from autograder.submissions import autograded_points

from pages import readable

AID = NB = "02_activations"  # it has written answers
STUDENT = "sample-full"


def _written_grades(g):
    with Gradebook(g.course.db_url, g.course.course_id) as gb:
        nb = gb.find_submission_notebook(NB, AID, STUDENT)
        return sorted((grade.name, grade.max_score) for grade in nb.grades if grade.cell_type == "markdown")


def _set_manual_score(g, name, score):
    with Gradebook(g.course.db_url, g.course.course_id) as gb:
        grade = gb.find_grade(name, NB, AID, STUDENT)
        grade.manual_score = score
        grade.needs_manual_grade = score is None
        gb.db.commit()


def _feedback_text(g) -> str:
    with g.feedback("--student", STUDENT) as feedback:
        page = feedback / STUDENT / AID / f"{NB}.html"
        return readable(page.read_text())


def test_pending_answers_are_named_in_feedback_and_counted_in_the_table(graded):
    g = graded(AID)
    with g.hand_grading():  # another test process gives these answers points by hand too
        written = _written_grades(g)
        assert written, "02 has written answers"
        possible = sum(points for _, points in written)
        row = next(r for r in grade_rows(g.course, AID) if r.student == STUDENT)
        assert (row.by_hand, row.by_hand_scored, row.pending) == (possible, 0, len(written))
        assert f"+ written 0 / {possible:g} ({len(written)} not graded yet)" in format_table(AID, [row])
        text = _feedback_text(g)
        assert f"Not graded yet: {len(written)} written answer(s)" in text
        assert all(name in text for name, _ in written)

        graded_by_hand, points = written[0]
        try:
            _set_manual_score(g, graded_by_hand, points - 1)
            row = next(r for r in grade_rows(g.course, AID) if r.student == STUDENT)
            assert (row.by_hand_scored, row.pending) == (points - 1, len(written) - 1)
            text = _feedback_text(g)
            note = text[text.index("Not graded yet"):].split("final score will include them")[0]
            assert graded_by_hand not in note and f"{len(written) - 1} written answer(s)" in note
            for name, _ in written[1:]:
                assert name in note
        finally:
            _set_manual_score(g, graded_by_hand, None)


def test_a_notebook_without_written_answers_gets_no_note(graded):
    g = graded("01_numpy")
    row = next(r for r in grade_rows(g.course, "01_numpy") if r.student == STUDENT)
    assert (row.by_hand, row.pending, row.score) == (0, 0, autograded_points(g.course, "01_numpy", "01_numpy"))
    with g.feedback("--student", STUDENT) as feedback:
        assert "Not graded yet" not in (feedback / STUDENT / "01_numpy" / "01_numpy.html").read_text()
