"""``python -m autograder selftest <assignment>``: an assignment's hidden tests and bug bank in seconds.

For authoring, not for grading students. The solution notebook's code is the instructor's own,
so it runs here, in this process: no nbgrader, no kernel, no sandbox. Each *submission* is the
release with its answer cells filled in (the solution, the untouched release, or the solution
with one bug of the bank applied); its code cells run top to bottom as the graded kernel would
run them (``skip-when-graded`` cells are not run), test cells hold their hidden line, which
records the hidden cases through the same probe the graded kernel uses
(``helpers.record_for_grader``), and the same judge (:func:`autograder.scoring.judge`) decides
each test cell.

With ``--fingerprints`` it also writes the assignment's fingerprints file (autograder/diagnose.py):
what each bug recorded on every cell it loses, so that grading can name a student's known mistake.
The bugs run twice for it; a record that changes between the runs gets no fingerprint.

The verdicts are those nbgrader grading gives on the same code: the end-to-end proof stays in
the test suite (tests/test_assignments.py); this is the loop an author runs after every edit.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat

from . import assignments, diagnose
from .cells import grade_id, is_test_cell
from .course import Course
from .execute import PROBE_DIR_ENV, SKIP_TAG
from .rules import Answers
from .scoring import Verdict, judge
from .submissions import Bug, apply_bugs, fill_release, solution_answers

HIDDEN = "### BEGIN HIDDEN TESTS"


@dataclass(frozen=True)
class Run:
    """One submission's verdicts: test-cell grade_id -> Verdict, and how long it took (s).

    fingerprints: test-cell grade_id -> the fingerprint of its record (diagnose.record_fingerprint).
    """

    name: str
    verdicts: dict[str, Verdict]
    seconds: float
    fingerprints: dict[str, str | None] = field(default_factory=dict)

    def failed(self) -> set[str]:
        return {gid for gid, v in self.verdicts.items() if not v.passed}


def submission(course: Course, aid: str, notebook: str, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The release filled with ``answers``, its test cells holding their hidden tests again.

    This is what RebuildSubmission hands the kernel, built from solutions/ instead of the gradebook.
    """
    nb = fill_release(course, aid, notebook, answers)
    source = nbformat.read(course.source_notebook(aid, notebook), as_version=4)
    tests = {grade_id(c): c.source for c in source.cells if is_test_cell(c)}
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.source = tests[grade_id(cell)]
    return nb


def _run_cells(nb, stand_ins: dict | None = None) -> dict[str, str]:
    """Run ``nb``'s code cells in one fresh namespace; test-cell grade_id -> its first error ('' if none).

    stand_ins: name -> object bound while each test cell runs, in place of what the answer defined
        (the other cells, experiments included, keep using the answers).
    Printed output is swallowed and figures are closed after each cell (the backend draws nothing).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__"}
    errors = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or SKIP_TAG in cell.metadata.get("tags", ()):
            continue
        testing = is_test_cell(cell)
        answers = {name: namespace.get(name) for name in stand_ins or ()} if testing else {}
        namespace.update(stand_ins if testing and stand_ins else {})
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(cell.source, f"<cell {index}>", "exec"), namespace)
        except Exception as exc:  # a failing visible check, a broken answer: that cell's error
            error = f"{type(exc).__name__}: {exc}"
        else:
            error = ""
        finally:
            plt.close("all")
            namespace.update(answers)
        if testing:
            errors[grade_id(cell)] = error
    return errors


def run(course: Course, aid: str, name: str, answers_of: dict[str, dict[str, str]]) -> Run:
    """Run and judge one submission: ``answers_of`` maps each notebook to its answer cells."""
    started = time.perf_counter()
    tests = assignments.hidden_tests(aid)
    verdicts, fingerprints = {}, {}
    folder = course.source / aid
    with tempfile.TemporaryDirectory(prefix="selftest-") as tmp, _inside(folder, Path(tmp)):
        probe = Path(tmp)
        (probe / "inputs").mkdir()
        (probe / "outputs").mkdir()
        for test_id, test in tests.items():
            (probe / "inputs" / f"{test_id}.pkl").write_bytes(pickle.dumps(test.calls))
        for notebook, answers in answers_of.items():
            nb = submission(course, aid, notebook, answers)
            release = nbformat.read(course.release_notebook(aid, notebook), as_version=4)
            errors = _run_cells(nb)
            code = Answers.of(nb, release)
            for gid, error in errors.items():
                record = probe / "outputs" / f"{gid}.json"
                verdicts[gid] = judge(tests[gid], record, code, error)
                fingerprints[gid] = diagnose.record_fingerprint(record, len(tests[gid].cases))
    return Run(name, verdicts, time.perf_counter() - started, fingerprints)


def visible_checks(course: Course, aid: str, notebook: str, stand_ins: dict) -> dict[str, str]:
    """Run the solution with ``stand_ins`` (name -> function) replacing the answers, and of each test
    cell only its visible checks; test-cell grade_id -> the first error ('' when every check passed).

    With the hidden tests' independent references as stand-ins, this proves that what a visible
    check expects is what the hidden tests expect on the same input.
    """
    nb = submission(course, aid, notebook, solution_answers(course, aid, notebook))
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.source = cell.source.split(HIDDEN)[0]
    with tempfile.TemporaryDirectory(prefix="selftest-") as tmp, _inside(course.source / aid, Path(tmp)):
        return _run_cells(nb, stand_ins)


@contextlib.contextmanager
def _inside(folder: Path, probe: Path):
    """Run as the notebook would: from its folder (helpers.py, data/), the probe pointed at ``probe``."""
    cwd, path, env = os.getcwd(), list(sys.path), os.environ.get(PROBE_DIR_ENV)
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    os.environ[PROBE_DIR_ENV] = str(probe)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        if env is None:
            os.environ.pop(PROBE_DIR_ENV, None)
        else:
            os.environ[PROBE_DIR_ENV] = env


def _submissions(course: Course, aid: str) -> list[tuple[str, dict[str, dict[str, str]], Bug | None]]:
    """(name, answers per notebook, bug) for the solution, the untouched release and every bug alone."""
    full = {nb: solution_answers(course, aid, nb) for nb in course.notebooks(aid)}
    out = [("solution", full, None), ("untouched release", {nb: {} for nb in full}, None)]
    for bug in assignments.bug_bank(aid):
        out.append((bug.name, {nb: apply_bugs(a, [bug]) if bug.cell in a else a for nb, a in full.items()}, bug))
    return out


def _run_one(args) -> Run:
    course_root, aid, name, answers_of = args
    return run(Course(course_root), aid, name, answers_of)


def selftest(course: Course, aid: str, workers: int | None = None, verbose: bool = False,
             fingerprints: bool = False) -> bool:
    """Print every verdict of the solution, the untouched release and each bug; True if all is as it must be.

    As it must be: the solution passes every test cell, the untouched release none, and each bug
    fails exactly the cells in its ``loses``. Bugs run in ``workers`` processes (default: the cores).
    fingerprints: then also write the assignment's fingerprints file (only when all is as it must be).
    """
    started = time.perf_counter()
    todo = _submissions(course, aid)
    assignments.hidden_tests(aid)  # imported once here (exact references take seconds), inherited by fork
    jobs = [(course.root, aid, name, answers) for name, answers, _ in todo]
    with ProcessPoolExecutor(workers or os.cpu_count(), mp_context=get_context("fork")) as pool:
        runs = list(pool.map(_run_one, jobs))
        # a second run of every bug: a fingerprint that changes between runs (a bug that draws from an
        # unseeded generator) could never match a student's record
        again = list(pool.map(_run_one, jobs[2:])) if fingerprints else None
    solution, untouched, *bugged = runs
    ok = _print_solution(solution, verbose) & _print_untouched(untouched)
    print(f"\nbug bank: {len(bugged)} bugs, each alone")
    for (name, _, bug), result in zip(todo[2:], bugged):
        ok &= _print_bug(bug, result, verbose)
    hidden_only = sum(all(t.endswith("_hidden") for t in bug.loses) for _, _, bug in todo[2:])
    print(f"\n{aid}: {'OK' if ok else 'PROBLEMS ABOVE'}; {len(bugged)} bugs ({hidden_only} caught only by "
          f"hidden tests); {len(runs)} submissions in {time.perf_counter() - started:.1f} s "
          f"(one takes {solution.seconds:.1f} s)")
    if fingerprints and ok:
        write_fingerprints(course, aid, solution, untouched,
                           [(bug, _reproducible(r, r2)) for (_, _, bug), r, r2 in zip(todo[2:], bugged, again)])
    elif fingerprints:  # a bug that does not lose what it claims is fixed first
        print(f"fingerprints of {aid} not written: fix the problems above first")
    elif problem := diagnose.stale(aid, course.root):  # grading would name no known mistake
        print(f"note: {problem}")
    return ok


def _reproducible(run: Run, again: Run) -> Run:
    """``run`` with only the fingerprints that ``again``, a second run of the same submission, recorded too."""
    kept = {gid: f for gid, f in run.fingerprints.items() if again.fingerprints.get(gid) == f}
    return Run(run.name, run.verdicts, run.seconds, kept)


def write_fingerprints(course: Course, aid: str, solution: Run, untouched: Run,
                       bugged: list[tuple[Bug, Run]], dest: Path | None = None) -> Path:
    """Write the fingerprints of every bug on the cells it loses, and print which mistakes grading can name.

    A record equal to the solution's or the release's on a cell names no mistake there (a forbidden
    loop records right values: the source rule's reason says what is wrong).
    dest: where to write (default the assignment's own file, autograder/assignments/a<id>/).
    """
    ignore = {gid: {solution.fingerprints.get(gid), untouched.fingerprints.get(gid)} for gid in solution.fingerprints}
    cells = diagnose.build({bug.name: {gid: r.fingerprints.get(gid) for gid in sorted(r.failed())}
                            for bug, r in bugged}, ignore)
    path = diagnose.write(aid, cells, course.root, dest)
    named = {name for prints in cells.values() for names in prints.values() for name in names}
    print(f"\nfingerprints: {path}")
    for bug, r in bugged:
        where = [gid for gid in sorted(cells) if any(bug.name in names for names in cells[gid].values())]
        print(f"  {bug.name}: named on {', '.join(where)}" if where else
              f"  {bug.name}: named nowhere (no full record, only crashes, a record that changes from run to "
              f"run, or it records what the solution does)")
    for gid, prints in cells.items():
        for names in prints.values():
            if len(names) > 1:
                print(f"  on {gid} these record the same, and are named together: {', '.join(names)}")
    print(f"  {len(named)} of {len(bugged)} bugs can be named")
    return path


def _print_solution(result: Run, verbose: bool) -> bool:
    print(f"solution ({result.seconds:.1f} s):")
    for gid, verdict in result.verdicts.items():
        print(f"  {'pass' if verdict.passed else 'FAIL'}  {gid}: {verdict.reason}")
    return not result.failed()


def _print_untouched(result: Run) -> bool:
    passed = sorted(set(result.verdicts) - result.failed())
    print(f"\nuntouched release: fails {len(result.failed())} of {len(result.verdicts)} test cells"
          + (f"; PASSES {', '.join(passed)}" if passed else ""))
    return not passed


def _print_bug(bug: Bug, result: Run, verbose: bool) -> bool:
    lost = result.failed()
    kept, extra = set(bug.loses) - lost, lost - set(bug.loses)
    status = "ok" if not kept and not extra else "WRONG"
    print(f"  {status:5} {bug.name}: loses {', '.join(sorted(lost)) or 'nothing'}  ({bug.why})")
    if kept:
        print(f"        still passes {', '.join(sorted(kept))}, which it must lose")
    if extra:
        print(f"        also loses {', '.join(sorted(extra))}, not in its `loses`")
    if verbose or extra:
        for gid in sorted(lost):
            print(f"        {gid}: {result.verdicts[gid].reason}")
    return status == "ok"
