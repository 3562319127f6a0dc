"""What MAX cannot run yet (giveaways, contests) is refused in the event file when it is
listed, and left out when the library's networks are the default; its registry entry says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config_file import load_config
from core.errors import EventFileError
from scheduler.events import load_event
from tests.conftest import max_table, write_config

GIVEAWAY = """kind = "giveaway"
library = "central"
title = "Розыгрыш книг"
at = 2099-12-10T12:00:00
draw_at = 2099-12-20T18:00:00
text = "Разыгрываем книги!"
winners = 1
prizes = ["Книга"]
conditions = ["comment"]
{networks}
"""
CONTEST = """kind = "contest"
library = "central"
title = "Зимние стихи"
text = "Пришлите рисунок или отзыв!"
at = 2099-12-10T12:00:00
entries_until = 2099-12-12T12:00:00
gallery_at = 2099-12-12T13:00:00
voting_until = 2099-12-14T12:00:00
results_at = 2099-12-14T13:00:00
{networks}
"""


def _config(tmp_path: Path):
    return load_config(
        write_config(tmp_path, max_section=max_table("http://127.0.0.1:9", -70000000001))
    )


@pytest.mark.parametrize(("name", "body"), [("giveaway", GIVEAWAY), ("contest", CONTEST)])
def test_listed_max_is_refused_with_the_line(tmp_path: Path, name: str, body: str) -> None:
    config = _config(tmp_path)
    path = tmp_path / "events" / f"{name}.toml"
    path.write_text(body.format(networks='networks = ["telegram", "max"]'), "utf-8")
    with pytest.raises(EventFileError) as caught:
        load_event(path, config)
    what = {"giveaway": "розыгрыш", "contest": "конкурс"}[name]
    assert str(caught.value) == (
        f"{path}:{body.count(chr(10))} [networks]: {what} пока не может проходить в MAX; "
        "уберите эту сеть"
    )


@pytest.mark.parametrize(("name", "body"), [("giveaway", GIVEAWAY), ("contest", CONTEST)])
def test_default_networks_leave_max_out(tmp_path: Path, name: str, body: str) -> None:
    config = _config(tmp_path)
    assert "max" in config.libraries[0].networks
    path = tmp_path / "events" / f"{name}.toml"
    path.write_text(body.format(networks=""), "utf-8")
    assert "max" not in load_event(path, config).networks
    assert load_event(path, config).networks  # the others stay
