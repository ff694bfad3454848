"""A kernel manager that starts the grading kernel inside the jail.

nbclient asks its kernel manager to launch ``python -m ipykernel_launcher``.
We intercept the one method meant for that (``_async_launch_kernel``) and put
the cgroup, the rlimits and the jail in front of the command:

    sh (joins the cgroup) -> prlimit (per-process limits) -> bwrap (the jail) -> kernel

The kernel talks to the grader over IPC (Unix sockets in a private runtime
folder) because the jail has its own, empty network namespace: TCP on the
grader's loopback is out of reach from inside, which is the point.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait

from .cgroups import Cgroup
from .sandbox import Jail, Limits, bwrap_prefix, kernel_env, rlimit_prefix

MAX_MESSAGE_BYTES = 32 * 2**20  # a figure is well under 1 MB


class SandboxedKernelManager(AsyncKernelManager):
    """Launches the kernel in the jail, its cgroup and its rlimits."""

    jail: Jail = AnyTrait()  # set by SandboxedExecute before start
    limits: Limits = AnyTrait()
    sandboxed: bool = AnyTrait(True)
    cgroup: Cgroup | None = AnyTrait(None)
    extra_env: dict = AnyTrait()
    stderr_path: Path = AnyTrait()

    def prepare(self, jail: Jail, limits: Limits, sandboxed: bool, cgroup: Cgroup | None,
                extra_env: dict, stderr_path: Path) -> None:
        """Point connection file and sockets into the jail's runtime folder.

        stderr_path: where the kernel process's own stderr goes; outside every folder
            the kernel can write, so it cannot swap the file for a pipe the grader would
            block on.
        """
        self.jail, self.limits, self.sandboxed, self.cgroup = jail, limits, sandboxed, cgroup
        self.extra_env, self.stderr_path = extra_env, stderr_path
        self.transport = "ipc"
        self.ip = str(jail.runtime_dir / "kernel")
        self.connection_file = str(jail.runtime_dir / "kernel.json")
        # A SIGINT sent to the jail's process group does not reach the kernel
        # behind bwrap's PID namespace; ask the kernel to interrupt itself
        # over the control channel instead (used when a cell times out).
        self.kernel_spec.interrupt_mode = "message"
        # Every socket of this kernel's client refuses a single message above this size
        # (ZeroMQ drops it and reconnects), so one giant message cannot fill the grader's memory.
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)

    def command(self, kernel_cmd: list[str]) -> list[str]:
        """The full command line: cgroup, rlimits, jail, then the kernel."""
        cmd = rlimit_prefix(self.limits, count_processes=self.cgroup is None and os.geteuid() != 0)
        if self.sandboxed:
            cmd += bwrap_prefix(self.jail)
        return (self.cgroup.join_prefix() if self.cgroup else []) + cmd + kernel_cmd

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["env"] = kernel_env(self.jail, self.extra_env)
        kw["cwd"] = str(self.jail.workdir)
        # The kernel's own stdout/stderr (not the cells' output, which travels
        # over the IPC sockets) go to a file, so a student writing to fd 2
        # cannot flood the grader's log; the file is capped by RLIMIT_FSIZE.
        kw["stdout"] = subprocess.DEVNULL
        with open(self.stderr_path, "wb") as stderr:
            kw["stderr"] = stderr
            await super()._async_launch_kernel(self.command(kernel_cmd), **kw)

    def kill_now(self) -> None:
        """Kill the whole submission at once; safe to call from another thread (the watchdog)."""
        if self.cgroup is not None:
            self.cgroup.kill()
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()  # bwrap, whose --die-with-parent takes the jail down with it
