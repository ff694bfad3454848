"""What grading one notebook costs, per assignment, against a bare kernel start.

One scratch course holds the full solution of every assignment for as many students as one task of
the parallel grader takes (MAX_BATCH: one nbgrader start-up per task is part of the cost). Each round
grades every assignment twice, assignments and routes alternating so all see the same machine state:
with ``nbgrader autograde`` started as a subprocess (serial grading, `Course.nbgrader`) and through
a warm server (what a parallel grading worker runs, :mod:`autograder.warm`), both sandboxed; and it
starts a bare Jupyter kernel that imports numpy and matplotlib (the floor any grader pays per
notebook). Prints, per assignment and route, the wall seconds per notebook (median over rounds),
the kernel's own seconds from ``<notebook>.grading.json`` (kernel start to last cell), and the
ratios to the floor and to assignment 02.

    .venv/bin/python benchmarks/grading_cost.py [--students 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_client.manager import start_new_kernel  # noqa: E402

from autograder import warm  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.parallel import MAX_BATCH  # noqa: E402
from autograder.submissions import fill_release, solution_answers, write_submission  # noqa: E402


def bare_kernel_seconds() -> float:
    """Start a kernel, import numpy and matplotlib in it, shut it down."""
    started = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("import numpy, matplotlib.pyplot", timeout=60)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=MAX_BATCH)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = Course.scratch(Path(tmp) / "course")
        ids = course.assignments()
        for aid in ids:
            for i in range(args.students):
                write_submission(course, f"s{i}", aid, {nb: fill_release(course, aid, nb, solution_answers(course, aid, nb))
                                                       for nb in course.notebooks(aid)})
        routes = {"subprocess": lambda *a: course.nbgrader(*a),
                  "warm": lambda *a: warm.nbgrader(course.root, *a)}
        wall = {(aid, r): [] for aid in ids for r in routes}
        kernel = {aid: [] for aid in ids}
        floor = []
        warm.start()  # a worker starts its server before its first task
        try:
            for _ in range(args.rounds):
                floor.append(bare_kernel_seconds())
                for aid in ids:
                    notebooks = args.students * len(course.notebooks(aid))
                    for route, grade in routes.items():
                        started = time.perf_counter()
                        done = grade("autograde", aid, "--create", "--force")
                        wall[aid, route].append((time.perf_counter() - started) / notebooks)
                        if done.returncode:
                            raise SystemExit(f"{route} autograde of {aid} failed:\n{done.stderr}")
                        kernel[aid] += [json.loads(p.read_text())["seconds"]
                                        for p in (course.root / "autograded").glob(f"*/{aid}/*.grading.json")]
        finally:
            warm.stop()
    base = statistics.median(floor)
    print(f"bare kernel with numpy and matplotlib: {base:.2f} s (rounds: {', '.join(f'{t:.2f}' for t in floor)})")
    for route in routes:
        reference = statistics.median(wall["02_activations", route]) if "02_activations" in ids else None
        for aid in ids:
            w = statistics.median(wall[aid, route])
            vs02 = f", {w / reference:.2f}x 02" if reference else ""
            print(f"{route:10} {aid:16} {w:5.2f} s per notebook (kernel {statistics.median(kernel[aid]):.2f} s): "
                  f"{w / base:.2f}x the bare kernel{vs02}")


if __name__ == "__main__":
    main()
