"""The jail itself: what a kernel inside can see, and what is left when grading stops.

The catalogue (tests/test_integrity.py) grades hostile notebooks through the
whole pipeline; these tests look at the jail directly, with the same
``bwrap_prefix`` the kernel manager uses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.cgroups import leftover_cgroups, sweep_stale
from autograder.course import Course
from autograder.execute import SCRATCH_PREFIX, sweep_stale_scratch
from autograder.sandbox import Jail, bwrap_prefix, kernel_env, probe_bwrap, system_paths
from autograder.submissions import fill_release, solution_answers, write_submission
from autograder.watchdog import Watchdog, disk_usage
from hostile import AID, NB, WALK, expected_jail, planted_material

needs_bwrap = pytest.mark.skipif(probe_bwrap() is not None, reason=f"sandbox unavailable: {probe_bwrap()}")

#: Runs inside the jail: walk from / and print every entry that is neither on the allow-list
#: (argv[1], JSON) nor a folder on the way to it. Allowed trees are not descended into.
STRAYS = """
import json, os, sys
allowed = [p.rstrip("/") for p in json.loads(sys.argv[1])]
def on_the_way(path):
    return any(a.startswith(path.rstrip("/") + "/") for a in allowed)
strays, todo = [], ["/"]
while todo:
    folder = todo.pop()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if path in allowed or any(path.startswith(a + "/") for a in allowed):
            continue
        if os.path.isdir(path) and not os.path.islink(path) and on_the_way(path):
            todo.append(path)
        else:
            strays.append(path)
print(json.dumps(strays))
"""


def run_in(jail: Jail, code: str, *args: str) -> subprocess.CompletedProcess:
    jail.lay_out()
    return subprocess.run(bwrap_prefix(jail) + [sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=kernel_env(jail, {}), timeout=120)


def make_jail(tmp: Path, **kw) -> Jail:
    return Jail(workdir=tmp / "work", runtime_dir=tmp / "runtime", probe_dir=tmp / "probe",
                etc_dir=tmp / "etc", **kw)


@needs_bwrap
def test_every_path_the_kernel_can_see_is_on_the_allow_list(tmp_path):
    jail = make_jail(tmp_path, readonly=expected_jail().readonly)
    allowed = [*map(str, jail.readonly), str(jail.workdir), str(jail.runtime_dir), str(jail.probe_dir),
               "/dev", "/proc", *(f"/etc/{name}" for name in jail.etc_files())]
    done = run_in(jail, STRAYS, json.dumps(allowed))
    assert done.returncode == 0, done.stderr
    strays = set(json.loads(done.stdout))
    links = {f"/{name}" for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32") if Path("/", name).is_symlink()}
    # Only the merged-/usr links (/lib -> usr/lib): what they point to was walked like the rest,
    # so they lead into a bound tree or nowhere (/bin -> usr/bin, which is not bound).
    assert strays == links


@needs_bwrap
def test_course_material_under_a_bound_tree_is_covered(tmp_path):
    shared = tmp_path / "share"
    (shared / "exchange" / "inbound").mkdir(parents=True)
    (shared / "exchange" / "inbound" / "classmate.ipynb").write_text("{}")
    (shared / "fonts.txt").write_text("kept")
    jail = make_jail(tmp_path / "jail", readonly=system_paths() + (shared,), covered=(shared / "exchange",))
    code = "import os, sys; print(sorted(os.listdir(sys.argv[1])), os.listdir(sys.argv[1] + '/exchange'))"
    done = run_in(jail, code, str(shared))
    assert done.stdout.split() == ["['exchange',", "'fonts.txt']", "[]"], done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="plants files where a grading server keeps them (needs root)")
def test_the_walk_finds_the_planted_material_outside_the_jail(tmp_path):
    """The catalogue's walk-the-filesystem earns 0 in the jail; here, outside it, the same code
    finds every planted copy, so that result is the jail's doing and not a walk that cannot find."""
    course = Course.scratch(tmp_path / "course", [AID])
    with planted_material(course) as planted:
        assert planted, "nothing could be planted"
        # The same walk, from the folders that hold the planted copies (all of / takes minutes here).
        roots = sorted({str(Path(p).parents[len(Path(p).parents) - 3]) for p in planted})
        done = subprocess.run([sys.executable, "-c", f"ROOTS = {roots!r}\n" + WALK], capture_output=True,
                              text=True, timeout=300)
    found = {line[len("FOUND "):] for line in done.stdout.splitlines() if line.startswith("FOUND ")}
    assert set(planted) <= found, done.stderr[-2000:]
    assert not any(Path(p).exists() for p in planted), "planted files must be removed afterwards"


def test_the_watchdog_stops_a_notebook_at_its_deadline_and_its_disk_budget(tmp_path):
    killed = []
    late = Watchdog(time.monotonic() + 0.3, tmp_path, 2**30, lambda: killed.append("deadline"), interval=0.05)
    late.start()
    time.sleep(1)
    late.stop()
    assert killed == ["deadline"] and "deadline" in late.reason

    (tmp_path / "big.bin").write_bytes(b"x" * 3 * 2**20)
    (tmp_path / "sparse.bin").open("wb").truncate(2**40)  # 1 TiB that uses no disk
    assert 3 * 2**20 <= disk_usage(tmp_path) < 4 * 2**20
    full = Watchdog(time.monotonic() + 60, tmp_path, 2**20, lambda: killed.append("disk"), interval=0.05)
    full.start()
    time.sleep(0.5)
    full.stop()
    assert killed[-1] == "disk" and "MiB of files" in full.reason


@needs_bwrap
def test_killing_the_grader_mid_notebook_leaves_no_process_and_the_next_one_sweeps(tmp_path):
    """SIGKILL nbgrader while a kernel runs: the jail dies with it (bwrap --die-with-parent), and
    its scratch folder and cgroup, which it could not remove, go at the next grader's start."""
    course = Course.scratch(tmp_path / "course", [AID])
    answers = solution_answers(course, AID, NB)
    answers["one_hot"] += "\nimport pathlib, time\npathlib.Path('stuck-here').touch()\nwhile True:\n    time.sleep(0.1)"
    write_submission(course, "stuck", AID, {NB: fill_release(course, AID, NB, answers)})
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    grader = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", AID, "--create",
                               f"--CourseDirectory.root={course.root}"], cwd=course.root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mine = f"{SCRATCH_PREFIX}{grader.pid}-"
    deadline = time.monotonic() + 120
    # killed only once the cell runs: a kill while bwrap itself starts up would test bwrap's start-up race
    while not _marked(mine) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _kernels(mine) and _marked(mine), "the kernel never reached the stuck cell"
    scratch = list(Path(tempfile.gettempdir()).glob(f"{mine}*"))
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while _kernels(mine) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _kernels(mine) == []
    assert scratch and all(folder.exists() for folder in scratch)  # a killed grader cannot clean up

    sweep_stale_scratch()
    sweep_stale()
    assert not any(folder.exists() for folder in scratch)
    assert [c for c in leftover_cgroups() if c.name.startswith(f"autograder-{grader.pid}-")] == []


def _marked(scratch_prefix: str) -> bool:
    """The stuck cell has run up to its loop: its marker file is in a scratch folder starting with ``scratch_prefix``."""
    folders = Path(tempfile.gettempdir()).glob(f"{scratch_prefix}*")
    return any(next(folder.rglob("stuck-here"), None) for folder in folders)


def _kernels(scratch_prefix: str) -> list[int]:
    """Processes whose command line names a scratch folder starting with ``scratch_prefix``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if scratch_prefix.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_the_grader_keeps_the_real_course_out_when_it_grades_a_private_copy(tmp_path):
    """The parallel grader's tasks run nbgrader in a private course; the real one is named in hidden_paths."""
    from traitlets.config import Config

    from autograder.execute import SandboxedExecute

    real = tmp_path / "real-course"
    config = Config()
    config.SandboxedExecute.hidden_paths = [str(real)]
    config.CourseDirectory.root = str(tmp_path / "private-copy")
    covered = SandboxedExecute(config=config)._course_material()
    assert real in covered and (tmp_path / "private-copy").resolve() in covered
