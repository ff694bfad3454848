"""What the sandbox costs: grading time per notebook with and without bubblewrap.

Two scratch courses, identical except for ``SandboxedExecute.sandbox``, grade
the same submissions (the full solution of every assignment, several
students) with the real ``nbgrader autograde``, alternating A, B, A, B so both
see the same machine state. Prints seconds per notebook and the ratio.

    .venv/bin/python benchmarks/grading_overhead.py [--students 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import Course  # noqa: E402
from autograder.sandbox import probe_bwrap  # noqa: E402
from autograder.submissions import fill_release, solution_answers, write_submission  # noqa: E402


def make_course(dest: Path, sandbox: bool, students: int) -> Course:
    course = Course.scratch(dest)
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.SandboxedExecute.sandbox = {sandbox}\n")
    for aid in course.assignments():
        for i in range(students):
            write_submission(course, f"student-{i}", aid, {
                nb: fill_release(course, aid, nb, solution_answers(course, aid, nb))
                for nb in course.notebooks(aid)})
    return course


def grade_all(course: Course) -> float:
    started = time.perf_counter()
    for aid in course.assignments():
        course.nbgrader("autograde", aid, "--create", "--force")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    reason = probe_bwrap()
    if reason:
        sys.exit(f"cannot measure the sandbox: {reason}")
    with tempfile.TemporaryDirectory() as tmp:
        courses = {"sandboxed": make_course(Path(tmp) / "a", True, args.students),
                   "unsandboxed": make_course(Path(tmp) / "b", False, args.students)}
        ids = courses["sandboxed"].assignments()
        n = args.students * sum(len(courses["sandboxed"].notebooks(aid)) for aid in ids)
        times = {name: [] for name in courses}
        for _ in range(args.rounds):
            for name, course in courses.items():
                times[name].append(grade_all(course) / n)
    print(f"{n} notebooks per run ({', '.join(ids)}), {args.rounds} rounds, nbgrader start-up included")
    for name, ts in times.items():
        print(f"  {name:<12} {statistics.median(ts):6.2f} s per notebook (runs: "
              f"{', '.join(f'{t:.2f}' for t in ts)})")
    a, b = (statistics.median(times[k]) for k in ("sandboxed", "unsandboxed"))
    print(f"  overhead     {a - b:+6.2f} s per notebook, ratio {a / b:.2f}x")


if __name__ == "__main__":
    main()
