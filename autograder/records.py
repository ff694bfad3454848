"""Reading what the grading kernel recorded, without trusting it.

Hidden test cells call ``helpers.record_for_grader`` inside the student's
kernel. It runs the student's functions on the inputs we supplied and writes
``outputs/<test_id>.json`` (format described in helpers.py). Everything in
that file was produced by code the student controls, so this module treats it
as hostile data: JSON only (no pickle), arrays only of plain numeric or bool
dtypes, sizes and dimensions bounded, every field type-checked, and the file
itself opened without following a symlink or waiting on a FIFO. Anything
malformed becomes a :class:`RecordError`, which scores the test 0 with that
reason; nothing in the file can make reading it raise anything else.
"""

from __future__ import annotations

import base64
import errno
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAX_RECORD_BYTES = 64 * 2**20
# The probe's own bounds (helpers.PROBE_MAX_*): it never writes more, so a value beyond them was forged.
MAX_DEPTH = 8
MAX_ITEMS = 10_000  # per list, tuple or dict
MAX_NODES = 20_000  # per recorded value
MAX_STR = 1000  # characters of a dict key
MAX_STEPS = 10_000  # per scenario
MAX_DIMS = 64  # numpy's own limit: a deeper shape cannot even be built
ALLOWED_KINDS = "biufc"  # bool, signed, unsigned, float, complex


class RecordError(ValueError):
    """The record file is missing, too large or not in the expected format."""


@dataclass
class Outcome:
    """What one call of the student's function did.

    value: the decoded return value (arrays, numpy scalars, numbers, str, None,
        and tuples, lists and str-keyed dicts of them, nested), or None when the
        call raised; an :class:`Unsupported` where the probe could not record it.
    raised: the exception class name, when the call raised ("Timeout" when it
        ran out of its time limit).
    message: the exception message, for the student's feedback.
    warnings: the warning categories emitted during the call.
    steps: for a scenario, one Outcome per step that ran, in order (it stops at
        the first step that raised); None for a single call.
    """

    value: Any = None
    raised: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    steps: list["Outcome"] | None = None


def _decode(obj: Any) -> Any:
    """One recorded value V; at most MAX_NODES nodes of it are decoded."""
    return _decode_node(obj, 0, [MAX_NODES])


def _decode_node(obj: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise RecordError("value has too many parts")
    if depth > MAX_DEPTH or not isinstance(obj, dict):
        raise RecordError("malformed value")
    kind = obj.get("t")
    if kind == "none":
        return None
    if kind == "bool" and isinstance(obj.get("v"), bool):
        return obj["v"]
    if kind == "int" and isinstance(obj.get("v"), int) and not isinstance(obj["v"], bool):
        return obj["v"]
    if kind == "float" and isinstance(obj.get("v"), str):
        try:
            return float.fromhex(obj["v"])
        except (ValueError, OverflowError) as exc:
            raise RecordError("malformed float") from exc
    if kind == "str" and isinstance(obj.get("v"), str):
        return obj["v"]
    items = obj.get("items")
    if kind in ("list", "tuple", "dict") and (not isinstance(items, list) or len(items) > MAX_ITEMS):
        raise RecordError(f"malformed {kind}")
    if kind in ("list", "tuple"):
        decoded = [_decode_node(item, depth + 1, budget) for item in items]
        return tuple(decoded) if kind == "tuple" else decoded
    if kind == "dict":
        return _decode_dict(items, depth, budget)
    if kind in ("array", "scalar"):
        return _decode_array(obj, scalar=kind == "scalar")
    if kind == "unsupported":
        return Unsupported(str(obj.get("type", "?"))[:80])
    raise RecordError(f"unknown value kind {kind!r}")


def _decode_dict(items: list, depth: int, budget: list[int]) -> dict:
    """[[key, V], ...] with distinct short string keys -> dict, in the recorded order."""
    decoded = {}
    for pair in items:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                and len(pair[0]) <= MAX_STR and pair[0] not in decoded):
            raise RecordError("malformed dict")
        decoded[pair[0]] = _decode_node(pair[1], depth + 1, budget)
    return decoded


def _decode_array(obj: dict, scalar: bool) -> Any:
    try:
        dtype = np.dtype(obj["dtype"])
        shape = tuple(int(n) for n in obj["shape"])
        raw = base64.b64decode(obj["b64"], validate=True)
    except Exception as exc:  # whatever the fields hold (inf, nested lists, odd dtype specs)
        raise RecordError("malformed array") from exc
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject or dtype.fields is not None or dtype.shape:
        raise RecordError(f"array dtype {dtype} is not numeric")
    if len(shape) > MAX_DIMS:
        raise RecordError(f"array has more than {MAX_DIMS} dimensions")
    if any(n < 0 for n in shape) or len(raw) != math.prod(shape) * dtype.itemsize:
        raise RecordError("array size does not match its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array[()] if scalar else array


@dataclass(frozen=True)
class Unsupported:
    """A return value the recorder could not serialise (e.g. a generator)."""

    type_name: str


def _read_bytes(path: Path) -> bytes:
    """The record's bytes: never through a symlink, never blocking on a FIFO, at most MAX_RECORD_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise RecordError("no record") from exc
    except OSError as exc:
        reason = "the record is a symlink" if exc.errno == errno.ELOOP else "the record cannot be opened"
        raise RecordError(reason) from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RecordError("the record is not a regular file")
        raw = f.read(MAX_RECORD_BYTES + 1)
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError("record too large")
    return raw


def read_record(path: Path, n_cases: int, partial: bool = False) -> list[Outcome]:
    """Decode ``outputs/<test_id>.json``: exactly ``n_cases`` outcomes, or RecordError.

    partial: accept fewer, the cases finished before the cell stopped (the probe
    rewrites the record after every case); never more.
    """
    raw = _read_bytes(path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, an int beyond Python's digit limit
        raise RecordError("record is not valid JSON") from exc
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) > n_cases or (len(results) < n_cases and not partial):
        raise RecordError("record has the wrong number of results")
    outcomes = []
    for item in results:
        if isinstance(item, dict) and "steps" in item:
            steps = item["steps"]
            if not isinstance(steps, list) or len(steps) > MAX_STEPS:
                raise RecordError("malformed scenario")
            outcomes.append(Outcome(steps=[_outcome(step) for step in steps]))
        else:
            outcomes.append(_outcome(item))
    return outcomes


def _outcome(item: Any) -> Outcome:
    """One call's result R (not a scenario)."""
    if not isinstance(item, dict):
        raise RecordError("malformed result")
    warnings = item.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise RecordError("malformed warnings")
    warnings = [w[:80] for w in warnings[:100]]
    if "raised" in item:
        if not isinstance(item["raised"], str):
            raise RecordError("malformed result")
        return Outcome(raised=item["raised"][:80], message=str(item.get("message", ""))[:300], warnings=warnings)
    return Outcome(value=_decode(item.get("value")), warnings=warnings)
