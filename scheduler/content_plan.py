"""A content plan: a table with one row per post, turned into announcement and poll event files.

Columns, by their header in the first filled row (Russian or English, any case, any
order; ``HEADERS`` lists every spelling)::

    дата     / date       the local date: 2026-12-05, 05.12.2026, 05.12.26 or a date cell
                          (an Excel day number too) (required)
    время    / time       the local time: 18:00, 18.00, 18 or a time cell (required; may
                          be left empty when the date cell holds the time as well)
    текст    / text       the post's text, a template like an event file's (required);
                          a poll: the question, then the answers, one a line or after ";"
    сети     / networks   the networks' names as event files write them, their titles or
                          the usual short words (the registry's ``words``: вк, тг …),
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

A row with nothing but its number filled (a template numbered ahead) is skipped, as an
empty one is. Problems name the row and the column as the table spells them, in the
current language (``core.messages``); the event files written are checked by the
event-file loader itself.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core import messages
from core.networks import registry

HEADERS: Mapping[str, tuple[str, ...]] = {
    "date": ("дата", "день", "дата публикации", "date", "day"),
    "time": ("время", "время публикации", "time"),
    "text": ("текст", "текст поста", "пост", "содержание", "text"),
    "networks": ("сети", "сеть", "соцсети", "площадки", "площадка", "networks", "network"),
    "kind": ("вид", "тип", "kind", "type"),
    "title": ("название", "заголовок", "title"),
    "image": ("картинка", "изображение", "фото", "image", "picture"),
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
_DATE_RU = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2})(?::(\d{2}))?)?$")
# Excel counts days from 1899-12-30; a day number in this range is a date of 2000–2099
# (a cell formatted as a number, or a table saved as CSV from it).
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_DAYS = range(36526, 73051)
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
class PlanProblem:
    """One problem of a table: its row (to sort by) and the line the admin reads."""

    row: int
    line: str  # "строка 3, столбец «Дата»: …", in the language of the moment it was found

    def __str__(self) -> str:
        return self.line


@dataclass(frozen=True)
class ContentPlan:
    """What a table holds: its good rows, its problems (one line each) and its headers."""

    rows: tuple[PlanRow, ...]
    problems: tuple[PlanProblem, ...]
    headers: Mapping[str, str]  # column key → the header as the table spells it

    def columns(self, event_field: str) -> tuple[str, ...]:
        """The headers an event file's field came from (("Дата", "Время") for ``at``)."""
        keys = FIELD_COLUMNS.get(event_field.split(".")[0], ())
        return tuple(self.headers[key] for key in keys if key in self.headers)


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
    problems: list[PlanProblem] = []
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
            column = HEADERS[key][0].capitalize()
            problems.append(_at(header_row, "", "upload.column_missing", column=column))
    if problems:
        return ContentPlan((), tuple(problems), spelled)
    good: list[PlanRow] = []
    seen: dict[tuple, int] = {}
    filled = 0
    for number, cells in rows:
        if not any(_plain(cell) for i, cell in enumerate(cells) if i != columns.get("number")):
            continue  # empty, or only numbered ahead in a template
        filled += 1
        row_problems: list[PlanProblem] = []
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
    if not filled:
        problems.append(_at(header_row, "", "upload.plan_empty"))
    return ContentPlan(tuple(good), tuple(problems), spelled)


def _row(
    number: int,
    cells: Sequence[object],
    columns: Mapping[str, int],
    spelled: Mapping[str, str],
    problems: list[PlanProblem],
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
    if moment is None and not _plain(cell("time")):
        moment = _time_in_date(cell("date"))  # "05.12.2026 18:00" in one date cell
    if moment is None:
        fail("time", "upload.bad_time", value=_shown(cell("time")))
    text = _plain(cell("text"))
    if not text:
        fail("text", "upload.no_text")
    networks = parse_networks(_plain(cell("networks")))
    if networks is None:
        known = ", ".join(net.title(messages.language()) for net in registry().values())
        fail("networks", "upload.bad_networks", value=_shown(cell("networks")), known=known)
    kind = next((k for k, words in KINDS.items() if _folded(cell("kind")) in words), None)
    if kind is None:
        # The accepted words: the first Russian one of each kind, and its English name.
        known = ", ".join(f"{next(w for w in words if w)} ({k})" for k, words in KINDS.items())
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
    title = " ".join(_plain(cell("title")).split()) or _title_of(text)
    at = datetime.combine(day, moment)
    return PlanRow(number, at, networks, kind, title, text, image, options)


def parse_date(value: object) -> date | None:
    """A date cell, an Excel day number, "2026-12-05", "05.12.2026", "5/12/2026" or
    "05.12.26" (a time after the date is let be); None if it is none of them."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_day(value)
    parts = _plain(value).split()
    text = parts[0] if parts else ""  # "05.12.2026 18:00": the date part
    if text.isdigit():
        return _excel_day(int(text))
    found = _DATE_RU.match(text)
    try:
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year + 2000 if year < 100 else year, month, day)
        return date.fromisoformat(text) if re.match(r"^\d{4}-\d{2}-\d{2}$", text) else None
    except ValueError:  # 31.02.2026
        return None


def _excel_day(value: float) -> date | None:
    """Excel's day number (its fraction: the time of day) as a date; None out of range."""
    if not math.isfinite(value) or int(value) not in _EXCEL_DAYS:  # not a date of 2000–2099
        return None
    return _EXCEL_EPOCH + timedelta(days=int(value))


def _time_in_date(value: object) -> time | None:
    """The time a date cell holds besides its date ("05.12.2026 18:00"); None if none."""
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0) if value.time() != time(0) else None
    if isinstance(value, float) and _excel_day(value) is not None:
        fraction = value - int(value)
        return parse_time(fraction) if fraction else None
    parts = _plain(value).split()
    return parse_time(parts[1]) if len(parts) == 2 and parse_date(parts[0]) else None


def parse_time(value: object) -> time | None:
    """A time cell, "18:00", "18.00", "18:00:00" or "18", the number 18.3 (what Excel makes
    of a typed "18.30"); None if it is none of them."""
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, float) and 0 < value < 1:  # a time cell read as its day fraction
        minutes = round(value * 1440)
        return time(minutes // 60 % 24, minutes % 60)
    if isinstance(value, float) and 1 <= value < 24:  # 18.3: hours, then minutes after "."
        hour, minute = int(value), round((value - int(value)) * 100)
        return time(hour, minute) if minute < 60 and round(value, 2) == value else None
    found = _TIME.match(_plain(value))
    if not found:
        return None
    hour, minute, second = (int(part or 0) for part in found.groups())
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_networks(value: str) -> tuple[str, ...] | None:
    """Networks' names, titles or usual words, separated → names in registry order; () for
    every network of the library (an empty cell, "все"); None if a word names no network."""
    words = [w for w in re.split(r"[,;/+\s]+", value.casefold().replace("ё", "е")) if w]
    if not words or all(word in EVERY_NETWORK for word in words):
        return ()
    chosen = set()
    for word in words:
        found = next(
            (
                name
                for name, net in registry().items()
                if word == name
                or word in {t.casefold() for t in net.titles.values()}
                or word in net.words
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


def _at(row: int, where: str, entry: str, /, **fields: object) -> PlanProblem:
    # Positional-only: an entry's own fields may be named "row" or "column".
    return PlanProblem(row, problem_at(row, where, messages.text(entry, **fields)))


def problem_at(row: int, column: str | Sequence[str], problem: str) -> str:
    """A problem line: the row, the column(s) as the table spells them (none: ""), what."""
    names = [column] if isinstance(column, str) else list(column)
    names = [name for name in names if name]
    if len(names) > 1:
        shown = ", ".join(f"«{name}»" for name in names)
        return messages.text("upload.at_cells", row=row, columns=shown, problem=problem)
    if names:
        return messages.text("upload.at_cell", row=row, column=names[0], problem=problem)
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
