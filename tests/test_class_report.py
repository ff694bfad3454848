"""The class report (reports/<assignment>.html): its numbers against the gradebook, its plots, its safety."""

from __future__ import annotations

import base64
import copy
import io
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from html.parser import HTMLParser

import matplotlib.image
from nbgrader.api import Gradebook

from autograder.class_report import (Late, class_report_html, late_submissions, normalise, question,
                                     write_class_report)
from autograder.report import grade_rows
from pages import unsafe_places

AID = "01_numpy"
WRITTEN = "02_activations"  # it has written answers
PNG = b"\x89PNG\r\n\x1a\n"


class _Tables(HTMLParser):
    """table class -> its rows (the header row first), each a list of cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.current = self.tables.setdefault(dict(attrs).get("class"), [])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.current is not None:
                self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    """Each table's rows (the header row first)."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def _page(g, aid=AID) -> str:
    return write_class_report(g.course, aid, grade_rows(g.course, aid)).read_text(encoding="utf-8")


def _grading_reports(g, aid=AID) -> dict[str, dict]:
    """student -> the tests of their grading.json (one notebook per assignment here)."""
    return {p.parts[-3]: json.loads(p.read_text())["tests"]
            for p in (g.course.root / "autograded").glob(f"*/{aid}/{aid}.grading.json")}


def test_question_scores_and_failure_rates_match_the_gradebook(graded):
    g = graded(AID)
    marks = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))  # question -> student -> [score, max]
    with Gradebook(g.course.db_url, g.course.course_id) as gb:
        submissions = gb.assignment_submissions(AID)
        code_scores = [s.code_score for s in submissions]
        code_max = submissions[0].max_code_score
        for sub in submissions:
            for grade in gb.find_submission_notebook(AID, AID, sub.student.id).grades:
                if grade.cell_type == "code":
                    m = marks[question(grade.name)][sub.student.id]
                    m[0] += grade.score
                    m[1] += grade.max_score
    expected = []
    for name, per_student in marks.items():
        scores = [s for s, _ in per_student.values()]
        top = max(m for _, m in per_student.values())
        failed = sum(s < m for s, m in per_student.values())
        expected.append([AID, name, f"{sum(scores) / len(scores):.2f} / {top:g}",
                         f"{failed} of {len(scores)} ({100 * failed / len(scores):.0f} %)"])
    found = tables(_page(g))
    assert sorted(found["questions"][1:]) == sorted(expected)
    assert any(not row[3].startswith("0 of") for row in expected), "the bug bank loses points"
    [mean] = found["summary"][1:]
    assert mean[1] == f"{sum(code_scores) / len(code_scores):.2f} / {code_max:g}"


def test_plots_are_embedded_pngs_and_the_page_needs_no_network(graded):
    page = _page(graded(AID))
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    assert {alt for alt, _ in images} == {"score histogram", "failure rate per question"}
    for _, data in images:
        png = base64.b64decode(data, validate=True)
        assert png.startswith(PNG)
        height, width, _ = matplotlib.image.imread(io.BytesIO(png), format="png").shape
        assert width > 300 and height > 150
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert "<script" not in page.lower()


def test_the_most_frequent_reason_is_listed_with_its_count(graded):
    g = graded(AID)
    per_reason = Counter()
    raw = defaultdict(set)
    for tests in _grading_reports(g).values():
        seen = set()
        for gid, test in tests.items():
            if not test["passed"]:
                for failure in test["failures"] or [test["reason"]]:
                    seen.add((gid, normalise(failure)))
                    raw[(gid, normalise(failure))].add(failure)
        per_reason.update(seen)
    top = max(per_reason.values())
    assert top > 1, "several students fail alike"
    assert any(len(texts) > 1 for texts in raw.values()), "normalising groups reasons that differ in numbers"
    header, first, *_ = tables(_page(g))["reasons"]
    assert header[:4] == ["students", "notebook", "test cell", "reason"]
    assert int(first[0]) == top and per_reason[(first[2], first[3])] == top


def test_diagnosed_misconceptions_are_counted(graded):
    g = graded(AID)
    counts = Counter(bug for tests in _grading_reports(g).values()  # once per student
                     for bug in {known["bug"] for t in tests.values() for known in t["diagnosis"]})
    assert counts, "the bug bank's fingerprints name mistakes"
    listed = {row[1]: int(row[0]) for row in tables(_page(g))["misconceptions"][1:]}
    assert listed == dict(counts)


def test_normalising_groups_one_mistake_and_keeps_different_ones_apart():
    a = "one_hot (the last class): wrong shape: expected (1, 10), got (10, 1)"
    b = "one_hot (the last class): wrong shape: expected (1, 10), got (1, 9)"
    c = "one_hot (the last class): wrong dtype: got float64, expected an integer array"
    assert normalise(a) == normalise(b) != normalise(c)
    assert normalise(a).startswith("one_hot (the last class): ")  # the case, unchanged
    mine = "crop (the whole 5x6 image): raised ValueError: my secret message 42"
    assert normalise(mine) == "crop (the whole 5x6 image): raised ValueError"
    assert normalise("the cell stopped at KeyError: 'x'") == normalise("the cell stopped at KeyError: 'y'")


def test_a_question_is_its_basic_and_hidden_test_cells():
    assert question("test_one_hot_basic") == question("test_one_hot_hidden") == "one_hot"
    assert question("test_sigmoid_prime_hidden") == "sigmoid_prime" != question("test_sigmoid_hidden")
    assert question("extra_cell") == "extra_cell"


def test_late_submissions_against_due_date_and_extension(graded):
    g = graded(AID)
    with Gradebook(g.course.db_url, g.course.course_id) as gb:
        subs = sorted(gb.assignment_submissions(AID), key=lambda s: s.student.id)
        late, excused = subs[0], subs[1]
        saved = gb.find_assignment(AID).duedate, [(s.timestamp, s.extension) for s in subs[:3]]
        nb = late.notebooks[0]
        saved_penalty, penalty = nb.late_submission_penalty, 2.5
        try:
            due = datetime(2026, 3, 2, 9, 0)  # the fixture's hand-ins carry no timestamp: give them some
            subs[2].timestamp = due - timedelta(minutes=1)
            gb.find_assignment(AID).duedate = due
            late.timestamp = due + timedelta(hours=26, minutes=5)
            excused.timestamp, excused.extension = due + timedelta(hours=2), timedelta(hours=3)
            nb.late_submission_penalty = penalty
            gb.db.commit()
            assert [x.student for x in late_submissions(g.course, AID)] == [late.student.id]
            rows = tables(_page(g))["late"][1:]
            assert rows == [[late.student.id, f"{due + timedelta(hours=26, minutes=5):%Y-%m-%d %H:%M}",
                             f"{due:%Y-%m-%d %H:%M}", "26 h 05 min", f"{penalty:g}"]]
        finally:
            gb.find_assignment(AID).duedate = saved[0]
            for sub, (timestamp, extension) in zip(subs, saved[1]):
                sub.timestamp, sub.extension = timestamp, extension
            nb.late_submission_penalty = saved_penalty
            gb.db.commit()
    assert "late" not in tables(_page(g))


def _written_expected(gb) -> tuple[dict[str, list[str]], float]:
    """answer -> [mean of those graded, how many graded, who awaits grading]; the class's mean total."""
    grades = defaultdict(list)
    totals = []
    for sub in gb.assignment_submissions(WRITTEN):
        nb = gb.find_submission_notebook(WRITTEN, WRITTEN, sub.student.id)
        written = [x for x in nb.grades if x.cell_type == "markdown"]
        for x in written:
            grades[x.name].append((sub.student.id, None if x.needs_manual_grade else x.score, x.max_score))
        totals.append(sub.code_score + sum(x.score for x in written if not x.needs_manual_grade))
    expected = {}
    for name, marks in grades.items():
        scored = [score for _, score, _ in marks if score is not None]
        mean = f"{sum(scored) / len(scored):.2f} / {marks[0][2]:g}" if scored else "–"
        expected[name] = [mean, str(len(scored)), ", ".join(sorted(s for s, score, _ in marks if score is None))]
    return expected, sum(totals) / len(totals)


def test_written_answers_show_manual_scores_and_what_awaits_grading(graded):
    g = graded(WRITTEN)
    with g.hand_grading(), Gradebook(g.course.db_url, g.course.course_id) as gb:  # see Graded.hand_grading
        first = next(x for x in gb.find_submission_notebook(WRITTEN, WRITTEN, "sample-full").grades
                     if x.cell_type == "markdown" and x.needs_manual_grade)
        name, before = first.name, _written_expected(gb)[0]
        try:
            first.manual_score, first.needs_manual_grade = first.max_score - 1, False  # graded by hand
            gb.db.commit()
            expected, mean_total = _written_expected(gb)
            page = tables(_page(g, WRITTEN))
        finally:
            first.manual_score, first.needs_manual_grade = None, True
            gb.db.commit()
    assert "sample-full" in before[name][2] and "sample-full" not in expected[name][2]
    assert expected[name] != before[name]
    assert {row[1]: row[2:] for row in page["written"][1:]} == expected
    [mean] = page["summary"][1:]
    assert mean[2].startswith(f"{mean_total:.2f} / ")
    assert mean[1] != mean[2], "the written point counts in the total"


def test_student_strings_on_the_page_are_escaped(graded):
    g = graded(AID)
    token = "XSS7f3a"
    hostile = [f"<script>alert('{token}')</script>", f'"><img src=x onerror="{token}">',
               f"<a href='javascript:{token}'>x</a>", f"<style>{token}</style>"]
    rows = copy.deepcopy(grade_rows(g.course, AID))
    for row in rows:  # every student fails alike, so that these reasons top the list
        failures = [f"case {i}: raised ValueError: {h}" for i, h in enumerate(hostile)]
        failures.append(f"case {len(hostile)}: wrong answer (got {hostile[1]})")
        row.tests[next(iter(row.tests))].update(passed=False, reason=" ".join(hostile), failures=failures,
                                                diagnosis=[{"bug": hostile[0], "why": hostile[2]}])
    when = datetime(2026, 1, 1, 12)
    page = class_report_html(AID, rows, [Late(hostile[3], when + timedelta(hours=1), when, 0.0)])
    places, text = unsafe_places(page, token)
    assert places == []
    assert all(h in text for h in hostile), "shown as text, not dropped"
