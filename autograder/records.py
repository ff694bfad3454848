"""Reading what the grading kernel recorded, without trusting it.

Hidden test cells call ``helpers.record_for_grader`` inside the student's
kernel. It runs the student's functions on the inputs we supplied and writes
``outputs/<test_id>.json`` (format described in helpers.py). Everything in
that file was produced by code the student controls, so this module treats it
as hostile data: JSON only (no pickle), arrays only of plain numeric or bool
dtypes, sizes bounded, every field type-checked. Anything malformed becomes a
:class:`RecordError`, which scores the test 0 with that reason.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAX_RECORD_BYTES = 64 * 2**20
MAX_DEPTH = 8
ALLOWED_KINDS = "biufc"  # bool, signed, unsigned, float, complex


class RecordError(ValueError):
    """The record file is missing, too large or not in the expected format."""


@dataclass
class Outcome:
    """What one call of the student's function did.

    value: the decoded return value (arrays, numbers, str, tuples, lists), or
        None when the call raised.
    raised: the exception class name, when the call raised.
    message: the exception message, for the student's feedback.
    warnings: the warning categories emitted during the call.
    """

    value: Any = None
    raised: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)


def _decode(obj: Any, depth: int = 0) -> Any:
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
        except ValueError as exc:
            raise RecordError("malformed float") from exc
    if kind == "str" and isinstance(obj.get("v"), str):
        return obj["v"]
    if kind in ("list", "tuple") and isinstance(obj.get("items"), list):
        items = [_decode(item, depth + 1) for item in obj["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind in ("array", "scalar"):
        return _decode_array(obj, scalar=kind == "scalar")
    if kind == "unsupported":
        return Unsupported(str(obj.get("type", "?"))[:80])
    raise RecordError(f"unknown value kind {kind!r}")


def _decode_array(obj: dict, scalar: bool) -> Any:
    try:
        dtype = np.dtype(obj["dtype"])
        shape = tuple(int(n) for n in obj["shape"])
        raw = base64.b64decode(obj["b64"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError("malformed array") from exc
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject or dtype.fields is not None:
        raise RecordError(f"array dtype {dtype} is not numeric")
    if any(n < 0 for n in shape) or len(raw) != math.prod(shape) * dtype.itemsize:
        raise RecordError("array size does not match its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array[()] if scalar else array


@dataclass(frozen=True)
class Unsupported:
    """A return value the recorder could not serialise (e.g. a generator)."""

    type_name: str


def read_record(path: Path, n_cases: int) -> list[Outcome]:
    """Decode ``outputs/<test_id>.json``; exactly ``n_cases`` outcomes or RecordError."""
    if path.is_symlink():
        raise RecordError("the record is a symlink")
    if not path.is_file():
        raise RecordError("no record")
    if path.stat().st_size > MAX_RECORD_BYTES:
        raise RecordError("record too large")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError("record is not valid JSON") from exc
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != n_cases:
        raise RecordError("record has the wrong number of results")
    outcomes = []
    for item in results:
        if not isinstance(item, dict):
            raise RecordError("malformed result")
        warnings = item.get("warnings", [])
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            raise RecordError("malformed warnings")
        if "raised" in item:
            outcomes.append(Outcome(raised=str(item["raised"])[:80],
                                    message=str(item.get("message", ""))[:300],
                                    warnings=warnings))
        else:
            outcomes.append(Outcome(value=_decode(item.get("value")), warnings=warnings))
    return outcomes
