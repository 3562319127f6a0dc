"""A crash while a quiz message is being sent: Telegram has no idempotency key, so a
question or results post that may have left is not sent again; one that never left is."""

from __future__ import annotations

from pathlib import Path

from core.storage import SENDING, to_db
from scheduler.runner import Runner
from tests.quiz_helpers import local, quiz_world, shift
from tests.test_quiz_modes import DAILY


def _chat(box) -> dict[str, str]:
    return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}


def _questions_shown(box, group: int) -> int:
    return sum(1 for m in box.telegram.messages(group) if m.get("poll"))


async def test_a_question_that_may_have_left_is_not_asked_twice(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 41, _chat) as (box, world):
        group = world.tg["group_id"]
        at = shift(world.clock.now(), 60)
        text = DAILY.format(at=local(at)).replace('networks = ["vk"]', 'networks = ["telegram"]')
        (tmp_path / "events" / "day.toml").write_text(text, "utf-8")
        world.plan()
        fired = await world.fire_due(shift(at, 86400))
        [first] = [row for row in fired if row["kind"] == "question"]
        assert first["state"] == "sent" and first["dispatched_at"] is not None
        assert _questions_shown(box, group) == 1

        # The bot dies right after question 2 left: on restart it is not asked again.
        [second] = [row for row in world.actions("question")]
        world.set_time(shift(at, 86400 * 2))
        stamp = to_db(world.clock.current)
        world.db["actions"].update(
            second["id"], {"state": SENDING, "claimed_at": stamp, "dispatched_at": stamp}
        )
        restarted = Runner(world.db, world.config, world.platforms, clock=world.clock)
        restarted.handlers.update(world.engine.handlers())
        restarted.recover()
        row = world.db["actions"].get(second["id"])
        assert row["state"] == "uncertain" and "повторно не отправлено" in row["error"]
        assert _questions_shown(box, group) == 1

        # The results post had not left when the bot died: it is sent, once.
        [results] = world.actions("results")
        world.db["actions"].update(results["id"], {"state": SENDING, "dispatched_at": None})
        restarted.recover()
        assert world.db["actions"].get(results["id"])["state"] == "pending"
        world.runner = restarted
        await world.fire_due(shift(at, 86400 * 4))
        await world.close()
    row = world.db["actions"].get(results["id"])
    assert row["state"] == "sent" and row["dispatched_at"] is not None
    finals = [m for m in box.telegram.messages(group) if "итоги" in (m.get("text") or "")]
    assert len(finals) == 1
