"""Leftovers of a grader that was killed: scratch folders and cgroups.

Both are named ``<prefix><grader pid>-...``. A grader killed mid-notebook
(SIGKILL, a power cut) cannot clean up after itself; the next grader removes
whatever belongs to a pid that is no longer alive.
"""

from __future__ import annotations

import os


def owner_gone(name: str, prefix: str) -> bool:
    """True when ``name`` is ``<prefix><pid>-...`` and that process no longer exists."""
    owner = name[len(prefix):].split("-")[0] if name.startswith(prefix) else ""
    if not owner.isdigit():
        return False
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
