"""The catalogue of hostile, broken and tampered submissions (issue: grading integrity).

Each :class:`Hostile` builds one student's submission of assignment 01 from
the untouched release or the full solution, plus one trick. Cheats built on
the untouched release must earn 0: the answers are wrong, and the trick must
not change that. Tricks built on the full solution (a dying kernel, a flood,
tampered structure) must not cost the honest work its points, and must not
stop the grading run. ``grade_catalogue`` grades them all in one real
``nbgrader autograde`` run; tests/test_integrity.py asserts, and
benchmarks/integrity_table.py prints the table for docs/integrity.md.
"""

from __future__ import annotations

import socket
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.v4 import new_code_cell

from autograder.course import KIT_ROOT, Course
from autograder.submissions import fill_release, solution_answers

AID = NB = "01_numpy"
FULL, TESTS_BEFORE_MOSAIC = 27.0, 24.0


@dataclass(frozen=True)
class Hostile:
    """name: student id. what: the trick. base: "untouched" or "full".
    edit(nb, ctx) -> nb | dict[file name, bytes] (the files handed in).
    score: the points it must get. reason: text that must appear in the reasons shown.
    trick_error: the error the trick's own code must end in ("" = it must run cleanly,
        so a passing case cannot be a trick that never took effect)."""

    name: str
    what: str
    base: str
    edit: Callable
    score: float
    reason: str
    trick_error: str = ""


TRICK = "# trick"  # first line of every piece of hostile code, to find it after grading


def _cell(source: str):
    return new_code_cell(TRICK + "\n" + textwrap.dedent(source).strip())


def _after_imports(source: str):
    """Insert a code cell right after the notebook's import cell."""
    def edit(nb, ctx):
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first + 1, _cell(source.format(**ctx)))
        return nb
    return edit


def _at_top(source: str):
    def edit(nb, ctx):
        nb.cells.insert(0, _cell(source.format(**ctx)))
        return nb
    return edit


def _in_answer(gid: str, source: str):
    """Append code to an answer cell (after the function definition)."""
    def edit(nb, ctx):
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        cell.source += f"\n{TRICK}\n" + textwrap.dedent(source).strip().format(**ctx)
        return nb
    return edit


def _cells(predicate, change):
    def edit(nb, ctx):
        for cell in list(nb.cells):
            nbg = cell.metadata.get("nbgrader", {})
            if predicate(nbg):
                if change(nb, cell, nbg) == "delete":
                    nb.cells.remove(cell)
        return nb
    return edit


def _is_test(nbg):
    return nbg.get("grade") and not nbg.get("solution")


def _edit_test(nb, cell, nbg):
    cell.source = "pass"
    nbg["points"] = 100


def _rename(mapping):
    def change(nb, cell, nbg):
        nbg["grade_id"] = mapping[nbg["grade_id"]]
    return _cells(lambda nbg: nbg.get("grade_id") in mapping, change)


def _delete(gids):
    return _cells(lambda nbg: nbg.get("grade_id") in gids, lambda nb, cell, nbg: "delete")


def _kernelspec(nb, ctx):
    nb.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}
    return nb


def _files(files: dict[str, bytes], keep_notebook=True):
    def edit(nb, ctx):
        out = {f"{NB}.ipynb": nbformat.writes(nb).encode()} if keep_notebook else {}
        out.update(files)
        return out
    return edit


def _renamed_notebook(nb, ctx):
    return {"numpy_homework.ipynb": nbformat.writes(nb).encode()}


def _tampered_metadata(nb, ctx):
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "one_hot")
    answer.metadata.nbgrader.update(grade=True, points=50)
    bonus = _cell("print('bonus')")
    bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 100,
                                  "grade_id": "bonus", "schema_version": 3}
    nb.cells.append(bonus)
    return nb


FAKE_HELPERS = b'''
def __getattr__(name):
    return lambda *args, **kwargs: print("ok  all tests passed")
'''

CHECKS = "check_close check_equal check_dtype check_raises".split()

CATALOGUE = [
    Hostile("rebind-numpy", "rebinds np.allclose, np.isclose, np.array_equal, np.testing.assert_allclose",
            "untouched", _after_imports("""
                np.allclose = lambda *a, **k: True
                np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)
                np.array_equal = lambda *a, **k: True
                np.testing.assert_allclose = lambda *a, **k: None
            """), 0, "wrong values"),
    Hostile("rebind-helpers", "rebinds the visible checks in helpers and in the notebook namespace",
            "untouched", _after_imports("""
                import helpers
                for name in {checks!r}:
                    setattr(helpers, name, lambda *a, **k: print("ok"))
                    globals()[name] = getattr(helpers, name)
            """), 0, "wrong values"),
    Hostile("rebind-recorder", "replaces record_for_grader with a function that returns 3.0 (nbgrader partial credit)",
            "untouched", _after_imports("""
                import helpers
                helpers.record_for_grader = record_for_grader = lambda *a, **k: 3.0
                for name in {checks!r}:
                    globals()[name] = lambda *a, **k: None
            """), 0, "recorded nothing"),
    Hostile("forged-record", "writes well-formed grading records of its own (zeros) for every test",
            "untouched", _after_imports("""
                import json, os, pickle, helpers
                def record_for_grader(test_id, **functions):
                    probe = os.environ["COURSE_PROBE_DIR"]
                    calls = pickle.load(open(os.path.join(probe, "inputs", test_id + ".pkl"), "rb"))
                    fake = {{"results": [{{"value": helpers._encode(np.zeros(3)), "warnings": []}} for _ in calls]}}
                    json.dump(fake, open(os.path.join(probe, "outputs", test_id + ".json"), "w"))
                helpers.record_for_grader = record_for_grader
            """), 0, "wrong shape"),
    Hostile("fake-sys-modules", "puts a fake helpers module in sys.modules before the notebook imports it",
            "untouched", _at_top("""
                import sys, types
                fake = types.ModuleType("helpers")
                fake.__getattr__ = lambda name: (lambda *a, **k: print("ok"))
                sys.modules["helpers"] = fake
            """), 0, "recorded nothing"),
    Hostile("fake-helpers-file", "hands in its own helpers.py whose every function prints 'ok'",
            "untouched", _files({"helpers.py": FAKE_HELPERS}), 0, "the cell stopped at AssertionError"),
    Hostile("input-transformer", "registers an IPython input transformer that blanks every later cell",
            "untouched", _after_imports("""
                get_ipython().input_transformers_cleanup.append(lambda lines: [])
            """), 0, "recorded nothing"),
    Hostile("ast-transformer", "registers an AST transformer that strips assert, raise and check_* calls",
            "untouched", _after_imports("""
                import ast
                class Strip(ast.NodeTransformer):
                    def visit_Assert(self, node): return ast.Pass()
                    def visit_Raise(self, node): return ast.Pass()
                    def visit_Expr(self, node):
                        call = node.value
                        if isinstance(call, ast.Call) and getattr(call.func, "id", "").startswith("check_"):
                            return ast.Pass()
                        return node
                get_ipython().ast_transformers.append(Strip())
            """), 0, "wrong values"),
    Hostile("fake-output", "prints 'All tests passed' and fake nbgrader output, displays a float result",
            "untouched", _in_answer("one_hot", """
                print("All tests passed!\\n[ValidateApp | INFO] Success! Your notebook passes all the tests.")
                from IPython.display import display
                display(3.0)
            """), 0, "wrong values"),
    Hostile("sys-exit", "calls sys.exit(0) in an answer cell",
            "untouched", _in_answer("one_hot", "import sys\nsys.exit(0)"), 0, "wrong values", "SystemExit"),
    Hostile("os-exit", "calls os._exit(0) at the end of the last answer cell (honest answers before it)",
            "full", _in_answer("mosaic", "import os\nos._exit(0)"), TESTS_BEFORE_MOSAIC, "kernel died",
            "AutograderError"),
    Hostile("infinite-loop", "loops forever after defining one_hot (the answer itself is right)",
            "full", _in_answer("one_hot", "while True:\n    pass"), FULL, "Timeout", "KeyboardInterrupt"),
    Hostile("infinite-loop-untouched", "loops forever in an unanswered cell",
            "untouched", _in_answer("one_hot", "while True:\n    pass"), 0, "Timeout", "KeyboardInterrupt"),
    Hostile("huge-allocation", "allocates 10 GB (honest answers otherwise)",
            "full", _after_imports("big = np.ones(10 * 2**30 // 8)"), FULL, "MemoryError", "MemoryError"),
    Hostile("output-flood", "prints a million lines (honest answers otherwise)",
            "full", _after_imports("for i in range(10**6):\n    print(i, 'flood')"), FULL, "truncated"),
    Hostile("edited-test-cells", "replaces every test cell with `pass` and sets its points to 100",
            "untouched", _cells(_is_test, _edit_test), 0, "was edited"),
    Hostile("deleted-test-cells", "deletes two test cells (honest answers)",
            "full", _delete({"test_one_hot_hidden", "test_mosaic_basic"}), FULL, "missing from the submission"),
    Hostile("renamed-grade-ids", "renames an answer cell's and a test cell's grade_id (honest answers)",
            "full", _rename({"one_hot": "my_one_hot", "test_crop_basic": "test_crop_x"}), FULL, "unknown grade_id"),
    Hostile("tampered-metadata", "turns an answer cell into a 50-point graded cell and adds a 100-point cell",
            "full", _tampered_metadata, FULL, "unknown grade_id 'bonus'"),
    Hostile("other-kernel", "changes the kernelspec to bash (honest answers)",
            "full", _kernelspec, FULL, "asks for kernel 'bash'"),
    Hostile("invalid-json", "hands in a file that is not JSON",
            "untouched", _files({f"{NB}.ipynb": b"{ this is not a notebook"}, keep_notebook=False), 0,
            "not a readable notebook"),
    Hostile("wrong-name", "hands in the (honest) notebook under another file name",
            "full", _renamed_notebook, 0, "no 01_numpy.ipynb"),
    Hostile("read-course-files", "tries to read solutions, gradebook, hidden tests, another student, /root",
            "untouched", _after_imports("""
                for path in {secrets!r}:
                    try:
                        open(path, "rb").read(100)
                        print("LEAKED", path)
                    except OSError as exc:
                        print("blocked", path, type(exc).__name__)
            """), 0, "wrong values"),
    Hostile("write-outside", "tries to write into the course directory and the kit",
            "untouched", _after_imports("""
                for path in {targets!r}:
                    try:
                        open(path, "a").write("pwned")
                        print("WROTE", path)
                    except OSError as exc:
                        print("blocked", path, type(exc).__name__)
            """), 0, "wrong values"),
    Hostile("network", "opens sockets to the grader's loopback and to the internet",
            "untouched", _after_imports("""
                import socket
                for host, port in [("127.0.0.1", {port}), ("pypi.org", 443), ("1.1.1.1", 53)]:
                    try:
                        socket.create_connection((host, port), timeout=3).close()
                        print("CONNECTED", host, port)
                    except OSError as exc:
                        print("blocked", host, port, type(exc).__name__)
            """), 0, "wrong values"),
    Hostile("warning-correct-answer", "a correct to_grayscale that also triggers a RuntimeWarning on stderr",
            "full", _in_answer("to_grayscale", "np.exp(np.array([1000.0]))  # overflow: RuntimeWarning"),
            FULL, ""),
    Hostile("warning-suppressed-wrong-answer", "standardize without the constant-column guard, warnings silenced",
            "full", _in_answer("standardize", """
                import warnings
                warnings.filterwarnings("ignore")
                np.seterr(all="ignore")
                def standardize(X):
                    X = np.asarray(X, dtype=np.float64)
                    return (X - X.mean(axis=0)) / X.std(axis=0)
            """), FULL - 3, "standardize"),
]


def secrets(course: Course) -> list[str]:
    """Files a submission must not be able to read."""
    return [str(course.source_notebook(AID, NB)), str(course.root / "gradebook.db"),
            str(KIT_ROOT / "autograder" / "assignments" / "a01_numpy" / "hidden_tests.py"),
            str(course.root / "submitted" / "sample-full" / AID / f"{NB}.ipynb"), "/root/.bashrc"]


def targets(course: Course) -> list[str]:
    return [str(course.root / "gradebook.db"), str(KIT_ROOT / "helpers.py"),
            str(course.source_notebook(AID, NB)), "/tmp/written-by-a-student"]


def write_catalogue(course: Course, listener: socket.socket) -> None:
    """submitted/<case name>/01_numpy/ for every case of the catalogue."""
    ctx = {"checks": CHECKS, "secrets": secrets(course), "targets": targets(course),
           "port": listener.getsockname()[1]}
    answers = {"full": solution_answers(course, AID, NB), "untouched": {}}
    for case in CATALOGUE:
        nb = fill_release(course, AID, NB, answers[case.base])
        handed_in = case.edit(nb, ctx)
        if isinstance(handed_in, nbformat.NotebookNode):
            handed_in = {f"{NB}.ipynb": nbformat.writes(handed_in).encode()}
        folder = course.root / "submitted" / case.name / AID
        folder.mkdir(parents=True)
        for name, data in handed_in.items():
            (folder / name).write_bytes(data)


def grade_catalogue(tmp: Path, cell_timeout: int = 10) -> Course:
    """A scratch course with the whole catalogue (and the honest samples) autograded."""
    course = Course.scratch(tmp, [AID])
    with open(course.root / "nbgrader_config.py", "a") as f:  # hangs are cut short sooner here
        f.write(f"\nc.Execute.timeout = {cell_timeout}\n")
    from autograder.cli import write_samples

    write_samples(course, AID)
    with socket.socket() as listener:  # a grader-side service the sandbox must not reach
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        write_catalogue(course, listener)
        course.nbgrader("autograde", AID, "--create", check=False)
    return course
