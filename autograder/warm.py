"""nbgrader imported once per grading worker, run as a fresh process per batch.

``python -m nbgrader`` spends about 1.0 s importing itself (nbconvert, jupyter_client, SQLAlchemy)
before it grades, and the hidden tests of 02 take 1.5 s more to import (their exact references);
a grading task paid both for every batch. A *warm server* is a process that imports all of that
once and then forks one child per run: the child is the same ``nbgrader`` command (its own pid,
working folder, file descriptors and exit status, nothing shared back), started in milliseconds.

The server is a process of its own, not the Dask worker forking itself: a worker runs threads (its
event loop, its connections), and a fork of a threaded process may inherit a lock that another
thread held; the server runs one thread. When the process that started it dies, its requests pipe
closes: the server kills the run in progress (as PDEATHSIG kills nbgrader started by
:meth:`Course.nbgrader`) and exits. (Not PDEATHSIG itself: it fires when the starting *thread*
ends, and Dask's task threads come and go.)

Protocol, one JSON line each way: ``{"args": [...], "cwd": ..., "timeout": s}`` in,
``{"returncode": n, "stdout": ..., "stderr": ...}`` out.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

from .course import KIT_ROOT, Course, die_with_parent, nbgrader_env

PRELOAD = (  # what `nbgrader autograde` imports, and the modules nbgrader_config.py names
    "nbgrader.apps.nbgraderapp", "nbgrader.converters.autograde", "nbgrader.preprocessors",
    "autograder.rebuild", "autograder.execute", "autograder.score", "autograder.sanitize",
    "autograder.pending", "autograder.mathjax",
)


def nbgrader(root, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """``Course(root).nbgrader(*args, check=False)``, run by a warm server of this process.

    Threads of one process share its idle servers; one that is busy is never handed out twice.
    """
    with _lock:
        server = _idle.pop() if _idle else None
    server = server or _Server()
    done = server.run([str(a) for a in args] + [f"--CourseDirectory.root={root}"], str(root), timeout)
    with _lock:  # only once it answered: a server that broke mid-run is dropped with its error
        _idle.append(server)
    return done


def start() -> None:
    """Start this process's first server now, so the first batch does not wait for its imports."""
    with _lock:
        if not _idle:
            _idle.append(_Server())


def stop() -> None:
    """Stop this process's idle servers and wait for them (they would stop with it, a moment later)."""
    with _lock:
        servers = list(_idle)
        _idle.clear()
    for server in servers:
        server.process.stdin.close()
        server.process.wait()


class _Server:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=nbgrader_env(), cwd=KIT_ROOT, text=True)

    def run(self, argv: list[str], cwd: str, timeout: float) -> subprocess.CompletedProcess:
        request = json.dumps({"args": argv, "cwd": cwd, "timeout": timeout})
        try:
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
            reply = json.loads(self.process.stdout.readline())
        except (OSError, ValueError) as exc:  # ValueError: EOF, the server died (killed, out of memory)
            self.process.kill()
            raise RuntimeError(f"the warm nbgrader server died ({type(exc).__name__}: {exc}; "
                               f"exit status {self.process.wait()})") from None
        return subprocess.CompletedProcess(["nbgrader", *argv], reply["returncode"], reply["stdout"],
                                           reply["stderr"])


_idle: list[_Server] = []
_lock = threading.Lock()


# ------------------------------------------------------------------ the server process

def serve() -> None:
    """Import everything once, then answer requests until stdin closes."""
    for name in PRELOAD:
        importlib.import_module(name)
    from . import assignments
    for aid in Course(KIT_ROOT).assignments():
        assignments.hidden_tests(aid)
    requests, replies = sys.stdin, sys.stdout
    for line in requests:
        request = json.loads(line)
        replies.write(json.dumps(_run(request["args"], request["cwd"], request["timeout"], requests)) + "\n")
        replies.flush()


def _run(argv: list[str], cwd: str, timeout: float, requests) -> dict:
    """Fork a child that runs ``nbgrader ARGV`` in ``cwd``; its exit status and output.

    requests: the server's stdin. Nothing is sent while a run is in progress, so it turns readable
    only at end of file: the process that started the server is gone, and so is the run.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            _child(argv, cwd, timeout, out.fileno(), err.fileno())
        child = os.pidfd_open(pid)
        ended, _, _ = select.select([child, requests], [], [])
        if child not in ended:
            os.kill(pid, signal.SIGKILL)
            sys.exit(0)
        os.close(child)
        _, status = os.waitpid(pid, 0)
        returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return {"returncode": returncode, "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace")}


def _child(argv: list[str], cwd: str, timeout: float, out: int, err: int) -> None:
    """In the forked child: become ``nbgrader ARGV`` run from ``cwd``, and exit with its status."""
    code = 1
    try:
        with open(os.devnull) as null:  # stdin and stdout were the server's pipes
            os.dup2(null.fileno(), 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        die_with_parent()
        signal.alarm(max(1, int(timeout)))  # as subprocess.run's timeout: killed past it
        os.chdir(cwd)
        sys.argv = ["nbgrader", *argv]
        from nbgrader.apps.nbgraderapp import NbGraderApp
        NbGraderApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    serve()
