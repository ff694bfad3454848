"""Collecting hand-ins: ``FOLDER/<student>/`` or ``FOLDER/<student>.zip`` -> submitted/.

A hand-in is whatever landed in the instructor's hand-ins folder (a student's
folder, a team's cloned repository, an LMS download), so nothing about it is
trusted: not its name, its links, its size, nor the paths inside a zip.
:func:`collect_handins` copies only the *notebooks* of each hand-in, flattened
to their file names, into ``submitted/<student>/<assignment>/``, and refuses
with a reason what it cannot take safely:

* the student id is the folder's name or the zip's stem and must match
  :data:`STUDENT_ID` (no dots, no glob characters); hand-ins whose ids differ
  only in case (in this run, or from a student already in submitted/) are
  refused, since either could overwrite the other;
* a symbolic link (a file, a folder, the hand-in itself, a zip member) is never
  followed and a file with several hard links is never read: either can be the
  instructor's solution under a student's name. Such entries, and zip members
  with absolute or ``..`` paths, are skipped and reported;
* what is read is counted while reading, not taken from headers: entries,
  bytes per notebook, bytes per hand-in; a zip bomb stops at the first limit;
* ``.git/``, hidden files and files other than notebooks are ignored.

A hand-in whose notebooks hold instructor material (solution or hidden-test
markers, the probe call of a hidden test) is not graded as the student's work:
it goes to ``flagged/<student>/<assignment>/`` for the instructor to look at.

Collecting a student again replaces that student's submission of the
assignment (and nothing else); a refused hand-in leaves submitted/ as it was.
One hand-in's failure, whatever it is, never stops the others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from .course import Course

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
NOTEBOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.ipynb")
# nbgrader's markers in the instructor's notebooks, and the probe call of every hidden test cell
INSTRUCTOR_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                      'record_for_grader("')

MAX_ENTRIES = 5000  # files and folders looked at in a folder hand-in; members of a zip
MAX_DEPTH = 16  # folders inside a folder hand-in
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_HANDIN_BYTES = 50 * 2**20  # all notebooks of one hand-in; also a zip file's own size
CHUNK = 2**20

COLLECTED, REFUSED, FLAGGED = "collected", "refused", "flagged"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # O_NONBLOCK: a FIFO must not hang us


@dataclass(frozen=True)
class Outcome:
    """What collect did with one entry of the hand-ins folder.

    handin: the entry's name. student: the id it was collected as ("" if it has none).
    status: COLLECTED, REFUSED or FLAGGED.
    reason: why it was refused or flagged; for a collected hand-in, what was skipped ("" if nothing).
    files: the notebook names written to submitted/ (collected) or flagged/ (flagged).
    """

    handin: str
    student: str
    status: str
    reason: str
    files: tuple[str, ...] = ()

    def line(self) -> str:
        what = ", ".join(self.files)
        if self.status == COLLECTED:
            return f"collected {self.student}: {what}" + (f" ({self.reason})" if self.reason else "")
        if self.status == FLAGGED:
            return f"FLAGGED {self.handin}: {self.reason}"
        return f"REFUSED {self.handin}: {self.reason}"


class Refused(Exception):
    """The whole hand-in is refused; the message is the reason shown."""


@dataclass
class _Reading:
    """The notebooks read from one hand-in so far (file name -> bytes) and what was skipped."""

    notebooks: dict[str, bytes] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # file name -> its path in the hand-in
    skipped: list[str] = field(default_factory=list)
    entries: int = 0
    size: int = 0

    def count(self) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise Refused(f"more than {MAX_ENTRIES} files and folders")

    def add(self, path: str, stream: BinaryIO) -> None:
        """Read the notebook at ``path`` (its path inside the hand-in) from ``stream``, bounded."""
        name = PurePosixPath(path).name
        if not NOTEBOOK_NAME.fullmatch(name):
            self.skipped.append(f"{path}: file name not allowed (letters, digits, _ . - only)")
            return
        if name in self.notebooks:
            raise Refused(f"two notebooks named {name} ({self.origin[name]}, {path}): which is the hand-in?")
        chunks, size = [], 0
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_NOTEBOOK_BYTES:
                raise Refused(f"{path} holds more than {_mb(MAX_NOTEBOOK_BYTES)}")
            if self.size + size > MAX_HANDIN_BYTES:
                raise Refused(f"its notebooks hold more than {_mb(MAX_HANDIN_BYTES)}")
            chunks.append(chunk)
        self.size += size
        self.notebooks[name], self.origin[name] = b"".join(chunks), path


def _mb(n: int) -> str:
    return f"{n // 2**20} MB"


def collect_handins(course: Course, assignment: str, folder: Path) -> list[Outcome]:
    """Collect every entry of ``folder`` as a hand-in of ``assignment``; one Outcome per entry.

    ValueError if the assignment is unknown or the folder is missing (nothing is collected).
    """
    if not STUDENT_ID.fullmatch(assignment) or assignment not in course.assignments():
        raise ValueError(f"unknown assignment {assignment!r} (known: {', '.join(course.assignments())})")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # the instructor's own folder may be a link
    try:
        plans = {name: _plan(folder_fd, name) for name in sorted(os.listdir(folder_fd))}
        taken = _existing_students(course)
        folds = Counter(student.casefold() for student, _ in plans.values() if student)
        outcomes = []
        for name, (student, kind) in plans.items():
            try:
                if not student:
                    raise Refused(kind)  # _plan put the reason there
                if folds[student.casefold()] > 1:
                    raise Refused(f"ambiguous: another hand-in's student id is {student!r} up to case; "
                                  f"both refused")
                if taken.get(student.casefold(), student) != student:
                    raise Refused(f"student {taken[student.casefold()]!r} is already in submitted/ and "
                                  f"differs only in case")
                reading = _read(folder_fd, name, kind)
                outcomes.append(_place(course, assignment, name, student, reading))
            except Refused as exc:
                outcomes.append(Outcome(name, student, REFUSED, str(exc)))
            except Exception as exc:  # a hand-in can break anything (a corrupt zip, ...); the others go on
                reason = f"could not be read ({type(exc).__name__}: {exc})"
                outcomes.append(Outcome(name, student, REFUSED, reason))
    finally:
        os.close(folder_fd)
    return outcomes


def format_report(outcomes: list[Outcome]) -> str:
    """One line per hand-in, then the totals."""
    totals = Counter(o.status for o in outcomes)
    summary = ", ".join(f"{totals[s]} {s}" for s in (COLLECTED, FLAGGED, REFUSED))
    return "\n".join([o.line() for o in outcomes] + [summary])


def _plan(folder_fd: int, name: str) -> tuple[str, str]:
    """(student id, "folder" or "zip") for a hand-in entry, or ("", the reason it is refused)."""
    try:
        st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except OSError as exc:
        return "", f"could not be read ({type(exc).__name__}: {exc})"
    if stat.S_ISLNK(st.st_mode):
        return "", "a symbolic link: not followed"
    if stat.S_ISDIR(st.st_mode):
        student, kind = name, "folder"
    elif stat.S_ISREG(st.st_mode) and name.endswith(".zip"):
        student, kind = name[:-len(".zip")], "zip"
    else:
        return "", "not a folder or a .zip file"
    if not STUDENT_ID.fullmatch(student):
        return "", (f"{student!r} is not a valid student id (a letter or digit, then letters, digits, "
                    f"_ or -, at most 64; no dots)")
    return student, kind


def _existing_students(course: Course) -> dict[str, str]:
    """casefolded id -> id of every student folder already in submitted/."""
    submitted = course.root / "submitted"
    return {p.name.casefold(): p.name for p in submitted.iterdir()} if submitted.is_dir() else {}


def _read(folder_fd: int, name: str, kind: str) -> _Reading:
    """The notebooks of hand-in ``name`` ("folder" or "zip" ``kind``); Refused if there are none."""
    reading = _Reading()
    if kind == "folder":
        fd = os.open(name, _DIR_FLAGS, dir_fd=folder_fd)
        try:
            _walk(fd, "", reading, 0)
        finally:
            os.close(fd)
    else:
        with open(os.open(name, _FILE_FLAGS, dir_fd=folder_fd), "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_nlink > 1:
                raise Refused(f"the zip has {st.st_nlink} hard links: it may be someone else's file")
            if st.st_size > MAX_HANDIN_BYTES:
                raise Refused(f"the zip is larger than {_mb(MAX_HANDIN_BYTES)}")
            _read_zip(f, reading)
    if not reading.notebooks:
        skipped = f" (skipped: {'; '.join(reading.skipped)})" if reading.skipped else ""
        raise Refused(f"no notebook to collect{skipped}")
    return reading


def _walk(dir_fd: int, prefix: str, reading: _Reading, depth: int) -> None:
    """Read the notebooks under an open folder; links are reported, never followed.

    Every open is relative to an already opened folder with O_NOFOLLOW, so a
    folder swapped for a link while we read fails instead of leading outside.
    """
    entries = []
    with os.scandir(dir_fd) as it:
        for entry in it:
            reading.count()
            entries.append(entry)
    for entry in sorted(entries, key=lambda e: e.name):
        path = prefix + entry.name
        if entry.name.startswith("."):  # .git/, .ipynb_checkpoints/, editor and OS files
            continue
        if entry.is_symlink():
            reading.skipped.append(f"{path}: a symbolic link, not followed")
        elif entry.is_dir(follow_symlinks=False):
            if depth == MAX_DEPTH:
                raise Refused(f"folders nested more than {MAX_DEPTH} deep")
            fd = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
            try:
                _walk(fd, path + "/", reading, depth + 1)
            finally:
                os.close(fd)
        elif entry.name.endswith(".ipynb"):
            _read_file(dir_fd, entry.name, path, reading)


def _read_file(dir_fd: int, name: str, path: str, reading: _Reading) -> None:
    with open(os.open(name, _FILE_FLAGS, dir_fd=dir_fd), "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            reading.skipped.append(f"{path}: not a regular file")
        elif st.st_nlink > 1:
            reading.skipped.append(f"{path}: has {st.st_nlink} hard links (it may be someone else's file), "
                                   f"not read")
        else:
            reading.add(path, f)


def _read_zip(f: BinaryIO, reading: _Reading) -> None:
    with zipfile.ZipFile(f) as zf:
        members = zf.infolist()
        if len(members) > MAX_ENTRIES:
            raise Refused(f"the zip has more than {MAX_ENTRIES} members")
        for info in members:
            path = info.filename
            parts = PurePosixPath(path.replace("\\", "/")).parts
            if path.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                reading.skipped.append(f"{path}: an absolute path or one with '..', not extracted")
            elif stat.S_ISLNK(info.external_attr >> 16):
                reading.skipped.append(f"{path}: a symbolic link, not followed")
            elif not info.is_dir() and path.endswith(".ipynb") and not any(p.startswith(".") for p in parts):
                with zf.open(info) as member:  # sizes are counted as it inflates, not read from headers
                    reading.add(path, member)


def instructor_material(data: bytes) -> str | None:
    """The first instructor marker found in a handed-in notebook, or None.

    The notebook's JSON is decoded first, so escaped text (``\\"``, ``\\u0023``)
    is seen as the student's editor would show it; a file that is not JSON is
    searched as text.
    """
    text = data.decode("utf-8", errors="replace")
    try:
        strings: Iterator[str] = _strings(json.loads(text))
    except (ValueError, RecursionError):
        strings = iter([text])
    for s in strings:
        for marker in INSTRUCTOR_MARKERS:
            if marker in s:
                return marker
    return None


def _strings(obj) -> Iterator[str]:
    """Every string in a decoded JSON value, and every list of strings joined (a cell's source)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            if item and all(isinstance(s, str) for s in item):
                yield "".join(item)
            stack.extend(item)


def _place(course: Course, assignment: str, handin: str, student: str, reading: _Reading) -> Outcome:
    """Write the notebooks to submitted/ or, if they hold instructor material, to flagged/."""
    submitted = course.root / "submitted" / student / assignment
    found = {name: m for name, data in reading.notebooks.items() if (m := instructor_material(data))}
    files = tuple(sorted(reading.notebooks))
    if not found:
        _replace(course, submitted, reading.notebooks)
        return Outcome(handin, student, COLLECTED, "; ".join(f"skipped {s}" for s in reading.skipped), files)
    quarantine = course.root / "flagged" / student / assignment
    _replace(course, quarantine, reading.notebooks)
    removed = submitted.is_dir()
    if removed:
        shutil.rmtree(submitted)
    name, marker = next(iter(found.items()))
    return Outcome(handin, student, FLAGGED,
                   f"contains instructor material ({marker!r} in {name}); not graded, kept in "
                   f"{quarantine.relative_to(course.root)}/ for the instructor"
                   + ("; the earlier submission was removed from submitted/" if removed else ""), files)


def _replace(course: Course, dest: Path, notebooks: dict[str, bytes]) -> None:
    """Make ``dest`` (<course>/<area>/<student>/<assignment>) hold exactly ``notebooks``.

    The files are written to a hidden sibling first (nbgrader never looks at
    hidden folders), so an interrupted run leaves the old submission whole.
    The area itself (submitted/) may be a link the instructor made; the
    student's folders must not be, or writing would leave it.
    """
    for path in (dest.parent, dest):
        if path.is_symlink():
            raise Refused(f"{path.relative_to(course.root)} is a symbolic link; nothing written")
    staging = dest.with_name(f".{dest.name}.collecting")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, data in notebooks.items():
        (staging / name).write_bytes(data)
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
