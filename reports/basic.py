"""The per-event report: each event, where it was published, and its latest metrics.

Figures come only from the database (publications and metric samples), so a
report can be rebuilt at any time. Dates are the libraries' local dates.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.storage import from_db

METRICS = ("views", "likes", "reposts", "comments", "reactions")

HEADERS = {
    "ru": {
        "date": "Дата и время",
        "library": "Библиотека",
        "title": "Мероприятие",
        "kind": "Формат",
        "network": "Сеть",
        "state": "Статус",
        "url": "Ссылка",
        "views": "Просмотры",
        "likes": "Лайки",
        "reposts": "Репосты",
        "comments": "Комментарии",
        "reactions": "Реакции",
        "members": "Подписчики",
        "collected_at": "Данные на",
    },
    "en": {
        "date": "Date and time",
        "library": "Library",
        "title": "Event",
        "kind": "Format",
        "network": "Network",
        "state": "State",
        "url": "Link",
        "views": "Views",
        "likes": "Likes",
        "reposts": "Reposts",
        "comments": "Comments",
        "reactions": "Reactions",
        "members": "Followers",
        "collected_at": "Data as of",
    },
}
WORDS = {
    "ru": {
        "announcement": "анонс",
        "sent": "опубликовано",
        "pending": "запланировано",
        "sending": "отправляется",
        "failed": "ошибка",
        "uncertain": "не подтверждено",
        "missed": "пропущено",
        "n/a": "н/д",
        "telegram": "Telegram",
        "vk": "ВКонтакте",
    },
    "en": {"n/a": "n/a", "telegram": "Telegram", "vk": "VK"},
}
COLUMNS = tuple(HEADERS["ru"])


@dataclass(frozen=True)
class ReportRow:
    """One publication (or planned publication) of one event."""

    date: datetime
    library: str
    title: str
    kind: str
    network: str
    state: str
    url: str
    views: int | None
    likes: int | None
    reposts: int | None
    comments: int | None
    reactions: int | None
    members: int | None
    collected_at: datetime | None


def build_rows(db: sqlite_utils.Database, start: date, end: date) -> list[ReportRow]:
    """A row per planned publication whose local date is within [start, end]."""
    rows = []
    libraries = {lib["id"]: lib for lib in db["libraries"].rows}
    events = {event["id"]: event for event in db["events"].rows}
    for action in db["actions"].rows_where("kind = 'publish'", order_by="due_at, network, target"):
        library = libraries[action["library_id"]]
        zone = ZoneInfo(library["timezone"])
        if start <= from_db(action["due_at"]).astimezone(zone).date() <= end:
            rows.append(_row(db, events[action["event_id"]], library, action, zone))
    return rows


def _row(db, event: dict, library: dict, action: dict, zone: ZoneInfo) -> ReportRow:
    pub = next(db["publications"].rows_where("action_id = ?", [action["id"]]), None)
    latest: dict[str, tuple[float | None, str]] = {}
    if pub:
        for metric in METRICS:
            sample = _latest(db, "publication_id = ? and metric = ?", [pub["id"], metric])
            if sample:
                latest[metric] = (sample["value"], sample["collected_at"])
        members = _latest(
            db,
            "library_id = ? and target = ? and metric = 'members' and publication_id is null",
            [pub["library_id"], pub["target"]],
        )
    else:
        members = None
    stamps = [stamp for _, stamp in latest.values()]
    return ReportRow(
        date=from_db(action["due_at"]).astimezone(zone),
        library=library["name"],
        title=event["title"],
        kind=event["kind"],
        network=action["network"],
        state=action["state"],
        url=pub["url"] if pub else "",
        views=_int(latest.get("views")),
        likes=_int(latest.get("likes")),
        reposts=_int(latest.get("reposts")),
        comments=_int(latest.get("comments")),
        reactions=_int(latest.get("reactions")),
        members=None if members is None or members["value"] is None else int(members["value"]),
        collected_at=from_db(max(stamps)).astimezone(zone) if stamps else None,
    )


def _latest(db, where: str, params: list) -> dict | None:
    return next(
        db["metric_samples"].rows_where(
            where, params, order_by="collected_at desc, id desc", limit=1
        ),
        None,
    )


def _int(found: tuple[float | None, str] | None) -> int | None:
    return None if found is None or found[0] is None else int(found[0])


def _cells(row: ReportRow, language: str, blank: str) -> list[object]:
    words = WORDS[language]
    out: list[object] = []
    for column in COLUMNS:
        value = getattr(row, column)
        if column in ("date", "collected_at"):
            value = value.strftime("%Y-%m-%d %H:%M") if value else blank
        elif column in ("kind", "state", "network"):
            value = words.get(value, value)
        elif value is None:
            value = blank
        out.append(value)
    return out


def to_csv(rows: list[ReportRow], language: str = "ru") -> str:
    """UTF-8 CSV with a BOM and ';' separators, as Excel in a Russian locale expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([HEADERS[language][c] for c in COLUMNS])
    for row in rows:
        writer.writerow(_cells(row, language, ""))
    return "\ufeff" + buffer.getvalue()


def to_markdown(rows: list[ReportRow], language: str = "ru", title: str = "") -> str:
    """A Markdown table; metrics a network does not show are marked n/a."""
    headers = [HEADERS[language][c] for c in COLUMNS]
    blank = WORDS[language]["n/a"]
    lines = [f"# {title}", ""] if title else []
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [str(c).replace("|", "\\|") for c in _cells(row, language, blank)]
        lines.append("| " + " | ".join(cells) + " |")
    note = {
        "ru": "н/д — сеть не показывает этот показатель боту (например, просмотры в Telegram).",
        "en": "n/a — the network does not show this figure to a bot (e.g. Telegram views).",
    }[language]
    lines += ["", note, ""]
    return "\n".join(lines)
