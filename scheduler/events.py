"""Event files: one TOML file per event, in the events folder the config names.

``load_event`` turns a file into a typed event or raises EventFileError naming
the file, the line and the field. Each ``kind`` has its own parser here; later
kinds (quiz, poll, giveaway) register theirs in ``PARSERS``. Every kind refuses a
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
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, is_dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import time_ns
from typing import Any

from core.config import Config, LibraryConfig, parse_duration, say_duration
from core.errors import EventFileError, InputError
from core.quiz_model import Question, QuizSettings
from core.texts import TextError, check_template
from core.tomlfile import key_name, line_of, nearest, read_toml, shown, unknown_key
from scheduler.recurrence import YEARS, Recurrence, RepeatError, occurrences, parse_repeat

NETWORKS = ("telegram", "vk")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_REMINDER = timedelta(days=366)  # the longest a reminder may come before its event
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ANNOUNCEMENT_KEYS = (
    *("kind", "library", "title", "text", "at", "networks", "image", "text_by_network"),
    *("remind_before", "repeat"),
)
POLL_KEYS = (*ANNOUNCEMENT_KEYS, "question", "options", "multiple", "close_at")
PNG_SIGNATURE, JPEG_START = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
# What a picture renamed to .png/.jpg often really is (a phone photo, a web download).
_OTHER_FORMATS = {b"GIF8": "a GIF", b"RIFF": "a WebP", b"BM": "a BMP", b"%PDF": "a PDF"}
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif")  # iPhone photos, AVIF


@dataclass(frozen=True)
class Announcement:
    """A post announcing something: text (and an image) to each network at one time."""

    id: str
    library: str
    title: str
    text: str
    at: datetime  # aware, in the library's time zone
    networks: tuple[str, ...]
    image: Path | None = None
    text_by_network: tuple[tuple[str, str], ...] = ()
    remind_before: tuple[timedelta, ...] = ()
    repeat: Recurrence | None = None
    # kind "poll": the question and options (Telegram sendPoll, VK polls.create)
    question: str = ""
    options: tuple[str, ...] = ()
    multiple: bool = False
    closes_at: datetime | None = None
    # kind "quiz": the questions and how the quiz runs
    questions: tuple[Question, ...] = ()
    quiz: QuizSettings | None = None
    source: str = ""
    digest: str = ""
    kind: str = "announcement"

    def text_for(self, network: str) -> str:
        """The text template for ``network``: its own if given, else the shared one."""
        return dict(self.text_by_network).get(network, self.text)


Event = Announcement


class _Fields:
    """Typed access to one event file's keys; every failure names file, line and field."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path, self.text, self.data = path, text, data
        self.known: Collection[str] = ANNOUNCEMENT_KEYS  # the top-level keys of its kind

    def fail(self, key: str, message: str, *sub: str) -> EventFileError:
        # A key of an inline table ({ vk = "..." }) has no line of its own: name the table's.
        line = line_of(self.text, (key, *sub)) or (line_of(self.text, (key,)) if sub else None)
        return EventFileError(self.path, ".".join(map(key_name, (key, *sub))), message, line)

    def refuse_unknown(self, known: Collection[str], what: str) -> None:
        """Fail on the first key that ``what`` (e.g. "a poll") does not read."""
        self.known = known
        for key in self.data:
            if key not in known:
                raise self.fail(key, unknown_key(key, known, f" in {what}"))

    def misplaced(self, table: str, keys: Iterable[str]) -> None:
        """Fail on a top-level key written below a ``[table]`` header, where it belongs to it."""
        for key in keys:
            if key in self.known:
                raise self.fail(
                    table,
                    f"unknown key in [{table}]; `{key}` belongs above the [{table}] line "
                    f"(keys below a [table] header belong to that table)",
                    key,
                )

    def text_field(self, key: str, required: bool = True, limit: int = 10_000) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be non-empty text")
        if len(value) > limit:
            raise self.fail(key, f"is {len(value)} characters long; the limit is {limit}")
        return value.strip()


def load_event(path: Path, config: Config) -> Event:
    """Parse and check one event file against the config."""
    data, text = read_toml(path, EventFileError)
    fields = _Fields(path, text, data)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in PARSERS:
        what = f"unknown kind {kind!r}" if isinstance(kind, str | None) else "must be text"
        raise fields.fail("kind", f"{what}; known: {', '.join(sorted(PARSERS))}")
    if not _STEM.match(path.stem):
        raise EventFileError(path, "", "file name must be latin letters, digits, '-', '_' or '.'")
    library_id = data.get("library")
    library = config.library(library_id) if isinstance(library_id, str) else None
    if library is None:
        known = ", ".join(lib.id for lib in config.libraries)
        raise fields.fail("library", f"no library {library_id!r} in the config; known: {known}")
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
    """
    folder = folder or config.events_dir
    try:
        paths = sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return [], [EventFileError(folder, "events_dir", "events folder not found")]
    except OSError as exc:
        return [], [EventFileError(folder, "events_dir", f"cannot read: {exc.strerror}")]
    events, problems = [], []
    trust = kept.begin(config) if kept is not None else False
    for path in paths:
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
    message = " ".join(str(exc).split())[:300] or "no details"
    return EventFileError(
        source, "", f"cannot be read ({type(exc).__name__}: {message}); please report this"
    )


def _not_read(path: Path) -> EventFileError:
    """``club.toml.txt``, ``club.TOML``: the bot reads only names ending in ``.toml``."""
    cut = path.name.lower().rfind(".toml")
    proper = path.with_name(path.name[:cut] + ".toml")
    if proper.exists():
        advice = f"a copy of {proper.name}? move it out of the folder"
    else:
        advice = f"rename it to {proper.name}"
    return EventFileError(path, "", f"not read: the name must end in .toml ({advice})")


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
        if event.repeat is None:
            field, what = "at", f"{last:%Y-%m-%d %H:%M} has passed"
        else:
            field, what = "repeat", f"every time has passed, the last on {last:%Y-%m-%d %H:%M}"
        message = f"{what}: nothing of this event would be posted; set a coming time"
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
        message = (
            f"the same event as {Path(first.source).name} (library, kind, title and `at`): "
            "it would be posted twice; delete one of the two files"
        )
        problems.append(EventFileError(event.source, "", message))
    return sorted(kept, key=lambda e: e.source), problems


def _line(event: Event, key: str) -> int | None:
    try:
        return line_of(Path(event.source).read_bytes().decode("utf-8-sig"), (key,))
    except (OSError, UnicodeDecodeError):
        return None


def _parse_announcement(fields: _Fields, library: LibraryConfig) -> Announcement:
    fields.refuse_unknown(ANNOUNCEMENT_KEYS, "an announcement")
    return _announcement(fields, library)


def _announcement(fields: _Fields, library: LibraryConfig) -> Announcement:
    """The parts every kind shares: title, text, time, networks, image, reminders, repeat."""
    title = fields.text_field("title", limit=200)
    body = fields.text_field("text", limit=4000)
    networks = _networks(fields, library)
    per_network = fields.data.get("text_by_network", {})
    if not isinstance(per_network, dict):
        raise fields.fail("text_by_network", 'must be a table such as [text_by_network] vk = "..."')
    overrides = []
    fields.misplaced("text_by_network", per_network)
    for network, value in per_network.items():
        if network not in NETWORKS:
            near = nearest(network, NETWORKS)
            hint = f"did you mean `{near}`?" if near else "use telegram or vk"
            raise fields.fail("text_by_network", f"unknown network {network!r}; {hint}", network)
        if not isinstance(value, str) or not value.strip():
            raise fields.fail("text_by_network", "must be non-empty text", network)
        overrides.append((network, value.strip()))
    for key, template in [("text", body), *((f"text_by_network.{n}", t) for n, t in overrides)]:
        try:
            check_template(template)
        except TextError as exc:
            raise fields.fail(key, str(exc)) from None
    at = _local_time(fields, "at", library)
    return Announcement(
        id="",
        library=library.id,
        title=title or "",
        text=body or "",
        at=at,
        networks=networks,
        image=_image(fields),
        text_by_network=tuple(overrides),
        remind_before=_reminders(fields),
        repeat=_repeat(fields, at),
    )


def _repeat(fields: _Fields, at: datetime) -> Recurrence | None:
    """The optional ``[repeat]`` table: weekly, monthly or daily occurrences of the event."""
    if "repeat" not in fields.data:
        return None
    if isinstance(fields.data["repeat"], dict):
        fields.misplaced("repeat", fields.data["repeat"])
    try:
        return parse_repeat(fields.data["repeat"], at.replace(tzinfo=None))
    except RepeatError as exc:
        path = exc.field.split(".")
        line = line_of(fields.text, tuple(path)) or line_of(fields.text, ("repeat",))
        raise EventFileError(fields.path, exc.field, exc.message, line) from None


def _reminders(fields: _Fields) -> tuple[timedelta, ...]:
    """``remind_before = ["1d", "2h"]``: reminder posts that long before the event."""
    value = fields.data.get("remind_before", [])
    parsed = [parse_duration(v) for v in value] if isinstance(value, list) else [None]
    if any(p is None or p.total_seconds() <= 0 for p in parsed) or len(parsed) > 5:
        raise fields.fail("remind_before", 'must list up to 5 durations such as "1d", "2h"')
    for raw, before in zip(value, parsed, strict=True):
        if before > MAX_REMINDER:
            raise fields.fail(
                "remind_before",
                f"{shown(raw)} is too long: a reminder comes at most "
                f"{say_duration(MAX_REMINDER)} before the event",
            )
    return tuple(sorted(set(parsed), reverse=True))


def _networks(fields: _Fields, library: LibraryConfig) -> tuple[str, ...]:
    value = fields.data.get("networks", list(library.networks))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise fields.fail("networks", 'must be a list such as ["telegram", "vk"]')
    for network in value:
        if network not in NETWORKS:
            raise fields.fail("networks", f"unknown network {network!r}; use telegram or vk")
        if network not in library.networks:
            raise fields.fail(
                "networks", f"library '{library.id}' has no {network} section in the config"
            )
    return tuple(n for n in NETWORKS if n in value)


def _local_time(fields: _Fields, key: str, library: LibraryConfig) -> datetime:
    """A local date-time in the library's zone; an explicit offset is refused."""
    value = fields.data.get(key)
    if value is None:
        raise fields.fail(key, "is required (local date and time, e.g. 2026-12-05T18:00:00)")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace(" ", "T"))
        except ValueError:
            raise fields.fail(
                key, f"{value!r} is not a date and time like 2026-12-05T18:00:00"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise fields.fail(key, "needs a time of day too, e.g. 2026-12-05T18:00:00")
    if isinstance(value, time) or not isinstance(value, datetime):
        raise fields.fail(key, "must be a local date and time like 2026-12-05T18:00:00")
    if value.tzinfo is not None:
        raise fields.fail(
            key,
            f"write local time without an offset; the library's zone ({library.timezone.key}) applies",
        )
    first, last = YEARS
    if not first <= value.year <= last:
        raise fields.fail(key, f"must be in the years {first} to {last}, not {value.isoformat()}")
    return value.replace(tzinfo=library.timezone)


def _image(fields: _Fields) -> Path | None:
    value = fields.data.get("image")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fields.fail("image", "must be a file name")
    path = (fields.path.parent / value).resolve()
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise fields.fail("image", f"{value!r}: only PNG or JPEG images are supported")
    if not path.is_file():
        raise fields.fail("image", f"file {value!r} not found next to the event file")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise fields.fail("image", f"{value!r} is larger than 10 MB")
    if problem := image_problem(path):
        raise fields.fail("image", f"{value!r} {problem}")
    return path


def image_problem(path: Path) -> str | None:
    """Why the file is not a PNG or JPEG the networks will take, or None if it is one.

    The name says nothing: a WebP or a web page saved as ``.jpg`` is refused at post
    time, so the first bytes are read now (and the size, which a cut-off file lacks).
    """
    try:
        with path.open("rb") as file:
            head = file.read(24)
            if head.startswith(PNG_SIGNATURE):
                kind, size = "PNG", _png_size(head)
            elif head.startswith(JPEG_START):
                kind, size = "JPEG", _jpeg_size(file)
            else:
                other = next((n for m, n in _OTHER_FORMATS.items() if head.startswith(m)), None)
                if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
                    other = "a HEIC or AVIF"
                what = f"is {other} file" if other else "is not an image"
                return f"{what}, whatever its name says; save it as PNG or JPEG"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if size is None or 0 in size:
        return f"is a damaged {kind} image (its size cannot be read); save it again"
    return None


def _png_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from the IHDR chunk, which a PNG starts with."""
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _jpeg_size(file) -> tuple[int, int] | None:
    """Width and height from the first SOF segment, walking the segments from the start."""
    file.seek(2)
    while len(head := file.read(4)) == 4 and head[0] == 0xFF:
        marker, length = head[1], int.from_bytes(head[2:4], "big")
        if marker == 0xFF:  # a fill byte before the marker
            file.seek(-3, 1)
            continue
        # SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = file.read(5)
            if len(frame) < 5:
                return None
            return int.from_bytes(frame[3:5], "big"), int.from_bytes(frame[1:3], "big")
        if length < 2:
            return None
        file.seek(length - 2, 1)
    return None


POLL_QUESTION_LIMIT, POLL_OPTION_LIMIT = 300, 100
POLL_OPTIONS = (2, 10)  # Telegram takes up to 12, VK up to 10: the smaller holds for both
MAX_POLL_DAYS = 30  # Telegram closes a poll at most about a month after sending


def _parse_poll(fields: _Fields, library: LibraryConfig) -> Announcement:
    """A poll: a question with options, to both networks; an intro text is optional."""
    fields.refuse_unknown(POLL_KEYS, "a poll")
    data = dict(fields.data)
    question = fields.text_field("question", limit=POLL_QUESTION_LIMIT)
    # The intro text may be left out, and the title defaults to the question.
    fields.data = {**data, "text": data.get("text") or ".", "title": data.get("title") or question}
    base = _announcement(fields, library)
    fields.data = data
    raw = data.get("options")
    low, high = POLL_OPTIONS
    if not isinstance(raw, list) or not low <= len(raw) <= high:
        raise fields.fail("options", f"must list {low} to {high} answers")
    options = []
    for number, option in enumerate(raw, start=1):
        if not isinstance(option, str) or not option.strip():
            raise fields.fail("options", f"answer {number} must be non-empty text")
        if len(option.strip()) > POLL_OPTION_LIMIT:
            raise fields.fail(
                "options", f"answer {number} is longer than {POLL_OPTION_LIMIT} characters"
            )
        options.append(option.strip())
    if len(set(options)) != len(options):
        raise fields.fail("options", "two answers are the same")
    multiple = data.get("multiple", False)
    if not isinstance(multiple, bool):
        raise fields.fail("multiple", "must be true or false")
    closes_at = _local_time(fields, "close_at", library) if "close_at" in data else None
    if closes_at is not None and not timedelta(minutes=1) <= closes_at - base.at <= timedelta(
        days=MAX_POLL_DAYS
    ):
        raise fields.fail(
            "close_at", f"must be between 1 minute and {MAX_POLL_DAYS} days after `at`"
        )
    return replace(
        base,
        kind="poll",
        text=(data.get("text") or "").strip(),
        question=question or "",
        options=tuple(options),
        multiple=multiple,
        closes_at=closes_at,
    )


PARSERS: dict[str, Callable[[_Fields, LibraryConfig], Event]] = {
    "announcement": _parse_announcement,
    "poll": _parse_poll,
}

import scheduler.contest_events  # noqa: E402, F401  (registers PARSERS["contest"])
import scheduler.giveaway_events  # noqa: E402, F401  (registers PARSERS["giveaway"])
import scheduler.quiz_events  # noqa: E402, F401  (registers PARSERS["quiz"]; imports this module)
