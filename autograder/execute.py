"""The execution stage: run a rebuilt submission in the jail, contain whatever it does.

``SandboxedExecute`` is nbgrader's Execute preprocessor with:

* the kernel always ``python3``, launched by SandboxedKernelManager inside
  the jail (autograder.sandbox), its cgroup (autograder.cgroups) and rlimits;
* a private scratch folder per notebook: the kernel's working copy of the
  submission, the course's own helpers.py, the hidden tests' inputs (read-only)
  and the folder the probe writes its records to;
* a watchdog (autograder.watchdog) that enforces the notebook's deadline and
  disk budget from the grader's side;
* an output budget that counts every message the kernel sends (streams,
  displays, display updates, widget comm traffic), per cell and per notebook;
* cells tagged ``skip-when-graded`` (experiments nothing tests) are not run;
* a dead kernel, a kernel that will not start or an exhausted budget stops
  execution: remaining cells get an error output saying why, and grading goes
  on with what did run. Afterwards no process of the submission is left.

The scratch folder is removed by ScoreHiddenTests once it has read the records;
one left behind by a grader that was killed is removed by the next grader.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode, default

from . import assignments
from .cgroups import Cgroup
from .course import KIT_ROOT
from .kernel import SandboxedKernelManager
from .cells import KIT_KEY, NO_SANDBOX, fail_cell, problems_of
from .sandbox import Jail, Limits, probe_bwrap, system_paths
from .stale import owner_gone
from .watchdog import Watchdog

HELPERS = KIT_ROOT / "helpers.py"
DATA = KIT_ROOT / "data"
SCRATCH_PREFIX = "autograder-"
#: nbgrader's default exchange (where `nbgrader submit` puts every student's hand-in).
DEFAULT_EXCHANGE = Path("/usr/local/share/nbgrader/exchange")
#: Cells with this tag teach (a timing demo, a long experiment) but nothing tests them:
#: they are not run at grade time. Tags come from the release (RebuildSubmission), so a
#: student can neither add nor remove one.
SKIP_TAG = "skip-when-graded"
SKIPPED = "[not run while grading: this cell is an experiment, nothing tests it]\n"
#: Messages that carry no output: the protocol itself, always let through.
PROTOCOL = {"status", "execute_input"}
#: Where helpers.record_for_grader finds the hidden inputs and writes its records (helpers.PROBE_DIR_ENV).
PROBE_DIR_ENV = "COURSE_PROBE_DIR"


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in the jail and failures contained (see the module doc)."""

    notebook_timeout = Float(600, help="Wall-clock seconds for the whole notebook, for assignments "
                                       "that set no TIME_BUDGET (autograder/assignments).").tag(config=True)
    memory_limit_mb = Integer(3072, help="Memory of the submission (each process, and all of them "
                                         "together where cgroups are available), MiB.").tag(config=True)
    cpu_limit = Integer(600, help="CPU seconds for each process of the kernel.").tag(config=True)
    max_processes = Integer(128, help="Processes and threads alive at once in the submission.").tag(config=True)
    disk_limit_mb = Integer(512, help="Everything the submission may write, MiB.").tag(config=True)
    max_output_bytes = Integer(200_000, help="Output kept per cell; the rest is dropped.").tag(config=True)
    max_notebook_output_bytes = Integer(5_000_000, help="Output kept per notebook.").tag(config=True)
    hidden_paths = List(Unicode(), help="More folders kept absent from the jail wherever they lie (the "
                                        "parallel grader names the real course, graded from a private "
                                        "copy).").tag(config=True)
    sandbox = Bool(True, help="Run the kernel in bubblewrap. Turn off only to measure its cost "
                              "(benchmarks/grading_overhead.py); every notebook then logs a warning.").tag(config=True)

    @default("shutdown_kernel")
    def _kill_at_once(self):
        # Records are on disk when a cell ends, so nothing is lost by killing the kernel at once;
        # a graceful shutdown would give the submission's atexit hooks seconds of grader time.
        return "immediate"

    @default("iopub_timeout")
    def _wait_for_a_cell_s_last_output(self):
        # After a cell's reply, nbclient waits this long for the rest of its output, and nbgrader makes
        # running out of it stop the notebook. nbclient's 4 s was too short for a cell that sent a
        # 100 MB message while the machine graded three other notebooks: the whole notebook scored 0.
        # The wait ends as soon as the kernel says it is idle, and the notebook's deadline bounds it.
        return 30

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self.store_widget_state = False  # widget state is student data the grader has no use for

    def preprocess(self, nb, resources, km=None):
        nbg = resources["nbgrader"]
        problems = problems_of(nb)
        sweep_stale_scratch()
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        jail = self._jail(scratch, Path(resources["metadata"]["path"]), nbg["assignment"])
        resources.setdefault(KIT_KEY, {})["probe_dir"] = str(jail.probe_dir)

        reason = probe_bwrap() if self.sandbox else "disabled by SandboxedExecute.sandbox = False"
        if reason:
            self.log.warning("*** SANDBOX UNAVAILABLE: grading %s WITHOUT isolation: %s ***",
                             nbg["notebook"], reason)
            problems.append(f"{NO_SANDBOX}: {reason}")
        limits = Limits(memory_bytes=self.memory_limit_mb * 2**20, cpu_seconds=self.cpu_limit,
                        processes=self.max_processes)
        cgroup = Cgroup.create(limits)
        if cgroup is None:
            self.log.warning("no cgroup for %s: memory and process limits apply per process only",
                             nbg["notebook"])
        extra_env = {"NBGRADER_EXECUTION": "autograde", PROBE_DIR_ENV: str(jail.probe_dir),
                     "COURSE_DATA_DIR": str(DATA.resolve())}

        self.kernel_name = "python3"  # never the kernel a submission names
        try:
            self._run(nb, resources, jail, limits, not reason, cgroup, extra_env, problems, scratch)
        finally:
            if cgroup is not None:
                if cgroup.oom_kills():
                    problems.append(f"the submission's processes went over their {self.memory_limit_mb} MiB "
                                    f"memory limit together; processes killed for it: {cgroup.oom_kills()}")
                cgroup.remove()  # no process of the submission outlives its grading
        return nb, resources

    def _jail(self, scratch: Path, submitted: Path, assignment: str) -> Jail:
        """Lay out the scratch folder and describe the jail around it."""
        jail = Jail(workdir=scratch / "work", runtime_dir=scratch / "runtime", probe_dir=scratch / "probe",
                    etc_dir=scratch / "etc",
                    readonly=system_paths() + ((DATA.resolve(),) if DATA.exists() else ()),
                    covered=self._course_material())
        _copy_plain_files(submitted, jail.workdir)
        shutil.copyfile(HELPERS, jail.workdir / "helpers.py")  # the course's copy, never the student's
        jail.lay_out()
        for test_id, test in assignments.hidden_tests(assignment).items():
            with open(jail.probe_dir / "inputs" / f"{test_id}.pkl", "wb") as f:
                pickle.dump(test.calls, f)
        scratch.chmod(0o755)
        return jail

    def _course_material(self) -> tuple[Path, ...]:
        """Folders that hold answers or other students' work, kept absent from the jail."""
        coursedir = CourseDirectory(parent=self)
        exchange = self.config.get("Exchange", {}).get("root")
        roots = {Path(coursedir.root).resolve(), KIT_ROOT, DEFAULT_EXCHANGE, *map(Path, self.hidden_paths)}
        if isinstance(exchange, str):
            roots.add(Path(exchange).resolve())
        return tuple(sorted(roots))

    def _run(self, nb, resources, jail, limits, sandboxed, cgroup, extra_env, problems, scratch):
        NotebookClient.__init__(self, nb, None)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.km = self.create_kernel_manager()
        stderr_path = scratch / "kernel.stderr"  # outside every folder the kernel can write
        self.km.prepare(jail, limits, sandboxed, cgroup, extra_env, stderr_path)
        known_problems = len(problems)
        self._problems = problems  # for the output budget and the timeout handler
        self._notebook_bytes, self._truncated = 0, set()
        budget = assignments.time_budget(resources["nbgrader"]["assignment"]) or self.notebook_timeout
        started = time.monotonic()
        deadline = started + budget
        watchdog = Watchdog(deadline, scratch, self.disk_limit_mb * 2**20, self.km.kill_now)
        watchdog.start()
        stopped = None
        try:
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    if stopped is None and time.monotonic() > deadline:
                        stopped = f"the notebook ran out of its {budget:.0f} s time budget"
                    if stopped:
                        fail_cell(cell, f"not run: {stopped}")
                        continue
                    if SKIP_TAG in cell.metadata.get("tags", ()):
                        cell.outputs = [new_output("stream", name="stdout", text=SKIPPED)]
                        continue
                    self._cell_bytes = 0
                    try:
                        self.preprocess_cell(cell, resources, index)
                    except DeadKernelError:
                        stopped = watchdog.reason or ("the kernel died in an earlier cell (os._exit, a crash "
                                                      "or a resource limit)")
                        problems.append(f"{watchdog.reason} (in cell {index})" if watchdog.reason
                                        else f"kernel died while running cell {index}")
                        fail_cell(cell, watchdog.reason or "the kernel died while running this cell")
        except Exception as exc:  # the kernel would not start or broke the protocol
            problems.append(f"execution stopped: {type(exc).__name__}: {str(exc)[:160]}")
            for cell in self.nb.cells:
                if cell.cell_type == "code" and not cell.get("outputs"):
                    fail_cell(cell, "not run: the kernel stopped responding")
        finally:
            watchdog.stop()
            resources[KIT_KEY]["seconds"] = round(time.monotonic() - started, 2)  # for <notebook>.grading.json
        if stopped and stopped != watchdog.reason:  # the watchdog's reason is already there
            problems.append(stopped)
        if len(problems) > known_problems:  # help the instructor see why
            tail = _tail(stderr_path, 1500)
            if tail:
                self.log.warning("kernel stderr (last lines):\n%s", tail)

    def process_message(self, msg, cell, cell_index):
        """Count every message the kernel sends against the cell's and the notebook's budgets.

        Streams and displays, but also display updates (which rewrite earlier outputs)
        and widget comm traffic, which nbclient handles outside ``output()``. Past a
        budget the message is dropped, once with a note in the cell and the problems.
        """
        if msg.get("msg_type") in PROTOCOL:
            return super().process_message(msg, cell, cell_index)
        size = len(str(msg.get("content", ""))) + sum(len(b) for b in msg.get("buffers") or ())
        self._cell_bytes += size
        self._notebook_bytes += size
        if self._notebook_bytes > self.max_notebook_output_bytes:
            self._note_truncated(cell, cell_index, "notebook", f"the notebook sent more than its output budget "
                                 f"({self.max_notebook_output_bytes} bytes); everything from cell "
                                 f"{cell_index} on was dropped")
        elif self._cell_bytes > self.max_output_bytes:
            self._note_truncated(cell, cell_index, cell_index, f"cell {cell_index} sent more than its output "
                                 f"budget ({self.max_output_bytes} bytes); the rest was dropped")
        else:
            return super().process_message(msg, cell, cell_index)
        return None

    def _note_truncated(self, cell, cell_index: int, budget, problem: str) -> None:
        """Say once per cell that its output was cut, and once per budget (a cell index or "notebook") why."""
        if ("cut", cell_index) not in self._truncated:
            self._truncated.add(("cut", cell_index))
            cell.outputs.append(new_output("stream", name="stdout", text="\n[output truncated by the autograder]\n"))
        if ("budget", budget) not in self._truncated:
            self._truncated.add(("budget", budget))
            self._problems.append(problem)

    async def _async_handle_timeout(self, timeout, cell=None):
        """A cell over its time limit is interrupted (nbgrader's default); say so once."""
        self._problems.append(f"a cell ran longer than {timeout} s and was interrupted (Timeout)")
        return await super()._async_handle_timeout(timeout, cell)


def _tail(path: Path, n: int) -> str:
    """The last ``n`` bytes of a file the grader created, as text ('' if it is gone)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - n))
            return f.read(n).decode(errors="replace").strip()
    except OSError:
        return ""


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


def sweep_stale_scratch() -> None:
    """Remove the scratch folders of graders that are gone (killed mid-notebook, say)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        if owner_gone(folder.name, SCRATCH_PREFIX) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
