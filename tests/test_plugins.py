"""Networks as plug-ins: the contest and giveaway engines reach the adapters only through
public, typed ways (``core.platform``), chosen by the registry's capabilities; a network
without a way says so in the project's errors, and is not a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.contest import store
from bot.contest.engine import contest_platform
from core import networks
from core.errors import BadContent
from core.platform import (
    ContestPlatform,
    EntrantsPlatform,
    GiveawayPlatform,
    ModerationPlatform,
    QuizPlatform,
    ReplyTo,
    able,
)
from sandbox.server import Sandbox
from tests.conftest import MAX_ENV, max_table
from tests.contest_helpers import contest_world
from tests.quiz_helpers import QuizWorld, start_time


class EveryNetwork(QuizWorld):
    """A library on all three stand-ins (Telegram, VK and MAX), the application built."""

    def build(self, platforms: dict | None = None) -> None:
        self.env[MAX_ENV] = self.box.info()["max"]["token"]
        super().build(platforms)


def every_network(box: Sandbox, tmp_path: Path) -> EveryNetwork:
    mx = box.info()["max"]
    section = max_table(mx["api_url"], mx["channel_id"], mx["chat_id"])
    return EveryNetwork(box, tmp_path, start_time(), max_section=section)


def test_each_adapter_has_the_ways_its_capabilities_promise(tmp_path: Path) -> None:
    """What the registry says a network does, its adapter has a public way to do; what it
    says it does not, the adapter is not taken for."""
    with Sandbox(seed=3) as box:
        world = every_network(box, tmp_path)
        assert {network for _, network in world.platforms} == set(networks.names())
        for (_, name), platform in world.platforms.items():
            caps = networks.network(name).capabilities
            assert isinstance(platform, QuizPlatform), name
            assert isinstance(platform, ContestPlatform) == caps.contests, name
            assert isinstance(platform, GiveawayPlatform) == bool(caps.giveaway_entries), name
            assert isinstance(platform, EntrantsPlatform) == caps.entrants_from_api, name
            assert isinstance(platform, ModerationPlatform) == caps.moderation_buttons, name


def test_a_network_without_a_way_is_refused_in_our_errors(tmp_path: Path) -> None:
    with Sandbox(seed=4) as box:
        world = every_network(box, tmp_path)
        on_max = world.platforms[("central", "max")]
        on_vk = world.platforms[("central", "vk")]
        with pytest.raises(BadContent, match="MAX"):
            contest_platform(on_max)
        with pytest.raises(BadContent, match="giveaways"):
            able(on_max, GiveawayPlatform, "giveaways")
        with pytest.raises(BadContent, match="VK: moderation"):
            able(on_vk, ModerationPlatform, "moderation with buttons")
        assert contest_platform(on_vk) is on_vk


async def test_a_contest_message_owed_on_max_waits_with_the_reason(tmp_path: Path) -> None:
    """A message queued for a network that runs no contests is kept with our error (as a
    refused send is), and the round goes on to the next one."""
    with Sandbox(seed=5) as box:
        box.telegram.set_rate_limits(enabled=False)
        world = every_network(box, tmp_path)
        reader = box.max.add_user(first_name="Анна")["user_id"]
        admin = box.telegram.add_user("Библиотекарь")["id"]
        box.telegram.post_as_user(admin, admin, "/start")
        now = world.clock.now()
        where = ReplyTo(chat=reader).to_json()
        store.add_notice(
            world.db, "central", "max", "reply", {"reply": where, "text": "Спасибо!"}, "r:1", now
        )
        where = ReplyTo(chat=admin).to_json()
        store.add_notice(
            world.db, "central", "telegram", "reply", {"reply": where, "text": "Ответ"}, "r:2", now
        )
        assert await world.app.contest.deliver() == 1
        owed, told = world.db["contest_notices"].rows_where(order_by="id")
        assert owed["sent_at"] is None and owed["attempts"] == 1
        assert "MAX" in owed["error"] and "contest" in owed["error"]
        assert told["sent_at"] is not None
        assert [m["text"] for m in box.telegram.messages(admin)][-1] == "Ответ"


async def test_a_vk_reply_stored_in_the_old_form_still_reaches_the_reader(
    tmp_path: Path,
) -> None:
    """Rows written before ``ReplyTo`` named a VK private chat ``peer``: still answered."""
    with contest_world(tmp_path, 6) as (box, world):
        reader = box.vk.add_reader("Вера", "Читатель")
        box.vk.write(reader, "Здравствуйте!")  # allows the community's messages
        payload = {"reply": {"peer": reader}, "text": "Работа №1 получена"}
        store.add_notice(world.db, "central", "vk", "reply", payload, "r:old", world.clock.now())
        assert await world.contest.deliver() == 1
        assert any("Работа №1 получена" in m["text"] for m in box.vk.messages(reader))


def test_where_to_answer_keeps_its_fields_through_storage() -> None:
    for where in (
        ReplyTo(chat=-100123, message=7),
        ReplyTo(chat=5),
        ReplyTo(post=10, comment=11),
    ):
        assert ReplyTo.from_json(json.loads(json.dumps(where.to_json()))) == where
    assert ReplyTo.from_json({"peer": 9}) == ReplyTo(chat=9)
    assert ReplyTo.from_json(None) == ReplyTo()
