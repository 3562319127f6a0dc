"""The demo: the sample announcement reaches both stand-ins, and the report of the day is
the one `bibliobot report` writes (the same code, all four formats)."""

from __future__ import annotations

import csv
import importlib.util
import io
from datetime import datetime
from pathlib import Path

import openpyxl

from bot.demo import AUDIENCE, DemoResult, run_demo
from reports.tables import EVENT_KEYS
from reports.words import Words


async def test_demo_posts_measures_and_reports(tmp_path: Path) -> None:
    lines: list[str] = []
    result = await run_demo(tmp_path / "out", "ru", say=lines.append, lead=1.0)
    assert result.ok
    rows = {r.network: r for r in result.rows if r.title.startswith("Встреча книжного клуба")}
    assert set(rows) == {"telegram", "vk", "max"}
    mx = rows["max"].figures
    assert mx["views"] == AUDIENCE["max_views"] and rows["max"].followers == AUDIENCE["max_members"]
    # MAX's API shows no likes, reactions or reposts: not available, never 0.
    assert all(mx.get(key) is None for key in ("likes", "reactions", "reposts"))
    assert any(line.startswith("  MAX: Встреча книжного клуба") for line in lines), lines
    vk, telegram = rows["vk"].figures, rows["telegram"].figures
    assert (vk["views"], vk["likes"]) == (AUDIENCE["views"], AUDIENCE["likes"])
    assert rows["vk"].followers == AUDIENCE["vk_members"]
    assert telegram["reactions"] == AUDIENCE["thumbs"] + AUDIENCE["hearts"]
    assert telegram["comments"] == 1  # the reader's reply in the discussion group
    assert telegram.get("views") is None
    posts = {p["text"].split("\n", 1)[0]: p for p in result.stand_in_state["vk"]["posts"]}
    assert len(posts) == 5  # the announcement, the quiz's two posts, the giveaway's two
    # The giveaway: the commitment in its announcement, the seed in its results, checked.
    drawn = posts["🎁 Розыгрыш книги: итоги розыгрыша"]["text"]
    assert "участников 6" in next(line for line in lines if "Розыгрыш ВКонтакте" in line)
    assert any(line.endswith("→ ВЕРНО") for line in lines), lines
    assert "SHA-256 списка участников" in drawn
    assert posts["Встреча книжного клуба «Читаем вместе»"]["views"] == AUDIENCE["views"]
    # The quiz: its question post, answered in the comments, and the results post.
    question = posts["🧩 Угадай книгу по первой строке"]
    assert "Из какого романа" in question["text"] and len(question["comments"]) == 5
    results = posts["🏆 Угадай книгу по первой строке: итоги"]
    assert "Анна Смирнова" in results["text"] and "Глеб Лисицын" in results["text"]
    assert "Вера Ким" not in results["text"]  # a wrong answer does not win
    assert any("ответов 5, верных 3" in line for line in lines), lines
    assert (tmp_path / "out" / "config.toml").is_file() and (
        tmp_path / "out" / "events" / "announcement.toml"
    ).is_file()
    _the_report_of_bibliobot_report_in_four_formats(result, lines)


def _the_report_of_bibliobot_report_in_four_formats(result: DemoResult, lines: list[str]) -> None:
    assert sorted(result.files) == ["csv", "html", "md", "xlsx"]
    assert all(path.stat().st_size > 500 for path in result.files.values())
    assert any("как его пишет `bibliobot report`" in line for line in lines), lines
    # The CSV, the XLSX's events and the Markdown list the same events, in the same columns:
    # the quiz too, not only the announcements as the old demo report did.
    headers = [Words("ru")[key] for key in EVENT_KEYS]
    table = list(
        csv.reader(io.StringIO(result.files["csv"].read_text(encoding="utf-8-sig")), delimiter=";")
    )
    assert table[0] == headers and len(table) == len(result.rows) + 1 == 6  # announcement x3
    assert {row[2] for row in table[1:]} == {
        "Встреча книжного клуба «Читаем вместе»",
        "Угадай книгу по первой строке",
        "Розыгрыш книги",
    }
    book = openpyxl.load_workbook(result.files["xlsx"])
    assert "ЦГБ" in book.sheetnames  # the demo library's short name
    events = book["Мероприятия"]
    header = next(r for r in events.iter_rows(values_only=True) if r[0] == headers[0])
    assert [h.replace("-\n", "") for h in header] == headers  # (long headers hyphenated)
    markdown = result.files["md"].read_text(encoding="utf-8")
    assert "| " + " | ".join(headers) + " |" in markdown
    assert "## Центральная городская библиотека" in markdown and "Помощник 6-НК" in markdown
    assert "</html>" in result.files["html"].read_text(encoding="utf-8")
    _the_four_formats_give_the_same_figures(result, table)
    # One pipeline: the older one is gone.
    assert importlib.util.find_spec("reports.basic") is None


def _same(value: object) -> str:
    """A cell as a number to one decimal (1, 1.0 and "1,0" alike), or its text (н/д)."""
    if value is None:
        return ""
    text = str(value).replace(",", ".").replace("\u2009", "").replace("\xa0", "")
    try:
        number = float(text)
    except ValueError:
        return str(value)
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _the_four_formats_give_the_same_figures(result: DemoResult, table: list[list[str]]) -> None:
    """Each event's title, network, link and figures read the same in CSV, XLSX, MD and HTML."""
    figures = slice(2, 17)  # from the title to ERpost
    from_csv = sorted([_same(cell) for cell in row[figures]] for row in table[1:])
    events = openpyxl.load_workbook(result.files["xlsx"])["Мероприятия"]
    rows = [r for r in events.iter_rows(values_only=True) if isinstance(r[0], datetime)]
    from_xlsx = sorted([_same(cell) for cell in row[figures]] for row in rows)
    assert from_xlsx == from_csv
    markdown = result.files["md"].read_text(encoding="utf-8").splitlines()
    from_md = sorted(
        [_same(cell.strip()) for cell in line.strip("|").split("|")][figures]
        for line in markdown
        if line.startswith(f"| {rows[0][0]:%d.%m.%Y}") and len(line.split("|")) > 17
    )
    assert from_md == from_csv
    page = result.files["html"].read_text(encoding="utf-8")
    for row in from_csv:
        assert row[3] in page  # the link, and so the event and its network
