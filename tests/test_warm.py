"""The warm nbgrader server (autograder/warm.py): a fork of it is the same nbgrader command.

The course folders here hold only an nbgrader_config.py, which nbgrader runs when it starts:
it records what the run sees, or hangs, as a test needs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from autograder import warm
from autograder.course import Course
from conftest import ROOT

RECORD = """
import json, os, sys
json.dump({"pid": os.getpid(), "cwd": os.getcwd(), "argv": sys.argv[1:], "path": os.environ["PATH"],
           "pythonpath": os.environ["PYTHONPATH"], "stdin": os.path.realpath("/proc/self/fd/0")},
          open("seen.json", "w"))
print("config loaded")
"""


def course_with(tmp_path, config: str) -> Course:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "nbgrader_config.py").write_text(textwrap.dedent(config))
    return Course(tmp_path)


@pytest.fixture(autouse=True)
def no_servers_left():
    yield
    warm.stop()


def test_a_run_is_the_nbgrader_command_in_its_course(tmp_path):
    """Same status, output, working folder, arguments and environment as Course.nbgrader's subprocess."""
    cold, hot = course_with(tmp_path / "cold", RECORD), course_with(tmp_path / "hot", RECORD)
    expected = cold.nbgrader("db", "student", "list", check=False)
    done = warm.nbgrader(hot.root, "db", "student", "list")
    assert (done.returncode, done.stdout) == (expected.returncode, expected.stdout)
    assert "config loaded" in done.stdout
    seen, seen_cold = (json.loads((c.root / "seen.json").read_text()) for c in (hot, cold))
    assert seen["cwd"] == str(hot.root) and seen["argv"] == ["db", "student", "list", f"--CourseDirectory.root={hot.root}"]
    assert seen["stdin"] == os.devnull  # not the server's requests
    assert (seen["path"], seen["pythonpath"]) == (seen_cold["path"], seen_cold["pythonpath"])
    assert seen["pid"] != os.getpid()


def test_each_run_is_a_fresh_process_and_failures_are_its_own(tmp_path):
    course = course_with(tmp_path, RECORD)
    pids = set()
    for _ in range(2):
        warm.nbgrader(course.root, "db", "student", "list")
        pids.add(json.loads((course.root / "seen.json").read_text())["pid"])
    assert len(pids) == 2
    failed = warm.nbgrader(course.root, "autograde", "no-such-assignment")
    expected = course.nbgrader("autograde", "no-such-assignment", check=False)
    assert failed.returncode == expected.returncode != 0
    crash = course_with(tmp_path / "crash", "raise ValueError('a broken configuration')\n")
    broken = warm.nbgrader(crash.root, "db", "student", "list")
    assert broken.returncode == crash.nbgrader("db", "student", "list", check=False).returncode
    assert "a broken configuration" in broken.stderr
    assert warm.nbgrader(course.root, "db", "student", "list").returncode == 0  # the server goes on


def test_a_run_past_its_timeout_is_killed(tmp_path):
    course = course_with(tmp_path, "import time\ntime.sleep(600)\n")
    started = time.monotonic()
    done = warm.nbgrader(course.root, "db", "student", "list", timeout=1)
    assert done.returncode == -signal.SIGALRM
    assert time.monotonic() - started < 60


STARTER = """
import sys
sys.path.insert(0, {root!r})
from autograder import warm
warm.nbgrader({course!r}, "db", "student", "list")
"""


def test_a_run_dies_with_the_process_that_asked_for_it(tmp_path):
    """Its starter (a Dask worker, say) killed mid-run: the server kills the run and exits."""
    course = course_with(tmp_path, "import os, time\nopen('pid', 'w').write(str(os.getpid()))\ntime.sleep(600)\n")
    starter = subprocess.Popen([sys.executable, "-c", STARTER.format(root=str(ROOT), course=str(course.root))])
    try:
        deadline = time.monotonic() + 60
        while not (course.root / "pid").is_file() or not (course.root / "pid").read_text():
            assert time.monotonic() < deadline and starter.poll() is None
            time.sleep(0.1)
        run = psutil.Process(int((course.root / "pid").read_text()))
        server = run.parent()
        assert "autograder.warm" in " ".join(server.cmdline())
    finally:
        starter.kill()
        starter.wait()
    gone, alive = psutil.wait_procs([run, server], timeout=30)
    assert alive == []


def test_idle_servers_are_reused_and_stopped(tmp_path):
    course = course_with(tmp_path, RECORD)
    warm.nbgrader(course.root, "db", "student", "list")
    warm.nbgrader(course.root, "db", "student", "list")
    servers = [p for p in psutil.Process().children() if "autograder.warm" in " ".join(p.cmdline())]
    assert len(servers) == 1  # one at a time asked for: one server
    warm.stop()
    assert not servers[0].is_running()
