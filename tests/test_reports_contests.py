"""Contests and giveaways in the reports: their tables in every format, and the summary.

The database holds what the engines and the intakes store (rows inserted as they write
them): a contest on VK and Telegram with entries by comment and by message, votes and
places; a giveaway drawn on VK, announced but not drawn yet on Telegram; a second
giveaway with no draw row at all. Every expected value is counted by hand below.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from core.config import ReportRules
from core.interactions import record
from core.storage import open_db, to_db
from reports import check_files
from reports.figures import build_report
from reports.html import to_html
from reports.period import parse_period
from reports.tables import contests_table, giveaways_table, summary_table
from reports.text import to_csv, to_markdown
from reports.words import Words
from reports.xlsx import to_xlsx

LIB = "central"
CONTEST, GIFT, GIFT2 = "central/poems", "central/gift", "central/gift2"
VK_WALL, CHANNEL = "-100", "@library"


def _post(db, n: int, event: str, kind: str, network: str, at: datetime) -> None:
    """A sent action and its publication (post ``n`` on the network)."""
    target = VK_WALL if network == "vk" else CHANNEL
    db["actions"].insert(
        {"id": n, "key": f"{event}:{kind}:{network}", "event_id": event, "library_id": LIB,
         "kind": kind, "network": network, "target": target, "due_at": to_db(at),
         "state": "sent"}
    )  # fmt: skip
    db["publications"].insert(
        {"id": n, "action_id": n, "event_id": event, "library_id": LIB, "network": network,
         "target": target, "remote_id": str(n), "url": f"https://example.org/{n}",
         "published_at": to_db(at)}
    )  # fmt: skip


def _act(db, n: int | None, network: str, kind: str, user: int, dedup: str) -> None:
    """A reader's act as the intake records it: on post ``n``, or apart (None)."""
    target = (VK_WALL if network == "vk" else CHANNEL) if n else "private"
    at = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    record(db, library_id=LIB, network=network, target=target, remote_id=str(n or 1),
           kind=kind, user_id=user, at=at, dedup=dedup)  # fmt: skip


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    db = open_db(path)
    with db.atomic():
        db["libraries"].insert({"id": LIB, "name": "Центральная", "timezone": "Europe/Moscow"})
        for event, kind, title in (
            (CONTEST, "contest", "Зимние стихи"),
            (GIFT, "giveaway", "Книга в подарок"),
            (GIFT2, "giveaway", "Второй розыгрыш"),
        ):
            db["events"].insert({"id": event, "library_id": LIB, "kind": kind, "title": title})
        # The contest's call post on both networks (10.11 12:00 Moscow), the giveaway's
        # announcement (12.11) and, on VK, its results post; the second giveaway (20.11).
        for n, network in ((1, "vk"), (2, "telegram")):
            _post(db, n, CONTEST, "publish", network, datetime(2026, 11, 10, 9, tzinfo=UTC))
        for n, network in ((3, "vk"), (4, "telegram")):
            _post(db, n, GIFT, "giveaway", network, datetime(2026, 11, 12, 9, tzinfo=UTC))
        _post(db, 5, GIFT, "draw", "vk", datetime(2026, 11, 15, 22, 30, tzinfo=UTC))
        _post(db, 6, GIFT2, "giveaway", "vk", datetime(2026, 11, 20, 9, tzinfo=UTC))
        entries = [  # number, network, person, name, via, state, votes, place
            (1, "vk", "aaaa1111xx", "[id11|Анна Иванова]", "comment", "approved", 5, 1),
            (2, "vk", "bbbb2222xx", "Борис Петров", "comment", "approved", 3, 2),
            (3, "vk", "cccc3333xx", "Ц", "message", "rejected", None, None),
            (4, "telegram", "dddd4444xx", "Вера", "comment", "approved", 2, 1),
        ]
        for number, network, person, name, via, state, votes, place in entries:
            db["contest_entries"].insert(
                {"event_id": CONTEST, "library_id": LIB, "network": network, "number": number,
                 "person": person, "name": name, "via": via, "type": "text", "state": state,
                 "votes": votes, "place": place, "received_at": "2026-11-10T10:00:00.000+00:00",
                 "dedup": f"entry{number}"}
            )  # fmt: skip
        db["giveaways"].insert(
            {"event_id": GIFT, "library_id": LIB, "network": "vk", "target": VK_WALL,
             "seed": "00", "commitment": "ab" * 32, "announced_at": to_db(datetime(2026, 11, 12, 9, tzinfo=UTC)),
             "drawn_at": to_db(datetime(2026, 11, 15, 22, 30, tzinfo=UTC)), "participants": 2,
             "proof": "{}", "proof_path": "/var/lib/bibliobot/proofs/draw-central-gift-vk--100.json"}
        )  # fmt: skip
        db["giveaways"].insert(  # announced on Telegram, not drawn yet
            {"event_id": GIFT, "library_id": LIB, "network": "telegram", "target": CHANNEL,
             "seed": "01", "commitment": "cd" * 32, "announced_at": to_db(datetime(2026, 11, 12, 9, tzinfo=UTC))}
        )  # fmt: skip
        for place, person, reserve in ((1, "gggg1111", 0), (2, "gggg2222", 1)):
            db["giveaway_winners"].insert(
                {"event_id": GIFT, "library_id": LIB, "network": "vk", "place": place,
                 "person": person, "name": None, "reserve": reserve,
                 "drawn_at": to_db(datetime(2026, 11, 15, 22, 30, tzinfo=UTC))}
            )  # fmt: skip
    # What the intakes recorded. The contest on VK: the two entries by comment (readers
    # 11, 12), a like (14) on the call post; the entry by message (13), apart from posts.
    _act(db, 1, "vk", "comment", 11, "c11")
    _act(db, 1, "vk", "comment", 12, "c12")
    _act(db, 1, "vk", "like", 14, "l14")
    _act(db, None, "vk", "message", 13, "m13")
    _act(db, 2, "telegram", "reply", 41, "r41")  # the Telegram entry, a comment
    # The giveaway on VK: likes by 21, 22, 23, comments by 21 and 22 (5 acts, 3 people);
    # on Telegram two comments (31, 32).
    for user in (21, 22, 23):
        _act(db, 3, "vk", "like", user, f"gl{user}")
    for user in (21, 22):
        _act(db, 3, "vk", "comment", user, f"gc{user}")
    for user in (31, 32):
        _act(db, 4, "telegram", "reply", user, f"gr{user}")
    return path


def _report(path: Path, **kw):
    return build_report(
        open_db(path),
        parse_period("2026-11"),
        ReportRules(),
        now=datetime(2026, 12, 1, tzinfo=UTC),
        **kw,
    )


CONTEST_ROWS = [  # rows in report order: time, title, network (Telegram before VK)
    [date(2026, 11, 10), "Зимние стихи", "Telegram", 1, 1, 2, 1, "1 — №4 dddd4444"],
    # VK: 3 entries (one rejected), 2 approved, 5 + 3 votes, 3 entrants.
    [date(2026, 11, 10), "Зимние стихи", "ВКонтакте", 3, 2, 8, 3,
     "1 — №1 aaaa1111; 2 — №2 bbbb2222"],
]  # fmt: skip
GIVEAWAY_ROWS = [
    # Telegram: announced with its commitment, not drawn: no date, no figures.
    [None, "Книга в подарок", "Telegram", None, None, None, "cdcdcdcdcdcdcdcd", "ещё не разыгран"],
    # VK: drawn 15.11 22:30 UTC, which is 16.11 in Moscow; 2 eligible, 1 winner, 1 reserve.
    [date(2026, 11, 16), "Книга в подарок", "ВКонтакте", 2, 1, 1, "abababababababab",
     "draw-central-gift-vk--100.json"],
    # Announced, but no draw stored at all.
    [None, "Второй розыгрыш", "ВКонтакте", None, None, None, "", "ещё не разыгран"],
]  # fmt: skip


def test_contests_and_giveaways_have_their_rows(db_path: Path) -> None:
    report = _report(db_path)
    words = Words("ru")
    assert contests_table(report.libraries, words, False).rows == CONTEST_ROWS
    assert giveaways_table(report.libraries, words).rows == GIVEAWAY_ROWS


def test_winners_names_show_only_with_names(db_path: Path) -> None:
    report = _report(db_path, with_names=True)
    rows = contests_table(report.libraries, Words("ru"), True).rows
    assert [row[-1] for row in rows] == ["1 — №4 Вера", "1 — №1 Анна Иванова; 2 — №2 Борис Петров"]


def test_entries_and_giveaway_participants_are_not_counted_twice(db_path: Path) -> None:
    summary = _report(db_path).libraries[0].summary
    # A giveaway is an online event now (its announcement holds it), on each network.
    assert summary.events_by_kind == {"contest": 1, "giveaway": 2}
    assert summary.events[("giveaway", "vk")] == 2 and summary.events[("giveaway", "telegram")] == 1
    # VK: the contest's 2 comments + 1 like, the entry by message (outside the posts),
    # the giveaway's 3 likes + 2 comments = 9 acts by 7 people. Telegram: the entry's
    # reply and the giveaway's 2 replies = 3. Entries and participants add nothing.
    assert summary.participations == {"vk": 9, "telegram": 3}
    assert summary.people == {"vk": 7, "telegram": 3}
    assert summary.outside_events == 1
    assert summary.contest_entries == {"vk": 3, "telegram": 1}
    assert summary.giveaway_participants == {"vk": 2, "telegram": 0}
    assert summary.six_nk.participations == 12 - 1  # the outside act is no event's
    table = summary_table(summary, Words("ru"), "Сводка")
    lines = {row[0]: row[1:] for row in table.rows}  # VK, Telegram, Total, formula
    assert lines["Участий (действий читателей)"][:3] == [9, 3, 12]
    entries = lines["Заявок на конкурсы (уже в участиях)"]
    assert entries[:3] == [3, 1, 4] and "уже учтённые в участиях" in entries[3]
    drawn = lines["Участников розыгрышей (уже в участиях)"]
    assert drawn[:3] == [2, 0, 2] and "не прибавляются" in drawn[3]
    formula = lines["Участий (действий читателей)"][3]
    assert "заявка на конкурс — одно действие" in formula and "не прибавляются" in formula


def test_a_report_without_contests_or_giveaways_shows_no_such_lines(db_path: Path) -> None:
    db = open_db(db_path)
    with db.atomic():
        db.execute("update actions set state = 'failed'")
    report = _report(db_path)
    assert report.libraries[0].contests == [] and report.libraries[0].giveaways == []
    labels = [row[0] for row in summary_table(report.total, Words("ru"), "Сводка").rows]
    assert not any("конкурс" in label or "розыгрыш" in label for label in labels)
    assert "Конкурсы" not in to_markdown(report)


def test_every_format_shows_the_tables(db_path: Path) -> None:
    report = _report(db_path)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(report)))
    for name, expected in (("Конкурсы", CONTEST_ROWS), ("Розыгрыши", GIVEAWAY_ROWS)):
        sheet = book[name]
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$3:$3" and sheet.freeze_panes == "A4"
        assert sheet.auto_filter.ref == f"A3:H{3 + len(expected)}"
        cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
        shown = [
            [v.date() if isinstance(v, datetime) else v for v in row]
            for row in cells[: len(expected)]
        ]
        # (n/a where a figure is unknown; an empty text is an empty cell)
        na = {None: "н/д", "": None}
        assert shown == [[na.get(v, v) if v in (None, "") else v for v in row] for row in expected]
        formats = {c.number_format for row in sheet.iter_rows(min_row=4) for c in row}
        assert "DD.MM.YYYY" in formats and "#,##0" in formats
    page = to_html(report)
    polls_at = page.index("<h2>Викторины / Опросы / Конкурсы / Розыгрыши</h2>")
    assert polls_at < page.index("<h3>Конкурсы</h3>") < page.index("<h3>Розыгрыши</h3>")
    assert "abababababababab" in page and "1 — №1 aaaa1111; 2 — №2 bbbb2222" in page
    text = to_markdown(report)
    assert "| 10.11.2026 | Зимние стихи | ВКонтакте | 3 | 2 | 8 | 3 |" in text
    assert "| 16.11.2026 | Книга в подарок | ВКонтакте | 2 | 1 | 1 | abababababababab |" in text
    # The CSV lists the events (as for quizzes and polls): the contest and the giveaways.
    kinds = [line.split(";")[3] for line in to_csv(report).splitlines()[1:]]
    assert kinds == ["конкурс", "конкурс", "розыгрыш", "розыгрыш", "розыгрыш"]


def _printers() -> bool:
    office, browser = check_files.find(check_files.OFFICE), check_files.find(check_files.BROWSERS)
    return bool(office and browser and check_files.find(("pdftotext",)))


@pytest.mark.skipif(not _printers(), reason="LibreOffice, Chromium or poppler not installed")
def test_the_tables_print_on_a4_landscape(db_path: Path, tmp_path: Path) -> None:
    report = _report(db_path, with_names=True)
    (tmp_path / "r.xlsx").write_bytes(to_xlsx(report))
    (tmp_path / "r.html").write_text(to_html(report), "utf-8")
    assert check_files.main([str(tmp_path / "r.xlsx"), str(tmp_path / "r.html")]) == 0
