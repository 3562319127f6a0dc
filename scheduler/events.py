"""Event files: one TOML file per event, in the events folder the config names.

``load_event`` turns a file into a typed event or raises EventFileError naming
the file, the line and the field. Each ``kind`` has its own parser in ``PARSERS``:
announcements and polls here, quizzes, giveaways and contests in their own modules, on
the fields every kind shares (``scheduler.fields``). Every kind refuses a
key it does not read (a typo would otherwise silently do nothing), and an image
must be a PNG or JPEG inside, not only by its name.

``load_events`` reads the folder: one problem per bad file, per file whose name
only looks like an event file (``club.toml.txt``), per copy of another file's
event, and, given the time, per event that has passed and is not in the plan yet.
A bad file costs only itself: whatever goes wrong while reading it (even a bug of
ours) becomes its problem (``as_problem``), and the other files load.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from time import sleep, time_ns
from typing import Any

from core.config import Config, LibraryConfig
from core.errors import EventFileError, InputError
from core.messages import text, use_language
from core.networks import registry
from core.texts import TextError
from core.tomlfile import line_of, read_toml
from scheduler.contest_events import parse_contest
from scheduler.fields import (
    ANNOUNCEMENT_KEYS,
    Announcement,
    Event,
    Fields,
    announcement,
    local_time,
)
from scheduler.giveaway_events import parse_giveaway
from scheduler.quiz_events import parse_quiz
from scheduler.recurrence import occurrences

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
POLL_KEYS = (*ANNOUNCEMENT_KEYS, "question", "options", "multiple", "close_at")


def load_event(path: Path, config: Config) -> Event:
    """Parse and check one event file against the config, its problems in its language."""
    with use_language(config.language):
        return _load_event(path, config)


def _load_event(path: Path, config: Config) -> Event:
    data, source = read_toml(path, EventFileError)
    fields = Fields(path, source, data)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in PARSERS:
        known = ", ".join(sorted(PARSERS))
        if isinstance(kind, str | None):
            raise fields.fail("kind", text("events.unknown_kind", value=repr(kind), known=known))
        raise fields.fail("kind", text("events.kind_not_text", known=known))
    if not _STEM.match(path.stem):
        raise EventFileError(path, "", text("events.file_name_form"))
    library_id = data.get("library")
    library = config.library(library_id) if isinstance(library_id, str) else None
    if library is None:
        known = ", ".join(lib.id for lib in config.libraries)
        raise fields.fail("library", text("events.no_library", value=repr(library_id), known=known))
    event = PARSERS[kind](fields, library)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return replace(event, id=f"{library.id}/{path.stem}", source=str(path), digest=digest)


class ParsedFiles:
    """Events parsed before, kept by their file's size and mtime_ns and their images'
    (``load_events`` with it re-parses only what changed: 1,000 unchanged files took 0.6 s
    of the event loop at every refresh).

    Not trusted: a file or image changed in the last ``RECENT_NS`` (an edit within the
    clock's granularity keeps the mtime), and everything at every ``full_every``-th load.
    """

    RECENT_NS = 2_000_000_000

    def __init__(self, full_every: int = 10) -> None:
        self.full_every = full_every
        self.loads = 0
        self._config: Config | None = None
        # file → (the file and its images, their stamp, the event)
        self._events: dict[Path, tuple[list[Path], tuple[int, ...], Event]] = {}

    def begin(self, config: Config) -> bool:
        """Start one load; False when this load re-parses everything."""
        if config is not self._config:  # events are checked against the config
            self._config, self._events = config, {}
        self.loads += 1
        return self.loads % self.full_every != 0

    def get(self, path: Path) -> Event | None:
        kept = self._events.get(path)
        if kept is not None and _stamp(kept[0]) == kept[1]:
            return kept[2]
        return None

    def keep(self, path: Path, files: list[Path], stamp: tuple[int, ...], event: Event) -> None:
        self._events[path] = (files, stamp, event)

    def drop(self, path: Path) -> None:
        self._events.pop(path, None)

    def forget(self, seen: set[Path]) -> None:
        for path in set(self._events) - seen:
            del self._events[path]


def _stamp(files: list[Path]) -> tuple[int, ...] | None:
    """Size, mtime_ns and inode of each file (an event file, its images); None if one is
    missing or was changed too recently to be told from an edit in the same tick."""
    stamp: list[int] = []
    recent = time_ns() - ParsedFiles.RECENT_NS
    for file in files:
        try:
            found = file.stat()
        except OSError:
            return None
        if found.st_mtime_ns > recent:
            return None
        stamp += [found.st_size, found.st_mtime_ns, found.st_ino]
    return tuple(stamp)


def _images(value: Any) -> list[Path]:
    """Every path inside an event (its image, its questions' images)."""
    if isinstance(value, Path):
        return [value]
    if isinstance(value, list | tuple):
        return [path for item in value for path in _images(item)]
    if is_dataclass(value) and not isinstance(value, type):
        return [
            path for item in dataclass_fields(value) for path in _images(getattr(value, item.name))
        ]
    return []


def _load_kept(path: Path, config: Config, kept: ParsedFiles | None, trust: bool) -> Event:
    if kept is None:
        return load_event(path, config)
    if trust and (event := kept.get(path)) is not None:
        return event
    before = _stamp([path])  # before reading: an edit while parsing shows next time
    kept.drop(path)
    event = load_event(path, config)  # a file that does not load is read again next time
    files = [path, *(path.parent / image for image in _images(event))]
    after = _stamp(files)
    if before is not None and after is not None and after[: len(before)] == before:
        kept.keep(path, files, after, event)
    return event


def load_events(
    config: Config,
    folder: Path | None = None,
    *,
    now: datetime | None = None,
    planned: Collection[str] = (),
    kept: ParsedFiles | None = None,
) -> tuple[list[Event], list[InputError]]:
    """Every ``*.toml`` in the events folder: the good events and the problems, by file name.

    ``planned`` are the ids of events already in the plan. With ``now``, an event not
    planned yet whose every time is past the misfire grace is refused: it would never
    go out. A planned one stays, whatever its time: it was posted, or is marked missed.
    Of two files with the same event, the planned one (else the first by name) loads.
    Problems are told in the config's language.
    """
    with use_language(config.language):
        return _load_events(config, folder, now, planned, kept)


def _load_events(
    config: Config,
    folder: Path | None,
    now: datetime | None,
    planned: Collection[str],
    kept: ParsedFiles | None,
) -> tuple[list[Event], list[InputError]]:
    folder = folder or config.events_dir
    try:
        paths = sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return [], [EventFileError(folder, "events_dir", text("events.folder_not_found"))]
    except OSError as exc:
        problem = text("config.cannot_read", reason=exc.strerror)
        return [], [EventFileError(folder, "events_dir", problem)]
    events, problems = [], []
    trust = kept.begin(config) if kept is not None else False
    for path in paths:
        # In the running bot this runs in a worker thread: between files, the event loop's
        # thread may take the interpreter lock at once rather than after Python's switch
        # interval (5 ms, at each of a post's dozens of system calls: a full re-read of
        # 1,000 files made posts due meanwhile tens of milliseconds late).
        sleep(0)
        if not path.is_file():
            continue  # a subfolder (an archive of past events, say) is not read
        if path.name.endswith(".toml"):
            try:
                events.append(_load_kept(path, config, kept, trust))
            except Exception as exc:  # whatever it is, it costs only this file
                problems.append(as_problem(path, exc))
        elif ".toml" in path.name.lower() and not path.name.startswith("."):
            problems.append(_not_read(path))  # hidden files: an editor's swap files
    if kept is not None:
        kept.forget(set(paths))
    if now is not None:
        grace = config.schedule.grace("publish") or timedelta(0)
        events, passed = _refuse_passed(events, now - grace, planned)
        problems += passed
    events, copies = _refuse_copies(events, planned)
    problems += copies
    return events, sorted(problems, key=lambda problem: problem.path)


def as_problem(source: str | Path, exc: Exception) -> InputError:
    """What went wrong with one event file, as its problem: the error itself if it is one.

    Anything else (a bug of ours, a file that makes a library fail) is named by its kind
    and message, on one line, so a librarian can report it and the other files still load.
    """
    if isinstance(exc, InputError):
        return exc
    if isinstance(exc, TextError):
        return EventFileError(source, "text", str(exc))
    message = " ".join(str(exc).split())[:300] or text("events.no_details")
    return EventFileError(source, "", text("events.bug", error=f"{type(exc).__name__}: {message}"))


def _not_read(path: Path) -> EventFileError:
    """``club.toml.txt``, ``club.TOML``: the bot reads only names ending in ``.toml``."""
    cut = path.name.lower().rfind(".toml")
    proper = path.with_name(path.name[:cut] + ".toml")
    if proper.exists():
        advice = text("events.copy_of", name=proper.name)
    else:
        advice = text("events.rename_to", name=proper.name)
    return EventFileError(path, "", text("events.not_read", advice=advice))


def _refuse_passed(
    events: list[Event], too_late: datetime, planned: Collection[str]
) -> tuple[list[Event], list[InputError]]:
    """Events not in the plan whose every time is before ``too_late``: they cannot go out."""
    kept, problems = [], []
    for event in events:
        if event.id in planned:
            kept.append(event)
            continue
        last = occurrences(event.at.replace(tzinfo=None), event.repeat, event.at.tzinfo)[-1]
        if last >= too_late:
            kept.append(event)
            continue
        when = f"{last:%Y-%m-%d %H:%M}"
        if event.repeat is None:
            field, message = "at", text("events.passed", when=when)
        else:
            field, message = "repeat", text("events.all_passed", when=when)
        problems.append(EventFileError(event.source, field, message, _line(event, field)))
    return kept, problems


def _refuse_copies(
    events: list[Event], planned: Collection[str]
) -> tuple[list[Event], list[InputError]]:
    """Two files with the same event would post it twice: the second one is refused.

    The same event: the same library, kind, title (a poll's question) and ``at``, and at
    least one network in common. The planned one, else the first by file name, stays.
    """
    seen: dict[tuple, list[Event]] = {}
    kept, problems = [], []
    for event in sorted(events, key=lambda e: e.id not in planned):  # stable: by name after
        name = " ".join((event.question or event.title).split()).casefold()
        same = seen.setdefault((event.library, event.kind, name, event.at), [])
        first = next((e for e in same if set(e.networks) & set(event.networks)), None)
        if first is None:
            same.append(event)
            kept.append(event)
            continue
        message = text("events.same_event", name=Path(first.source).name)
        problems.append(EventFileError(event.source, "", message))
    return sorted(kept, key=lambda e: e.source), problems


def _line(event: Event, key: str) -> int | None:
    try:
        return line_of(Path(event.source).read_bytes().decode("utf-8-sig"), (key,))
    except (OSError, UnicodeDecodeError):
        return None


def _parse_announcement(fields: Fields, library: LibraryConfig) -> Announcement:
    fields.refuse_unknown(ANNOUNCEMENT_KEYS, text("events.in_announcement"))
    return announcement(fields, library)


POLL_QUESTION_LIMIT, POLL_OPTION_LIMIT = 300, 100
# A poll goes to every network of the event: the fewest options any network takes holds.
POLL_OPTIONS = (2, min(net.limits.poll_options for net in registry().values()))
MAX_POLL_DAYS = 30  # a native poll closes by itself at most about a month after sending


def _parse_poll(fields: Fields, library: LibraryConfig) -> Announcement:
    """A poll: a question with options, to each network; an intro text is optional."""
    fields.refuse_unknown(POLL_KEYS, text("events.in_poll"))
    data = dict(fields.data)
    question = fields.text_field("question", limit=POLL_QUESTION_LIMIT)
    # The intro text may be left out, and the title defaults to the question.
    fields.data = {**data, "text": data.get("text") or ".", "title": data.get("title") or question}
    base = announcement(fields, library)
    fields.data = data
    raw = data.get("options")
    low, high = POLL_OPTIONS
    if not isinstance(raw, list) or not low <= len(raw) <= high:
        raise fields.fail("options", text("events.poll_options", low=low, high=high))
    options = []
    for number, option in enumerate(raw, start=1):
        if not isinstance(option, str) or not option.strip():
            raise fields.fail("options", text("events.answer_empty", number=number))
        if len(option.strip()) > POLL_OPTION_LIMIT:
            raise fields.fail(
                "options",
                text("events.answer_too_long", number=number, limit=POLL_OPTION_LIMIT),
            )
        options.append(option.strip())
    if len(set(options)) != len(options):
        raise fields.fail("options", text("events.answers_same"))
    multiple = data.get("multiple", False)
    if not isinstance(multiple, bool):
        raise fields.fail("multiple", text("events.true_or_false"))
    closes_at = local_time(fields, "close_at", library) if "close_at" in data else None
    if closes_at is not None and not timedelta(minutes=1) <= closes_at - base.at <= timedelta(
        days=MAX_POLL_DAYS
    ):
        raise fields.fail("close_at", text("events.close_at", days=MAX_POLL_DAYS))
    return replace(
        base,
        kind="poll",
        text=(data.get("text") or "").strip(),
        question=question or "",
        options=tuple(options),
        multiple=multiple,
        closes_at=closes_at,
    )


PARSERS: dict[str, Callable[[Fields, LibraryConfig], Event]] = {
    "announcement": _parse_announcement,
    "poll": _parse_poll,
    "quiz": parse_quiz,
    "giveaway": parse_giveaway,
    "contest": parse_contest,
}
