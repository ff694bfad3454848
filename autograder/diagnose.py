"""Feedback that diagnoses: which known mistake a failed test cell's record matches.

Every bug of an assignment's bank is a plausible wrong answer with its explanation (``Bug.why``).
``python -m autograder selftest <id> --fingerprints`` runs each bug through the hidden tests
(autograder/selftest.py) and writes, for every test cell the bug loses, a *fingerprint* of what the
bug's code recorded there: a sha256 of the canonical form of every case's outcome (:func:`canonical`).
The file, ``autograder/assignments/a<id>/fingerprints.json``, is committed with the kit, so a grader
(a remote Dask worker too) only reads it.

When a student fails a cell, the score stage (autograder/score.py) fingerprints the student's record
the same way; if it equals a bug's, the reason says "this matches a known mistake: <why>". Nothing of
the hidden test (its inputs, its expected values) is shown, and a diagnosis never changes a score.

The canonical form is strict, since a wrong diagnosis is worse than none: every case of the cell must
have run, some case must have returned a value (crashes alone fit too many mistakes), and each case
must agree in what it raised (the exception's name, not its message), the warning
categories it emitted, and its value's whole structure (types of containers, dict keys, array shapes
and dtype kinds) with numbers rounded to SIGNIFICANT digits. A bug whose record equals the solution's
(right values, but a forbidden loop or call: the source rules already say so) has no fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from . import assignments
from .course import KIT_ROOT
from .records import Outcome, RecordError, Unsupported, read_record
from .submissions import Bug

FORMAT = 2  # of the fingerprints: bump it whenever they change (canonical() or record_fingerprint()),
# so that every file turns stale
SIGNIFICANT = 6  # digits a number keeps: a student's float noise is far below, a real mistake far above
NOISE = 1e-9  # an array's entries this small relative to its largest are rounding noise around 0
FILE = "fingerprints.json"


def command(aid: str) -> str:
    """What an instructor runs to regenerate ``aid``'s fingerprints."""
    return f"python -m autograder selftest {aid} --fingerprints"


# ---------------------------------------------------------------- the canonical form


def canonical(outcomes: list[Outcome]) -> list:
    """A JSON-able form of a test cell's outcomes: equal for records that show the same behaviour."""
    return [_outcome(o) for o in outcomes]


def fingerprint(outcomes: list[Outcome]) -> str:
    """sha256 of the canonical form."""
    text = json.dumps([FORMAT, canonical(outcomes)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record_fingerprint(path: Path, n_cases: int) -> str | None:
    """The fingerprint of the record at ``path``; None unless it holds all ``n_cases`` cases and some
    value: a record of crashes alone ("raised ValueError") fits too many mistakes to name one."""
    try:
        outcomes = read_record(path, n_cases)
    except RecordError:  # missing, cut short, forged: nothing to diagnose from
        return None
    return fingerprint(outcomes) if any(_returned(o) for o in outcomes) else None


def _returned(o: Outcome) -> bool:
    """Whether a case (or a step of its scenario) returned something other than None."""
    if o.steps is not None:
        return any(_returned(step) for step in o.steps)
    return o.raised is None and o.value is not None


def _outcome(o: Outcome) -> list:
    """One case (or scenario step): what it raised or returned, and the warning categories it emitted."""
    warned = sorted(set(o.warnings))  # how often a warning fires depends on how the code is written
    if o.steps is not None:
        return ["steps", [_outcome(step) for step in o.steps], warned]
    if o.raised is not None:
        return ["raised", o.raised, warned]
    return ["value", _value(o.value), warned]


def _value(v: Any) -> list:
    """A recorded value as [kind, ...]: containers keep their type and (dict) keys, arrays their shape."""
    if v is None:
        return ["none"]
    if isinstance(v, Unsupported):
        return ["unsupported", v.type_name]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, (list, tuple)):
        return [type(v).__name__, [_value(item) for item in v]]
    if isinstance(v, dict):
        return ["dict", [[key, _value(v[key])] for key in sorted(v)]]
    if isinstance(v, int) and not isinstance(v, np.generic):  # exactly, however large
        return ["number", "b" if isinstance(v, bool) else "i", str(int(v))]
    array = np.asarray(v)  # numpy scalars and arrays; a Python float is a float64 scalar
    if isinstance(v, np.ndarray):
        return ["array", array.dtype.kind, list(array.shape), _numbers(array)]
    return ["number", array.dtype.kind, _numbers(array)]


def _numbers(array: np.ndarray) -> str:
    """The entries, flattened: integers exactly, floats (real and imaginary parts) to SIGNIFICANT digits."""
    if array.dtype.kind in "biu":
        return ",".join(map(str, array.astype(np.int64 if array.dtype.kind != "u" else np.uint64).ravel()))
    parts = array.astype(np.complex128 if array.dtype.kind == "c" else np.float64).ravel()
    parts = parts.view(np.float64) if array.dtype.kind == "c" else parts  # astype made a copy
    finite = np.abs(parts[np.isfinite(parts)])
    if finite.size:
        parts[np.abs(parts) <= NOISE * finite.max()] = 0.0
    parts += 0.0  # -0.0 -> 0.0
    return ",".join(np.char.mod(f"%.{SIGNIFICANT - 1}e", parts)) if parts.size else ""


# ---------------------------------------------------------------- what the fingerprints were computed from


def digest(aid: str, root: Path = KIT_ROOT) -> str:
    """sha256 of what a bug's records depend on: the solution notebooks' code cells (with their tags:
    skipped cells do not run), the hidden tests (their inputs), the bug bank, helpers.py (the probe)
    and the canonical form's FORMAT. Re-running the solution notebook (new outputs) changes nothing."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for notebook in sorted((root / "solutions" / aid).glob("*.ipynb")):
        nb = nbformat.read(notebook, as_version=4)
        code = [[c.source, sorted(c.metadata.get("tags", []))] for c in nb.cells if c.cell_type == "code"]
        h.update(json.dumps([notebook.name, code]).encode())
    package = root / "autograder" / "assignments" / f"a{aid}"
    for path in (package / "hidden_tests.py", package / "bug_bank.py", root / "helpers.py"):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def path_of(aid: str, root: Path = KIT_ROOT) -> Path:
    return root / "autograder" / "assignments" / f"a{aid}" / FILE


# ---------------------------------------------------------------- the bank of fingerprints


@dataclass(frozen=True)
class Known:
    """A known mistake a record matched: the bug's name, its explanation, the answer cell it is in."""

    bug: str
    why: str
    cell: str


def sentence(matches: list[Known], gid: str) -> str:
    """What the student reads on test cell ``gid``; two bugs that record the same on every case are
    both named, and a mistake in an answer the tested one reuses says which."""
    def where(m: Known) -> str:
        return "" if gid.startswith(f"test_{m.cell}_") else f" (in your {m.cell} answer)"

    return "this matches a known mistake: " + "; or: ".join(m.why + where(m) for m in matches)


@dataclass(frozen=True)
class Bank:
    """One assignment's fingerprints: test-cell grade_id -> fingerprint -> bug names."""

    cells: dict[str, dict[str, list[str]]]
    bugs: dict[str, Bug]  # name -> the bank's Bug

    def diagnose(self, gid: str, record: Path, n_cases: int) -> list[Known]:
        """The known mistakes whose record on cell ``gid`` the student's ``record`` equals ([] if none)."""
        known = self.cells.get(gid)
        if not known:
            return []
        names = known.get(record_fingerprint(record, n_cases) or "", [])
        return [Known(name, self.bugs[name].why, self.bugs[name].cell) for name in names if name in self.bugs]


def build(cells_of_bugs: dict[str, dict[str, str | None]], ignore: dict[str, set[str]]) -> dict:
    """The ``cells`` of a fingerprints file.

    cells_of_bugs: bug name -> (each test cell it loses -> its fingerprint there, None without a full record).
    ignore: test cell -> fingerprints that are no mistake to name there (the solution's, the release's).
    """
    cells: dict[str, dict[str, list[str]]] = {}
    for bug, prints in cells_of_bugs.items():
        for gid, fp in prints.items():
            if fp is not None and fp not in ignore.get(gid, ()):
                cells.setdefault(gid, {}).setdefault(fp, []).append(bug)
    return {gid: dict(sorted(prints.items())) for gid, prints in sorted(cells.items())}


def write(aid: str, cells: dict, root: Path = KIT_ROOT, dest: Path | None = None) -> Path:
    """Write the fingerprints file (``dest``, default the assignment's own) with its digest."""
    dest = dest or path_of(aid, root)
    data = {"assignment": aid, "digest": digest(aid, root), "regenerate": command(aid), "cells": cells}
    dest.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return dest


def stale(aid: str, root: Path = KIT_ROOT) -> str | None:
    """Why ``aid``'s fingerprints cannot be used (missing, or computed from other files), or None."""
    path = path_of(aid, root)
    if not path.is_file():
        return f"{path.relative_to(root)} is missing: run `{command(aid)}`"
    if json.loads(path.read_text(encoding="utf-8")).get("digest") != digest(aid, root):
        return (f"{path.relative_to(root)} is stale (the solution, hidden tests, bug bank or helpers.py "
                f"changed since it was generated): run `{command(aid)}`")
    return None


def load(aid: str, root: Path = KIT_ROOT) -> tuple[Bank | None, str | None]:
    """(the bank, None), or (None, why it is unusable): a stale bank never diagnoses."""
    problem = stale(aid, root)
    if problem:
        return None, problem
    data = json.loads(path_of(aid, root).read_text(encoding="utf-8"))
    return Bank(data["cells"], {bug.name: bug for bug in assignments.bug_bank(aid)}), None
