"""Serial ``nbgrader autograde`` against the parallel grader (autograder/parallel.py), same run.

Two copies of one scratch course hold the same N submissions of an assignment
(the solution, the untouched release and the bug bank's submissions, in
turn). One copy is graded by a single ``nbgrader autograde`` run, the other by
the parallel grader on a LocalCluster (cluster start-up included); the script
prints both wall times, seconds per notebook, the grader's own CPU time per
notebook, the speed-up, and whether every cell's score agrees. On a machine
that others load too, the wall figures say little: print the load average.

    .venv/bin/python benchmarks/parallel_grading.py [--students 20] [--workers 2] [--assignment 01_numpy]
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nbgrader.api import Gradebook  # noqa: E402

from autograder import assignments  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.parallel import grade_parallel  # noqa: E402
from autograder.submissions import apply_bugs, fill_release, solution_answers, write_submission  # noqa: E402


def write_class(course: Course, aid: str, students: int) -> None:
    """``students`` submissions: the full solution, the untouched release, then each bug in turn."""
    answers = {nb: solution_answers(course, aid, nb) for nb in course.notebooks(aid)}
    kinds = itertools.cycle([[], None, *([bug] for bug in assignments.bug_bank(aid))])
    for i, bugs in zip(range(students), kinds):
        write_submission(course, f"student-{i:03d}", aid, {
            nb: fill_release(course, aid, nb, {} if bugs is None else
                             apply_bugs(answers[nb], [b for b in bugs if b.cell in answers[nb]]))
            for nb in answers})


def cell_scores(course: Course, aid: str) -> dict:
    with Gradebook(course.db_url, course.course_id) as gb:
        return {(s.student.id, nb.name, g.name): g.auto_score
                for s in gb.assignment_submissions(aid) for nb in s.notebooks for g in nb.grades}


def timed(run) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and every process it started and reaped).

    The kernels are not counted: they die with their PID namespace, unreaped. So the CPU figure
    is the grader's own cost (nbgrader, judging, Dask), where the parallel grader's overhead lies.
    """
    def cpu() -> float:
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        return sum(u.ru_utime + u.ru_stime for u in usage)
    wall, before = time.perf_counter(), cpu()
    run()
    return time.perf_counter() - wall, cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--assignment", default="01_numpy")
    args = parser.parse_args()
    aid = args.assignment
    with tempfile.TemporaryDirectory() as tmp:
        serial = Course.scratch(Path(tmp) / "serial", [aid])
        write_class(serial, aid, args.students)
        shutil.copytree(serial.root, Path(tmp) / "parallel", symlinks=True)
        parallel = Course(Path(tmp) / "parallel")
        notebooks = args.students * len(serial.notebooks(aid))

        load = os.getloadavg()[0]
        serial_s, serial_cpu = timed(lambda: serial.nbgrader("autograde", aid, "--create"))
        parallel_s, parallel_cpu = timed(lambda: grade_parallel(parallel, aid, workers=args.workers,
                                                                out=io.StringIO()))

        same = cell_scores(serial, aid) == cell_scores(parallel, aid)
    print(f"{args.students} submissions of {aid} ({notebooks} notebooks), {os.cpu_count()} cores, "
          f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  serial nbgrader autograde  {serial_s:7.1f} s wall {serial_s / notebooks:5.2f} s per notebook, "
          f"{serial_cpu / notebooks:5.2f} grader CPU s per notebook")
    print(f"  parallel, {args.workers} Dask workers  {parallel_s:7.1f} s wall {parallel_s / notebooks:5.2f} s per notebook, "
          f"{parallel_cpu / notebooks:5.2f} grader CPU s per notebook")
    print(f"  speed-up {serial_s / parallel_s:.2f}x (wall); every cell's score identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
