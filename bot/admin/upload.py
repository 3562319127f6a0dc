"""Upload to schedule: a file an admin sends becomes a previewed, then confirmed, plan.

Three kinds of file are taken:

* an event file (``.toml``), checked exactly as ``bibliobot validate`` checks one;
* a quiz's questions (``.xlsx``/``.csv``, a «Вопрос» column), read as ``bibliobot import``
  reads them; the quiz's title, time and mode come from an optional sheet «Настройки»
  (``QUIZ_SETTINGS``), else the file's name, tomorrow at 18:00, and a live quiz where the
  library has a quiz chat on each network (a question a day where it has not);
* a content plan (``.xlsx``/``.csv``, «дата» and «текст» columns), one post a row
  (``scheduler.content_plan``).

``preview_upload`` writes the event files to a staging folder beside the database
(``<storage dir>/uploads/<token>/``), checks them as the running bot will, and answers
with what will be posted where and when (local time), or with every problem (row and
column, in the table's order: a content plan's good rows are checked too, so a past time
is named together with a bad cell). Nothing reaches the events folder until ``confirm_upload``: all the files or
none, a name already there refused, never overwritten. ``cancel_upload`` forgets the
upload; an upload neither confirmed nor cancelled is forgotten after ``KEEP``.

Bounds, checked before anything is parsed: ``MAX_BYTES`` per file, ``MAX_ROWS`` rows and
``MAX_COLUMNS`` columns per sheet (read row by row: a stray cell at XFD1048576 costs time
in passing, not memory).

Confirming is synchronous on purpose: called on the bot's event loop, the refresh (a
coroutine on the same loop) never sees half of an upload's files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import re
import secrets
import shutil
import sqlite3
import time as time_module
import tomllib
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from core import messages
from core.config import Config, LibraryConfig
from core.errors import BibliobotError, EventFileError, InputError
from core.model import CLOSE, COMMUNITY, CONTEST_ENTRY, CONTEST_TALLY, PUBLISH, SNAPSHOT
from core.networks import registry
from core.networks import title as network_title
from core.quiz_model import MODES
from core.storage import to_db
from scheduler.content_plan import (
    ContentPlan,
    PlanProblem,
    event_toml,
    is_content_plan,
    parse_date,
    parse_networks,
    parse_time,
    problem_at,
    read_content_plan,
)
from scheduler.events import Event, as_problem, load_events
from scheduler.plan import expand

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
MAX_ROWS, MAX_COLUMNS = 2000, 30
KEEP = timedelta(days=1)  # a preview nobody answered is forgotten after this
SHOWN_LINES = 40  # preview lines in the message; the rest are counted
SHOWN_PROBLEMS = 30
QUIZ_TIME = time(18, 0)  # a quiz without a settings sheet: tomorrow at this time
QUIZ_SETTINGS = {  # the settings sheet's keys, as its first column spells them
    "title": ("название", "title"),
    "date": ("дата", "date"),
    "time": ("время", "time"),
    "mode": ("режим", "mode"),
    "networks": ("сети", "networks"),
    "text": ("текст", "text"),
    "interval": ("интервал", "interval"),
}
SETTINGS_SHEETS = ("настройки", "settings")
QUESTION_HEADERS = ("вопрос", "текст вопроса", "question")  # as bibliobot import reads
_TOKEN = re.compile(r"^[0-9a-f]{16}$")
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # as event file names must be
# What an admin reads in a preview: posts, not the metrics read or the closes behind them.
_UNSEEN = {SNAPSHOT, COMMUNITY, CLOSE, CONTEST_TALLY, CONTEST_ENTRY}
_KINDS = {  # how a preview line names what goes out
    "announcement": "upload.kind_announcement",
    "poll": "upload.kind_poll",
    "quiz": "upload.kind_quiz",
    "giveaway": "upload.kind_giveaway",
    "contest": "upload.kind_contest",
    "reminder": "upload.kind_reminder",
    "question": "upload.kind_question",
    "results": "upload.kind_results",
    "draw": "upload.kind_draw",
    "contest_gallery": "upload.kind_contest_gallery",
    "contest_poll": "upload.kind_contest_poll",
    "contest_results": "upload.kind_contest_results",
}


@dataclass(frozen=True)
class PreviewLine:
    """One thing that will go out: when (local), where, what, of which event.

    ``kind`` is the event's kind for its own post ("announcement", "poll", "quiz" …),
    else the action's ("reminder", "question", "results" …).
    """

    when: datetime  # local, in the library's zone
    networks: tuple[str, ...]
    kind: str
    title: str
    number: int = 0  # a quiz question's number
    options: tuple[str, ...] = ()  # a poll's answers
    image: str = ""  # the picture posted with it (a file name in the events folder)


@dataclass(frozen=True)
class UploadPreview:
    """An upload that can be confirmed: its token, what it plans, the text to send."""

    token: str
    library_id: str
    lines: tuple[PreviewLine, ...]
    text: str  # the preview, ready to send, in the config's language


@dataclass(frozen=True)
class UploadRefused:
    """An upload that cannot be planned: one line per problem (row and column named)."""

    problems: tuple[str, ...]
    text: str  # the reply, ready to send, in the config's language


class UploadNotConfirmed(BibliobotError):
    """The upload cannot be confirmed; the message (the config's language) says why."""


class _Refused(Exception):
    """Raised inside a preview: the file cannot be planned, for these reasons."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


# ---- preview ---------------------------------------------------------------------------


def preview_upload(
    config: Config, library_id: str, filename: str, data: bytes, now: datetime
) -> UploadPreview | UploadRefused:
    """Check ``data`` (a file named ``filename``) for ``library_id`` and stage its events."""
    with messages.use_language(config.language):
        name = _safe_name(filename)
        _forget_old(config, now)
        stage = None
        try:
            library = config.library(library_id)
            if library is None:
                raise _Refused([messages.text("upload.no_library", library=library_id)])
            if len(data) > MAX_BYTES:
                size, limit = _megabytes(len(data), up=True), _megabytes(MAX_BYTES)
                raise _Refused([messages.text("upload.too_big", size=size, limit=limit)])
            suffix = Path(name).suffix.lower()
            if suffix not in (".toml", ".xlsx", ".csv"):
                raise _Refused([messages.text("upload.unknown_type", file=name)])
            stage = _new_stage(config, library_id, name, now)
            if suffix == ".toml":
                files = _stage_event_file(config, stage, name, data)
                naming = _FileNaming(name)
            else:
                files, naming = _stage_sheet(config, library, stage, name, data, now)
            events = _check(config, library_id, stage, files, naming, now)
            lines = _lines(config, library, events)
            _write_meta(stage, library_id, name, now, files)
            return UploadPreview(
                stage.name, library_id, lines, _preview_text(library, name, lines, events)
            )
        except _Refused as refused:
            _remove(stage)
            return _refusal(name, refused.problems)
        except Exception as exc:  # a file must never stop the bot: a bug of ours is one line
            log.exception("upload %s could not be checked", name)
            _remove(stage)
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            return _refusal(name, [messages.text("upload.unreadable", detail=detail)])


@dataclass(frozen=True)
class _FileNaming:
    """How problems of the staged event files are named to the admin."""

    source: str  # the uploaded file's name
    plan: ContentPlan | None = None
    rows: tuple[tuple[str, int], ...] = ()  # staged file name → the plan's row
    quiz: bool = False  # a quiz made of a questions sheet: its fields are settings
    early: tuple[PlanProblem, ...] = ()  # found reading the table, before any file

    def problem(self, error: InputError) -> PlanProblem:
        """The admin's line for a problem of a staged file, with the row to sort it by."""
        staged = Path(error.path).name
        row = dict(self.rows).get(staged)
        if self.plan is not None and row is not None:
            return PlanProblem(row, problem_at(row, self.plan.columns(error.field), error.message))
        if self.quiz:  # the file is ours, its lines mean nothing to the admin: the setting
            setting = _setting_of(error.field)
            if setting:
                line = messages.text("upload.at_setting", setting=setting, problem=error.message)
                return PlanProblem(0, line)
            return PlanProblem(0, error.message)
        # An event file: validate's own line, the uploaded name for the staged path.
        return PlanProblem(
            0, str(EventFileError(self.source, error.field, error.message, error.line))
        )


def _setting_of(field: str) -> str:
    """The settings sheet's key an event-file field of an uploaded quiz came from, as the
    admin's language names it ("" if none: a question's problem is named by the import)."""
    key = {"at": "date"}.get(field.split(".")[0], field.split(".")[0])
    return _setting(key) if key in QUIZ_SETTINGS else ""


def _setting(key: str) -> str:
    """A settings sheet's key as the admin's language names it: «Режим» or «Mode»."""
    names = QUIZ_SETTINGS[key]
    return (names[0] if messages.language() == "ru" else names[-1]).capitalize()


def _stage_event_file(config: Config, stage: Path, name: str, data: bytes) -> list[Path]:
    """The uploaded event file, under a name the loader takes, with its image beside it."""
    stem = Path(name).stem
    if not _STEM.match(stem):  # "клуб.toml": a phone cannot easily rename; the name is ours
        stem = f"event-{hashlib.sha256(data).hexdigest()[:8]}"
    path = stage / "events" / f"{stem}.toml"
    path.write_bytes(data)
    try:
        image = tomllib.loads(data.decode("utf-8-sig")).get("image")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        image = None  # the loader names the mistake
    _stage_image(config, stage, image)
    return [path]


def _stage_image(config: Config, stage: Path, image: object) -> None:
    """A copy of the events folder's image beside the staged file, so that the loader
    checks it where the event will be; only the event file is moved on confirm."""
    if not isinstance(image, str) or not image or Path(image).name != image:
        return
    found = config.events_dir / image
    target = stage / "events" / image
    if found.is_file() and not target.exists():
        shutil.copyfile(found, target)


def _stage_sheet(
    config: Config, library: LibraryConfig, stage: Path, name: str, data: bytes, now: datetime
) -> tuple[list[Path], _FileNaming]:
    """A content plan's rows or a quiz's questions as staged event files."""
    tables = _tables(name, data)
    for title, rows in tables:
        if not rows or title.strip().casefold() in SETTINGS_SHEETS:
            continue
        (header_row, headers), *body = rows
        if is_content_plan(headers):
            # The good rows are staged and checked too, so every problem comes at once.
            plan = read_content_plan(headers, body, header_row)
            return _stage_plan(config, library, stage, name, plan)
        elif any(_words(h) in QUESTION_HEADERS for h in headers):
            quiz = _stage_quiz(config, library, stage, name, data, title, tables, now)
            return quiz, _FileNaming(name, quiz=True)
    raise _Refused([messages.text("upload.sheet_unknown", file=name)])


def _stage_plan(
    config: Config, library: LibraryConfig, stage: Path, source: str, plan: ContentPlan
) -> tuple[list[Path], _FileNaming]:
    files, rows = [], []
    for row in plan.rows:
        path = stage / "events" / row.file_name(library.id)
        if path.exists():  # two rows of one digest: never one file for both
            path = path.with_name(f"{path.stem}-{row.row}.toml")
        path.write_text(event_toml(row, library.id, source), encoding="utf-8")
        _stage_image(config, stage, row.image or None)
        files.append(path)
        rows.append((path.name, row.row))
    return files, _FileNaming(source, plan, tuple(rows), early=plan.problems)


def _stage_quiz(
    config: Config,
    library: LibraryConfig,
    stage: Path,
    name: str,
    data: bytes,
    sheet: str,
    tables: list[tuple[str, list[tuple[int, list[object]]]]],
    now: datetime,
) -> list[Path]:
    """The questions through ``bibliobot import``'s reader and checks, into one quiz file."""
    from bot.quiz.importer import ImportFailed, import_quiz

    settings = next(
        (rows for title, rows in tables if title.strip().casefold() in SETTINGS_SHEETS), []
    )
    header = _quiz_header(library, Path(name).stem, settings, now)
    # The table beside the quiz file, as ``bibliobot import`` has it: a question's image is
    # found there and written relative to it, so it holds once the file is in the events
    # folder (the loader reads only *.toml; a name with ".toml" inside would be a problem).
    source = stage / "events" / name.replace(".toml", "_toml")
    source.write_bytes(data)
    for _, rows in tables:
        _stage_question_images(config, stage, rows)
    digest = hashlib.sha256(data + str(header).encode()).hexdigest()[:6]
    out = stage / "events" / f"quiz-{header.at:%Y%m%d-%H%M}-{digest}.toml"
    try:
        import_quiz(source, out, header, config, sheet=sheet if len(tables) > 1 else None)
    except ImportFailed as failed:
        raise _Refused(failed.problems) from None
    return [out]


def _stage_question_images(
    config: Config, stage: Path, rows: list[tuple[int, list[object]]]
) -> None:
    """The events folder's images a questions table names, staged beside it."""
    from bot.quiz.importer import COLUMNS

    if not rows:
        return
    headers = [_words(h) for h in rows[0][1]]
    for index in (i for i, h in enumerate(headers) if h in COLUMNS["image"]):
        for _, cells in rows[1:]:
            value = cells[index] if index < len(cells) else None
            _stage_image(config, stage, str(value).strip() if value is not None else None)


def _quiz_header(library: LibraryConfig, stem: str, settings, now: datetime):
    """The quiz's title, time, mode, networks, text and interval: from the settings sheet
    (a key and its value on each row), else the file's name, tomorrow at 18:00, and live
    or daily (whether the library has the chats a live quiz runs in)."""
    from bot.quiz.importer import QuizHeader

    given: dict[str, tuple[int, object]] = {}
    for number, cells in settings:
        key = _words(cells[0] if cells else "")
        found = next((k for k, names in QUIZ_SETTINGS.items() if key in names), None)
        if found is not None:
            given[found] = (number, cells[1] if len(cells) > 1 else None)
    problems = []

    def value(key: str) -> object:
        return given.get(key, (0, None))[1]

    def fail(key: str, entry: str, **fields: object) -> None:
        problem = messages.text(entry, **fields)
        problems.append(messages.text("upload.at_setting", setting=_setting(key), problem=problem))

    tomorrow = now.astimezone(library.timezone).date() + timedelta(days=1)
    day = parse_date(value("date")) if value("date") is not None else tomorrow
    if day is None:
        fail("date", "upload.bad_date", value=str(value("date")))
    moment = parse_time(value("time")) if value("time") is not None else QUIZ_TIME
    if moment is None:
        fail("time", "upload.bad_time", value=str(value("time")))
    networks = parse_networks(str(value("networks") or ""))
    # A live quiz runs in a chat of each network: without one, a quiz of a question a day.
    chats = [library.settings(n) for n in (networks or library.networks)]
    usual = "live" if all(c is not None and c.quiz_target for c in chats) else "daily"
    mode = _words(value("mode")) or usual
    if mode not in MODES:
        fail("mode", "upload.bad_mode", value=mode, known=", ".join(MODES))
    if networks is None:
        known = ", ".join(network_title(name, messages.language()) for name in registry())
        fail("networks", "upload.bad_networks", value=str(value("networks")), known=known)
    interval = str(value("interval") or "").strip()
    if problems:
        raise _Refused(problems)
    title = str(value("title") or "").strip() or " ".join(stem.replace("_", " ").split())
    text = str(value("text") or "").strip()
    at = datetime.combine(day, moment)  # type: ignore[arg-type]
    title = title or messages.text("upload.quiz_title")
    return QuizHeader(library.id, title, at, mode, text, networks or (), interval)


def _check(
    config: Config,
    library_id: str,
    stage: Path,
    files: list[Path],
    naming: _FileNaming,
    now: datetime,
) -> list[tuple[Event, list]]:
    """The staged files as ``validate`` checks them, and what the events folder and the
    plan already hold; _Refused with every problem."""
    from core.storage import planned_event_ids

    events, errors = load_events(
        config, stage / "events", now=now, planned=planned_event_ids(config.storage)
    )
    problems = [*naming.early, *(naming.problem(error) for error in errors)]
    planned = []
    for event in events:
        try:
            planned.append((event, expand(event, config)))
        except Exception as exc:  # as check_events: a bad file costs only itself
            problems.append(naming.problem(as_problem(event.source, exc)))
    for event, _ in planned:
        source = Path(event.source)
        where = EventFileError(source, "library", "")
        if event.library != library_id:
            text = messages.text("upload.other_library", library=event.library, own=library_id)
            problems.append(naming.problem(_with(where, text)))
        if (config.events_dir / source.name).exists():
            text = messages.text("upload.name_taken", file=source.name)
            problems.append(naming.problem(_with(EventFileError(source, "", ""), text)))
        elif same := _planned_twin(config, event):
            text = messages.text("upload.already_planned", event=same)
            problems.append(naming.problem(_with(EventFileError(source, "", ""), text)))
    if problems:  # in the table's order: the admin fixes it from the top
        raise _Refused([p.line for p in sorted(problems, key=lambda p: p.row)])
    if not planned:
        raise _Refused([messages.text("upload.nothing")])
    return planned


def _with(error: InputError, message: str) -> InputError:
    return EventFileError(error.path, error.field, message, error.line)


def _planned_twin(config: Config, event: Event) -> str:
    """The id of an active event in the plan with the same library, kind, title and time
    (from another file: it would be posted twice), or ""."""
    if not config.storage.is_file():
        return ""
    query = (
        "select id from events where library_id = ? and kind = ? and title = ? "
        "and starts_at = ? and status = 'active' limit 1"
    )
    try:
        with closing(sqlite3.connect(f"{config.storage.as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute(query, [event.library, event.kind, event.title, to_db(event.at)])
            found = row.fetchone()
    except sqlite3.Error:
        return ""
    return found[0] if found else ""


def _lines(
    config: Config, library: LibraryConfig, events: list[tuple[Event, list]]
) -> tuple[PreviewLine, ...]:
    """What goes out, when (local) and where: the actions of each event, a line for each
    time and kind, its networks together."""
    grouped: dict[tuple, list[str]] = {}
    for event, actions in events:
        for action in actions:
            if action.kind in _UNSEEN:
                continue
            kind = event.kind if action.kind == PUBLISH else action.kind
            when = action.due_at.astimezone(library.timezone).replace(second=0, microsecond=0)
            number = int(action.payload.get("number") or 0) if kind == "question" else 0
            options = event.options if action.kind == PUBLISH else ()
            image = event.image.name if action.kind == PUBLISH and event.image else ""
            key = (when, kind, event.title, number, options, image, event.id)
            nets = grouped.setdefault(key, [])
            if action.network not in nets:
                nets.append(action.network)
    lines = [
        PreviewLine(when, tuple(nets), kind, title, number, options, image)
        for (when, kind, title, number, options, image, _), nets in grouped.items()
    ]
    return tuple(sorted(lines, key=lambda line: (line.when, line.title, line.number)))


def _preview_text(
    library: LibraryConfig, source: str, lines: tuple[PreviewLine, ...], events
) -> str:
    language = messages.language()
    parts = [messages.text("upload.preview_header", file=source, library=library.name)]
    for line in lines[:SHOWN_LINES]:
        kind = messages.text(_KINDS.get(line.kind, "upload.kind_other"))
        if line.number:
            kind = messages.text("upload.question_number", kind=kind, number=line.number)
        text = messages.text(
            "upload.preview_line",
            when=_local(line.when),
            networks=", ".join(network_title(n, language) for n in line.networks),
            kind=kind,
            title=line.title,
        )
        if line.options:
            text += messages.text("upload.preview_options", options=" / ".join(line.options))
        if line.image:
            text += messages.text("upload.preview_image", image=line.image)
        parts.append(text)
    if len(lines) > SHOWN_LINES:
        parts.append(messages.text("upload.more", count=len(lines) - SHOWN_LINES))
    for event, _ in events:
        if event.questions:
            parts.append(messages.text("upload.questions", title=event.title))
            for number, question in enumerate(event.questions[:SHOWN_LINES], start=1):
                words = " ".join(question.text.split())
                words = words if len(words) <= 80 else words[:79] + "…"
                parts.append(f"{number}. {words}")
            if len(event.questions) > SHOWN_LINES:
                more = len(event.questions) - SHOWN_LINES
                parts.append(messages.text("upload.more", count=more))
    zone = library.timezone.key
    parts.append(messages.text("upload.preview_footer", count=len(events), zone=zone))
    return "\n".join(parts)


def _local(moment: datetime) -> str:
    """ "сб 05.12.2026 18:00" in the current language."""
    weekday = messages.text("upload.weekdays").split()[moment.weekday()]
    return f"{weekday} {moment.strftime(messages.text('upload.date_format'))}"


def _refusal(name: str, problems: Sequence[str]) -> UploadRefused:
    shown = list(problems[:SHOWN_PROBLEMS])
    if len(problems) > SHOWN_PROBLEMS:
        shown.append(messages.text("upload.more", count=len(problems) - SHOWN_PROBLEMS))
    header = messages.text("upload.refused_header", file=name, count=len(problems))
    return UploadRefused(tuple(problems), "\n".join([header, *shown]))


# ---- reading a table, bounded ------------------------------------------------------------


def _tables(name: str, data: bytes) -> list[tuple[str, list[tuple[int, list[object]]]]]:
    """Each sheet's title and its filled rows (number, cells), at most MAX_ROWS × MAX_COLUMNS."""
    if Path(name).suffix.lower() == ".csv":
        return [("", _bounded(_csv_rows(name, data), name))]
    from openpyxl import load_workbook  # heavy: only spreadsheets need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        detail = " ".join(str(exc).split())[:200]
        raise _Refused([messages.text("upload.bad_xlsx", file=name, detail=detail)]) from None
    try:
        tables = []
        for sheet in book.worksheets:
            # The declared size may be a million rows by 16384 columns: forget it and read
            # only the cells there are, row by row (as bot.quiz.importer does).
            sheet.reset_dimensions()
            where = f"{name}, «{sheet.title}»" if len(book.worksheets) > 1 else name
            tables.append((sheet.title, _bounded(sheet.iter_rows(values_only=True), where)))
        return tables
    finally:
        book.close()


def _bounded(rows, where: str) -> list[tuple[int, list[object]]]:
    """The filled rows with their numbers; _Refused at a filled cell past the bounds."""
    from openpyxl.utils import get_column_letter

    table = []
    for number, row in enumerate(rows, start=1):
        filled = [index for index, value in enumerate(row) if _filled(value)]
        if not filled:
            continue
        if number > MAX_ROWS:
            text = messages.text("upload.too_many_rows", where=where, limit=MAX_ROWS, row=number)
            raise _Refused([text])
        if filled[-1] >= MAX_COLUMNS:
            column = get_column_letter(filled[-1] + 1)
            text = messages.text(
                "upload.too_many_columns", where=where, limit=MAX_COLUMNS, row=number, column=column
            )
            raise _Refused([text])
        table.append((number, list(row[:MAX_COLUMNS])))
    return table


def _filled(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _csv_rows(name: str, data: bytes):
    """The rows of a CSV in UTF-8 (a BOM or not), UTF-16 or Windows-1251, `;` or `,`."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("cp1251")  # Russian Excel's plain "CSV"
    except UnicodeDecodeError:
        raise _Refused([messages.text("upload.bad_encoding", file=name)]) from None
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        detail = " ".join(str(exc).split())[:200]
        raise _Refused([messages.text("upload.bad_csv", file=name, detail=detail)]) from None


def _words(value: object) -> str:
    return " ".join(str(value or "").casefold().replace("ё", "е").split())


# ---- staging, confirm, cancel ------------------------------------------------------------


def staging_root(config: Config) -> Path:
    """Where uploads wait for their confirmation: beside the database."""
    return config.storage.parent / "uploads"


def _new_stage(config: Config, library_id: str, name: str, now: datetime) -> Path:
    root = staging_root(config)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    stage = root / secrets.token_hex(8)
    stage.mkdir(mode=0o700)
    (stage / "events").mkdir()
    return stage


def _write_meta(stage: Path, library_id: str, name: str, now: datetime, files: list[Path]):
    meta = {
        "library": library_id,
        "source": name,
        "created": now.isoformat(),
        "files": [path.name for path in files],
    }
    (stage / "upload.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _read_meta(stage: Path) -> dict | None:
    try:
        return json.loads((stage / "upload.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def upload_library(config: Config, token: str) -> str | None:
    """The library an upload waiting for confirmation was made for; None if there is none."""
    if not _TOKEN.match(token):
        return None
    meta = _read_meta(staging_root(config) / token)
    return meta["library"] if meta else None


def confirm_upload(config: Config, token: str) -> tuple[Path, ...]:
    """Move the upload's event files into the events folder, all or none; the paths.

    UploadNotConfirmed if the token is unknown (confirmed, cancelled, forgotten) or a name
    is already taken in the events folder (nothing is overwritten; the upload stays).
    """
    with messages.use_language(config.language):
        root = staging_root(config)
        stage = root / token
        claimed = root / f"{token}.confirming"
        if not _TOKEN.match(token) or _read_meta(stage) is None:
            raise UploadNotConfirmed(messages.text("upload.gone"))
        try:
            os.rename(stage, claimed)  # a second confirm (or a cancel) finds nothing
        except OSError:
            raise UploadNotConfirmed(messages.text("upload.gone")) from None
        meta = _read_meta(claimed) or {"files": []}
        try:
            written = _move_all(config, token, [claimed / "events" / f for f in meta["files"]])
        except UploadNotConfirmed:
            os.rename(claimed, stage)  # it may still be cancelled, or confirmed once fixed
            raise
        shutil.rmtree(claimed, ignore_errors=True)
        log.info("upload %s confirmed: %s", token, ", ".join(p.name for p in written))
        return written


def _move_all(config: Config, token: str, files: list[Path]) -> tuple[Path, ...]:
    """Copy each file under a name the loader skips, then give each its name with a hard
    link (which never replaces a file); on any failure undo every step."""
    folder = config.events_dir
    parts: list[Path] = []
    written: list[Path] = []
    try:
        for number, file in enumerate(files):
            part = folder / f".upload-{token}-{number}.part"  # hidden, not *.toml: not read
            shutil.copyfile(file, part)
            parts.append(part)
        for part, file in zip(parts, files, strict=True):
            final = folder / file.name
            try:
                os.link(part, final)
            except FileExistsError:
                text = messages.text("upload.name_taken", file=file.name)
                raise UploadNotConfirmed(text) from None
            except OSError:  # a file system without hard links: check, then rename
                if final.exists():
                    text = messages.text("upload.name_taken", file=file.name)
                    raise UploadNotConfirmed(text) from None
                os.replace(part, final)
            written.append(final)
    except UploadNotConfirmed:
        _undo(written, parts)
        raise
    except OSError as exc:
        _undo(written, parts)
        detail = exc.strerror or type(exc).__name__
        raise UploadNotConfirmed(messages.text("upload.cannot_write", detail=detail)) from None
    for part in parts:
        part.unlink(missing_ok=True)
    return tuple(written)


def _undo(written: list[Path], parts: list[Path]) -> None:
    for path in [*written, *parts]:
        path.unlink(missing_ok=True)


def cancel_upload(config: Config, token: str) -> bool:
    """Forget an upload waiting for confirmation (nothing is left of it); False if none was
    waiting (confirmed, cancelled or forgotten already: a Cancel under an old preview)."""
    if not _TOKEN.match(token) or _read_meta(staging_root(config) / token) is None:
        return False
    claimed = staging_root(config) / f"{token}.cancelling"
    try:
        os.rename(staging_root(config) / token, claimed)  # a confirm under way finds nothing
    except OSError:
        return False
    _remove(claimed)
    return True


def _forget_old(config: Config, now: datetime) -> None:
    """Uploads nobody confirmed or cancelled within ``KEEP``, and leftovers of a crash."""
    root = staging_root(config)
    if not root.is_dir():
        return
    for stage in root.iterdir():
        meta = _read_meta(stage)
        try:
            old = now - datetime.fromisoformat(meta["created"]) > KEEP
        except (TypeError, ValueError, KeyError):  # no metadata: by the folder's own time
            try:
                old = time_module.time() - stage.stat().st_mtime > KEEP.total_seconds()
            except OSError:
                old = False
        if old:
            _remove(stage)


def _remove(stage: Path | None) -> None:
    if stage is not None:
        shutil.rmtree(stage, ignore_errors=True)


# ---- small helpers -----------------------------------------------------------------------


def _safe_name(filename: str) -> str:
    """The file's own name, without folders or line breaks, not too long."""
    name = " ".join(Path(str(filename).replace("\\", "/")).name.split())
    if name in ("", ".", ".."):
        return "upload"
    stem, suffix = os.path.splitext(name)
    return stem[:80] + suffix[:10]


def _megabytes(size: int, up: bool = False) -> str:
    """Megabytes to one decimal; ``up``: rounded up, so a file just over the limit shows over."""
    tenths = size / 1024 / 1024 * 10
    return f"{(math.ceil(tenths) if up else math.floor(tenths)) / 10:.1f}"
