"""Collecting hand-ins into submitted/: student folders and zips, team repositories, LMS downloads.

``python -m autograder collect <assignment> <folder-or-zip> [--roster CSV]``

The source is a folder or a zip (an LMS's "download all submissions") whose
entries are the hand-ins:

* ``<student>/`` or ``<student>.zip``: one student's notebooks, anywhere inside
  (a cloned repository too); ``<team>/`` or ``<team>.zip`` when the roster has
  that team: every member is credited (gets the notebooks in
  ``submitted/<member>/<assignment>/``);
* a Moodle participant's ``<Full Name>_<id>_assignsubmission_file_/`` folder
  (or its flat ``..._assignsubmission_file_<file>`` files), a Canvas
  ``<name>_<user id>_<submission id>_<file>`` file (``_late`` after the name when late);
  all of one participant's entries form one hand-in. The roster
  (autograder/lms.py: its columns, and how names and ids are mapped) says whose
  it is; a Moodle group submission credits the team.

Nothing is silently dropped: an entry that no student can be found for is
reported UNMAPPED with the reason, one whose roster student handed in nothing
MISSING. A hand-in of a one-notebook assignment holding a single notebook
under another name (``my_numpy (1).ipynb``, Canvas's ``01_numpy-1.ipynb``) is
collected under the assignment's notebook name, with a note, instead of being
graded as missing. With a roster, every roster student is added to (or updated
in) the nbgrader gradebook with their name and email.

A hand-in is whatever landed in the instructor's download, so nothing about it
is trusted: not its name, its links, its size, nor the paths inside a zip.
Only the *notebooks* of each hand-in are copied, flattened to their file names,
and what cannot be taken safely is refused with a reason:

* a plain hand-in's student id is the folder's name or the zip's stem and must
  match :data:`STUDENT_ID` (no dots, no glob characters); hand-ins that would go
  to the same student, or to ids differing only in case (in this run, or from a
  student already in submitted/), are refused, since either could overwrite the other;
* a symbolic link (a file, a folder, the hand-in itself, a zip member) is never
  followed and a file with several hard links is never read: either can be the
  instructor's solution under a student's name. Such entries, and zip members
  with absolute or ``..`` paths, are skipped and reported;
* what is read is counted while reading, not taken from headers: entries,
  bytes per notebook, bytes per hand-in; a zip bomb stops at the first limit;
* ``.git/``, hidden files and files other than notebooks are ignored (a zip
  download's ``__MACOSX/`` and hidden top-level entries too); a written file
  name is the assignment's or matches :data:`NOTEBOOK_NAME`.

A hand-in whose notebooks hold instructor material (solution or hidden-test
markers, the probe call of a hidden test) is not graded as the student's work:
it goes to ``flagged/<student>/<assignment>/`` for the instructor to look at.

Collecting a student again replaces that student's submission of the
assignment (and nothing else); a refused hand-in leaves submitted/ as it was.
One hand-in's failure, whatever it is, never stops the others.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterator

from .course import Course
from .lms import STUDENT_ID, LmsName, Mapping, Roster, Unmapped, parse_lms_name, register_students

NOTEBOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.ipynb")
# nbgrader's markers in the instructor's notebooks, and the probe call of every hidden test cell
INSTRUCTOR_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                      'record_for_grader("')

MAX_ENTRIES = 5000  # files and folders looked at in a folder hand-in; members of a zip
MAX_DEPTH = 16  # folders inside a folder hand-in
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_HANDIN_BYTES = 50 * 2**20  # all notebooks of one hand-in; also a zip file's own size
MAX_DOWNLOAD_MEMBERS = 200_000  # members of a zip source (an LMS download of a whole class)
CHUNK = 2**20

COLLECTED, REFUSED, FLAGGED, UNMAPPED, MISSING = "collected", "refused", "flagged", "unmapped", "missing"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # O_NONBLOCK: a FIFO must not hang us


@dataclass(frozen=True)
class Outcome:
    """What collect did with one hand-in (or, MISSING, with a roster student who has none).

    handin: the entry's name in the source (several entries of one LMS participant: their names,
    joined by ", "; "" for MISSING). student: the id it was collected as, or for a team hand-in
    the team's name ("" if it has none). members: a team hand-in's students (() otherwise).
    status: COLLECTED, REFUSED, FLAGGED, UNMAPPED or MISSING.
    reason: why it was refused, flagged or not mapped; for a collected hand-in, notes (how it
    was mapped, a renamed notebook) and what was skipped ("" if nothing).
    files: the notebook names written to submitted/ (collected) or flagged/ (flagged).
    """

    handin: str
    student: str
    status: str
    reason: str
    files: tuple[str, ...] = ()
    members: tuple[str, ...] = ()

    @property
    def credited(self) -> tuple[str, ...]:
        """The student ids whose submitted/ (or flagged/) folders this hand-in fills."""
        return self.members or ((self.student,) if self.student else ())

    def line(self) -> str:
        what = ", ".join(self.files)
        who = f"{self.student} ({', '.join(self.members)})" if self.members else self.student
        if self.status == COLLECTED:
            return f"collected {who}: {what}" + (f" ({self.reason})" if self.reason else "")
        if self.status == FLAGGED:
            return f"FLAGGED {self.handin}: {self.reason}"
        if self.status == MISSING:
            return f"MISSING {self.student}: {self.reason}"
        return f"{self.status.upper()} {self.handin}: {self.reason}"


class Refused(Exception):
    """The whole hand-in is refused; the message is the reason shown."""


@dataclass
class _Reading:
    """The notebooks read from one hand-in so far (file name -> bytes) and what was skipped.

    odd: notebooks whose file name is not allowed on disk (path in the hand-in -> bytes); one
    may still be collected under the assignment's notebook name (:func:`_settle_names`).
    """

    notebooks: dict[str, bytes] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # file name -> its path in the hand-in
    odd: dict[str, bytes] = field(default_factory=dict)
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
        if NOTEBOOK_NAME.fullmatch(name):
            self.notebooks[name], self.origin[name] = b"".join(chunks), path
        else:
            self.odd[path] = b"".join(chunks)


def _mb(n: int) -> str:
    return f"{n // 2**20} MB"


@dataclass(frozen=True)
class _Entry:
    """One entry of the source. kind: "folder", "zip" or "file".
    read(reading, inner): adds its notebooks to ``reading``; ``inner`` is the name a lone file
    has inside the hand-in (an LMS file's uploaded name)."""

    name: str
    kind: str
    read: Callable[[_Reading, str], None]


@dataclass
class _Handin:
    """The entries of one hand-in, their label (Outcome.handin), whom they credit or why not."""

    label: str
    parts: list[tuple[_Entry, str]]  # (entry, its inner name)
    mapping: Mapping | None = None
    status: str = ""  # REFUSED or UNMAPPED when it is not read at all
    reason: str = ""


def collect_handins(course: Course, assignment: str, source: Path,
                    roster: Roster | Path | None = None) -> list[Outcome]:
    """Collect every hand-in of ``source`` (a folder or a zip) as ``assignment``; one Outcome each.

    roster: a Roster or the path of a roster CSV (autograder/lms.py); needed for LMS downloads
    and teams. With one, every roster student is written to the gradebook, and those without a
    hand-in are reported MISSING.
    ValueError (nothing is collected) if the assignment is unknown, the source is neither a
    folder nor a zip, or the roster is malformed (lms.RosterError says where).
    """
    if not STUDENT_ID.fullmatch(assignment) or assignment not in course.assignments():
        raise ValueError(f"unknown assignment {assignment!r} (known: {', '.join(course.assignments())})")
    if isinstance(roster, (str, Path)):
        roster = Roster.read(Path(roster))
    if not (source.is_dir() or (source.is_file() and zipfile.is_zipfile(source))):
        raise ValueError(f"{source} is not a folder or a zip file")
    outcomes = []
    with _source(source) as (entries, refused):
        outcomes += refused
        handins = _identify(entries, roster)
        _refuse_conflicts(course, handins)
        for handin in handins:
            outcomes.append(_collect_one(course, assignment, handin))
    if roster is not None:
        outcomes += _missing(roster, handins)
    
        register_students(course.db_url, course.course_id, roster)
    return outcomes


def format_report(outcomes: list[Outcome]) -> str:
    """One line per hand-in, then the totals."""
    totals = Counter(o.status for o in outcomes)
    statuses = (COLLECTED, FLAGGED, REFUSED) + tuple(s for s in (UNMAPPED, MISSING) if totals[s])
    summary = ", ".join(f"{totals[s]} {s}" for s in statuses)
    return "\n".join([o.line() for o in outcomes] + [summary])


@contextmanager
def _source(source: Path) -> Iterator[tuple[list[_Entry], list[Outcome]]]:
    """The entries of a folder or zip source, and an Outcome for each entry refused as it is listed."""
    if source.is_dir():
        folder_fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)  # the instructor's own folder may be a link
        try:
            yield _folder_entries(folder_fd)
        finally:
            os.close(folder_fd)
    else:
        with open(source, "rb") as f, zipfile.ZipFile(f) as zf:
            yield _zip_entries(zf)


def _folder_entries(folder_fd: int) -> tuple[list[_Entry], list[Outcome]]:
    entries, refused = [], []
    for name in sorted(os.listdir(folder_fd)):
        try:
            st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        except OSError as exc:
            refused.append(Outcome(name, "", REFUSED, f"could not be read ({type(exc).__name__}: {exc})"))
            continue
        if stat.S_ISLNK(st.st_mode):
            refused.append(Outcome(name, "", REFUSED, "a symbolic link: not followed"))
        elif stat.S_ISDIR(st.st_mode):
            entries.append(_Entry(name, "folder", lambda reading, inner, name=name:
                                  _read_folder(folder_fd, name, reading)))
        elif stat.S_ISREG(st.st_mode):
            kind = "zip" if name.endswith(".zip") else "file"
            read = _read_zip_file if kind == "zip" else _read_lone_file
            entries.append(_Entry(name, kind, lambda reading, inner, name=name, read=read:
                                  read(folder_fd, name, inner, reading)))
        else:
            refused.append(Outcome(name, "", REFUSED, "not a folder or a .zip file"))
    return entries, refused


def _zip_entries(zf: zipfile.ZipFile) -> tuple[list[_Entry], list[Outcome]]:
    """A zip source's top-level folders and files, as entries (``__MACOSX/`` and hidden ones ignored)."""
    members = zf.infolist()
    if len(members) > MAX_DOWNLOAD_MEMBERS:
        raise ValueError(f"the zip has more than {MAX_DOWNLOAD_MEMBERS} members")
    folders: dict[str, list[zipfile.ZipInfo]] = {}
    files: dict[str, zipfile.ZipInfo] = {}
    refused = []
    for info in members:
        parts = _unsafe_or_parts(info.filename)
        if parts is None:
            refused.append(Outcome(info.filename, "", REFUSED, "an absolute path or one with '..', not extracted"))
        elif parts and parts[0] != "__MACOSX" and not parts[0].startswith("."):
            if len(parts) == 1 and not info.is_dir():
                files[parts[0]] = info
            else:
                folders.setdefault(parts[0], []).append(info)
    entries = [_Entry(name, "folder", lambda reading, inner, infos=infos, name=name:
                      _read_members(zf, infos, reading, strip=len(name) + 1))
               for name, infos in folders.items()]
    for name, info in files.items():
        kind = "zip" if name.endswith(".zip") else "file"
        entries.append(_Entry(name, kind, lambda reading, inner, info=info, kind=kind:
                              _read_zip_member(zf, info, kind, inner, reading)))
    return sorted(entries, key=lambda e: e.name), refused


def _unsafe_or_parts(path: str) -> tuple[str, ...] | None:
    """The parts of a zip member's path, or None if it is absolute or climbs out with '..'."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if path.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        return None
    return parts


def _identify(entries: list[_Entry], roster: Roster | None) -> list[_Handin]:
    """Group the entries into hand-ins (an LMS participant's entries together) and map each."""
    handins: dict[tuple[str, ...], _Handin] = {}
    lms_names: dict[tuple[str, ...], LmsName] = {}
    for entry in entries:
        lms = parse_lms_name(entry.name, entry.kind == "folder")
        if lms:
            key = ("lms", lms.lms, lms.number)
            lms_names.setdefault(key, lms)
            handins.setdefault(key, _Handin("", [])).parts.append((entry, lms.file))
            continue
        stem = entry.name[:-len(".zip")] if entry.kind == "zip" else entry.name
        handin = handins.setdefault(("plain", entry.name), _Handin("", [(entry, "")]))
        if entry.kind == "file":
            handin.status, handin.reason = REFUSED, "not a folder or a .zip file"
        elif not STUDENT_ID.fullmatch(stem):
            handin.status, handin.reason = REFUSED, (
                f"{stem!r} is not a valid student id (a letter or digit, then letters, digits, "
                f"_ or -, at most 64; no dots)")
        elif roster is None:
            handin.mapping = Mapping((stem,))
        else:
            _map(handin, lambda: roster.map_name(stem))
    for key, handin in handins.items():
        handin.label = ", ".join(entry.name for entry, _ in handin.parts)
        if key in lms_names:
            lms = lms_names[key]
            if roster is None:
                handin.status, handin.reason = UNMAPPED, (
                    f"{lms.label()}: no roster given (--roster CSV maps LMS names and ids to students)")
            else:
                _map(handin, lambda: roster.map_lms(lms))
            if lms.late and not handin.status:
                note = "Canvas marked it late"
                handin.mapping = Mapping(handin.mapping.students, handin.mapping.team,
                                         "; ".join(filter(None, (handin.mapping.note, note))))
    return sorted(handins.values(), key=lambda h: h.label)


def _map(handin: _Handin, how: Callable[[], Mapping]) -> None:
    try:
        handin.mapping = how()
    except Unmapped as exc:
        handin.status, handin.reason = UNMAPPED, str(exc)


def _refuse_conflicts(course: Course, handins: list[_Handin]) -> None:
    """Refuse hand-ins that would write the same student (up to case), or a case variant of one in submitted/."""
    taken = _existing_students(course)
    mapped = [h for h in handins if h.mapping and not h.status]
    folds = Counter(s.casefold() for h in mapped for s in set(h.mapping.students))
    for handin in mapped:
        for student in handin.mapping.students:
            if folds[student.casefold()] > 1:
                handin.status, handin.reason = REFUSED, (
                    f"ambiguous: another hand-in's student id is {student!r} up to case; both refused")
            elif taken.get(student.casefold(), student) != student:
                handin.status, handin.reason = REFUSED, (
                    f"student {taken[student.casefold()]!r} is already in submitted/ and differs only in case")
            if handin.status:
                break


def _existing_students(course: Course) -> dict[str, str]:
    """casefolded id -> id of every student folder already in submitted/."""
    submitted = course.root / "submitted"
    return {p.name.casefold(): p.name for p in submitted.iterdir()} if submitted.is_dir() else {}


def _collect_one(course: Course, assignment: str, handin: _Handin) -> Outcome:
    mapping = handin.mapping
    student = (mapping.team or mapping.students[0]) if mapping else ""
    members = mapping.students if mapping and mapping.team else ()
    if handin.status:
        return Outcome(handin.label, student, handin.status, handin.reason, members=members)
    try:
        reading = _Reading()
        for entry, inner in handin.parts:
            entry.read(reading, inner)
        notes = [mapping.note] if mapping.note else []
        notes += _settle_names(reading, course.notebooks(assignment))
        if not reading.notebooks:
            skipped = f" (skipped: {'; '.join(reading.skipped)})" if reading.skipped else ""
            raise Refused(f"no notebook to collect{skipped}")
        return _place(course, assignment, handin.label, student, members, reading, notes)
    except Refused as exc:
        return Outcome(handin.label, student, REFUSED, str(exc), members=members)
    except Exception as exc:  # a hand-in can break anything (a corrupt zip, ...); the others go on
        return Outcome(handin.label, student, REFUSED, f"could not be read ({type(exc).__name__}: {exc})",
                       members=members)


def _settle_names(reading: _Reading, expected: list[str]) -> list[str]:
    """Collect a lone notebook under the assignment's notebook name; say what is missing.

    expected: the assignment's notebook names (without .ipynb). Returns the notes for the report.
    """
    wanted = [f"{nb}.ipynb" for nb in expected]
    found = {reading.origin[name]: name for name in reading.notebooks} | {path: "" for path in reading.odd}
    if len(wanted) == 1 and len(found) == 1 and wanted[0] not in reading.notebooks:
        [(path, name)] = found.items()
        data = reading.notebooks.pop(name) if name else reading.odd.pop(path)
        reading.notebooks[wanted[0]], reading.origin[wanted[0]] = data, path
        return [f"handed in as {path}: collected as {wanted[0]}"]
    reading.skipped += [f"{path}: file name not allowed (letters, digits, _ . - only)" for path in reading.odd]
    missing = [name for name in wanted if name not in reading.notebooks]
    return [f"no {', '.join(missing)}: scored 0 unless handed in again"] if missing and reading.notebooks else []


def _read_folder(folder_fd: int, name: str, reading: _Reading) -> None:
    fd = os.open(name, _DIR_FLAGS, dir_fd=folder_fd)
    try:
        _walk(fd, "", reading, 0)
    finally:
        os.close(fd)


def _read_zip_file(folder_fd: int, name: str, inner: str, reading: _Reading) -> None:
    """A zip in the source folder (a student's zip, or a zip a student uploaded to the LMS)."""
    with open(os.open(name, _FILE_FLAGS, dir_fd=folder_fd), "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_nlink > 1:
            raise Refused(f"the zip has {st.st_nlink} hard links: it may be someone else's file")
        if st.st_size > MAX_HANDIN_BYTES:
            raise Refused(f"the zip is larger than {_mb(MAX_HANDIN_BYTES)}")
        _read_zip(f, reading)


def _read_lone_file(folder_fd: int, name: str, inner: str, reading: _Reading) -> None:
    """A file of an LMS download (``inner``: its uploaded name): a notebook or something skipped."""
    if not inner.endswith(".ipynb"):
        reading.skipped.append(f"{inner}: not a notebook")
    else:
        _read_file(folder_fd, name, inner, reading)


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str, inner: str, reading: _Reading) -> None:
    """A top-level file of a zip source: a student's zip (read as one, bounded) or an LMS file."""
    name = inner or info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        reading.skipped.append(f"{name}: a symbolic link, not followed")
    elif kind == "zip":
        with zf.open(info) as member:
            data = member.read(MAX_HANDIN_BYTES + 1)
        if len(data) > MAX_HANDIN_BYTES:
            raise Refused(f"the zip is larger than {_mb(MAX_HANDIN_BYTES)}")
        _read_zip(io.BytesIO(data), reading)
    elif not name.endswith(".ipynb"):
        reading.skipped.append(f"{name}: not a notebook")
    else:
        with zf.open(info) as member:
            reading.add(name, member)


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
        _read_members(zf, members, reading)


def _read_members(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], reading: _Reading, strip: int = 0) -> None:
    """Read the notebooks among ``members``; their paths in the hand-in lose the first ``strip`` characters."""
    for info in members:
        reading.count()
        path = info.filename[strip:]
        parts = _unsafe_or_parts(info.filename)
        if parts is None:
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


def _place(course: Course, assignment: str, handin: str, student: str, members: tuple[str, ...],
           reading: _Reading, notes: list[str]) -> Outcome:
    """Write the notebooks to each credited student's submitted/ or, if they hold instructor
    material, to their flagged/ (removing an earlier submission)."""
    found = {name: m for name, data in reading.notebooks.items() if (m := instructor_material(data))}
    files = tuple(sorted(reading.notebooks))
    credited = members or (student,)
    if not found:
        for who in credited:
            _replace(course, course.root / "submitted" / who / assignment, reading.notebooks)
        reason = "; ".join(notes + [f"skipped {s}" for s in reading.skipped])
        return Outcome(handin, student, COLLECTED, reason, files, members)
    removed = []
    for who in credited:
        _replace(course, course.root / "flagged" / who / assignment, reading.notebooks)
        submitted = course.root / "submitted" / who / assignment
        if submitted.is_dir():
            shutil.rmtree(submitted)
            removed.append(who)
    name, marker = next(iter(found.items()))
    where = f"flagged/{credited[0]}/{assignment}/" if len(credited) == 1 else f"flagged/<member>/{assignment}/"
    earlier = ""
    if removed:
        earlier = ("; the earlier submission was removed from submitted/" if not members else
                   f"; the earlier submissions of {', '.join(removed)} were removed from submitted/")
    return Outcome(handin, student, FLAGGED,
                   f"contains instructor material ({marker!r} in {name}); not graded, kept in "
                   f"{where} for the instructor" + earlier, files, members)


def _missing(roster: Roster, handins: list[_Handin]) -> list[Outcome]:
    """A MISSING outcome for every roster student no hand-in names (mapped, refused or flagged)."""
    named = {s for h in handins if h.mapping for s in h.mapping.students}
    return [Outcome("", sid, MISSING, "in the roster, but no hand-in") for sid in sorted(roster.students)
            if sid not in named]


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
