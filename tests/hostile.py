"""The catalogue of hostile, broken and tampered submissions (issue: grading integrity).

Each :class:`Hostile` builds one student's submission of assignment 01 from
the untouched release or the full solution, plus one trick. Cheats built on
the untouched release must earn 0: the answers are wrong, and the trick must
not change that. Tricks built on the full solution (a dying kernel, a flood,
tampered structure) must not cost the honest work its points, and must not
stop the grading run. ``grade_catalogue`` grades them all in one run of the
parallel grader (the real ``nbgrader autograde``, a batch of students per Dask
task); tests/test_integrity.py asserts, and docs/integrity_table.py prints the
table for docs/integrity.md.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.course import KIT_ROOT, Course
from autograder.parallel import grade_parallel
from autograder.execute import DATA
from autograder.sandbox import Jail, system_paths
from autograder.submissions import autograded_points, fill_release, solution_answers, write_samples

AID = NB = "01_numpy"
FULL = autograded_points(Course(KIT_ROOT), AID, NB)
TESTS_BEFORE_MOSAIC = FULL - autograded_points(Course(KIT_ROOT), AID, NB, prefix="test_mosaic_")


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


def _both(*edits):
    """Apply several edits to one notebook."""
    def edit(nb, ctx):
        for one in edits:
            nb = one(nb, ctx)
        return nb
    return edit


#: An ndarray subclass that claims to equal, and to be close to, anything (==, np.allclose, np.isclose,
#: np.array_equal); its arithmetic is honest. Used by lying-array and tests/test_lying_objects.py.
AGREEABLE = """
class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)
    def __ne__(self, other):
        return np.zeros(np.shape(other), dtype=bool)
    def __array_function__(self, func, types, args, kwargs):
        if func in (np.allclose, np.array_equal, np.array_equiv):
            return True
        if func is np.isclose:
            return np.ones(np.broadcast_shapes(*map(np.shape, args[:2])), dtype=bool)
        return super().__array_function__(func, types, args, kwargs)
"""


#: What walk-the-filesystem runs: every notebook or script on the visible filesystem that
#: defines one of the assignment's functions, outside the kernel's own Python packages.
WALK = """
import json, os
FOUND = []
for root, dirs, files in (entry for top in ROOTS for entry in os.walk(top)):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")
               and d not in ("site-packages", "dist-packages", "__pycache__")]
    for name in files:
        path = os.path.join(root, name)
        if name.endswith((".ipynb", ".py", ".json", ".md", ".txt")):
            try:
                text = open(path, errors="ignore").read(5_000_000)
            except OSError:
                continue
            if "def one_hot(" in text:
                FOUND.append(path)
STOLEN = {}
for path in FOUND:
    print("FOUND", path)
    try:
        cells = json.loads(open(path).read())["cells"]
    except Exception:
        continue
    for cell in cells:
        source = "".join(cell["source"])
        for line in source.splitlines():
            if cell["cell_type"] == "code" and line.startswith("def ") and "record_for_grader" not in source:
                STOLEN.setdefault(line[4:].split("(")[0], source)
print("searched; found", len(FOUND))
"""


def _stealing():
    """Run WALK after the imports, and end every answer cell by running what it stole."""
    def edit(nb, ctx):
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first + 1, _cell('ROOTS = ["/"]\n' + WALK))
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                names = [line[4:].split("(")[0] for line in cell.source.splitlines() if line.startswith("def ")]
                cell.source += "".join(f"\n{TRICK}\nexec(STOLEN.get({n!r}, 'pass'))" for n in names)
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


def xss_token(case: str) -> str:
    """The marker an xss-* case puts in every payload, to look for in the rendered pages."""
    return case.upper().replace("-", "_")


def _xss_code(case: str, source: str):
    """A code cell after the imports; TOKEN in its source is the case's token."""
    def edit(nb, ctx):
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first + 1, _cell(source.replace("TOKEN", xss_token(case))))
        return nb
    return edit


def _xss_markdown(case: str, source: str, grade_id: str | None = None):
    """A markdown cell of the student's after the imports, claiming grade_id if given."""
    def edit(nb, ctx):
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        cell = new_markdown_cell(source.replace("TOKEN", xss_token(case)))
        if grade_id:
            cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False,
                                         "grade_id": grade_id.replace("TOKEN", xss_token(case)),
                                         "schema_version": 3}
        nb.cells.insert(first + 1, cell)
        return nb
    return edit


#: A 1x1 PNG: the one display the allow-list must keep.
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

XSS_DISPLAYS = rf"""
from IPython.display import HTML, SVG, Javascript, Markdown, display
display(HTML("<script>alert('TOKEN')</script><img src=x onerror=\"alert('TOKEN')\">"))
display(Javascript("alert('TOKEN')"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("TOKEN")</script></svg>'))
display(Markdown("<iframe src=\"javascript:alert('TOKEN')\"></iframe>"))
display({{"text/latex": "$x$<script>alert('TOKEN')</script>", "text/x-unknown": "<embed src=TOKEN>",
         "application/vnd.jupyter.widget-view+json": {{"model_id": "TOKEN", "version_major": 2}}}}, raw=True)
display({{"image/png": "not-base64\" onerror=\"alert('TOKEN')"}}, raw=True)
display({{"image/png": "{PNG_1PX}"}}, metadata={{"image/png": {{"width": "1 onerror=alert('TOKEN')"}}}}, raw=True)
"""

XSS_MARKDOWN = textwrap.dedent("""
    ## My notes: $0 < \\sigma(z) < 1$ & more

    <script>alert("TOKEN")</script>
    <img src=x onerror="alert('TOKEN')"> <iframe src="javascript:alert('TOKEN')"></iframe>
    <object data="javascript:alert('TOKEN')"></object><embed src="javascript:alert('TOKEN')">
    <style>body { background: url("javascript:alert('TOKEN')") }</style>
    [click me](javascript:alert('TOKEN')) ![pixel](http://127.0.0.1:9/TOKEN.png)
    [ref]: javascript:alert('TOKEN')
""").strip()


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
    Hostile("infinite-loop", "loops forever after defining flip_horizontal (the answer itself is right)",
            "full", _in_answer("flip_horizontal", "while True:\n    pass"), FULL, "Timeout", "KeyboardInterrupt"),
    Hostile("infinite-loop-untouched", "waits forever, sleeping, in an unanswered cell (a hang that uses no CPU)",
            "untouched", _in_answer("one_hot", "import time\nwhile True:\n    time.sleep(0.1)"), 0, "Timeout",
            "KeyboardInterrupt"),
    Hostile("huge-allocation", "allocates 10 GB (honest answers otherwise)",
            "full", _after_imports("big = np.ones(10 * 2**30 // 8)"), FULL, "MemoryError", "MemoryError"),
    Hostile("output-flood", "prints 20 MB in 200,000 lines (honest answers otherwise)",
            "full", _after_imports("for i in range(2 * 10**5):\n    print(i, 'flood' * 20)"), FULL, "truncated"),
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
    Hostile("warning-suppressed-wrong-answer", "standardize without the constant-column guard, warnings silenced "
            "in a cell of its own", "full", _both(_after_imports("""
                import warnings
                warnings.filterwarnings("ignore")
                np.seterr(all="ignore")
            """), _cells(lambda nbg: nbg.get("grade_id") == "standardize", lambda nb, cell, nbg: cell.update(
                source=TRICK + "\ndef standardize(X):\n    X = np.asarray(X, dtype=np.float64)\n"
                               "    return (X - X.mean(axis=0)) / X.std(axis=0)"))),
            FULL - 3, "standardize (30x3 with a constant column): wrong values"),
    # ---- the jail: what the kernel can see, write or outlast (issue 8)
    Hostile("walk-the-filesystem", "walks / for notebooks that define the answers (another checkout of the "
            "course, a classmate's hand-in in nbgrader's exchange) and runs what it finds",
            "untouched", _stealing(), 0, "wrong values"),
    Hostile("list-the-root", "lists what the jail's / and /etc hold",
            "untouched", _after_imports("""
                import os
                print("ROOT", sorted(os.listdir("/")))
                print("ETC", sorted(os.listdir("/etc")))
            """), 0, "wrong values"),
    Hostile("stderr-fifo", "puts named pipes where the grader once read the kernel's stderr, then dies "
            "(honest answers before)",
            "full", _both(_after_imports("""
                import os, ipykernel
                runtime = os.path.dirname(ipykernel.get_connection_file())
                for name in ("kernel.stderr", "kernel.json"):
                    path = os.path.join(runtime, name)
                    if os.path.lexists(path):
                        os.remove(path)
                    os.mkfifo(path)
                    print("FIFO", name)
            """), _in_answer("mosaic", "import os\nos._exit(0)")), TESTS_BEFORE_MOSAIC, "kernel died",
            "AutograderError"),
    Hostile("fork-bomb", "forks until it cannot (honest answers otherwise)",
            "full", _after_imports("""
                import os, time
                children = []
                try:
                    for _ in range(5000):
                        pid = os.fork()
                        if pid == 0:
                            time.sleep(2)
                            os._exit(0)
                        children.append(pid)
                except OSError as exc:  # EAGAIN: the submission's process limit
                    print("fork refused after", len(children), "children:", type(exc).__name__)
                for pid in children:
                    os.waitpid(pid, 0)
            """), FULL, "fork refused after"),
    Hostile("memory-in-children", "three child processes hold 1.2 GiB each (honest answers otherwise)",
            "full", _after_imports("""
                import os, time
                children = []
                for _ in range(3):
                    pid = os.fork()
                    if pid == 0:
                        block = np.ones(150 * 2**20)  # 1.2 GiB, every page touched
                        time.sleep(1)
                        os._exit(0)
                    children.append(pid)
                print("child exit statuses", [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children])
            """), FULL, "memory limit together"),
    Hostile("disk-filler", "writes 64 MB files until stopped, in the last answer (honest answers before)",
            "full", _in_answer("mosaic", """
                import itertools
                block = b"x" * 2**20
                for i in itertools.count():
                    with open(f"fill-{{i}}.bin", "wb") as f:
                        for _ in range(63):
                            f.write(block)
            """), TESTS_BEFORE_MOSAIC, "MiB of files", "AutograderError"),
    Hostile("outlive-the-grader", "starts a detached process meant to outlive grading (honest answers otherwise)",
            "full", _after_imports("""
                import subprocess, sys
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{survivor}"],
                                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            """), FULL, ""),
    Hostile("slow-exit", "registers atexit and signal handlers that stall for a minute (honest answers otherwise)",
            "full", _after_imports("""
                import atexit, signal, time
                atexit.register(time.sleep, 60)
                signal.signal(signal.SIGTERM, lambda *args: time.sleep(60))
            """), FULL, ""),
    Hostile("message-flood", "sends 50 MB of widget comm messages, one of 100 MB, and 500 display updates of 100 kB",
            "full", _after_imports("""
                from comm import create_comm
                from IPython.display import display
                channel = create_comm(target_name="flood")
                for _ in range(500):
                    channel.send({{"x": "a" * 100_000}})
                channel.send({{"x": "c" * 100_000_000}})
                handle = display("start", display_id=True)
                for _ in range(500):
                    handle.update("b" * 100_000)
            """), FULL, "output budget"),
    # ---- outputs, feedback and the instructor's pages (issue 8)
    Hostile("xss-display", "displays HTML, JavaScript, SVG, Markdown, LaTeX, a widget, an unknown type and "
            "images with a forged base64 and width (honest answers)",
            "full", _xss_code("xss-display", XSS_DISPLAYS), FULL, "[autograder: not shown"),
    Hostile("xss-markdown", "adds a markdown cell with script, onerror, iframe, object, style and javascript: links "
            "(honest answers)", "full", _xss_markdown("xss-markdown", XSS_MARKDOWN), FULL, ""),
    Hostile("xss-grade-id", "adds a markdown cell whose grade_id, quoted in the autograder's notes, is a script",
            "untouched", _xss_markdown("xss-grade-id", XSS_MARKDOWN,
                                       grade_id="x<script>alert('TOKEN')</script>[a](javascript:alert('TOKEN'))"),
            0, "unknown grade_id"),
    # ---- values that do not fit, values that lie (issue 9)
    Hostile("ragged-return", "one_hot returns the tuple (Y, np.zeros(3)), which no array comparison can take "
            "(honest answers otherwise)", "full", _in_answer("one_hot", """
                _one_hot = one_hot
                def one_hot(y, k):
                    return _one_hot(y, k), np.zeros(3)
            """), FULL - 3, "returned a tuple of 2 items whose parts do not form one array"),
    Hostile("lying-array", "to_grayscale and flip_horizontal return an ndarray subclass that claims to equal anything, "
            "to be close to anything (np.allclose and friends), and to have any shape and contents asked about",
            "untouched", _both(*[_in_answer(gid, AGREEABLE + textwrap.dedent("""
                class Liar(Agreeable):
                    def __array__(self, dtype=None, copy=None):
                        return np.eye(3)
                    def tolist(self):
                        return [[1.0]]
                    def __getitem__(self, index):
                        return 1.0
                    shape = property(lambda self: (3, 3))
                    dtype = property(lambda self: np.dtype(float))
                _{gid} = {gid}
                def {gid}(*args):
                    return np.asarray(_{gid}(*args)).view(Liar)
            """).replace("{gid}", gid)) for gid in ("to_grayscale", "flip_horizontal")]), 0,
            "flip_horizontal (a 3x5 image): wrong values"),
    Hostile("lying-numbers", "crop returns a list subclass and mosaic an int subclass claiming equality, "
            "length and contents they do not hold", "untouched", _both(_in_answer("crop", """
                class Yes(list):
                    __eq__ = lambda self, other: True
                    __len__ = lambda self: 2
                    __iter__ = lambda self: iter([[9, 10], [13, 14], [17, 18]])
                    copy = lambda self: [[9, 10], [13, 14], [17, 18]]
                def crop(img, top, left, height, width):
                    return Yes([[0]])
            """), _in_answer("mosaic", """
                class Seven(int):
                    __eq__ = lambda self, other: True
                    __int__ = lambda self: 7
                    __float__ = lambda self: 7.0
                def mosaic(images, rows, cols):
                    return Seven(0)
            """)), 0, "crop (the whole 5x6 image): wrong shape: expected (5, 6), got (1, 1)"),
    # ---- source rules, replayed visible checks, revealing reasons (issue 8)
    # Honest answers everywhere else: each case loses exactly the basic and hidden cells of the answer it dodges in.
    Hostile("rule-getattr", "rotate90 reaches the banned np.rot90 as getattr(np, 'rot' + '90')",
            "full", _cells(lambda nbg: nbg.get("grade_id") == "rotate90", lambda nb, cell, nbg: cell.update(
                source=TRICK + '\ndef rotate90(img, k=1):\n    return getattr(np, "rot" + "90")(np.asarray(img), k)')),
            FULL - 3, "your answer uses getattr"),
    Hostile("rule-exec-loop", "pairwise_sq_dists runs its loops inside exec(...)",
            "full", _cells(lambda nbg: nbg.get("grade_id") == "pairwise_sq_dists", lambda nb, cell, nbg: cell.update(
                source=TRICK + '\ndef pairwise_sq_dists(X, Y):\n'
                               '    scope = {"X": np.asarray(X, float), "Y": np.asarray(Y, float)}\n'
                               '    exec("D = [[float(((x - v) ** 2).sum()) for v in Y] for x in X]", scope)\n'
                               '    return np.array(scope["D"]).reshape(len(scope["X"]), len(scope["Y"]))')),
            FULL - 3, "your answer uses exec"),
    Hostile("rule-extra-cell-helper", "pairwise_sq_dists calls a loop-based helper defined in an extra cell",
            "full", _both(_after_imports("""
                def _distances(X, Y):
                    D = np.zeros((len(X), len(Y)))
                    for i in range(len(X)):
                        for j in range(len(Y)):
                            D[i, j] = ((X[i] - Y[j]) ** 2).sum()
                    return D
            """), _cells(lambda nbg: nbg.get("grade_id") == "pairwise_sq_dists", lambda nb, cell, nbg: cell.update(
                source=TRICK + "\ndef pairwise_sq_dists(X, Y):\n"
                               "    return _distances(np.asarray(X, dtype=float), np.asarray(Y, dtype=float))"))),
            FULL - 3, "your answer uses _distances, which is defined or changed outside its cell"),
]


def secrets(course: Course) -> list[str]:
    """Files a submission must not be able to read."""
    return [str(course.source_notebook(AID, NB)), str(course.root / "gradebook.db"),
            str(KIT_ROOT / "autograder" / "assignments" / "a01_numpy" / "hidden_tests.py"),
            str(course.root / "submitted" / "sample-full" / AID / f"{NB}.ipynb"), "/root/.bashrc"]


def targets(course: Course) -> list[str]:
    return [str(course.root / "gradebook.db"), str(KIT_ROOT / "helpers.py"),
            str(course.source_notebook(AID, NB)), "/tmp/written-by-a-student", "/dev/shm/written-by-a-student"]


def expected_jail() -> Jail:
    """The jail the grader builds for a notebook, up to the scratch folder's random name."""
    scratch = Path(tempfile.gettempdir(), "autograder-scratch")
    return Jail(workdir=scratch / "work", runtime_dir=scratch / "runtime", probe_dir=scratch / "probe",
                etc_dir=scratch / "etc", readonly=system_paths() + (DATA.resolve(),))


#: Marks the process outlive-the-grader starts; none may be running after grading.
SURVIVOR = "autograder-catalogue-survivor"

#: Where a real grading server keeps course material outside the course directory: another
#: checkout (last year's course, a backup, an instructor's working copy) and nbgrader's exchange,
#: where `nbgrader submit` puts every student's hand-in.
PLANTED = {
    "solution": ["/srv/dl-fundamentals-2025/solutions/01_numpy/01_numpy.ipynb",
                 "/opt/backups/dl-course/solutions/01_numpy/01_numpy.ipynb",
                 "/home/instructor/dl-course/solutions/01_numpy/01_numpy.ipynb",
                 "/var/lib/grader/01_numpy-solution.ipynb"],
    "classmate": ["/usr/local/share/nbgrader/exchange/dl-fundamentals/inbound/"
                  "classmate+01_numpy+2026-12-01 09:00:00.000000 UTC/01_numpy.ipynb"],
}


@contextlib.contextmanager
def planted_material(course: Course):
    """Copies of the solution and of a classmate's correct hand-in outside the course, while grading.

    Only what did not exist is created, and exactly that is removed afterwards. Yields the
    paths planted (none when this user may not write there).
    """
    contents = {"solution": course.source_notebook(AID, NB).read_bytes(),
                "classmate": nbformat.writes(fill_release(course, AID, NB,
                                                          solution_answers(course, AID, NB))).encode()}
    created: list[Path] = []
    planted: list[str] = []
    try:
        for kind, paths in PLANTED.items():
            for name in paths:
                path = Path(name)
                if path.exists():
                    continue
                missing = [p for p in [*reversed(path.parents), path] if not p.exists()]
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(contents[kind])
                except OSError:
                    continue
                created.extend(missing)
                planted.append(name)
        yield planted
    finally:
        for path in reversed(created):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)


def write_catalogue(course: Course, listener: socket.socket) -> None:
    """submitted/<case name>/01_numpy/ for every case of the catalogue."""
    ctx = {"checks": CHECKS, "secrets": secrets(course), "targets": targets(course), "survivor": SURVIVOR,
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


def grade_catalogue(tmp: Path, cell_timeout: int = 30) -> Course:
    """A scratch course with the whole catalogue (and the honest samples) autograded."""
    course = Course.scratch(tmp, [AID])
    # Hangs are cut at 30 s here, not the course's 60, under the course's own limits otherwise. Not
    # shorter: memory-in-children touches 3.6 GiB at about 0.65 GiB/s, which took over 12 s in CI; with
    # half the memory allowed, message-flood's kernel stopped responding there.
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Execute.timeout = {cell_timeout}\n")
    write_samples(course, AID)
    with socket.socket() as listener:  # a grader-side service the sandbox must not reach
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        write_catalogue(course, listener)
        with planted_material(course):
            grade_parallel(course, AID)  # the default LocalCluster
    return course
