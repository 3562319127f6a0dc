"""An edit of an event file that comes after its posts went out is logged and told once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import load_plan, make_refresh
from bot.problems import ProblemTeller
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from scheduler.plan import SentEdit
from scheduler.runner import Runner
from tests.conftest import FakePlatform, write_config, write_event
from tests.images import png

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # 18:00 in Moscow
VK_KEY = "central/club:publish:vk:1"


class Told(list):
    """A notifier that keeps what it was asked to send."""

    async def __call__(self, library_id: str, text: str) -> None:
        self.append((library_id, text))


@pytest.fixture
def sent(tmp_path: Path):
    """The club event planned, and its VK post sent; the Telegram one still pending."""
    config = load_config(write_config(tmp_path))
    db = open_db(config.storage)
    clock = ManualClock(DUE - timedelta(days=2))
    platforms = {("central", n): FakePlatform(n) for n in ("telegram", "vk")}
    runner = Runner(db, config, platforms, clock=clock, seed=3)
    write_event(tmp_path)
    load_plan(db, config, clock)
    return tmp_path, config, db, clock, runner


async def _send_vk(db, clock, runner) -> None:
    clock.current = DUE
    vk = next(db["actions"].rows_where("kind = 'publish' and network = 'vk'"))
    await runner.fire(vk["id"])
    assert db["actions"].get(vk["id"])["state"] == "sent"


async def test_the_change_to_a_sent_post_is_listed_with_what_changed(sent) -> None:
    folder, config, db, clock, runner = sent
    await _send_vk(db, clock, runner)
    write_event(folder, at="2026-12-05T19:00:00", text='"Новый текст"')
    [change] = load_plan(db, config, clock).changes
    assert change.moved == 1  # the Telegram post, still pending, moves as before
    assert change.edits == [SentEdit(VK_KEY, "sent", "vk", "1", ("time", "text"))]
    assert (change.library_id, change.title) == ("central", "Книжный клуб")


async def test_a_setting_that_changes_sent_texts_is_not_an_edit_to_tell(sent) -> None:
    folder, config, db, clock, runner = sent
    await _send_vk(db, clock, runner)
    path = config.path
    path.write_text(path.read_text("utf-8").replace("Центральная библиотека", "ЦБС"), "utf-8")
    [change] = load_plan(db, load_config(path), clock).changes  # the library's name is in texts
    assert change.conflicts and change.edits == []


async def test_the_admins_are_told_once_and_the_log_has_a_warning(
    sent, caplog: pytest.LogCaptureFixture
) -> None:
    folder, config, db, clock, runner = sent
    await _send_vk(db, clock, runner)
    told = Told()
    teller = ProblemTeller(config, told)
    (folder / "events" / "poster.png").write_bytes(png(8, 8))
    write_event(folder, image='"poster.png"')
    changes = load_plan(db, config, clock).changes
    with caplog.at_level(logging.WARNING):
        await teller.tell_edits(changes)
        await teller.tell_edits(changes)  # as a second refresh would find it
    assert len(told) == 1
    library, notice = told[0]
    assert library == "central"
    assert notice.startswith("⚠️ Файл события «Книжный клуб» (central/club) изменён")
    assert "картинка" in notice and "ВКонтакте 1" in notice
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and VK_KEY in warnings[0].getMessage()


async def test_the_running_bot_tells_of_an_edit_after_sending(sent) -> None:
    folder, config, db, clock, runner = sent
    await _send_vk(db, clock, runner)
    told = Told()
    refresh = make_refresh(db, config, runner, ProblemTeller(config, told))
    write_event(folder, text='"Новый текст"')
    await refresh()
    await refresh()  # the next refresh finds nothing new
    assert [library for library, _ in told] == ["central"]
    assert "текст" in told[0][1] and "ВКонтакте 1" in told[0][1]


async def test_a_sent_post_dropped_from_the_file_is_told_too(sent) -> None:
    folder, config, db, clock, runner = sent
    await _send_vk(db, clock, runner)
    write_event(folder, networks='["telegram"]')
    [change] = load_plan(db, config, clock).changes
    assert change.edits == [SentEdit(VK_KEY, "sent", "vk", "1", ("removed",))]
    told = Told()
    await ProblemTeller(config, told).tell_edits([change])
    assert "убран" in told[0][1]
