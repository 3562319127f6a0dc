"""Polls on MAX: no native polls, so a keyboard of signed buttons; one vote per person (a
later press moves it), forged presses ignored, totals in the snapshots and the results post."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_app, load_plan
from bot.intake.max import MaxIntake
from core import buttons
from core.clock import ManualClock
from core.config_file import load_config
from core.interactions import library_secret
from core.storage import open_db
from sandbox.server import Sandbox
from tests.conftest import (
    MAX_ENV,
    TG_ENV,
    VK_COMMUNITY_ENV,
    VK_USER_ENV,
    max_table,
    write_config,
    write_event,
)

START = datetime.now(UTC).replace(second=0, microsecond=0)
LOCAL = START.astimezone(ZoneInfo("Europe/Moscow")).replace(tzinfo=None)
POLL = {
    "kind": '"poll"',
    "question": '"Какую книгу обсудим?"',
    "options": '["Мастер и Маргарита", "Война и мир", "Тихий Дон"]',
    "close_at": (LOCAL + timedelta(days=2)).isoformat(),
    "at": LOCAL.isoformat(),
    "text": None,
    "networks": '["telegram", "max"]',
}


async def test_a_max_poll_counts_one_vote_per_person(tmp_path: Path) -> None:
    now = {"now": START.timestamp()}
    with Sandbox(seed=71, clock=lambda: now["now"]) as box:
        box.max.set_rate_limit(enabled=False)
        info = box.info()
        tg, vk, mx = info["telegram"], info["vk"], info["max"]
        channel = mx["channel_id"]
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
            max_section=max_table(mx["api_url"], channel),
        )
        write_event(tmp_path, "vote", **POLL)
        config = load_config(path)
        env = {
            TG_ENV: tg["token"],
            VK_USER_ENV: vk["user_token"],
            VK_COMMUNITY_ENV: vk["community_token"],
            MAX_ENV: mx["token"],
        }
        db = open_db(config.storage)
        clock = ManualClock(START)
        load_plan(db, config, clock)
        app = build_app(config, db, env=env, clock=clock, intakes=False, tell_admins=False)
        runner = app.runner
        for action in db["actions"].rows_where("kind = 'publish'"):
            await runner.fire(action["id"])
        pub = next(db["publications"].rows_where("network = 'max'"))
        assert pub["poll_id"] == pub["remote_id"]

        # The post carries one signed button per option, in order.
        [post] = [m for m in box.max.messages(channel) if m["body"]["mid"] == pub["remote_id"]]
        [keyboard] = [a for a in post["body"]["attachments"] if a["type"] == "inline_keyboard"]
        data = [row[0]["payload"] for row in keyboard["payload"]["buttons"]]
        labels = [row[0]["text"] for row in keyboard["payload"]["buttons"]]
        assert labels == ["Мастер и Маргарита", "Война и мир", "Тихий Дон"]
        secret = library_secret(db, "central")
        assert [buttons.read_vote(secret, d)[1:] for d in data] == [(0, 3), (1, 3), (2, 3)]

        platform = app.platforms[("central", "max")]
        reader = MaxIntake(db, platform.client, list(config.libraries), clock, 0)
        readers = [box.max.add_user(first_name=f"Читатель{n}")["user_id"] for n in range(5)]
        for user in readers:
            box.max.join(user, channel)
        for user, choice in zip(readers, (0, 0, 1, 2, 0), strict=True):
            box.max.press(user, pub["remote_id"], data[choice])
        await reader.poll_once()
        # Reader 4 changes their mind: the vote moves; pressing it again changes nothing.
        box.max.press(readers[4], pub["remote_id"], data[2])
        box.max.press(readers[4], pub["remote_id"], data[2])
        box.max.press(readers[0], pub["remote_id"], data[0])  # the same vote again
        # A forged press (another poll's data, or none signed) is ignored.
        pressed = box.max.press(readers[1], pub["remote_id"], data[0])
        forged = copy.deepcopy(pressed["update"])
        forged["callback"]["callback_id"] = "forged-1"
        forged["callback"]["payload"] = buttons.vote_data(secret, pub["action_id"] + 1, 1, 3)
        unsigned = copy.deepcopy(forged)
        unsigned["callback"]["callback_id"] = "forged-2"
        unsigned["callback"]["payload"] = data[1][:-3] + "abc"
        await reader.poll_once()
        stored = db["interactions"].count_where("kind = 'vote'")
        assert reader.deliver(forged) and reader.deliver(unsigned)  # taken, and ignored
        assert db["interactions"].count_where("kind = 'vote'") == stored
        assert [p.text for ps in reader._presses.values() for p in ps] == [
            "Кнопка недействительна.",
            "Кнопка недействительна.",
        ]
        await reader.answer_presses()  # MAX does not know these presses: no harm done

        notes = {
            c["callback_id"]: [a.get("notification") for a in c["answers"]]
            for c in box.max.callback_answers()
        }
        said = [n for ns in notes.values() for n in ns]
        assert said.count("Голос принят!") == 5
        assert "Голос изменён." in said and "Этот голос уже учтён." in said

        # Snapshot an hour later: the totals of the presses, each voter's latest.
        clock.current = START + timedelta(hours=1, minutes=1)
        now["now"] = clock.current.timestamp()
        for action in list(db["actions"].rows_where("kind = 'snapshot' and state = 'pending'")):
            if action["due_at"] <= clock.current.isoformat() and action["network"] == "max":
                await runner.fire(action["id"])
        rows = db["metric_samples"].rows_where(
            "publication_id = ? and metric like 'poll%'", [pub["id"]]
        )
        votes = {r["metric"]: r["value"] for r in rows}
        # readers 0, 1 → option 0 (reader 1 moved to 0 with the last real press); 2 → 1;
        # 3 → 2; 4 → 2
        assert votes == {"poll:0": 2, "poll:1": 1, "poll:2": 2, "poll_votes": 5}

        # The close takes the buttons off and keeps the final totals; the results post.
        clock.current = START + timedelta(days=2, minutes=5)
        now["now"] = clock.current.timestamp()
        for kind in ("close", "results"):
            for action in list(db["actions"].rows_where("kind = ? and network = 'max'", [kind])):
                await runner.fire(action["id"])
                assert db["actions"].get(action["id"])["state"] == "sent"
        [post] = [m for m in box.max.messages(channel) if m["body"]["mid"] == pub["remote_id"]]
        assert not any(a["type"] == "inline_keyboard" for a in post["body"].get("attachments", []))
        # A press that arrives after the close (an old client) does not count.
        late = copy.deepcopy(pressed["update"])
        late["callback"]["callback_id"] = "late-1"
        late["callback"]["payload"] = data[1]
        before = db["interactions"].count_where("kind = 'vote'")
        assert reader.deliver(late)
        assert db["interactions"].count_where("kind = 'vote'") == before
        assert [p.text for ps in reader._presses.values() for p in ps] == [
            "Голосование уже закрыто."
        ]
        results = box.max.messages(channel)[-1]["body"]["text"]
        assert "итоги опроса" in results
        assert "Мастер и Маргарита — 2" in results and "Тихий Дон — 2" in results
        assert "Всего голосов: 5" in results
        interactions = list(db["interactions"].rows_where("network = 'max' and kind = 'vote'"))
        assert len({r["person"] for r in interactions}) == 5
        assert all(r["publication_id"] == pub["id"] for r in interactions)
        detail = [json.loads(r["detail"]) for r in interactions]
        assert all(d["poll_id"] == pub["remote_id"] for d in detail)
        await app.close()
