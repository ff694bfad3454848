"""Serial ``nbgrader autograde`` against the parallel grader (autograder/parallel.py), same run.

Two copies of one scratch course hold the same submissions: N of one assignment, or with
``--every`` N of every assignment (the demo's class: autograder.submissions.write_class). One
copy is graded by serial ``nbgrader autograde`` runs (one per assignment), the other by the
parallel grader in one run on a LocalCluster (cluster start-up included); the script prints
both wall times, seconds per notebook, the grader's own CPU time per notebook, the speed-up,
whether every cell's score agrees, and what 100 students x every assignment would take at the
parallel pace. On a machine that others load too, the wall figures say little: it prints the
load average.

    .venv/bin/python benchmarks/parallel_grading.py [--students 100] [--assignment 01_numpy]
    .venv/bin/python benchmarks/parallel_grading.py --every [--students 30] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nbgrader.api import Gradebook  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.parallel import default_workers, grade_assignments  # noqa: E402
from autograder.submissions import write_class  # noqa: E402


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
    parser.add_argument("--students", type=int, help="per assignment (default: 100, or 30 with --every)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--assignment", default="01_numpy")
    parser.add_argument("--every", action="store_true", help="every assignment, not only --assignment")
    args = parser.parse_args()
    students = args.students or (30 if args.every else 100)
    with tempfile.TemporaryDirectory() as tmp:
        serial = Course.scratch(Path(tmp) / "serial", None if args.every else [args.assignment])
        aids = serial.assignments()
        for aid in aids:
            write_class(serial, aid, size=students)
        shutil.copytree(serial.root, Path(tmp) / "parallel", symlinks=True)
        parallel = Course(Path(tmp) / "parallel")
        notebooks = students * sum(len(serial.notebooks(aid)) for aid in aids)

        load = os.getloadavg()[0]
        serial_s, serial_cpu = timed(lambda: [serial.nbgrader("autograde", aid, "--create") for aid in aids])
        parallel_s, parallel_cpu = timed(lambda: grade_assignments(parallel, aids, workers=args.workers,
                                                                   out=io.StringIO()))
        same = all(cell_scores(serial, aid) == cell_scores(parallel, aid) for aid in aids)
        per_student = parallel_s / students  # seconds per student, all these assignments
    print(f"{students} submissions of {', '.join(aids)} ({notebooks} notebooks), {os.cpu_count()} cores, "
          f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  serial nbgrader autograde  {serial_s:7.1f} s wall {serial_s / notebooks:5.2f} s per notebook, "
          f"{serial_cpu / notebooks:5.2f} grader CPU s per notebook")
    print(f"  parallel, {args.workers} Dask workers  {parallel_s:7.1f} s wall {parallel_s / notebooks:5.2f} s per notebook, "
          f"{parallel_cpu / notebooks:5.2f} grader CPU s per notebook")
    print(f"  speed-up {serial_s / parallel_s:.2f}x (wall); every cell's score identical: {'yes' if same else 'NO'}")
    print(f"  100 students x these {len(aids)} assignments at the parallel pace: {100 * per_student / 60:.1f} min")


if __name__ == "__main__":
    main()
