"""The demo: the sample announcement reaches both stand-ins and the report shows its metrics."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.demo import AUDIENCE, run_demo


async def test_demo_posts_measures_and_reports(tmp_path: Path) -> None:
    lines: list[str] = []
    result = await run_demo(tmp_path / "out", "ru", say=lines.append, lead=1.0)
    rows = {r.network: r for r in result.rows if r.title.startswith("Встреча книжного клуба")}
    assert {n: r.state for n, r in rows.items()} == {"telegram": "sent", "vk": "sent"}
    assert (rows["vk"].views, rows["vk"].likes) == (AUDIENCE["views"], AUDIENCE["likes"])
    assert rows["vk"].members == AUDIENCE["vk_members"]
    assert rows["telegram"].reactions == AUDIENCE["thumbs"] + AUDIENCE["hearts"]
    assert rows["telegram"].comments == 1  # the reader's reply in the discussion group
    assert rows["telegram"].views is None
    posts = {p["text"].split("\n", 1)[0]: p for p in result.stand_in_state["vk"]["posts"]}
    assert len(posts) == 3
    assert posts["Встреча книжного клуба «Читаем вместе»"]["views"] == AUDIENCE["views"]
    # The quiz: its question post, answered in the comments, and the results post.
    question = posts["🧩 Угадай книгу по первой строке"]
    assert "Из какого романа" in question["text"] and len(question["comments"]) == 5
    results = posts["🏆 Угадай книгу по первой строке: итоги"]
    assert "Анна Смирнова" in results["text"] and "Глеб Лисицын" in results["text"]
    assert "Вера Ким" not in results["text"]  # a wrong answer does not win
    assert any("ответов 5, верных 3" in line for line in lines), lines
    table = list(
        csv.reader(io.StringIO(result.report_csv.read_text(encoding="utf-8-sig")), delimiter=";")
    )
    assert table[0][0] == "Дата и время" and len(table) == 3
    assert "Встреча книжного клуба" in result.report_md.read_text(encoding="utf-8")
    assert any("Отчёт записан" in line for line in lines)
    assert (tmp_path / "out" / "config.toml").is_file() and (
        tmp_path / "out" / "events" / "announcement.toml"
    ).is_file()
