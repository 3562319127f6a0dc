"""Polls: posted to both networks, votes per option collected into samples."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import load_plan
from bot.intake.telegram import TelegramIntake
from bot.platforms import build_platforms
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from scheduler.events import load_event
from scheduler.runner import Runner
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Telegram checks close_date against the real time of sending: plan around now.
START = datetime.now(UTC).replace(second=0, microsecond=0)
LOCAL = START.astimezone(ZoneInfo("Europe/Moscow")).replace(tzinfo=None)

POLL = {
    "kind": '"poll"',
    "question": '"Какую книгу обсудим?"',
    "options": '["Мастер и Маргарита", "Война и мир", "Тихий Дон"]',
    "close_at": (LOCAL + timedelta(days=7)).isoformat(),
    "at": LOCAL.isoformat(),
    "text": None,
}


def test_the_sample_poll_is_valid(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    shutil.copy(TEMPLATES / "events" / "ru" / "poll.toml", tmp_path / "events" / "poll.toml")
    event = load_event(tmp_path / "events" / "poll.toml", config)
    assert event.kind == "poll" and len(event.options) == 4


def test_bad_polls_name_the_field(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    cases = {
        "one": ({"options": '["Да"]'}, "[options]: must list 2 to 10 answers"),
        "same": ({"options": '["Да", "Да"]'}, "[options]: two answers are the same"),
        "long": ({"question": '"' + "?" * 301 + '"'}, "[question]: is 301 characters long"),
        "late": (
            {"close_at": "2027-03-01T00:00:00"},
            "[close_at]: must be between 1 minute and 30 days",
        ),
    }
    for name, (fields, _) in cases.items():
        write_event(tmp_path, name, **{**POLL, **fields})
    problems = {
        Path(p.path).stem: str(p) for p in load_plan(open_db(tmp_path / "p.db"), config).problems
    }
    for name, (_, expected) in cases.items():
        assert expected in problems[name], problems[name]


async def test_poll_votes_per_option_reach_the_samples(tmp_path: Path) -> None:
    with Sandbox(seed=61) as box:
        box.vk.set_rate_limits(enabled=False)
        info = box.info()
        tg, vk = info["telegram"], info["vk"]
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
        )
        write_event(tmp_path, "vote", **POLL)
        config = load_config(path)
        env = {
            TG_ENV: tg["token"],
            VK_USER_ENV: vk["user_token"],
            VK_COMMUNITY_ENV: vk["community_token"],
        }
        db = open_db(config.storage)
        clock = ManualClock(START)
        load_plan(db, config, clock)
        platforms = build_platforms(config, env)
        runner = Runner(db, config, platforms, clock=clock)
        intake = TelegramIntake(
            db, platforms[("central", "telegram")].bot, list(config.libraries), clock, 0
        )
        await intake.poll_once()
        for action in db["actions"].rows_where("kind = 'publish'"):
            await runner.fire(action["id"])
        pubs = {p["network"]: p for p in db["publications"].rows}
        assert pubs["vk"]["poll_id"] and pubs["telegram"]["poll_id"]

        [post] = box.vk.posts(vk["group_id"])
        assert post["attachments"] == [f"poll-{vk['group_id']}_{pubs['vk']['poll_id']}"]
        poll_id = int(pubs["vk"]["poll_id"])
        answers = [a["id"] for a in box.state()["vk"]["polls"][0]["answers"]]
        readers = [box.vk.add_reader(f"Читатель{n}", "Тестов") for n in range(5)]
        for reader, choice in zip(readers, (0, 0, 1, 2, 0), strict=True):
            box.vk.vote(reader, poll_id, [answers[choice]])
        channel, message = tg["channel_id"], int(pubs["telegram"]["remote_id"])
        for n, choice in enumerate((1, 1, 2)):
            user = box.telegram.add_user(f"Голос{n}")
            box.telegram.vote_as_user(user["id"], channel, message, [choice])
        await intake.poll_once()

        clock.current = START + timedelta(hours=1, minutes=1)
        for action in list(db["actions"].rows_where("kind = 'snapshot' and state = 'pending'")):
            if action["due_at"] <= clock.current.isoformat():
                await runner.fire(action["id"])
        for platform in set(platforms.values()):
            await platform.close()

    def votes(network: str) -> dict[str, float]:
        rows = db["metric_samples"].rows_where(
            "publication_id = ? and metric like 'poll%'", [pubs[network]["id"]]
        )
        return {r["metric"]: r["value"] for r in rows}

    assert votes("vk") == {"poll:0": 3, "poll:1": 1, "poll:2": 1, "poll_votes": 5}
    assert votes("telegram") == {"poll:0": 0, "poll:1": 2, "poll:2": 1, "poll_votes": 3}
