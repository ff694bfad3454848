"""The grade table: what every student scored on every notebook, and why.

Scores come from the gradebook (nbgrader's database); the reasons come from
the ``<notebook>.grading.json`` files ScoreHiddenTests writes beside each
autograded notebook. The class report (autograder/class_report.py) draws its
page from the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import Course
from .pending import written


@dataclass(frozen=True)
class Cell:
    """One graded cell of a submitted notebook, from the gradebook.

    score: None for a written answer nobody has graded yet (nbgrader counts it 0).
    """

    score: float | None
    max_score: float
    written: bool  # a markdown answer graded by hand, not a test cell


@dataclass
class Row:
    """One student's result on one notebook."""

    student: str
    notebook: str
    score: float  # autograded points
    max_score: float  # autograded points available
    by_hand: float = 0.0  # points of written answers, graded by the instructor (formgrader)
    by_hand_scored: float = 0.0  # of those, the points given so far
    pending: int = 0  # written answers nobody has graded yet
    problems: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "test_id: reason" of every failed test cell
    cells: dict[str, Cell] = field(default_factory=dict)  # grade_id -> its grade
    tests: dict[str, dict] = field(default_factory=dict)  # grade_id -> the grading.json verdict:
    # passed, points, reason, failures (every failing check), diagnosis ([{"bug", "why"}])


def grade_rows(course: Course, assignment: str) -> list[Row]:
    """A row per (student, notebook) with a submission of ``assignment``."""
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            submissions = gb.assignment_submissions(assignment)
        except MissingEntry:
            return []
        for submission in sorted(submissions, key=lambda s: s.student.id):
            for nb in sorted(submission.notebooks, key=lambda n: n.name):
                row = _row(course, assignment, submission.student.id, nb.name, nb.code_score, nb.max_code_score)
                state = written(nb)
                row.by_hand, row.by_hand_scored, row.pending = state.possible, state.scored, len(state.pending)
                row.cells = {g.name: _cell(g) for g in nb.grades}
                rows.append(row)
    return rows


def _row(course, assignment, student, notebook, score, max_score) -> Row:
    row = Row(student, notebook, float(score), float(max_score))
    report = course.root / "autograded" / student / assignment / f"{notebook}.grading.json"
    if not report.is_file():
        row.problems.append(_why_not_graded(course, assignment, student, notebook))
        return row
    data = json.loads(report.read_text(encoding="utf-8"))
    row.problems = list(data.get("problems", []))
    row.tests = dict(data.get("tests", {}))
    row.failed = [f"{tid}: {t['reason']}" for tid, t in sorted(row.tests.items()) if not t["passed"]]
    return row


def _cell(grade) -> Cell:
    written = grade.cell_type == "markdown"
    score = None if written and grade.needs_manual_grade else float(grade.score)
    return Cell(score, float(grade.max_score), written)


def format_table(assignment: str, rows: list[Row]) -> str:
    """A plain-text table, one line per notebook, plus one line per problem."""
    if not rows:
        return f"{assignment}: no submissions graded yet"
    width = max(len(r.student) for r in rows)
    lines = [f"{'student':<{width}}  {'notebook':<14}  autograded", "-" * (width + 30)]
    for r in rows:
        pct = 100 * r.score / r.max_score if r.max_score else 0.0
        by_hand = f"  + written {r.by_hand_scored:g} / {r.by_hand:g}" if r.by_hand else ""
        if r.pending:
            by_hand += f" ({r.pending} not graded yet)"
        lines.append(f"{r.student:<{width}}  {r.notebook:<14} {r.score:5g} / {r.max_score:<5g} {pct:4.0f} %{by_hand}")
        lines.extend(f"{'':<{width}}    ! {p}" for p in r.problems)
    return "\n".join(lines)


def write_report(course: Course, assignment: str, rows: list[Row]) -> Path:
    """reports/<assignment>.md: the table, then every failed test with its reason and the
    written answers not graded yet."""
    out = course.root / "reports" / f"{assignment}.md"
    out.parent.mkdir(exist_ok=True)
    parts = [f"# Grades: {assignment}\n", "```", format_table(assignment, rows), "```\n"]
    for r in rows:
        awaiting = [gid for gid, cell in r.cells.items() if cell.written and cell.score is None]
        if r.failed or awaiting:
            parts.append(f"## {r.student} / {r.notebook}\n")
            parts.extend(f"- {line}" for line in r.failed)
            parts.extend(f"- {gid}: written answer, not graded yet" for gid in awaiting)
            parts.append("")
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def _why_not_graded(course: Course, assignment: str, student: str, notebook: str) -> str:
    folder = course.root / "submitted" / student / assignment
    if not (folder / f"{notebook}.ipynb").exists():
        found = sorted(p.name for p in folder.glob("*.ipynb")) or ["no notebook"]
        return f"no {notebook}.ipynb in the submission (found: {', '.join(found)}); scored 0"
    return "not autograded (no grading report); run grade again and read the log"
