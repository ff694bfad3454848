"""The instructor's command line: ``python -m autograder <command>``.

Each command is one step of nbgrader's workflow, run in this course
directory with the hardened configuration of nbgrader_config.py:

    release   solutions/ -> notebooks/ (+ dist/<assignment>.zip for students)
    collect   copy handed-in notebooks into submitted/<student>/<assignment>/
    grade     autograde submitted/ -> autograded/ (sandboxed, hidden tests; in parallel on Dask)
    feedback  autograded/ -> feedback/ (HTML, hidden tests removed)
    export    the gradebook -> reports/grades-<format>.csv (nbgrader, Moodle or Canvas)
    report    the grade table with the reason for every lost point
    demo      all of the above on a class per assignment built from the bug banks
    selftest  an assignment's hidden tests on the solution, the release and each bug, in seconds
"""

from __future__ import annotations

import argparse
import re
import shutil
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from .class_report import misconceptions, write_class_report
from .collect import Outcome, collect_handins, format_report
from .export import FORMATS, export_grades, ungraded_written
from .course import KIT_ROOT, Course
from .gradebook_sync import fully_autograded
from .parallel import Summary, grade_assignments, grade_parallel
from .report import Row, format_table, grade_rows, write_report
from .selftest import selftest
from .submissions import CLASS_SIZE, write_class


def release(course: Course, ids: list[str]) -> None:
    """Generate the student release and a self-contained zip per assignment.

    Every assignment of the course is released by one nbgrader run ("*": its start-up is paid once).
    """
    for pattern in ["*"] if sorted(ids) == course.assignments() else ids:
        course.nbgrader("generate_assignment", pattern, "--force")
    for aid in ids:
        bundle = _bundle(course, aid)
        print(f"released {aid}: notebooks/{aid}/ and {bundle.relative_to(course.root)}")


#: The folder of data/ that each loader of helpers.py reads (data/README.md lists the files).
LOADER_DATA = {"load_mnist": "mnist-10k", "load_fashion_mnist": "fashion-mnist"}


def _bundle(course: Course, aid: str) -> Path:
    """dist/<aid>.zip: the release folder with real copies of helpers.py, data/README.md and the
    datasets its notebooks read (see datasets_read).

    Students who download only this zip can run everything (no symlinks). README.md goes along
    for the data's provenance and licences (the loaders check checksums from helpers.SHA256).
    """
    notebooks = sorted((course.release / aid).glob("*.ipynb"))
    data = course.root / "data"
    out = course.root / "dist" / f"{aid}.zip"
    out.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in notebooks:
            zf.write(path, f"{aid}/{path.name}")
        zf.write(course.root / "helpers.py", f"{aid}/helpers.py")
        zf.write(data / "README.md", f"{aid}/data/README.md")
        for folder in datasets_read(notebooks):
            for path in sorted((data / folder).glob("*.gz")):  # gzip already: deflating again gains nothing
                zf.write(path, f"{aid}/data/{path.relative_to(data)}", compress_type=zipfile.ZIP_STORED)
    return out


def datasets_read(notebooks: list[Path]) -> list[str]:
    """The data/ folders the notebooks read: those of the loaders (LOADER_DATA) their code cells name.

    The notebooks are the one source of truth, so a loader added to a notebook ships its data
    with no list to update. Any mention of a loader's name as a word counts (an import, a call,
    a comment): a stray mention can only add a dataset, never leave out one that is read.
    """
    code = "\n".join(cell.source for path in notebooks for cell in nbformat.read(path, as_version=4).cells
                     if cell.cell_type == "code")
    return sorted({folder for loader, folder in LOADER_DATA.items() if re.search(rf"\b{loader}\b", code)})


def collect(course: Course, aid: str, folder: Path, roster: Path | None = None) -> list[Outcome]:
    """Collect ``folder/<student>/`` and ``folder/<student>.zip`` into submitted/ (see autograder/collect.py).

    Prints what was collected, flagged (instructor material) or refused, with the reason for each.
    """
    try:
        outcomes = collect_handins(course, aid, folder, roster=roster)
    except ValueError as exc:  # an unknown assignment or a missing folder: nothing was collected
        raise SystemExit(f"collect: {exc}") from None
    print(format_report(outcomes))
    return outcomes


def grade(course: Course, aid: str, force: bool, workers: int | None = None,
          scheduler: str | None = None) -> Summary:
    """Autograde every submission of ``aid`` in parallel on Dask (autograder/parallel.py).

    One student's failure never stops the others. Without --force, students
    that have an autograded folder are skipped, as nbgrader skips them; a run
    that was killed midway leaves one such folder without saved grades: it is
    removed first, so this run grades that student again.
    workers: LocalCluster size (default: one per core and one more); scheduler: a running Dask cluster's address.
    """
    for student in unfinished(course, aid):
        print(f"regrading {student}: the last grading run stopped before saving their grades")
        shutil.rmtree(course.root / "autograded" / student / aid)
    return grade_parallel(course, aid, force=force, workers=workers, scheduler=scheduler)


def unfinished(course: Course, aid: str) -> list[str]:
    """Students with an autograded folder for ``aid`` but no complete grades in the gradebook."""
    folders = sorted(p.parent.name for p in (course.root / "autograded").glob(f"*/{aid}"))
    with Gradebook(course.db_url, course.course_id) as gb:
        return [student for student in folders if not fully_autograded(gb, aid, student, course.notebooks(aid))]


def feedback(course: Course, aid: str) -> None:
    course.nbgrader("generate_feedback", aid, "--force")


def export(course: Course, fmt: str = "nbgrader") -> Path:
    """reports/grades-<fmt>.csv (autograder/export.py); warns about written answers not graded yet."""
    try:
        out = export_grades(course, fmt)
    except ValueError as exc:
        raise SystemExit(f"export: {exc}") from None
    for line in ungraded_written(course):
        print(f"warning: {line}")
    return out


def report(course: Course, aid: str) -> None:
    rows = write_reports(course, aid)
    print(format_table(aid, rows))
    print(f"details: reports/{aid}.md\nclass report: reports/{aid}.html")


def write_reports(course: Course, aid: str) -> list[Row]:
    """reports/<aid>.md (the table and every reason) and reports/<aid>.html (the class report); their rows."""
    rows = grade_rows(course, aid)
    write_report(course, aid, rows)
    write_class_report(course, aid, rows)
    return rows


def demo(course: Course, ids: list[str]) -> None:
    """Release, grade a class of CLASS_SIZE per assignment, write feedback, export, report: the kit end to end.

    The workers grade every assignment in one run (grade_assignments); each assignment's feedback
    and reports are written here, in a thread, while they grade the next one.
    """
    started = time.perf_counter()
    release(course, ids)
    for aid in ids:
        write_class(course, aid)
    rows = {}
    with ThreadPoolExecutor(max_workers=1) as writer:  # one assignment at a time: one nbgrader process
        grade_assignments(course, ids, force=True, when_done=lambda aid, _: rows.update(
            {aid: writer.submit(feedback_and_reports, course, aid)}))
    print(f"\ngrade table: {export(course).relative_to(course.root)}")
    for aid in ids:
        print(class_summary(aid, rows[aid].result()))
    print(f"\nfeedback for students: feedback/<student>/<assignment>/*.html; "
          f"total {time.perf_counter() - started:.0f} s")


def feedback_and_reports(course: Course, aid: str) -> list[Row]:
    feedback(course, aid)
    return write_reports(course, aid)


def class_summary(aid: str, rows: list[Row]) -> str:
    """A few lines on how the class did on ``aid``: the reports (write_reports) say the rest."""
    scored, possible = sum(r.score for r in rows), sum(r.max_score for r in rows)
    lines = [f"\n{aid}: {len(rows)} submissions, mean {100 * scored / max(possible, 1.0):.0f} % autograded, "
             f"{sum(r.score == r.max_score for r in rows)} with full marks, "
             f"{sum(r.score == 0 for r in rows)} with none"]
    lines += [f"  {m.count:3d} x {m.bug}: {m.why}" for m in misconceptions(rows)[:3]]
    lines.append(f"  table: reports/{aid}.md, class report: reports/{aid}.html")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=KIT_ROOT, help="course directory (default: this repo)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in [("release", "generate notebooks/ from solutions/"),
                       ("demo", f"release, grade a class of {CLASS_SIZE} per assignment (drawn from the "
                                f"bug banks), feedback, report")]:
        p = sub.add_parser(name, help=text)
        p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p = sub.add_parser("collect", help="import hand-ins: <student>/ folders, <student>.zip, team repositories, "
                                       "a Moodle or Canvas download (zip or extracted); links, unsafe names "
                                       "and instructor material are refused")
    p.add_argument("assignment")
    p.add_argument("folder", type=Path, metavar="folder-or-zip")
    p.add_argument("--roster", type=Path, metavar="CSV", help="maps LMS names and ids to students and teams: "
                   "student_id,first_name,last_name,email,moodle_id,canvas_id,team (see autograder/lms.py)")
    p = sub.add_parser("grade", help="autograde the submissions of an assignment")
    p.add_argument("assignment")
    p.add_argument("--force", action="store_true", help="regrade submissions graded before")
    p.add_argument("--workers", type=int, metavar="N", help="Dask worker processes of the local cluster "
                                                            "(default: one per core and one more)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="grade on a running Dask cluster instead, "
                                                          "e.g. tcp://10.0.0.5:8786 (see the README)")
    for name, text in [("feedback", "write HTML feedback without hidden tests"),
                       ("report", "print and write the grade table and the HTML class report")]:
        sub.add_parser(name, help=text).add_argument("assignment")
    p = sub.add_parser("export", help="write reports/grades-<format>.csv")
    p.add_argument("--format", choices=FORMATS, default="nbgrader",
                   help="nbgrader's own CSV, or Moodle's or Canvas's grade import (default: nbgrader)")
    p = sub.add_parser("selftest", help="run the solution, the untouched release and every bug of the bank "
                                        "through the hidden tests in this process (for authoring, in seconds)")
    p.add_argument("assignment")
    p.add_argument("-v", "--verbose", action="store_true", help="print the reason for every cell a bug loses")
    p.add_argument("--fingerprints", action="store_true", help="also write autograder/assignments/a<id>/"
                   "fingerprints.json (what each bug records), so that feedback names known mistakes")
    args = parser.parse_args(argv)

    course = Course(args.root.resolve())
    ids = getattr(args, "assignments", None) or course.assignments()
    if args.command == "release":
        release(course, ids)
    elif args.command == "demo":
        demo(course, ids)
    elif args.command == "collect":
        collect(course, args.assignment, args.folder, args.roster)
    elif args.command == "grade":
        grade(course, args.assignment, args.force, workers=args.workers, scheduler=args.scheduler)
    elif args.command == "feedback":
        feedback(course, args.assignment)
    elif args.command == "export":
        print(export(course, args.format))
    elif args.command == "report":
        report(course, args.assignment)
    elif args.command == "selftest":
        return 0 if selftest(course, args.assignment, verbose=args.verbose, fingerprints=args.fingerprints) else 1
    return 0
