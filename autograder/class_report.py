"""The class report: ``reports/<assignment>.html``, one self-contained page per assignment.

``python -m autograder report <assignment>`` writes it beside the text table. It shows

- the score histogram: autograded points per student, and the total with the written
  points graded by hand so far (before late penalties);
- per question (a test cell pair ``test_<name>_basic`` / ``test_<name>_hidden`` is one
  question, ``<name>``) the mean score and the failure rate (students who lost points on it);
- the most frequent failure reasons, normalised (:func:`normalise`) so that one mistake made
  by many students is counted once per student, and the diagnosed misconceptions (the bug
  bank's mistakes a student's record matched, autograder/diagnose.py);
- late submissions (nbgrader's timestamp against the due date and extension, and the penalty);
- written answers per question (mean of those graded) and those nobody has graded yet.

Everything comes from the rows of the grade table (autograder/report.py) and the gradebook.
The page needs no network: the plots are matplotlib PNGs in data URIs, and every string
from a submission (reasons quote the student's output) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display: the plots only become PNG bytes
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from nbgrader.api import Gradebook, MissingEntry  # noqa: E402

from .course import Course  # noqa: E402
from .report import Row  # noqa: E402

TOP_REASONS = 15  # failure reasons listed; the rest are counted in one line
BINS = 20  # of the histogram, over 0 .. the points possible

_QUESTION = re.compile(r"test_(?P<name>.+)_(?:basic|hidden)")
# what a student's code says in its own words: an exception's message, a returned value's repr
_STUDENT_TEXT = [(re.compile(r"\braised (\w+): .*", re.S), r"raised \1"),
                 (re.compile(r"\bthe cell stopped at (?!AssertionError\b)(\w+): .*", re.S), r"the cell stopped at \1"),
                 (re.compile(r"\bwrong answer \(got .*\)", re.S), "wrong answer")]
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|inf)(?![\w.])", re.I)


def question(grade_id: str) -> str:
    """The question a test cell belongs to: ``test_one_hot_hidden`` -> ``one_hot``."""
    m = _QUESTION.fullmatch(grade_id)
    return m["name"] if m else grade_id


def normalise(failure: str) -> str:
    """A failing check's reason with what differs between students taken out.

    A case's reason reads ``<call> (<what it exercises>): <problem>``; the call is the same for
    everyone, the problem quotes the student's numbers (how many entries are wrong, where, the
    shape returned), which become ``#``. An exception's message or a returned value's repr is
    the student's own text and is dropped (the report shows one example unchanged).
    """
    for pattern, replacement in _STUDENT_TEXT:
        failure = pattern.sub(replacement, failure)
    head, sep, problem = failure.partition("): ")
    if not sep:
        head, problem = "", failure
    return head + sep + _NUMBER.sub("#", problem)


@dataclass(frozen=True)
class Question:
    """One question of one notebook: mean score over the submissions and how many lost points."""

    notebook: str
    name: str
    max_score: float
    mean: float
    failed: int
    submissions: int

    @property
    def failure_rate(self) -> float:
        return self.failed / self.submissions if self.submissions else 0.0


@dataclass(frozen=True)
class Reason:
    """A normalised failure reason of one test cell, with how many submissions failed with it."""

    notebook: str
    grade_id: str
    text: str
    count: int
    example: str  # one student's reason as recorded


@dataclass(frozen=True)
class Misconception:
    """A bug of the bank that students' records matched: how often, where, and its explanation."""

    bug: str
    why: str
    count: int
    grade_ids: tuple[str, ...]


@dataclass(frozen=True)
class Late:
    """A submission after its due date (the student's extension included)."""

    student: str
    timestamp: datetime
    duedate: datetime
    penalty: float

    @property
    def late_by(self) -> timedelta:
        return self.timestamp - self.duedate


@dataclass(frozen=True)
class WrittenQuestion:
    """One written answer across the class: the mean of those graded, and who awaits grading."""

    notebook: str
    name: str
    max_score: float
    graded_mean: float | None
    graded: int
    pending: tuple[str, ...]  # students whose answer is not graded yet


def questions(rows: list[Row]) -> list[Question]:
    """Per (notebook, question) of autograded cells, in the notebook's order."""
    scores: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in rows:
        per_question: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for gid, cell in r.cells.items():
            if not cell.written:
                got = per_question[question(gid)]
                got[0] += cell.score
                got[1] += cell.max_score
        for name, (score, max_score) in per_question.items():
            scores[(r.notebook, name)].append((score, max_score))
    out = []
    for (notebook, name), marks in scores.items():
        max_score = max(m for _, m in marks)
        out.append(Question(notebook, name, max_score, mean=sum(s for s, _ in marks) / len(marks),
                            failed=sum(s < m for s, m in marks), submissions=len(marks)))
    return out


def reasons(rows: list[Row]) -> list[Reason]:
    """Normalised failure reasons, most frequent first; each counted once per submission."""
    counts: Counter = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    for r in rows:
        seen = set()
        for gid, test in r.tests.items():
            if test["passed"]:
                continue
            for failure in test["failures"] or [test["reason"]]:
                key = (r.notebook, gid, normalise(failure))
                examples.setdefault(key, failure)
                seen.add(key)
        counts.update(seen)
    ranked = sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))
    return [Reason(nb, gid, text, count, examples[(nb, gid, text)]) for (nb, gid, text), count in ranked]


def misconceptions(rows: list[Row]) -> list[Misconception]:
    """The bug bank's mistakes diagnosed in students' records, most frequent first (once per submission)."""
    students: dict[str, set] = defaultdict(set)
    cells: dict[str, set] = defaultdict(set)
    why: dict[str, str] = {}
    for r in rows:
        for gid, test in r.tests.items():
            for known in test.get("diagnosis", []):
                students[known["bug"]].add((r.student, r.notebook))
                cells[known["bug"]].add(gid)
                why[known["bug"]] = known["why"]
    found = [Misconception(bug, why[bug], len(who), tuple(sorted(cells[bug]))) for bug, who in students.items()]
    return sorted(found, key=lambda m: (-m.count, m.bug))


def late_submissions(course: Course, assignment: str) -> list[Late]:
    """Submissions whose nbgrader timestamp is after their due date (with extension), latest first."""
    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            submissions = gb.assignment_submissions(assignment)
        except MissingEntry:
            return []
        late = [Late(s.student.id, s.timestamp, s.duedate, float(s.late_submission_penalty or 0.0))
                for s in submissions if s.total_seconds_late > 0]
    return sorted(late, key=lambda x: (-x.late_by.total_seconds(), x.student))


def written_questions(rows: list[Row]) -> list[WrittenQuestion]:
    """Per written answer: the mean score of those graded so far, and who still awaits grading."""
    cells: dict[tuple[str, str], list] = defaultdict(list)
    for r in rows:
        for gid, cell in r.cells.items():
            if cell.written:
                cells[(r.notebook, gid)].append((r.student, cell))
    out = []
    for (notebook, gid), marks in cells.items():
        graded = [c.score for _, c in marks if c.score is not None]
        out.append(WrittenQuestion(notebook, gid, max(c.max_score for _, c in marks),
                                   sum(graded) / len(graded) if graded else None, len(graded),
                                   tuple(sorted(s for s, c in marks if c.score is None))))
    return out


def student_totals(rows: list[Row]) -> dict[str, tuple[float, float]]:
    """student -> (autograded points, autograded + written points graded so far), over their notebooks."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        totals[r.student][0] += r.score
        totals[r.student][1] += r.score + r.by_hand_scored
    return {s: (auto, total) for s, (auto, total) in totals.items()}


# ---------------------------------------------------------------- the page


def write_class_report(course: Course, assignment: str, rows: list[Row]) -> Path:
    """Write reports/<assignment>.html (see the module doc) and return its path."""
    out = course.root / "reports" / f"{assignment}.html"
    out.parent.mkdir(exist_ok=True)
    out.write_text(class_report_html(assignment, rows, late_submissions(course, assignment)), encoding="utf-8")
    return out


def class_report_html(assignment: str, rows: list[Row], late: list[Late]) -> str:
    """The page, from the grade table's rows and the late submissions."""
    e = html.escape
    if not rows:
        return _page(assignment, [f"<p>{e(assignment)}: no submissions graded yet.</p>"])
    totals = student_totals(rows)
    auto_max = sum({r.notebook: r.max_score for r in rows}.values())
    written_max = sum({r.notebook: r.by_hand for r in rows}.values())
    parts = [f"<p>{len(totals)} students, {len(rows)} notebooks graded; autograded points: "
             f"{auto_max:g}, written (graded by hand): {written_max:g}.</p>",
             "<h2>Scores</h2>", _img(_histogram(totals, auto_max, written_max), "score histogram"),
             _table(["", "autograded", "with written, graded so far"],
                    [["mean", f"{_mean(a for a, _ in totals.values()):.2f} / {auto_max:g}",
                      f"{_mean(t for _, t in totals.values()):.2f} / {auto_max + written_max:g}"]],
                    "summary")]

    qs = questions(rows)
    parts += ["<h2>Questions</h2>", _img(_failure_bars(qs), "failure rate per question"),
              _table(["notebook", "question", "mean score", "failed"],
                     [[q.notebook, q.name, f"{q.mean:.2f} / {q.max_score:g}",
                       f"{q.failed} of {q.submissions} ({100 * q.failure_rate:.0f} %)"] for q in qs],
                     "questions")]

    found = reasons(rows)
    parts += ["<h2>Most frequent failure reasons</h2>",
              "<p>Numbers a student's code produced are shown as #, and their own messages are "
              "left out, so that one mistake groups together; an example is each reason as one "
              "student got it.</p>",
              _table(["students", "notebook", "test cell", "reason", "example"],
                     [[str(x.count), x.notebook, x.grade_id, x.text, x.example] for x in found[:TOP_REASONS]],
                     "reasons")]
    if len(found) > TOP_REASONS:
        parts.append(f"<p>and {len(found) - TOP_REASONS} less frequent reasons (reports/{e(assignment)}.md "
                     f"lists every one).</p>")

    diagnosed = misconceptions(rows)
    parts += ["<h2>Diagnosed misconceptions</h2>",
              _table(["students", "mistake", "why it is wrong", "test cells"],
                     [[str(m.count), m.bug, m.why, ", ".join(m.grade_ids)] for m in diagnosed],
                     "misconceptions") if diagnosed else "<p>No record matched a known mistake.</p>"]

    parts += ["<h2>Late submissions</h2>",
              _table(["student", "submitted", "due (with extension)", "late by", "penalty"],
                     [[x.student, f"{x.timestamp:%Y-%m-%d %H:%M}", f"{x.duedate:%Y-%m-%d %H:%M}",
                       _duration(x.late_by), f"{x.penalty:g}"] for x in late], "late")
              if late else "<p>None.</p>"]

    written = written_questions(rows)
    if written:
        parts += ["<h2>Written answers</h2>",
                  "<p>Graded by hand in the formgrader; nbgrader itself scores an answer left as "
                  "released 0, and counts it graded.</p>",
                  _table(["notebook", "answer", "mean of those graded", "graded", "not graded yet"],
                         [[w.notebook, w.name,
                           "–" if w.graded_mean is None else f"{w.graded_mean:.2f} / {w.max_score:g}",
                           str(w.graded), ", ".join(w.pending) or "none"] for w in written], "written")]
    return _page(assignment, parts)


def _page(assignment: str, parts: list[str]) -> str:
    title = f"Class report: {html.escape(assignment)}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n<h1>{title}</h1>\n"
            + "\n".join(parts) + "\n</body></html>\n")


_CSS = ("body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
        "text-align:left;vertical-align:top}img{max-width:100%}")


def _table(header: list[str], body: list[list[str]], name: str) -> str:
    """A table whose every cell is escaped text."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    lines = "\n".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body)
    return f'<table class="{e(name)}"><thead><tr>{head}</tr></thead><tbody>\n{lines}\n</tbody></table>'


def _img(png: bytes, alt: str) -> str:
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></p>'


def _histogram(totals: dict[str, tuple[float, float]], auto_max: float, written_max: float) -> bytes:
    """Students per score bin: autograded points, and the total with written points graded so far."""
    bins = np.linspace(0, auto_max + written_max or 1.0, BINS + 1)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist([a for a, _ in totals.values()], bins=bins, alpha=0.7, label="autograded")
    if written_max:
        ax.hist([t for _, t in totals.values()], bins=bins, histtype="step", linewidth=2,
                label="with written, graded so far")
    ax.set(xlabel="points", ylabel="students", xlim=(0, bins[-1]))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    ax.legend()
    return _png(fig)


def _failure_bars(qs: list[Question]) -> bytes:
    """A bar per question: the share of submissions that lost points on it."""
    several = len({q.notebook for q in qs}) > 1
    labels = [f"{q.notebook}: {q.name}" if several else q.name for q in qs]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(qs) + 1))
    ax.barh(labels[::-1], [100 * q.failure_rate for q in qs][::-1])  # the first question on top
    ax.set(xlabel="% of submissions that lost points", xlim=(0, 100))
    return _png(fig)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _duration(d: timedelta) -> str:
    hours, rest = divmod(int(d.total_seconds()), 3600)
    return f"{hours} h {rest // 60:02d} min"
