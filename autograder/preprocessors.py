"""The kit's stages in nbgrader's pipeline (configured in nbgrader_config.py).

Autograde, sanitising a submission:
    ClearOutput -> RebuildSubmission -> OverwriteKernelspec -> CheckCellMetadata
Autograde, grading it:
    SandboxedExecute -> ScoreHiddenTests -> ... nbgrader's SaveAutoGrades
Feedback:
    ClearHiddenTests (nbgrader's) -> GetGrades -> CSS

Because they live in the course's nbgrader configuration, plain
``nbgrader autograde``, the formgrader and ``python -m autograder`` all grade
the same way.

Problems found along the way (a deleted cell, a dead kernel) are collected in
the notebook's metadata under ``autograder.problems``; ScoreHiddenTests writes
them, with every test's verdict, to ``<notebook>.grading.json`` beside the
autograded notebook, and shows them to the student at the top of the feedback.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sys
import tempfile
import time
from collections import defaultdict, deque
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from . import assignments
from .course import KIT_ROOT
from .kernel import SandboxedKernelManager
from .sandbox import Jail, Limits, probe_bwrap
from .scoring import judge

HELPERS = KIT_ROOT / "helpers.py"
DATA = KIT_ROOT / "data"
KIT_KEY = "autograder"
NO_SANDBOX = "graded without the sandbox"  # the problem line every unsandboxed notebook gets


def problems_of(nb) -> list[str]:
    """The list of problems recorded in a notebook's metadata (created if absent)."""
    return nb.metadata.setdefault(KIT_KEY, {}).setdefault("problems", [])


def _nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata; {} when absent or malformed (a submission may hold anything)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _grade_id(cell) -> str | None:
    gid = _nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def _grading(cell) -> tuple:
    """The nbgrader fields that decide how a cell is graded."""
    return tuple(_nbgrader_meta(cell).get(k) for k in ("grade", "solution", "locked", "points"))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded code that is not an answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


class TolerantNotebookExporter(NotebookExporter):
    """Reads a submission that is not a readable notebook as an empty one.

    The empty notebook is then rebuilt from the release by RebuildSubmission,
    so the student gets 0 points and a reason instead of the whole grading
    run failing for them.
    """

    def from_file(self, file_stream, resources=None, **kw):
        try:
            nb = nbformat.read(file_stream, as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("it has no list of cells")
        except Exception as exc:  # any unreadable file: broken JSON, binary, wrong schema
            nb = new_notebook()
            problems_of(nb).append(f"the submitted file is not a readable notebook ({type(exc).__name__}: "
                                   f"{str(exc)[:120]}); graded as an empty submission")
        return self.from_notebook_node(nb, resources=resources, **kw)


class RebuildSubmission(NbGraderPreprocessor):
    """Rebuild the submission from the release, keeping only what the student may change.

    Test cells, locked cells, prose and all nbgrader metadata come from the
    instructor's copy (test cells from the gradebook, with their hidden
    tests); the student contributes the sources of answer cells (matched by
    grade_id) and any extra cells they added, which keep their place. So a
    deleted, edited, reordered or renamed test cell is simply restored, and
    every such change becomes one line in the problems list.
    """

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        release = Path(coursedir.format_path(coursedir.release_directory, ".", nbg["assignment"]))
        template = nbformat.read(release / f"{nbg['notebook']}.ipynb", as_version=4)
        problems = list(problems_of(nb))
        spec = nb.metadata.get("kernelspec") if isinstance(nb.metadata, dict) else None
        asked = spec.get("name") if isinstance(spec, dict) else None
        if asked and asked != template.metadata.kernelspec.name:
            problems.append(f"the notebook asks for kernel {asked!r}; graded with "
                            f"{template.metadata.kernelspec.name!r} as released")
        with Gradebook(nbg["db_url"]) as gb:
            rebuilt = self._rebuild(template, nb, problems, gb, nbg["notebook"], nbg["assignment"])
        problems_of(rebuilt)[:] = problems
        return rebuilt, resources

    def _rebuild(self, template, nb, problems, gb, notebook_id, assignment_id):
        known = {_grade_id(c): i for i, c in enumerate(template.cells) if _grade_id(c)}
        # Ungraded cells of the release (prose, tutorial code) come from the
        # template; a student cell is an extra only if the release lacks it.
        ungraded = defaultdict(deque)
        for i, c in enumerate(template.cells):
            if not _grade_id(c):
                ungraded[_source(c)].append(i)
        # Each extra cell is anchored to the template cell it followed (-1: the top).
        answers, extras, anchor = {}, defaultdict(list), -1
        for cell in nb.cells if isinstance(nb.cells, list) else []:
            gid = _grade_id(cell)
            if gid in known:
                anchor = known[gid]
                tcell = template.cells[anchor]
                if utils.is_solution(tcell):
                    if gid in answers:
                        problems.append(f"answer cell '{gid}' appears twice; the first one was graded")
                    answers.setdefault(gid, cell)
                elif _source(cell) != _source(tcell) or _grading(cell) != _grading(tcell):
                    problems.append(f"cell '{gid}' was edited (source or grading metadata); "
                                    f"restored from the release")
            elif not gid and ungraded[_source(cell)]:
                anchor = ungraded[_source(cell)].popleft()
            elif isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown"):
                if gid:
                    problems.append(f"cell with unknown grade_id '{gid}' kept as an ungraded cell")
                extras[anchor].append(self._plain(cell))

        cells = list(extras[-1])
        for i, tcell in enumerate(template.cells):
            gid = _grade_id(tcell)
            cell = nbformat.from_dict(tcell)
            if gid and utils.is_solution(tcell):
                student = answers.get(gid)
                if student is None or student.get("cell_type") != tcell.cell_type:
                    problems.append(f"answer cell '{gid}' is missing (deleted, retyped or its grade_id "
                                    f"changed); graded as unanswered")
                    if not utils.is_grade(tcell):
                        cell = None  # absent: a renamed copy among the extras may stand in for it
                else:
                    cell.source = _source(student)
            elif gid:
                if is_test_cell(tcell) or utils.is_locked(tcell):
                    cell.source = self._instructor_source(gb, gid, notebook_id, assignment_id, tcell)
                if not any(_grade_id(c) == gid for c in nb.cells if isinstance(c, dict)):
                    problems.append(f"cell '{gid}' was missing from the submission; restored")
            if cell is not None:
                cells.append(cell)
            cells.extend(extras[i])
        rebuilt = nbformat.from_dict(template)
        rebuilt.cells = cells
        for cell in rebuilt.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        return rebuilt

    @staticmethod
    def _plain(cell):
        """A student's own cell, with any nbgrader metadata it claimed removed."""
        return new_code_cell(_source(cell)) if cell["cell_type"] == "code" else new_markdown_cell(_source(cell))

    @staticmethod
    def _instructor_source(gb, gid, notebook_id, assignment_id, tcell):
        try:
            return gb.find_source_cell(gid, notebook_id, assignment_id).source
        except MissingEntry:
            return _source(tcell)


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in the jail and failures contained.

    * the kernel is always ``python3``, launched by SandboxedKernelManager;
    * the hidden tests' inputs are written to a probe folder the kernel can read;
    * the course's own helpers.py is put beside the notebook (a student's copy is replaced);
    * a dead kernel, a kernel that will not start or an exhausted time budget
      stops execution: remaining cells get an error output saying why, and
      grading goes on with what did run.
    """

    notebook_timeout = Float(600, help="Wall-clock seconds for the whole notebook.").tag(config=True)
    memory_limit_mb = Integer(3072, help="Address-space limit of the kernel, MiB.").tag(config=True)
    cpu_limit = Integer(600, help="CPU seconds for the kernel.").tag(config=True)
    max_output_bytes = Integer(200_000, help="Output kept per cell; the rest is dropped.").tag(config=True)
    sandbox = Bool(True, help="Run the kernel in bubblewrap. Turn off only to measure its cost "
                              "(benchmarks/grading_overhead.py); every notebook then logs a warning.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources, km=None):
        nbg = resources["nbgrader"]
        problems = problems_of(nb)
        tests = assignments.hidden_tests(nbg["assignment"])
        scratch = Path(tempfile.mkdtemp(prefix="autograder-"))
        workdir, probe_dir, runtime_dir = scratch / "work", scratch / "probe", scratch / "runtime"
        _copy_plain_files(Path(resources["metadata"]["path"]), workdir)
        shutil.copyfile(HELPERS, workdir / "helpers.py")  # the course's copy, never the student's
        (probe_dir / "inputs").mkdir(parents=True)
        (probe_dir / "outputs").mkdir()
        runtime_dir.mkdir()
        for test_id, test in tests.items():
            with open(probe_dir / "inputs" / f"{test_id}.pkl", "wb") as f:
                pickle.dump(test.calls, f)
        resources.setdefault(KIT_KEY, {})["probe_dir"] = str(probe_dir)
        scratch.chmod(0o755)
        for writable in (workdir, probe_dir / "outputs", runtime_dir):  # the kernel runs as nobody
            writable.chmod(0o777)

        reason = probe_bwrap() if self.sandbox else "disabled by SandboxedExecute.sandbox = False"
        if reason:
            self.log.warning("*** SANDBOX UNAVAILABLE: grading %s WITHOUT isolation: %s ***",
                             nbg["notebook"], reason)
            problems.append(f"{NO_SANDBOX}: {reason}")
        coursedir = CourseDirectory(parent=self)
        jail = Jail(
            hidden=(Path(coursedir.root).resolve(), KIT_ROOT),
            workdir=workdir,
            runtime_dir=runtime_dir,
            probe_dir=probe_dir,
            readonly=_python_paths() + ((DATA.resolve(),) if DATA.exists() else ()),
        )
        limits = Limits(memory_bytes=self.memory_limit_mb * 2**20, cpu_seconds=self.cpu_limit)
        extra_env = {"NBGRADER_EXECUTION": "autograde", "COURSE_PROBE_DIR": str(probe_dir),
                     "COURSE_DATA_DIR": str(DATA.resolve())}

        self.kernel_name = "python3"  # never the kernel a submission names
        self._run(nb, resources, jail, limits, not reason, extra_env, problems)
        return nb, resources

    def _run(self, nb, resources, jail, limits, sandboxed, extra_env, problems):
        NotebookClient.__init__(self, nb, None)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.km = self.create_kernel_manager()
        self.km.prepare(jail, limits, sandboxed, extra_env)
        stderr_path, known_problems = self.km.stderr_path, len(problems)
        self._problems = problems  # for output() and the timeout handler
        deadline = time.monotonic() + self.notebook_timeout
        stopped = None
        try:
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    if stopped is None and time.monotonic() > deadline:
                        stopped = f"the notebook ran out of its {self.notebook_timeout:.0f} s time budget"
                    if stopped:
                        _fail_cell(cell, f"not run: {stopped}")
                        continue
                    self._cell_bytes = 0
                    try:
                        self.preprocess_cell(cell, resources, index)
                    except DeadKernelError:
                        stopped = "the kernel died in an earlier cell (os._exit, a crash or a resource limit)"
                        problems.append(f"kernel died while running cell {index}")
                        _fail_cell(cell, "the kernel died while running this cell")
        except Exception as exc:  # the kernel would not start or broke the protocol
            problems.append(f"execution stopped: {type(exc).__name__}: {str(exc)[:160]}")
            for cell in self.nb.cells:
                if cell.cell_type == "code" and not cell.get("outputs"):
                    _fail_cell(cell, "not run: the kernel stopped responding")
        if stopped:
            problems.append(stopped)
        if len(problems) > known_problems and stderr_path.exists():  # help the instructor see why
            tail = stderr_path.read_bytes()[-1500:].decode(errors="replace").strip()
            if tail:
                self.log.warning("kernel stderr (last lines):\n%s", tail)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most max_output_bytes of output per cell: a flood cannot exhaust the grader."""
        size = len(str(msg.get("content", "")))
        self._cell_bytes = getattr(self, "_cell_bytes", 0) + size
        if self._cell_bytes > self.max_output_bytes:
            if self._cell_bytes - size <= self.max_output_bytes:
                outs.append(new_output("stream", name="stdout",
                                       text="\n[output truncated by the autograder]\n"))
                self._problems.append(f"cell {cell_index} printed more than {self.max_output_bytes} "
                                      f"bytes; the rest was dropped")
            return None
        return super().output(outs, msg, display_id, cell_index)

    async def _async_handle_timeout(self, timeout, cell=None):
        """A cell over its time limit is interrupted (nbgrader's default); say so once."""
        self._problems.append(f"a cell ran longer than {timeout} s and was interrupted (Timeout)")
        return await super()._async_handle_timeout(timeout, cell)


def _copy_plain_files(src: Path, dest: Path) -> None:
    """Copy the submission's own files (not its notebooks) to the kernel's working folder.

    The kernel never runs in the autograded folder itself: whatever it writes
    (a symlink over the notebook nbgrader is about to save, say) stays in
    the scratch copy. Symlinks are skipped, so none can point outside.
    """
    dest.mkdir(parents=True)
    for path in src.rglob("*"):
        target = dest / path.relative_to(src)
        if path.is_symlink() or path.suffix == ".ipynb":
            continue
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def _python_paths() -> tuple[Path, ...]:
    """The Python installation the kernel needs to read (the venv and the interpreter under it)."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(sys.executable).resolve().parent.parent}
    return tuple(sorted(paths))


def _fail_cell(cell, reason: str) -> None:
    cell.outputs.append(new_output("error", ename="AutograderError", evalue=reason,
                                   traceback=[f"Autograder: {reason}"]))


class ScoreHiddenTests(NbGraderPreprocessor):
    """Decide every test cell from the recorded outputs, in this (clean) process.

    Each test cell's outputs are replaced by the student's own printed lines
    (stdout only) plus the verdict: an error output when it failed, so that
    nbgrader's SaveAutoGrades gives 0, and nothing else when it passed, so a
    harmless warning on stderr costs nothing.
    """

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        tests = assignments.hidden_tests(nbg["assignment"])
        probe_dir = Path(resources[KIT_KEY]["probe_dir"])
        answers = {_grade_id(c): _source(c) for c in nb.cells if utils.is_solution(c)}
        verdicts = {}
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            gid = _grade_id(cell)
            if gid in tests:
                error = next((f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"), "")
                verdict = judge(tests[gid], probe_dir / "outputs" / f"{gid}.json", answers, error)
            else:
                verdict = None
            _replace_outputs(cell, verdict, gid)
            verdicts[gid] = {"passed": bool(verdict and verdict.passed),
                             "points": float(cell.metadata.nbgrader.points),
                             "reason": verdict.reason if verdict else "no hidden test is registered for this cell"}
        shutil.rmtree(probe_dir.parent, ignore_errors=True)
        problems = problems_of(nb)
        for problem in problems:
            self.log.warning("[autograder] %s/%s/%s: %s", nbg["student"], nbg["assignment"],
                             nbg["notebook"], problem)
        if problems:
            notes = "\n".join(f"- {p}" for p in problems)
            nb.cells.insert(0, new_markdown_cell(f"**Autograder notes**\n\n{notes}"))
        report = {"student": nbg["student"], "assignment": nbg["assignment"],
                  "notebook": nbg["notebook"], "problems": problems, "tests": verdicts}
        out = Path(resources["metadata"]["path"]) / f"{nbg['notebook']}.grading.json"
        out.unlink(missing_ok=True)  # never write through a file the submission placed there
        out.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
        return nb, resources


def _replace_outputs(cell, verdict, gid) -> None:
    printed = "".join(o.get("text", "") for o in cell.outputs
                      if o.output_type == "stream" and o.name == "stdout")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    cell.outputs = [new_output("stream", name="stdout", text=printed[-20_000:])] if printed else []
    if verdict is None:
        _fail_cell(cell, f"no hidden test is registered for '{gid}' (instructor: add it to hidden_tests.py)")
    elif not verdict.passed:
        for error in errors[:1]:  # the student's own visible-check failure, if any, without
            # its traceback: IPython prints the lines around the failure, hidden tests included
            cell.outputs.append(new_output("error", ename=error.ename, evalue=error.evalue,
                                           traceback=[f"{error.ename}: {error.evalue}"]))
        _fail_cell(cell, verdict.reason)
    else:
        cell.outputs.append(new_output("stream", name="stdout", text=f"Autograder: {verdict.reason}\n"))
