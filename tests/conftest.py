"""Shared fixtures: scratch courses graded end to end by the real nbgrader.

Grading is the slow part (one sandboxed kernel per notebook), so each
assignment is graded once per test session: the solution, the untouched
release, the replay attack (tests/replay.py) and the whole bug bank, all in
one run of the parallel grader (autograder/parallel.py: nbgrader autograde per
student on a LocalCluster of GRADING_WORKERS Dask workers).
Bugs that touch different answer cells and lose different test cells are
packed several to a submission; the bug-bank test checks that every other
cell kept full marks, which would expose any cross-talk.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nbgrader.api import Gradebook  # noqa: E402

from autograder import assignments  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.parallel import grade_parallel  # noqa: E402
from autograder.submissions import (apply_bugs, fill_release, solution_answers, write_samples,  # noqa: E402
                                    write_submission)
from replay import replay_notebook  # noqa: E402

ASSIGNMENTS = Course(ROOT).assignments()
REPLAY = "replay"  # the student who replays what the visible checks expected
GRADING_WORKERS = 2  # one per core of the 2-core machine the suite is timed on


@dataclass
class Graded:
    """One assignment's scratch course after autograding."""

    course: Course
    assignment: str
    rounds: dict[str, list]  # student id -> the bugs in that submission

    def cell_scores(self, student: str, notebook: str) -> dict[str, float]:
        """Test-cell grade_id -> autograded score, from the gradebook."""
        with Gradebook(self.course.db_url, self.course.course_id) as gb:
            nb = gb.find_submission_notebook(notebook, self.assignment, student)
            return {g.name: g.score for g in nb.grades if g.cell_type == "code"}

    def score(self, student: str, notebook: str) -> tuple[float, float]:
        with Gradebook(self.course.db_url, self.course.course_id) as gb:
            nb = gb.find_submission_notebook(notebook, self.assignment, student)
            return nb.code_score, nb.max_code_score

    def report(self, student: str, notebook: str) -> dict:
        path = self.course.root / "autograded" / student / self.assignment / f"{notebook}.grading.json"
        return json.loads(path.read_text())


def bug_rounds(bugs: list) -> list[list]:
    """Pack bugs so that no submission has two bugs in the same answer cell or losing the
    same test cell; a bug that breaks later answers too (it loses their test cells) is
    graded on its own, since another bug could change what those answers call."""
    def cascades(bug):
        return any(not test.startswith(f"test_{bug.cell}_") for test in bug.loses)

    def clash(a, b):
        return a.cell == b.cell or bool(set(a.loses) & set(b.loses)) or cascades(a) or cascades(b)

    rounds: list[list] = []
    for bug in bugs:
        free = next((r for r in rounds if not any(clash(b, bug) for b in r)), None)
        if free is None:
            rounds.append(free := [])
        free.append(bug)
    return rounds


def grade_scratch(tmp: Path, aid: str) -> Graded:
    course = Course.scratch(tmp, [aid])
    write_samples(course, aid)
    write_submission(course, REPLAY, aid, {nb: replay_notebook(course, aid, nb) for nb in course.notebooks(aid)})
    rounds = {}
    for i, bugs in enumerate(bug_rounds(assignments.bug_bank(aid))):
        student = f"bugs-{i}"
        rounds[student] = bugs
        notebooks = {}
        for nb in course.notebooks(aid):
            answers = solution_answers(course, aid, nb)
            notebooks[nb] = fill_release(course, aid, nb, apply_bugs(answers, [b for b in bugs if b.cell in answers]))
        write_submission(course, student, aid, notebooks)
    summary = grade_parallel(course, aid, workers=GRADING_WORKERS)
    if summary.failed:
        raise RuntimeError(f"grading {aid} failed for {summary.failed}; see the captured output")
    return Graded(course, aid, rounds)


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """graded(aid) -> Graded, computed once per assignment per session."""
    cache: dict[str, Graded] = {}

    def get(aid: str) -> Graded:
        if aid not in cache:
            cache[aid] = grade_scratch(tmp_path_factory.mktemp(f"course-{aid}"), aid)
        return cache[aid]

    return get
