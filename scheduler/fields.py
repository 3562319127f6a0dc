"""What every event file shares: the announcement each kind builds on, and its fields.

``Fields`` reads one file's keys, each failure naming the file, the line and the field;
``announcement`` reads the parts every kind has (title, text, time, networks, image,
reminders, repeat). The parsers of each kind (``scheduler.events`` and the kind modules)
build on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from core.config import LibraryConfig, parse_duration
from core.errors import EventFileError
from core.messages import language, text
from core.networks import Network, names
from core.networks import network as network_of
from core.quiz_model import Question, QuizSettings
from core.texts import TextError, check_template
from core.tomlfile import key_name, line_of, nearest, or_join, say_span, shown, unknown_key
from scheduler.recurrence import YEARS, Recurrence, RepeatError, parse_repeat

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_REMINDER = timedelta(days=366)  # the longest a reminder may come before its event
ANNOUNCEMENT_KEYS = (
    *("kind", "library", "title", "text", "at", "networks", "image", "text_by_network"),
    *("remind_before", "repeat"),
)
PNG_SIGNATURE, JPEG_START = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
# What a picture renamed to .png/.jpg often really is (a phone photo, a web download).
_OTHER_FORMATS = {b"GIF8": "GIF", b"RIFF": "WebP", b"BM": "BMP", b"%PDF": "PDF"}
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
    # kind "poll": the question and options (a native poll on each network)
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


class Fields:
    """Typed access to one event file's keys; every failure names file, line and field."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path, self.text, self.data = path, text, data
        self.known: Collection[str] = ANNOUNCEMENT_KEYS  # the top-level keys of its kind

    def fail(self, key: str, message: str, *sub: str) -> EventFileError:
        # A key of an inline table ({ key = "..." }) has no line of its own: name the table's.
        line = line_of(self.text, (key, *sub)) or (line_of(self.text, (key,)) if sub else None)
        return EventFileError(self.path, ".".join(map(key_name, (key, *sub))), message, line)

    def refuse_unknown(self, known: Collection[str], where: str) -> None:
        """Fail on the first key that the kind does not read; ``where`` says the kind
        in a sentence (" в опросе", " in a poll")."""
        self.known = known
        for key in self.data:
            if key not in known:
                raise self.fail(key, unknown_key(key, known, where))

    def misplaced(self, table: str, keys: Iterable[str]) -> None:
        """Fail on a top-level key written below a ``[table]`` header, where it belongs to it."""
        for key in keys:
            if key in self.known:
                raise self.fail(table, text("events.misplaced", table=table, key=key), key)

    def text_field(self, key: str, required: bool = True, limit: int = 10_000) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, text("config.required"))
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, text("events.non_empty_text"))
        if len(value) > limit:
            raise self.fail(key, text("events.too_long", length=len(value), limit=limit))
        return value.strip()

    def whole(self, key: str, default: int, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``; ``default`` when the key is absent."""
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, text("events.whole_from_to", low=low, high=high))
        return value


def announcement(fields: Fields, library: LibraryConfig) -> Announcement:
    """The parts every kind shares: title, text, time, networks, image, reminders, repeat."""
    title = fields.text_field("title", limit=200)
    body = fields.text_field("text", limit=4000)
    networks = _networks(fields, library)
    per_network = fields.data.get("text_by_network", {})
    if not isinstance(per_network, dict):
        example = f'[text_by_network] {names()[-1]} = "..."'
        raise fields.fail("text_by_network", text("events.text_by_network", example=example))
    overrides = []
    fields.misplaced("text_by_network", per_network)
    for network, value in per_network.items():
        if network not in names():
            near = nearest(network, names())
            hint = (
                text("events.did_you_mean", near=near)
                if near
                else text("events.use", choices=_either())
            )
            raise fields.fail(
                "text_by_network",
                text("events.unknown_network", value=shown(network), hint=hint),
                network,
            )
        if not isinstance(value, str) or not value.strip():
            raise fields.fail("text_by_network", text("events.non_empty_text"), network)
        overrides.append((network, value.strip()))
    for key, template in [("text", body), *((f"text_by_network.{n}", t) for n, t in overrides)]:
        try:
            check_template(template)
        except TextError as exc:
            raise fields.fail(key, str(exc)) from None
    at = local_time(fields, "at", library)
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


def _either() -> str:
    """The networks' names as a choice: "a or b"."""
    return or_join(names())


def _repeat(fields: Fields, at: datetime) -> Recurrence | None:
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


def _reminders(fields: Fields) -> tuple[timedelta, ...]:
    """``remind_before = ["1d", "2h"]``: reminder posts that long before the event."""
    value = fields.data.get("remind_before", [])
    parsed = [parse_duration(v) for v in value] if isinstance(value, list) else [None]
    if any(p is None or p.total_seconds() <= 0 for p in parsed) or len(parsed) > 5:
        raise fields.fail("remind_before", text("events.remind_before"))
    for raw, before in zip(value, parsed, strict=True):
        if before > MAX_REMINDER:
            raise fields.fail(
                "remind_before",
                text("events.reminder_too_long", value=shown(raw), most=say_span(MAX_REMINDER)),
            )
    return tuple(sorted(set(parsed), reverse=True))


def _networks(fields: Fields, library: LibraryConfig) -> tuple[str, ...]:
    value = fields.data.get("networks", list(library.networks))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        listed = ", ".join(f'"{name}"' for name in names())
        raise fields.fail("networks", text("events.networks_list", listed=listed))
    for network in value:
        if network not in names():
            hint = text("events.use", choices=_either())
            raise fields.fail(
                "networks", text("events.unknown_network", value=shown(network), hint=hint)
            )
        if network not in library.networks:
            raise fields.fail(
                "networks", text("events.no_section", library=library.id, network=network)
            )
    return tuple(n for n in names() if n in value)


def local_time(fields: Fields, key: str, library: LibraryConfig) -> datetime:
    """A local date-time in the library's zone; an explicit offset is refused."""
    value = fields.data.get(key)
    if value is None:
        raise fields.fail(key, text("events.time_required"))
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace(" ", "T"))
        except ValueError:
            raise fields.fail(key, text("events.not_date_time", value=shown(value))) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise fields.fail(key, text("events.needs_time_of_day"))
    if isinstance(value, time) or not isinstance(value, datetime):
        raise fields.fail(key, text("events.local_date_time"))
    if value.tzinfo is not None:
        raise fields.fail(key, text("events.no_offset", zone=library.timezone.key))
    first, last = YEARS
    if not first <= value.year <= last:
        raise fields.fail(
            key, text("events.years", first=first, last=last, value=value.isoformat())
        )
    return value.replace(tzinfo=library.timezone)


def _image(fields: Fields) -> Path | None:
    value = fields.data.get("image")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fields.fail("image", text("events.file_name"))
    path = (fields.path.parent / value).resolve()
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise fields.fail("image", text("events.png_or_jpeg", value=repr(value)))
    if not path.is_file():
        raise fields.fail("image", text("events.image_not_found", value=repr(value)))
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise fields.fail("image", text("events.image_too_big", value=repr(value)))
    if problem := image_problem(path):
        raise fields.fail("image", text("events.image_problem", value=repr(value), problem=problem))
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
                    other = or_join(("HEIC", "AVIF"))
                if other:
                    return text("events.image_other_format", format=other)
                return text("events.image_not_image")
    except OSError as exc:
        return text("events.image_unreadable", reason=exc.strerror)
    if size is None or 0 in size:
        return text("events.image_damaged", format=kind)
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


def on_able_networks(
    fields: Fields, base: Announcement, able: Callable[[Network], bool], what: str
) -> Announcement:
    """``base`` on the networks that can run ``what`` ("a contest"): networks listed in
    the file must all be able; left to the library's defaults, those that cannot are
    left out (and none left is a mistake)."""
    if "networks" in fields.data:
        for name in base.networks:
            if not able(network_of(name)):
                title = network_of(name).title(language())
                raise fields.fail("networks", text("events.cannot_run_on", what=what, title=title))
        return base
    kept = tuple(name for name in base.networks if able(network_of(name)))
    if not kept:
        raise fields.fail("networks", text("events.cannot_run_here", what=what))
    return dataclasses.replace(base, networks=kept)
