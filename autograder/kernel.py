"""A kernel manager that starts the grading kernel inside the jail.

nbclient asks its kernel manager to launch ``python -m ipykernel_launcher``.
We intercept the one method meant for that (``_async_launch_kernel``) and put
the jail and the rlimits in front of the command. The kernel talks to the
grader over IPC (Unix sockets in a private runtime folder) because the jail
has its own, empty network namespace: TCP on the grader's loopback is out of
reach from inside, which is the point.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait

from .sandbox import Jail, Limits, confine, kernel_env


class SandboxedKernelManager(AsyncKernelManager):
    """Launches the kernel through :func:`autograder.sandbox.confine`."""

    jail: Jail = AnyTrait()  # set by SandboxedExecute before start
    limits: Limits = AnyTrait()
    sandboxed: bool = AnyTrait(True)
    extra_env: dict = AnyTrait()

    def prepare(self, jail: Jail, limits: Limits, sandboxed: bool, extra_env: dict) -> None:
        """Point connection file and sockets into the jail's runtime folder."""
        self.jail, self.limits, self.sandboxed, self.extra_env = jail, limits, sandboxed, extra_env
        self.transport = "ipc"
        self.ip = str(jail.runtime_dir / "kernel")
        self.connection_file = str(jail.runtime_dir / "kernel.json")
        # A SIGINT sent to the jail's process group does not reach the kernel
        # behind bwrap's PID namespace; ask the kernel to interrupt itself
        # over the control channel instead (used when a cell times out).
        self.kernel_spec.interrupt_mode = "message"

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["env"] = kernel_env(self.jail, self.extra_env)
        kw["cwd"] = str(self.jail.workdir)
        # The kernel's own stdout/stderr (not the cells' output, which travels
        # over the IPC sockets) go to a file, so a student writing to fd 2
        # cannot flood the grader's log; the file is capped by RLIMIT_FSIZE.
        kw["stdout"] = subprocess.DEVNULL
        with open(self.stderr_path, "wb") as stderr:
            kw["stderr"] = stderr
            cmd = confine(kernel_cmd, self.jail, self.limits, self.sandboxed)
            await super()._async_launch_kernel(cmd, **kw)

    @property
    def stderr_path(self) -> Path:
        """Where the kernel process's own stderr goes (read it when a kernel dies)."""
        return self.jail.runtime_dir / "kernel.stderr"
