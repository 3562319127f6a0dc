"""The demo: the sample announcement reaches both stand-ins and the report shows its metrics."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.demo import AUDIENCE, run_demo


async def test_demo_posts_measures_and_reports(tmp_path: Path) -> None:
    lines: list[str] = []
    result = await run_demo(tmp_path / "out", "ru", say=lines.append, lead=1.0)
    rows = {r.network: r for r in result.rows}
    assert {n: r.state for n, r in rows.items()} == {"telegram": "sent", "vk": "sent"}
    assert (rows["vk"].views, rows["vk"].likes) == (AUDIENCE["views"], AUDIENCE["likes"])
    assert rows["vk"].members == AUDIENCE["vk_members"]
    assert rows["telegram"].reactions == AUDIENCE["thumbs"] + AUDIENCE["hearts"]
    assert rows["telegram"].comments == 1  # the reader's reply in the discussion group
    assert rows["telegram"].views is None
    [post] = result.stand_in_state["vk"]["posts"]
    assert post["views"] == AUDIENCE["views"]
    table = list(
        csv.reader(io.StringIO(result.report_csv.read_text(encoding="utf-8-sig")), delimiter=";")
    )
    assert table[0][0] == "Дата и время" and len(table) == 3
    assert "Встреча книжного клуба" in result.report_md.read_text(encoding="utf-8")
    assert any("Отчёт записан" in line for line in lines)
    assert (tmp_path / "out" / "config.toml").is_file() and (
        tmp_path / "out" / "events" / "announcement.toml"
    ).is_file()
