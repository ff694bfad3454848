"""LMS downloads and the class roster: who handed in what, under which name.

Instructors get hand-ins from their LMS, where a student is a display name and
a number, not a student id. This module reads the names the LMSes give and the
roster that maps them to the course's students; autograder/collect.py does the
(safe) reading of the files.

**Moodle** ("Download all submissions"): one folder per participant,
``<Full Name>_<participant id>_assignsubmission_file_/`` holding the files as
uploaded (or, without "download in folders", files named
``<Full Name>_<participant id>_assignsubmission_file_<file>``). The number is
the assignment's *participant id* (the "Identifier" of Moodle's grading
worksheet, "Participant 12345"), not the user id. With group submissions the
name starts with the group's name and a dash: ``Team Red-Ada Lovelace_12345_...``.

**Canvas** (Submissions > "Download Submissions"): a flat zip of files named
``<name>_<user id>_<submission id>_<file>``, ``_late`` after the name when the
submission was late; ``<name>`` is the student's sortable name lowercased,
with or without spaces (``lovelaceada``, ``lovelace ada``). Canvas appends
``-1``, ``-2`` to a file name a student uploaded again.

**The roster** is a CSV file with a header row; the columns, all but the
first optional (their order is free, unknown columns are an error, so a typo is
not silently ignored):

=============  ==========================================================
student_id     the course's id of the student (folder names in submitted/;
               letters, digits, ``_`` and ``-``); unique, also up to case
first_name     given name, shown by the formgrader and the exports
last_name      family name
email          the Moodle export's identifier ("Email address")
moodle_id      the Moodle participant id of the student in this course
canvas_id      the Canvas user id (the "ID" column of Canvas's gradebook)
team           the team's name; a hand-in by a team (a team repository named
               after it, a Moodle group submission) credits every member
=============  ==========================================================

A hand-in is mapped by its LMS number first; when the roster has no such
number it is mapped by name, but only to a student without a number for that
LMS and only when exactly one name matches (names are compared casefolded,
letters and digits only, given-family or family-given). Anything else is
unmapped, with the reason.
"""

from __future__ import annotations

import csv
import os
import re
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
COLUMNS = ("student_id", "first_name", "last_name", "email", "moodle_id", "canvas_id", "team")
LMS_COLUMNS = {"moodle": "moodle_id", "canvas": "canvas_id"}

MOODLE_NAME = re.compile(r"(?P<who>.+)_(?P<number>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)", re.S)
CANVAS_NAME = re.compile(r"(?P<who>[^_]+?)(?P<late>_late)?_(?P<number>\d+)_(?P<submission>\d+)_(?P<file>.+)", re.S)


@dataclass(frozen=True)
class LmsName:
    """What an LMS download's entry name says.

    lms: "moodle" or "canvas". who: the display name in it. number: the participant
    (Moodle) or user (Canvas) id. file: the uploaded file's name ("" for a Moodle folder).
    late: Canvas marked the submission late.
    """

    lms: str
    who: str
    number: str
    file: str
    late: bool = False

    def label(self) -> str:
        kind = "participant" if self.lms == "moodle" else "user"
        return f"{self.lms.capitalize()} {kind} {self.number} ({self.who})"


def parse_lms_name(name: str, is_folder: bool) -> LmsName | None:
    """The LMS meaning of a download entry's name, or None if it has none.

    Moodle names folders and files; Canvas names files only (a folder named like
    a Canvas file is a plain hand-in).
    """
    if m := MOODLE_NAME.fullmatch(name):
        if is_folder != (m["file"] == ""):
            return None
        return LmsName("moodle", m["who"].strip(), m["number"], m["file"])
    if not is_folder and (m := CANVAS_NAME.fullmatch(name)):
        return LmsName("canvas", m["who"].strip(), m["number"], m["file"], late=bool(m["late"]))
    return None


@dataclass(frozen=True)
class Student:
    """One roster row (every field a string, "" when the column is absent or empty)."""

    student_id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    moodle_id: str = ""
    canvas_id: str = ""
    team: str = ""


class RosterError(ValueError):
    """The roster file is malformed; the message says where."""


class Unmapped(Exception):
    """A hand-in the roster does not map to any student; the message is the reason."""


@dataclass(frozen=True)
class Mapping:
    """Who a hand-in credits. students: their ids (several for a team). team: its name or "".
    note: how the mapping was made, when that is worth saying ("" otherwise)."""

    students: tuple[str, ...]
    team: str = ""
    note: str = ""


def _key(name: str) -> str:
    """A name as compared: casefolded, letters and digits only ("Lovelace, Ada" -> "lovelaceada")."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


class Roster:
    """The students of a course, by id, by LMS number, by name and by team."""

    def __init__(self, students: list[Student]):
        self.students = {s.student_id: s for s in students}
        self.teams: dict[str, tuple[str, ...]] = {}
        for s in students:
            if s.team:
                self.teams[s.team] = self.teams.get(s.team, ()) + (s.student_id,)

    @classmethod
    def read(cls, path: Path) -> "Roster":
        """Read and check a roster CSV (see the module doc); RosterError says what is wrong and where."""
        try:
            return cls._read(path)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RosterError(f"{path}: cannot be read as a UTF-8 CSV file ({exc})") from None

    @classmethod
    def _read(cls, path: Path) -> "Roster":
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: spreadsheets write a BOM
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            unknown = [h for h in header if h not in COLUMNS]
            if "student_id" not in header or unknown:
                raise RosterError(f"{path}: the header must name student_id and only the columns "
                                  f"{', '.join(COLUMNS)}" + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
            reader.fieldnames = header
            students = []
            for line, row in enumerate(reader, start=2):
                if None in row:
                    raise RosterError(f"{path}, line {line}: more fields than columns")
                values = {k: (v or "").strip() for k, v in row.items()}
                if not any(values.values()):
                    continue  # a blank line
                if not STUDENT_ID.fullmatch(values["student_id"]):
                    raise RosterError(f"{path}, line {line}: {values['student_id']!r} is not a valid student "
                                      f"id (a letter or digit, then letters, digits, _ or -, at most 64)")
                students.append(Student(**values))
        _check_unique(path, students)
        return cls(students)

    def map_name(self, name: str) -> Mapping:
        """A plain hand-in (``<student>/``, ``<student>.zip``, a team repository ``<team>/``)."""
        if name in self.teams:
            return Mapping(self.teams[name], team=name)
        if name in self.students:
            return Mapping((name,))
        raise Unmapped(f"{name!r} is neither a student_id nor a team of the roster")

    def map_lms(self, entry: LmsName) -> Mapping:
        """An LMS hand-in: by its number, else by a unique name; a Moodle group submission credits the team."""
        column = LMS_COLUMNS[entry.lms]
        who, team = entry.who, ""
        if entry.lms == "moodle":  # "Team Red-Ada Lovelace": the group's name, a dash, the submitter
            team = next((t for t in sorted(self.teams, key=len, reverse=True) if who.startswith(f"{t}-")), "")
            who = who[len(team) + 1:] if team else who
        by_number = [s for s in self.students.values() if getattr(s, column) == entry.number]
        note = ""
        if by_number:
            [student] = by_number  # numbers are unique (checked on reading)
        else:
            by_name = [s for s in self.students.values() if not getattr(s, column) and _key(who) in
                       (_key(s.first_name + s.last_name), _key(s.last_name + s.first_name))]
            if len(by_name) != 1:
                found = "no" if not by_name else f"{len(by_name)} ({', '.join(s.student_id for s in by_name)})"
                raise Unmapped(f"{entry.label()}: no roster row has {column} {entry.number}, and {found} "
                               f"students without a {column} are named {who!r}")
            [student] = by_name
            note = f"mapped by name: the roster has no {column} {entry.number}"
        if team and student.team != team:
            raise Unmapped(f"{entry.label()}: a submission of group {team!r}, but the roster puts "
                           f"{student.student_id} in {student.team or 'no team'!r}")
        if team:
            return Mapping(self.teams[team], team=team, note=note)
        return Mapping((student.student_id,), note=note)


def _check_unique(path: Path, students: list[Student]) -> None:
    """Ids unique up to case, LMS numbers unique, team names distinct from student ids."""
    problems = []
    folds = Counter(s.student_id.casefold() for s in students)
    problems += [f"student_id {s!r} appears more than once (up to case)" for s, n in folds.items() if n > 1]
    for column in LMS_COLUMNS.values():
        numbers = Counter(getattr(s, column) for s in students if getattr(s, column))
        problems += [f"{column} {n} is given to several students" for n, k in numbers.items() if k > 1]
    ids = {s.student_id for s in students}
    problems += [f"team {t!r} is also a student_id" for t in sorted({s.team for s in students} & ids)]
    if problems:
        raise RosterError(f"{path}: " + "; ".join(problems))


def register_students(db_url: str, course_id: str, roster: Roster) -> None:
    """Add every roster student to the nbgrader gradebook with their name and email (and the
    Canvas id as nbgrader's lms_user_id), or update them: the formgrader then shows names,
    not "None, None", and the exports (autograder/export.py) find the LMS identifiers there."""
    from nbgrader.api import Gradebook  # only when a roster is given: plain collect needs no gradebook

    with _alembic_on_path(), Gradebook(db_url, course_id) as gb:
        for s in roster.students.values():
            fields = {"first_name": s.first_name or None, "last_name": s.last_name or None,
                      "email": s.email or None, "lms_user_id": s.canvas_id or None}
            gb.update_or_create_student(s.student_id, **{k: v for k, v in fields.items() if v})


@contextmanager
def _alembic_on_path() -> Iterator[None]:
    """nbgrader stamps a new gradebook by running ``alembic`` by name: let it find the venv's
    (as autograder/course.py does for the nbgrader commands) when the venv is not activated."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + saved
    try:
        yield
    finally:
        os.environ["PATH"] = saved
