"""Shared fixtures: scratch courses graded end to end by the real nbgrader.

Grading is the slow part (one sandboxed kernel per notebook), so each
assignment is graded once per test session (across pytest-xdist's workers too): the solution, the untouched
release, the replay attack (tests/replay.py) and the whole bug bank, all in
one run of the parallel grader (autograder/parallel.py: nbgrader autograde per
student on Dask: the test process's LocalCluster of GRADING_WORKERS workers, see LocalDask).
Bugs that touch different answer cells and lose different test cells are
packed several to a submission; the bug-bank test checks that every other
cell kept full marks, which would expose any cross-talk.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import pickle
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nbgrader.api import Gradebook  # noqa: E402

from autograder import assignments  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.parallel import dask_client, grade_parallel  # noqa: E402
from autograder.submissions import (apply_bugs, fill_release, solution_answers, write_samples,  # noqa: E402
                                    write_submission)
from replay import replay_notebook  # noqa: E402

ASSIGNMENTS = Course(ROOT).assignments()
NOTEBOOKS = [(aid, nb) for aid in ASSIGNMENTS for nb in Course(ROOT).notebooks(aid)]  # (assignment, notebook)
REPLAY = "replay"  # the student who replays what the visible checks expected
GRADING_WORKERS = 2  # one per core of the 2-core machine the suite is timed on

#: Test files, slowest first (each takes minutes: it grades courses of its own or runs whole notebooks).
#: pytest-xdist hands out whole files (pytest.ini: --dist loadfile --no-loadscope-reorder) in this order,
#: the quick ones last, so that no process is left running a long file while the other has nothing to do.
SLOWEST_FIRST = ["test_assignments.py", "test_integrity.py", "test_student_runs.py", "test_diagnose.py",
                 "test_parallel.py", "test_selftest.py", "test_lying_objects.py", "test_cli.py", "test_collect.py",
                 "test_export.py", "test_bundle.py", "test_jail.py", "test_helpers.py", "test_offline_math.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order


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

    @contextlib.contextmanager
    def feedback(self, *options: str) -> Iterator[Path]:
        """Feedback of this course afresh (``nbgrader generate_feedback --force`` with ``options``),
        its folder held until the block ends: test processes share the graded courses, and another's
        run would remove the pages being read."""
        folder = self.course.root / "feedback"
        with self._exclusive("feedback"):
            shutil.rmtree(folder, ignore_errors=True)  # only this run's pages, none of an earlier one's
            self.course.nbgrader("generate_feedback", self.assignment, "--force", *options)
            yield folder

    @contextlib.contextmanager
    def hand_grading(self) -> Iterator[None]:
        """Held by a test that gives written answers points by hand and reads what follows: test
        processes share the graded courses, and two such tests would see each other's points."""
        with self._exclusive("hand-grading"):
            yield

    @contextlib.contextmanager
    def _exclusive(self, what: str) -> Iterator[None]:
        with open(self.course.root / f"{what}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            yield

    def report(self, student: str, notebook: str) -> dict:
        path = self.course.root / "autograded" / student / self.assignment / f"{notebook}.grading.json"
        return json.loads(path.read_text())


def bug_rounds(bugs: list, answers: dict[str, str]) -> list[list]:
    """Pack bugs several to a submission where they cannot interfere.

    answers: the solution's answer cells (grade_id -> source) the bugs apply to.
    Two bugs share a submission when they lose the cells of different exercises
    (test_<x>_basic/_hidden: a bug that breaks a later answer calling it loses that
    one's too), neither one's code calls the function or method the other breaks
    (else one would change what the other records, and its diagnosis), and, within
    one answer cell (a class), they edit different text. That each bug alone loses
    exactly its cells is proven in-process for the whole bank (tests/test_selftest.py);
    the packed submissions prove the same through nbgrader, where any cross-talk
    shows as a cell lost or kept against the claims."""
    def exercises(bug):
        return {re.sub(r"_(basic|hidden)$", "", t) for t in bug.loses}

    def spans(bug):
        source = answers.get(bug.cell, "")
        return [(m.start(), m.end()) for m in re.finditer(re.escape(bug.old), source)]

    def apart(a, b):
        """Different cells, or edits of disjoint text that neither one's replacement re-creates."""
        if a.cell != b.cell:
            return True
        overlap = any(s < e2 and s2 < e for s, e in spans(a) for s2, e2 in spans(b))
        return not overlap and a.old not in b.new and b.old not in a.new

    def broken(bug):
        """The names a bug may change: its cell's, its exercises', what its cell defines at the top
        level (the functions of a cell of several), and the method its edit lies in."""
        source = answers.get(bug.cell, "")
        names = {bug.cell} | {x.removeprefix("test_") for x in exercises(bug)}
        names |= set(re.findall(r"^(?:def|class)\s+(\w+)", source, re.M))
        methods = re.findall(r"^\s+def\s+(\w+)", source[:max(source.find(bug.old), 0)], re.M)
        return names | set(methods[-1:])

    def calls(a, b):
        """a's code (its new text; for another cell, that whole cell too) calls what b breaks."""
        code = a.new if a.cell == b.cell else answers.get(a.cell, "") + a.new
        return any(re.search(rf"\b{re.escape(name)}\s*\(", code) for name in broken(b))

    def clash(a, b):
        return bool(exercises(a) & exercises(b)) or not apart(a, b) or calls(a, b) or calls(b, a)

    rounds: list[list] = []
    for bug in bugs:
        free = next((r for r in rounds if not any(clash(b, bug) for b in r)), None)
        if free is None:
            rounds.append(free := [])
        free.append(bug)
    return rounds


def grade_scratch(tmp: Path, aid: str, scheduler: str) -> Graded:
    course = Course.scratch(tmp, [aid])
    write_samples(course, aid)
    write_submission(course, REPLAY, aid, {nb: replay_notebook(course, aid, nb) for nb in course.notebooks(aid)})
    rounds = {}
    every_answer = {gid: src for nb in course.notebooks(aid) for gid, src in solution_answers(course, aid, nb).items()}
    for i, bugs in enumerate(bug_rounds(assignments.bug_bank(aid), every_answer)):
        student = f"bugs-{i}"
        rounds[student] = bugs
        notebooks = {}
        for nb in course.notebooks(aid):
            answers = solution_answers(course, aid, nb)
            notebooks[nb] = fill_release(course, aid, nb, apply_bugs(answers, [b for b in bugs if b.cell in answers]))
        write_submission(course, student, aid, notebooks)
    summary = grade_parallel(course, aid, scheduler=scheduler)
    if summary.failed:
        raise RuntimeError(f"grading {aid} failed for {summary.failed}; see the captured output")
    return Graded(course, aid, rounds)


@pytest.fixture(scope="session", autouse=True)
def scratch_cache(tmp_path_factory, worker_id):
    """Scratch courses of the same assignments are released once per session, across xdist's
    processes too (Course.scratch_cache): nbgrader generate_assignment takes 7 s a course."""
    base = tmp_path_factory.getbasetemp()
    Course.scratch_cache = (base if worker_id == "master" else base.parent) / "scratch-cache"
    Course.scratch_cache.mkdir(parents=True, exist_ok=True)
    yield
    Course.scratch_cache = None


@dataclass
class LocalDask:
    """This test process's LocalCluster of GRADING_WORKERS workers, started on first use of ``address``
    and closed with the session (fixture ``dask_cluster``). The fixtures' gradings share it: a new cluster
    costs 5 s of CPU, and each of its workers 1.5 s more to import the kit. (The tests of `grade` itself,
    tests/test_parallel.py and the hostile catalogue, start their own.)"""

    stack: contextlib.ExitStack
    worker_pids: set[int] = field(default_factory=set)  # its worker processes, alive until the session ends

    @functools.cached_property
    def address(self) -> str:
        client = self.stack.enter_context(dask_client(GRADING_WORKERS, None))
        self.worker_pids.update(client.run(os.getpid).values())
        return client.scheduler.address


@pytest.fixture(scope="session")
def dask_cluster():
    with contextlib.ExitStack() as stack:
        yield LocalDask(stack)


@pytest.fixture(scope="session")
def graded(tmp_path_factory, worker_id, dask_cluster):
    """graded(aid) -> Graded, computed once per assignment per test session.

    Under pytest-xdist each worker has its own session: the first to ask grades the
    assignment under the workers' shared temporary folder, and the others wait for it
    and read its result, so no assignment is graded twice."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    cache: dict[str, Graded] = {}

    def get(aid: str) -> Graded:
        if aid not in cache:
            cache[aid] = _graded_once(shared, aid, dask_cluster)
        return cache[aid]

    return get


def _graded_once(shared: Path, aid: str, cluster: LocalDask) -> Graded:
    done = shared / f"graded-{aid}.pickle"
    with open(shared / f"graded-{aid}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the worker dies
        if not done.exists():
            done.write_bytes(pickle.dumps(grade_scratch(shared / f"course-{aid}", aid, cluster.address)))
        return pickle.loads(done.read_bytes())
