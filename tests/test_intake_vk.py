"""The VK intake, through the real vk_api client against the VK stand-in's Bots Long Poll.

Checks use wait=0, so nothing waits for the long poll's timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import vk_api

from bot.intake.vk import VkIntake
from bot.platforms.vk import VkPlatform
from bot.platforms.vk_session import make_session
from core.clock import ManualClock
from core.interactions import get_offset, library_secret, pseudonym, set_offset
from core.storage import open_db, to_db
from sandbox.server import Sandbox

LIBRARY = "central"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11) as running:
        running.vk.set_rate_limits(enabled=False)
        yield running


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()["vk"]


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_db(tmp_path / "bibliobot.db")
    database["libraries"].insert(
        {"id": LIBRARY, "name": "Центральная", "timezone": "Europe/Moscow", "paused": 0}
    )
    return database


def intake(db: sqlite_utils.Database, info: dict[str, Any]) -> VkIntake:
    return VkIntake(
        db,
        LIBRARY,
        info["group_id"],
        info["community_token"],
        info["api_url"],
        clock=ManualClock(NOW),
        wait=0,
    )


async def drain(reader: VkIntake) -> int:
    """Check until a check brings nothing; the events handled in all."""
    total = 0
    while handled := await reader.poll_once():
        total += handled
    return total


def remember(db: sqlite_utils.Database, info: dict[str, Any], post_id: int | str) -> int:
    """A publication row as the runner writes it (target: the group id, remote_id: the post
    id); returns its id."""
    table = db["publications"]
    table.insert(
        {
            "library_id": LIBRARY,
            "network": "vk",
            "target": str(info["group_id"]),
            "remote_id": str(post_id),
            "url": f"https://vk.com/wall-{info['group_id']}_{post_id}",
            "published_at": to_db(NOW),
        }
    )
    return int(table.last_pk)


def admin(info: dict[str, Any]) -> vk_api.VkApi:
    """vk_api with the community admin's user token (wall.post, polls.create)."""
    return vk_api.VkApi(
        token=info["user_token"], session=make_session(info["api_url"]), api_version="5.199"
    )


async def publish(db: sqlite_utils.Database, info: dict[str, Any]) -> tuple[int, int]:
    """A wall post from the community and its publication row: (post id, publication id)."""
    params = {"owner_id": -info["group_id"], "from_group": 1, "message": "Книжный клуб"}
    post = admin(info).method("wall.post", params)
    return post["post_id"], remember(db, info, post["post_id"])


def publish_poll(info: dict[str, Any]) -> tuple[int, int, list[int]]:
    """A post with a poll, made with the admin's user token: (post id, poll id, answer ids)."""
    api, owner = admin(info), -info["group_id"]
    poll = api.method(
        "polls.create",
        {"owner_id": owner, "question": "Что читаем?", "add_answers": json.dumps(["А", "Б"])},
    )
    post = api.method(
        "wall.post",
        {
            "owner_id": owner,
            "from_group": 1,
            "message": "Голосуем",
            "attachments": f"poll{owner}_{poll['id']}",
        },
    )
    return post["post_id"], poll["id"], [a["id"] for a in poll["answers"]]


def rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return [
        {**row, "detail": json.loads(row["detail"])}
        for row in db["interactions"].rows_where(order_by="id")
    ]


async def test_every_reader_act_is_recorded_once_with_its_publication(sandbox, info, db):
    reader = intake(db, info)
    assert await reader.poll_once() == 0  # starts at the stream's current end
    post_id, publication = await publish(db, info)
    poll_post, poll_id, answers = publish_poll(info)
    poll_publication = remember(db, info, poll_post)

    anna = sandbox.vk.add_reader("Анна", "Читателева")
    sandbox.vk.join(anna)
    comment_id = sandbox.vk.comment(anna, post_id, "Мой ответ: «Война и мир»")
    sandbox.vk.edit_comment(comment_id, "Мой ответ: «Анна Каренина»")
    sandbox.vk.like(anna, post_id)
    sandbox.vk.unlike(anna, post_id)
    sandbox.vk.vote(anna, poll_id, [answers[1]])
    sandbox.vk.write(anna, "Когда встреча?")
    sandbox.vk.leave(anna)
    sandbox.vk.press_button(anna, {"quiz": 1})  # a callback button: not an interaction
    assert await drain(reader) == 11  # with two wall_post_new and one message_event

    found = rows(db)
    assert [r["kind"] for r in found] == [
        "join",
        "comment",
        "comment",
        "like",
        "like",
        "vote",
        "message",
        "leave",
    ]
    by_kind = {r["kind"]: r for r in found}  # the last of each kind
    assert [r["publication_id"] for r in found if r["kind"] in ("comment", "like")] == [
        publication
    ] * 4
    assert by_kind["vote"]["publication_id"] == poll_publication
    assert by_kind["vote"]["detail"] == {
        "poll_id": poll_id,
        "option_id": answers[1],
        "owner_id": -info["group_id"],
    }
    first, edit = (r for r in found if r["kind"] == "comment")
    assert first["detail"] == {
        "comment_id": comment_id,
        "length": 24,
        "text": "Мой ответ: «Война и мир»",
    }
    assert edit["detail"]["edit"] is True and edit["detail"]["text"].endswith("«Анна Каренина»")
    like, unlike = (r for r in found if r["kind"] == "like")
    assert "removed" not in like["detail"] and unlike["detail"] == {"removed": True}
    assert by_kind["message"]["detail"]["text"] == "Когда встреча?"
    assert {r["target"] for r in found} == {str(info["group_id"])}

    # One pseudonym for the reader; neither the id nor the name is anywhere in the rows.
    expected = pseudonym(library_secret(db, LIBRARY), "vk", anna)
    assert {r["person"] for r in found} == {expected}
    dump = json.dumps(found, ensure_ascii=False)
    assert str(anna) not in dump and "Читателева" not in dump

    # Nothing new: nothing more is recorded.
    assert await reader.poll_once() == 0
    assert len(rows(db)) == 8


async def test_a_restart_replaying_the_stream_counts_nothing_twice(sandbox, info, db):
    first = intake(db, info)
    await first.poll_once()
    start = get_offset(db, f"vk:{info['group_id']}")
    post_id, _ = await publish(db, info)
    reader = sandbox.vk.add_reader("Пётр", "Сидоров")
    sandbox.vk.comment(reader, post_id, "Спасибо!")
    sandbox.vk.like(reader, post_id)
    await drain(first)
    assert get_offset(db, f"vk:{info['group_id']}") == start + 3

    # A crash after recording but before the ts was saved: the batch comes again.
    set_offset(db, f"vk:{info['group_id']}", start, NOW)
    again = intake(db, info)
    assert await drain(again) == 3
    assert [r["kind"] for r in rows(db)] == ["comment", "like"]

    # While the bot is down a reader acts; the next start picks up exactly that.
    sandbox.vk.write(reader, "Привет")
    assert await drain(intake(db, info)) == 1
    assert [r["kind"] for r in rows(db)] == ["comment", "like", "message"]


async def test_a_quiet_community_writes_nothing_after_its_first_check(sandbox, info, db):
    """1,000 quiet communities must not write 40 transactions a second: the first check
    stores where the stream stands (a restart goes on from there), later empty ones nothing."""
    source = f"vk:{info['group_id']}"
    reader = intake(db, info)
    assert await reader.poll_once() == 0
    stored = get_offset(db, source)
    assert stored is not None
    writes = db.conn.total_changes
    for _ in range(5):
        assert await reader.poll_once() == 0
    assert db.conn.total_changes == writes

    # Something happens: it is recorded and the new position stored, as always.
    post_id, _ = await publish(db, info)
    sandbox.vk.comment(sandbox.vk.add_reader("Пётр", "Сидоров"), post_id, "Тихо тут")
    assert await drain(reader) == 2  # the post itself and the comment
    assert get_offset(db, source) == stored + 2
    assert [r["kind"] for r in rows(db)] == ["comment"]


@pytest.mark.parametrize("failed", [2, 3])
async def test_an_expired_key_is_recovered(sandbox, info, db, caplog, failed):
    reader = intake(db, info)
    await reader.poll_once()
    post_id, _ = await publish(db, info)
    await drain(reader)
    anna = sandbox.vk.add_reader("Анна", "Иванова")
    sandbox.vk.comment(anna, post_id, "До истечения ключа")
    sandbox.vk.expire_longpoll_key(failed=failed)
    caplog.set_level(logging.WARNING, logger="bot.intake.vk")
    await drain(reader)
    sandbox.vk.comment(anna, post_id, "После")
    await drain(reader)

    texts = [r["detail"]["text"] for r in rows(db)]
    if failed == 2:  # same ts with a new key: nothing lost
        assert texts == ["До истечения ключа", "После"]
        assert not caplog.records
    else:  # VK's history is gone too: what happened before is lost, and we say so
        assert texts == ["После"]
        assert "events lost" in caplog.text


async def test_an_outdated_ts_is_replaced_by_the_servers(sandbox, info, db, caplog):
    source = f"vk:{info['group_id']}"
    set_offset(db, source, 10**6, NOW)  # beyond VK's numbering: it answers failed 1
    reader = intake(db, info)
    assert await reader.poll_once() == 0
    post_id, _ = await publish(db, info)
    sandbox.vk.like(sandbox.vk.add_reader("Ольга", "Петрова"), post_id)
    await drain(reader)
    assert [r["kind"] for r in rows(db)] == ["like"]
    assert get_offset(db, source) < 10**6
    assert "history outdated" in caplog.text


async def test_malformed_and_foreign_events_are_skipped(sandbox, info, db):
    reader = intake(db, info)
    group = info["group_id"]
    for event in [
        None,
        "wall_reply_new",
        {"type": "wall_reply_new"},
        {"type": "wall_reply_new", "object": {"id": 5}},
        {"type": "like_add", "object": "x"},
        {"type": "poll_vote_new", "object": {"poll_id": "abc"}},
        {"type": "group_join", "group_id": group + 1, "object": {"user_id": 1}},
        {"type": "like_add", "object": {"object_type": "comment", "liker_id": 1}},
        {"type": "__class__", "object": {}},
        {"type": "audio_new", "object": {"id": 1}},
    ]:
        reader._handle(event, 1)
    assert rows(db) == []


async def test_run_retries_errors_and_stops_when_asked(sandbox, info, db):
    reader = intake(db, info)
    reader.backoff = 0.01
    sandbox.vk.fail_next("groups.getLongPollServer", 10, times=2)
    stop = asyncio.Event()
    running = asyncio.create_task(reader.run(stop))
    while get_offset(db, f"vk:{info['group_id']}") is None:
        await asyncio.sleep(0.01)
    sandbox.vk.join(sandbox.vk.add_reader("Иван", "Смирнов"))
    for _ in range(500):
        if rows(db):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, timeout=2)
    assert [r["kind"] for r in rows(db)] == ["join"]


async def test_stop_ends_a_waiting_check_at_once(sandbox, info, db, caplog):
    reader = intake(db, info)
    stop = asyncio.Event()
    running = asyncio.create_task(reader.run(stop))
    while get_offset(db, f"vk:{info['group_id']}") is None:
        await asyncio.sleep(0.01)
    # From now on the checks wait for events (1 s: the worker thread of the last one still
    # finishes it after the stop, and the test's teardown waits for that thread).
    reader.wait = 1
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(running, timeout=0.2)
    assert "error" not in caplog.text.lower()


async def test_the_intake_and_the_adapter_share_one_limit_of_the_community_token(sandbox, info, db):
    # VK counts a token's requests wherever they come from: two limiters of one token at
    # 20 a second each would together send 40 and be refused (error 6).
    sandbox.vk.set_rate_limits(enabled=True)
    platform = VkPlatform(info["group_id"], None, info["community_token"], info["api_url"])
    reader = intake(db, info)
    group = str(info["group_id"])
    asked = {"group_ids": group, "fields": "members_count"}
    try:
        answers = await asyncio.gather(
            *(platform.audience_size(group) for _ in range(25)),
            *(reader._method("groups.getById", asked) for _ in range(25)),
        )
    finally:
        await platform.close()
    assert len(answers) == 50  # none refused as too many a second
