"""A content plan: a table with one row per post, turned into announcement and poll event files.

Columns, by their header in the first filled row (Russian or English, any case, any
order; ``HEADERS`` lists every spelling)::

    дата     / date       the local date: 2026-12-05, 05.12.2026 or a date cell (required)
    время    / time       the local time: 18:00, 18.00 or a time cell (required)
    текст    / text       the post's text, a template like an event file's (required);
                          a poll: the question, then the answers, one a line or after ";"
    сети     / networks   the networks' names as event files write them, or their titles,
                          separated by "," or spaces; empty or "все": the library's networks
    вид      / kind       анонс (announcement, the default) or опрос (poll)
    название / title      optional; default: the text's first line, cut short
    картинка / image      optional: a PNG or JPEG already in the events folder
    №        / number     optional, ignored (the librarian's own order)

Why one event file per row, not one per day: an event has one time, and each row is a
post with its own; a file per post lets an admin cancel or edit one post (``/cancel``)
without touching the others, and the usual checks (a time passed, the same post twice)
name the row's own file. Each file's name is its date, time and a digest of its content
(``plan-20261205-1800-3f2a9c.toml``): the same row uploaded twice gets the same name,
which the events folder already holds, so it is refused rather than posted twice.

Problems name the row and the column as the table spells them, in the current language
(``core.messages``); the event files written are checked by the event-file loader itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from core import messages
from core.networks import registry

HEADERS: Mapping[str, tuple[str, ...]] = {
    "date": ("дата", "день", "date", "day"),
    "time": ("время", "time"),
    "text": ("текст", "текст поста", "text"),
    "networks": ("сети", "сеть", "соцсети", "networks", "network"),
    "kind": ("вид", "тип", "kind", "type"),
    "title": ("название", "заголовок", "title"),
    "image": ("картинка", "изображение", "image", "picture"),
    "number": ("№", "n", "no", "номер", "number", "#"),
}
REQUIRED = ("date", "time", "text")
KINDS: Mapping[str, tuple[str, ...]] = {
    "announcement": ("", "анонс", "пост", "публикация", "announcement", "post"),
    "poll": ("опрос", "голосование", "poll"),
}
EVERY_NETWORK = ("все", "всё", "all")
TITLE_LIMIT = 60  # a title made of the text's first line: enough to tell posts apart
_IMAGE = re.compile(r"^[^/\\]+\.(?:png|jpe?g)$", re.IGNORECASE)
_DATE_RU = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?$")
# Which column an event-file field comes from, to name it in a problem of the loader.
FIELD_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "at": ("date", "time"),
    "title": ("title", "text"),
    "text": ("text",),
    "question": ("text",),
    "options": ("text",),
    "networks": ("networks",),
    "image": ("image",),
}


@dataclass(frozen=True)
class PlanRow:
    """One post of a content plan, as read from its row."""

    row: int  # the spreadsheet's row number
    at: datetime  # local, naive: the library's zone applies
    networks: tuple[str, ...]  # empty: the library's networks
    kind: str  # "announcement" or "poll"
    title: str
    text: str  # a poll: its question
    image: str = ""  # a file name in the events folder
    options: tuple[str, ...] = ()  # a poll's answers

    def file_name(self, library_id: str) -> str:
        """The event file's name: date, time and a digest of what the row says."""
        content = json.dumps(
            [library_id, self.at.isoformat(), self.networks, self.kind, self.title, self.text]
            + [self.image, self.options],
            ensure_ascii=False,
        )
        digest = hashlib.sha256(content.encode()).hexdigest()[:6]
        return f"plan-{self.at:%Y%m%d-%H%M}-{digest}.toml"


@dataclass(frozen=True)
class ContentPlan:
    """What a table holds: its good rows, its problems (one line each) and its headers."""

    rows: tuple[PlanRow, ...]
    problems: tuple[str, ...]
    headers: Mapping[str, str]  # column key → the header as the table spells it

    def column(self, event_field: str) -> str:
        """The header(s) an event file's field came from ("дата, время"), or ""."""
        keys = FIELD_COLUMNS.get(event_field.split(".")[0], ())
        return ", ".join(self.headers[key] for key in keys if key in self.headers)


def header_key(header: object) -> str | None:
    """ "Дата" → "date", "Текст поста" → "text"; an unknown header → None."""
    name = " ".join(str(header or "").casefold().replace("ё", "е").split())
    return next((key for key, names in HEADERS.items() if name in names), None)


def is_content_plan(headers: Sequence[object]) -> bool:
    """Whether a table's header row is a content plan's (it has a date and a text column)."""
    keys = {header_key(header) for header in headers}
    return {"date", "text"} <= keys


def read_content_plan(
    headers: Sequence[object], rows: Sequence[tuple[int, Sequence[object]]], header_row: int
) -> ContentPlan:
    """Every row as a PlanRow; every bad header, row and cell named as a problem."""
    columns: dict[str, int] = {}
    spelled: dict[str, str] = {}
    problems: list[str] = []
    for index, header in enumerate(headers):
        shown = " ".join(str(header or "").split())
        if not shown:
            continue
        key = header_key(shown)
        if key is None:
            known = ", ".join(names[0] for names in HEADERS.values())
            problems.append(_at(header_row, shown, "upload.column_unknown", known=known))
        elif key in columns:
            problems.append(_at(header_row, shown, "upload.column_twice"))
        else:
            columns[key], spelled[key] = index, shown
    for key in REQUIRED:
        if key not in columns:
            problems.append(
                _at(header_row, "", "upload.column_missing", column=HEADERS[key][0].capitalize())
            )
    if problems:
        return ContentPlan((), tuple(problems), spelled)
    good: list[PlanRow] = []
    seen: dict[tuple, int] = {}
    for number, cells in rows:
        row_problems: list[str] = []
        plan_row = _row(number, cells, columns, spelled, row_problems)
        problems += row_problems
        if plan_row is None:
            continue
        same = (plan_row.at, plan_row.kind, plan_row.title, plan_row.text, plan_row.networks)
        if same in seen:
            problems.append(_at(number, "", "upload.row_repeats", first=seen[same]))
            continue
        seen[same] = number
        good.append(plan_row)
    if not rows:
        problems.append(_at(header_row, "", "upload.plan_empty"))
    return ContentPlan(tuple(good), tuple(problems), spelled)


def _row(
    number: int,
    cells: Sequence[object],
    columns: Mapping[str, int],
    spelled: Mapping[str, str],
    problems: list[str],
) -> PlanRow | None:
    """One row → a PlanRow; each bad cell adds a problem and the row gives None."""

    def cell(key: str) -> object:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def fail(key: str, entry: str, **fields: object) -> None:
        problems.append(_at(number, spelled.get(key, ""), entry, **fields))

    day = parse_date(cell("date"))
    if day is None:
        fail("date", "upload.bad_date", value=_shown(cell("date")))
    moment = parse_time(cell("time"))
    if moment is None:
        fail("time", "upload.bad_time", value=_shown(cell("time")))
    text = _plain(cell("text"))
    if not text:
        fail("text", "upload.no_text")
    networks = parse_networks(_plain(cell("networks")))
    if networks is None:
        known = ", ".join(registry())
        fail("networks", "upload.bad_networks", value=_shown(cell("networks")), known=known)
    kind = next((k for k, words in KINDS.items() if _folded(cell("kind")) in words), None)
    if kind is None:
        known = ", ".join(f"{words[1]} ({words[-1]})" for words in KINDS.values())
        fail("kind", "upload.bad_kind", value=_shown(cell("kind")), known=known)
    image = _plain(cell("image"))
    if image and not _IMAGE.match(image):
        fail("image", "upload.bad_image", value=_shown(image))
    options: tuple[str, ...] = ()
    if kind == "poll" and text:
        parts = [p.strip() for p in re.split(r"\n" if "\n" in text else ";", text)]
        text, options = parts[0], tuple(p for p in parts[1:] if p)
    if problems or day is None or moment is None or networks is None or kind is None:
        return None
    title = _plain(cell("title")) or _title_of(text)
    at = datetime.combine(day, moment)
    return PlanRow(number, at, networks, kind, title, text, image, options)


def parse_date(value: object) -> date | None:
    """A date cell, "2026-12-05", "05.12.2026" or "5/12/2026"; None if it is none of them."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _plain(value)
    found = _DATE_RU.match(text)
    try:
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return date.fromisoformat(text) if re.match(r"^\d{4}-\d{2}-\d{2}$", text) else None
    except ValueError:  # 31.02.2026
        return None


def parse_time(value: object) -> time | None:
    """A time cell, "18:00", "18.00" or "18:00:00"; None if it is none of them."""
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, float) and 0 <= value < 1:  # a time cell read as its day fraction
        seconds = round(value * 86400)
        return time(seconds // 3600 % 24, seconds // 60 % 60)
    found = _TIME.match(_plain(value))
    if not found:
        return None
    hour, minute, second = (int(part or 0) for part in found.groups())
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_networks(value: str) -> tuple[str, ...] | None:
    """Networks' names or titles, separated → names in registry order; () for every
    network of the library (an empty cell, "все"); None if a word names no network."""
    words = [w for w in re.split(r"[,;/+\s]+", value.casefold()) if w]
    if not words or all(word in EVERY_NETWORK for word in words):
        return ()
    chosen = set()
    for word in words:
        found = next(
            (
                name
                for name, net in registry().items()
                if word == name or word in {t.casefold() for t in net.titles.values()}
            ),
            None,
        )
        if found is None:
            return None
        chosen.add(found)
    return tuple(name for name in registry() if name in chosen)


def event_toml(row: PlanRow, library_id: str, source: str) -> str:
    """The event file of one row, for the event-file loader (times local, no offset)."""
    lines = [
        "# " + " ".join(messages.text("upload.file_comment", source=source, row=row.row).split()),
        f"kind = {_string(row.kind)}",
        f"library = {_string(library_id)}",
        f"title = {_string(row.title)}",
        f"at = {row.at.replace(microsecond=0).isoformat()}",
    ]
    if row.networks:
        lines.append(f"networks = [{', '.join(_string(n) for n in row.networks)}]")
    if row.image:
        lines.append(f"image = {_string(row.image)}")
    if row.kind == "poll":
        lines.append(f"question = {_string(row.text)}")
        lines.append(f"options = [{', '.join(_string(o) for o in row.options)}]")
    else:
        lines.append(f"text = {_string(row.text)}")
    return "\n".join(lines) + "\n"


def _at(row: int, column: str, entry: str, **fields: object) -> str:
    return problem_at(row, column, messages.text(entry, **fields))


def problem_at(row: int, column: str, problem: str) -> str:
    """A problem line: the row, the column as the table spells it ("" if none), what."""
    if column:
        return messages.text("upload.at_cell", row=row, column=column, problem=problem)
    return messages.text("upload.at_row", row=row, problem=problem)


def _plain(value: object) -> str:
    """A cell as text: 1799.0 → "1799", None → ""; line ends kept, edges trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def _folded(value: object) -> str:
    return " ".join(_plain(value).casefold().replace("ё", "е").split())


def _shown(value: object) -> str:
    text = " ".join(_plain(value).split())
    return text if len(text) <= 40 else text[:39] + "…"


def _title_of(text: str) -> str:
    """The text's first line, without template markup, cut to ``TITLE_LIMIT``."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", first).strip() or first
    return first if len(first) <= TITLE_LIMIT else first[: TITLE_LIMIT - 1].rstrip() + "…"


def _string(value: str) -> str:
    """A TOML basic string; JSON's escapes are TOML's, except DEL which TOML forbids raw."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
