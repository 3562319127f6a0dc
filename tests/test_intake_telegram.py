"""Telegram intake through the real python-telegram-bot against the stand-in.

A channel post is published with TelegramPlatform and recorded as a publication; readers
then act through the stand-in's control API and the intake's getUpdates turns their acts
into interactions. Polls use a zero timeout: the updates are already queued.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Update
from telegram.ext import ExtBot

from bot.intake.telegram import TelegramIntake
from bot.platforms.telegram import TelegramPlatform
from core.config import LibraryConfig, TelegramConfig
from core.interactions import get_offset, latest_reactions, library_secret, pseudonym
from core.platform import Post
from core.storage import open_db, to_db
from sandbox.server import Sandbox
from tests.telegram_clients import TLS, make_request

ZONE = ZoneInfo("Europe/Moscow")


@dataclass
class Scene:
    """The stand-in, the database, the bot, and the published channel post."""

    box: Sandbox
    info: dict
    db: object
    bot: ExtBot
    libraries: list[LibraryConfig]
    post_id: int
    publication_id: int
    branch_chat: int

    def intake(self, **kwargs) -> TelegramIntake:
        return TelegramIntake(self.db, self.bot, self.libraries, poll_timeout=0, **kwargs)

    def rows(self, kind: str | None = None) -> list[dict]:
        where = None if kind is None else "kind = ?"
        return list(self.db["interactions"].rows_where(where, [kind] if kind else []))


@pytest.fixture
def box():
    with Sandbox(seed=11) as sandbox:
        yield sandbox


@pytest.fixture
async def scene(box: Sandbox, tmp_path: Path):
    info = box.info()["telegram"]
    db = open_db(tmp_path / "bibliobot.db")
    branch = box.telegram.create_chat("Филиал №2: клуб", "supergroup")
    box.telegram.add_bot_to(branch["id"])
    libraries = [
        _library("central", f"@{info['channel_username']}", info["api_url"]),
        _library("branch", str(branch["id"]), info["api_url"]),
    ]
    for library in libraries:
        db["libraries"].insert(
            {"id": library.id, "name": library.name, "timezone": ZONE.key, "paused": 0}
        )
    bot = ExtBot(
        info["token"],
        base_url=info["api_url"],
        request=make_request(),
        get_updates_request=make_request(),
    )
    await bot.initialize()
    platform = TelegramPlatform(
        info["token"], info["api_url"], rate_limit=False, httpx_kwargs={"verify": TLS}
    )
    scene = Scene(box, info, db, bot, libraries, 0, 0, branch["id"])
    # Telegram sends reactions and chat_member only once allowed_updates has named them.
    await scene.intake().poll_once()
    published = await platform.publish(Post(str(info["channel_id"]), "Викторина в пятницу!"))
    await platform.close()
    scene.post_id = int(published.remote_id)
    scene.publication_id = (
        db["publications"]
        .insert(
            {
                "library_id": "central",
                "network": "telegram",
                "target": str(info["channel_id"]),
                "remote_id": published.remote_id,
                "url": published.url,
                "published_at": to_db(datetime.now(UTC)),
            }
        )
        .last_pk
    )
    yield scene
    await bot.shutdown()


def _library(library_id: str, chat: str, api_url: str) -> LibraryConfig:
    telegram = TelegramConfig("TEST_TG_TOKEN", (chat,), api_url)
    return LibraryConfig(library_id, library_id.title(), ZONE, telegram=telegram)


async def test_anonymous_channel_reactions_are_stored_as_totals(scene: Scene) -> None:
    channel = scene.info["channel_id"]
    scene.box.telegram.react_anonymously(channel, scene.post_id, "👍", 3)
    scene.box.telegram.react_anonymously(channel, scene.post_id, "🔥")
    await scene.intake().poll_once()
    assert latest_reactions(scene.db, str(channel), str(scene.post_id)) == {"👍": 3, "🔥": 1}
    assert scene.rows() == []  # totals are not people


async def test_comment_on_channel_post_is_a_reply_linked_to_the_publication(
    scene: Scene,
) -> None:
    reader = scene.box.telegram.add_user()
    comment = scene.box.telegram.comment_on_post(reader["id"], scene.post_id, "Я приду!")
    scene.box.telegram.post_as_user(
        reader["id"], scene.info["group_id"], "А в субботу?", comment["message_id"]
    )
    await scene.intake().poll_once()
    [reply, nested] = scene.rows()  # the automatic forward of the post is not a reader's
    assert reply["kind"] == "reply" and reply["library_id"] == "central"
    assert reply["publication_id"] == scene.publication_id
    assert (reply["target"], reply["remote_id"]) == (
        str(scene.info["channel_id"]),
        str(scene.post_id),
    )
    # A reply to a comment stays in the post's thread.
    assert nested["kind"] == "reply" and nested["publication_id"] == scene.publication_id


async def test_person_is_a_pseudonym_never_the_user_id(scene: Scene) -> None:
    reader = scene.box.telegram.add_user("Мария", "Попова", "masha_reads")
    scene.box.telegram.comment_on_post(reader["id"], scene.post_id, "Отличная новость")
    await scene.intake().poll_once()
    [row] = scene.rows()
    secret = library_secret(scene.db, "central")
    assert row["person"] == pseudonym(secret, "telegram", reader["id"])
    stored = json.dumps(row, ensure_ascii=False)
    for personal in (str(reader["id"]), "Мария", "Попова", "masha_reads"):
        assert personal not in stored


async def test_group_message_and_reaction_are_recorded(scene: Scene) -> None:
    group = scene.info["group_id"]
    reader = scene.box.telegram.add_user()
    message = scene.box.telegram.post_as_user(reader["id"], group, "Что почитать летом?")
    scene.box.telegram.react(reader["id"], group, message["message_id"], "👍")
    await scene.intake().poll_once()
    [written] = scene.rows("message")
    assert (written["target"], written["remote_id"]) == (str(group), str(message["message_id"]))
    [reaction] = scene.rows("reaction")
    assert reaction["remote_id"] == str(message["message_id"])
    assert json.loads(reaction["detail"]) == {"new": ["👍"], "old": []}
    scene.box.telegram.edit_as_user(reader["id"], group, message["message_id"], "Что почитать?")
    await scene.intake().poll_once()
    assert len(scene.rows("message")) == 1  # an edited message still counts once


async def test_join_and_leave_are_recorded_once_each(scene: Scene) -> None:
    group = scene.info["group_id"]
    reader = scene.box.telegram.add_user()
    scene.box.telegram.join(reader["id"], group)
    scene.box.telegram.leave(reader["id"], group)
    await scene.intake().poll_once()
    # The service messages ("joined the group") are not counted again as messages.
    assert [r["kind"] for r in scene.rows()] == ["join", "leave"]
    assert {r["target"] for r in scene.rows()} == {str(group)}


async def test_vote_in_a_non_anonymous_poll_the_bot_sent(scene: Scene) -> None:
    group = scene.info["group_id"]
    poll = await scene.bot.send_poll(
        group, "Какую книгу обсудим?", ["«Мастер и Маргарита»", "«Дюна»"], is_anonymous=False
    )
    intake = scene.intake()
    await intake.start()
    intake.remember_poll(poll)
    reader = scene.box.telegram.add_user()
    scene.box.telegram.vote_as_user(reader["id"], group, poll.message_id, [1])
    await intake.poll_once()
    [vote] = scene.rows("vote")
    assert (vote["target"], vote["remote_id"]) == (str(group), str(poll.message_id))
    assert json.loads(vote["detail"]) == {"poll_id": poll.poll.id, "option_ids": [1]}


async def test_replayed_updates_and_restart_do_not_double_count(scene: Scene) -> None:
    channel, group = scene.info["channel_id"], scene.info["group_id"]
    reader = scene.box.telegram.add_user()
    scene.box.telegram.comment_on_post(reader["id"], scene.post_id, "Здорово")
    scene.box.telegram.react_anonymously(channel, scene.post_id, "❤")
    scene.box.telegram.join(scene.box.telegram.add_user()["id"], group)
    first = scene.intake()
    handled = await first.poll_once()
    assert handled == len(scene.box.telegram.pending_updates())  # not yet confirmed
    before = (scene.db["interactions"].count, scene.db["reaction_totals"].count)
    source = f"telegram:{scene.bot.id}"
    stored = get_offset(scene.db, source)

    # A crash before the offset was saved: the same updates come again.
    scene.db["update_offsets"].delete(source)
    assert await scene.intake().poll_once() == handled
    assert (scene.db["interactions"].count, scene.db["reaction_totals"].count) == before

    # A restart from the stored offset gets only what is new.
    assert get_offset(scene.db, source) == stored
    scene.box.telegram.post_as_user(reader["id"], group, "Ещё вопрос")
    assert await scene.intake().poll_once() == 1
    assert scene.db["interactions"].count == before[0] + 1


async def test_chats_of_no_library_are_ignored_and_each_library_gets_its_own(
    scene: Scene,
) -> None:
    stranger = scene.box.telegram.create_chat("Чужая группа", "supergroup")
    scene.box.telegram.add_bot_to(stranger["id"])
    reader = scene.box.telegram.add_user()
    other = scene.box.telegram.post_as_user(reader["id"], stranger["id"], "Привет")
    scene.box.telegram.react(reader["id"], stranger["id"], other["message_id"], "🔥")
    scene.box.telegram.join(scene.box.telegram.add_user()["id"], stranger["id"])
    scene.box.telegram.post_as_user(reader["id"], scene.branch_chat, "Когда клуб?")
    await scene.intake().poll_once()
    [row] = scene.rows()
    assert (row["library_id"], row["target"]) == ("branch", str(scene.branch_chat))
    # The same reader has a different pseudonym in each library.
    assert row["person"] != pseudonym(library_secret(scene.db, "central"), "telegram", reader["id"])


async def test_private_message_needs_a_known_library(scene: Scene) -> None:
    reader = scene.box.telegram.add_user()
    scene.box.telegram.post_as_user(reader["id"], reader["id"], "Здравствуйте!")
    scene.box.telegram.post_as_user(reader["id"], reader["id"], "/start branch")
    await scene.intake().poll_once()
    [row] = scene.rows()  # two libraries share the token: only the deep link says which
    assert (row["library_id"], row["kind"], row["target"]) == ("branch", "message", "private")


async def test_update_that_does_not_parse_is_skipped(scene: Scene) -> None:
    group = scene.info["group_id"]
    broken = {"chat": {"id": group, "type": "supergroup"}}  # no message_id, date, reactions
    # The stand-in's own queue (private): Telegram never sends such an update on purpose.
    scene.box.telegram._locked(lambda world: world.push_update("message_reaction_count", broken))
    reader = scene.box.telegram.add_user()
    scene.box.telegram.post_as_user(reader["id"], group, "После странного обновления")
    intake = scene.intake()
    assert (
        await intake.poll_once() == 3
    )  # the post's copy in the group, the broken one, the message
    assert [r["kind"] for r in scene.rows()] == ["message"]
    assert await intake.poll_once() == 0  # the offset went past the broken one
    assert intake.handle(Update(update_id=1)) is False  # an update of no known type


async def test_run_survives_network_errors_and_stops_at_once(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    scene.box.telegram.fail_next("getUpdates", 502, "Bad Gateway", times=2)
    reader = scene.box.telegram.add_user()
    scene.box.telegram.post_as_user(reader["id"], scene.info["group_id"], "Есть кто?")
    intake = TelegramIntake(scene.db, scene.bot, scene.libraries, poll_timeout=30)
    intake.retry_delay = 0.01
    stop = asyncio.Event()
    task = asyncio.create_task(intake.run(stop))
    for _ in range(300):
        if scene.rows():
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # now inside a 30 s long poll
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert [r["kind"] for r in scene.rows()] == ["message"]
    assert sum("Bad Gateway" in r.getMessage() for r in caplog.records) == 2


async def test_a_reply_in_a_posts_thread_after_a_restart_is_still_a_comment_on_it(
    scene: Scene,
) -> None:
    reader, other = scene.box.telegram.add_user(), scene.box.telegram.add_user()
    comment = scene.box.telegram.comment_on_post(reader["id"], scene.post_id, "Я приду!")
    await scene.intake().poll_once()
    # The bot restarts: a new intake, nothing of the old one's memory.
    scene.box.telegram.post_as_user(
        other["id"], scene.info["group_id"], "И я!", comment["message_id"]
    )
    await scene.intake().poll_once()
    replies = scene.rows("reply")
    assert len(replies) == 2
    assert all(r["publication_id"] == scene.publication_id for r in replies)
