"""Giveaways end to end on the stand-ins: the announcement with its commitment, entries,
the eligibility checks through the real clients, the draw, its proof and the results."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bot.giveaway import draw
from bot.giveaway.engine import GiveawayEngine
from bot.intake.telegram import TelegramIntake
from core import interactions
from core.storage import to_db
from tests.quiz_helpers import local, quiz_world, shift

READERS = 120
GIVEAWAY = """kind = "giveaway"
library = "central"
title = "Розыгрыш книг"
text = "Разыгрываем книги!"
at = {at}
draw_at = {draw_at}
networks = {networks}
winners = 3
reserve = 2
conditions = {conditions}
{word}
exclude_recent_winners = "30d"
prizes = ["Книга"]
organiser = "Центральная библиотека"
"""


def _start(
    world, tmp_path: Path, networks: str, conditions: str, name: str = "give", extra: str = ""
):
    """Write the giveaway; returns the world's engine (its proofs go to ``tmp_path / "proofs"``,
    next to the database), at and draw_at."""
    engine = world.app.giveaway
    assert engine.proof_dir == tmp_path / "proofs"
    at = shift(world.clock.now(), 60)
    draw_at = shift(at, 86400)
    text = (
        GIVEAWAY.format(
            at=local(at),
            draw_at=local(draw_at),
            networks=networks,
            conditions=conditions,
            word='comment_word = "участвую"' if "comment" in conditions else "",
        )
        + extra
    )
    (tmp_path / "events" / f"{name}.toml").write_text(text, "utf-8")
    world.plan()
    return engine, at, draw_at


def _proof_of(world, network: str) -> dict:
    row = next(world.db["giveaways"].rows_where("network = ?", [network]))
    return json.loads(Path(row["proof_path"]).read_text("utf-8")), row


async def test_vk_giveaway_draws_among_readers_meeting_every_condition(tmp_path: Path) -> None:
    staff: list[int] = []

    def config(box) -> dict[str, str]:
        staff.append(box.vk.add_reader("Сотрудница", "Библиотеки"))
        return {"vk_extra": f"staff = [{staff[0]}]"}

    with quiz_world(tmp_path, 23, config) as (box, world):
        conditions = '["member", "like", "repost", "comment"]'
        engine, at, draw_at = _start(world, tmp_path, '["vk"]', conditions)
        await world.fire_due(at)
        announced = box.vk.posts(world.vk["group_id"])[-1]
        commitment = world.db["giveaways"].get(1)["commitment"]
        assert commitment in announced["text"] and "\u2060" not in announced["text"]
        ref = f"-{world.vk['group_id']}_{announced['id']}"
        rng = random.Random(3)
        eligible: set[int] = set()
        readers = [box.vk.add_reader(f"Читатель{n}", "В") for n in range(READERS)]
        for reader in [*readers, staff[0]]:
            done = {c for c in ("member", "like", "repost", "comment") if rng.random() < 0.75}
            if reader == staff[0]:
                done = {"member", "like", "repost", "comment"}
            if "member" in done:
                box.vk.join(reader)
            if "like" in done:
                box.vk.like(reader, ref)
            if "repost" in done:
                box.vk.repost(reader, ref)
            word = rng.random() < 0.8
            if "comment" in done:
                box.vk.comment(reader, ref, "Участвую!" if word else "Хочу книгу")
            if len(done) == 4 and word and reader != staff[0]:
                eligible.add(reader)
            world.tick(60)
        assert 20 < len(eligible) < READERS
        fired = await world.fire_due(draw_at)
        assert fired[-1]["kind"] == "draw" and fired[-1]["state"] == "sent", fired[-1]
        posts = box.vk.posts(world.vk["group_id"])
        results = posts[-1]
        await world.close()
    proof, row = _proof_of(world, "vk")
    secret = interactions.library_secret(world.db, "central")
    expected = sorted(interactions.pseudonym(secret, "vk", uid) for uid in eligible)
    assert proof["participants"] == expected
    assert proof["commitment"] == commitment and draw.verify(proof, commitment) == []
    assert json.loads(row["proof"])["seed"] == proof["seed"]  # kept in the database too
    assert proof["seed"] in results["text"] and proof["participants_sha256"] in results["text"]
    assert f"{len(eligible)}" in results["text"]
    winners = [
        uid for uid in eligible if interactions.pseudonym(secret, "vk", uid) in proof["winners"]
    ]
    assert len(winners) == 3 and len(proof["reserves"]) == 2
    for uid in winners:
        assert f"[id{uid}|Читатель" in results["text"]
    told = [c["text"] for c in results.get("comments_list", [])] or [
        c.get("text", "") for p in box.state()["vk"]["posts"] if p["id"] == results["id"]
        for c in (p.get("comments_list") or p.get("comments") or []) if isinstance(c, dict)
    ]  # fmt: skip
    assert any(all(f"id{uid}" in text for uid in winners) for text in told), told
    assert "телефон" in told[0].lower()  # the reply says it is not asked for


async def test_vk_eligibility_reads_pages_of_1000_and_batches_of_500(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 29) as (box, world):
        engine, at, draw_at = _start(world, tmp_path, '["vk"]', '["member", "like"]')
        await world.fire_due(at)
        post = box.vk.posts(world.vk["group_id"])[-1]
        ref = f"-{world.vk['group_id']}_{post['id']}"
        likers = [box.vk.add_reader(f"Ч{n}", "Л") for n in range(2300)]
        for n, reader in enumerate(likers):
            box.vk.like(reader, ref)
            if n % 2 == 0:
                box.vk.join(reader)
        before = len(box.state()["vk"]["calls"])
        await world.fire_due(draw_at)
        calls = box.state()["vk"]["calls"][before:]
        await world.close()
    pages = [c for c in calls if c["method"] == "likes.getList"]
    assert len(pages) == 3 and all(c["params"]["count"] == "1000" for c in pages)
    assert [c["params"]["filter"] for c in pages] == ["likes"] * 3
    batches = [c for c in calls if c["method"] == "groups.isMember"]
    assert len(batches) == 5  # 2300 likers, 500 to a request
    assert max(len(c["params"]["user_ids"].split(",")) for c in batches) == 500
    proof, _ = _proof_of(world, "vk")
    assert proof["participants_count"] == 1150 and draw.verify(proof) == []


async def test_telegram_giveaway_draws_among_members_who_commented(tmp_path: Path) -> None:
    staff: list[int] = []

    def config(box) -> dict[str, str]:
        staff.append(box.telegram.add_user("Сотрудник")["id"])
        return {"telegram_extra": f"staff = [{staff[0]}]"}

    with quiz_world(tmp_path, 31, config) as (box, world):
        engine, at, draw_at = _start(world, tmp_path, '["telegram"]', '["member", "comment"]')
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(world.db, bot, list(world.config.libraries), world.clock, 0)
        intake.giveaway = engine
        await intake.start()
        await world.fire_due(at)
        channel = world.tg["channel_id"]
        announced = box.telegram.messages(channel)[-1]
        commitment = world.db["giveaways"].get(1)["commitment"]
        assert commitment in (announced.get("text") or announced.get("caption"))
        handled = await intake.poll_once()
        while handled:  # the post's copy in the discussion group
            handled = await intake.poll_once()
        users = [box.telegram.add_user(f"Читатель{n}")["id"] for n in range(READERS)]
        rng = random.Random(7)
        eligible: set[int] = set()
        secret = interactions.library_secret(world.db, "central")
        for user in [*users, staff[0]]:
            member, comments, word = rng.random() < 0.7, rng.random() < 0.8, rng.random() < 0.7
            if user == staff[0]:
                member = comments = word = True
            if member:
                box.telegram.join(user, channel)
            if comments:
                text = "Участвую" if word else "Какая хорошая книга"
                box.telegram.comment_on_post(user, int(announced["message_id"]), text)
                if rng.random() < 0.2:  # a second comment changes nothing
                    box.telegram.comment_on_post(user, int(announced["message_id"]), "участвую!")
                    word = True
            if member and comments and word and user != staff[0]:
                eligible.add(user)
            world.tick(30)
            while await intake.poll_once():
                pass
        # A recent winner of another giveaway of the library does not take part again.
        recent = sorted(eligible)[0]
        world.db["giveaway_winners"].insert(
            {
                "event_id": "central/earlier",
                "library_id": "central",
                "network": "telegram",
                "place": 1,
                "person": interactions.pseudonym(secret, "telegram", recent),
                "name": "x",
                "reserve": 0,
                "drawn_at": to_db(shift(at, -5 * 86400)),
            }
        )
        eligible.discard(recent)
        assert 30 < len(eligible) < READERS
        fired = await world.fire_due(draw_at)
        assert fired[-1]["kind"] == "draw" and fired[-1]["state"] == "sent", fired[-1]
        results = box.telegram.messages(channel)[-1]["text"]
        group = box.telegram.messages(world.tg["group_id"])
        await world.close()
    proof, _ = _proof_of(world, "telegram")
    expected = sorted(interactions.pseudonym(secret, "telegram", uid) for uid in eligible)
    assert proof["participants"] == expected
    assert draw.verify(proof, commitment) == []
    assert (
        proof["seed"] in results and f"Участников, выполнивших условия: {len(eligible)}" in results
    )
    winners = [
        u for u in eligible if interactions.pseudonym(secret, "telegram", u) in proof["winners"]
    ]
    assert len(winners) == 3
    for user in winners:  # display names in the results, a reply to each winner's comment
        assert f"Читатель{users.index(user)}" in results
    replies = [m for m in group if "поздравляем" in (m.get("text") or "")]
    assert len(replies) == 3 and all(m.get("reply_to_message") for m in replies)
    # Entrants' platform ids and comments are gone once drawn; only pseudonyms stay.
    left = list(world.db.execute("select user_id, text from giveaway_entries").fetchall())
    assert left and all(row == (None, None) for row in left)


async def test_nobody_meeting_the_conditions_gives_no_winners(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 37) as (box, world):
        engine, at, draw_at = _start(world, tmp_path, '["vk"]', '["like", "comment"]')
        await world.fire_due(at)
        post = box.vk.posts(world.vk["group_id"])[-1]
        ref = f"-{world.vk['group_id']}_{post['id']}"
        for n in range(100):  # likes without a comment, or a comment without the word
            reader = box.vk.add_reader(f"Ч{n}", "Н")
            if n % 2:
                box.vk.like(reader, ref)
            else:
                box.vk.comment(reader, ref, "Интересно")
        fired = await world.fire_due(draw_at)
        assert fired[-1]["state"] == "sent"
        results = box.vk.posts(world.vk["group_id"])[-1]["text"]
        await world.close()
    proof, _ = _proof_of(world, "vk")
    assert proof["participants"] == [] and proof["winners"] == []
    assert "победителей нет" in results and draw.verify(proof) == []


async def test_a_results_post_retried_later_keeps_the_draw(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 41) as (box, world):
        engine, at, draw_at = _start(world, tmp_path, '["vk"]', '["like"]')
        await world.fire_due(at)
        post = box.vk.posts(world.vk["group_id"])[-1]
        ref = f"-{world.vk['group_id']}_{post['id']}"
        for n in range(100):
            box.vk.like(box.vk.add_reader(f"Ч{n}", "П"), ref)
        box.vk.fail_next("wall.post", 10)  # the results post: "internal error", retried
        fired = await world.fire_due(draw_at)
        assert fired[-1]["kind"] == "draw" and fired[-1]["state"] == "pending"
        first = json.loads(world.db["giveaways"].get(1)["proof"])
        for n in range(5):  # likes after the draw change nothing
            box.vk.like(box.vk.add_reader(f"Поздний{n}", "П"), ref)
        fired = await world.fire_due(shift(draw_at, 60))
        assert fired[-1]["state"] == "sent"
        results = box.vk.posts(world.vk["group_id"])[-1]["text"]
        await world.close()
    assert json.loads(world.db["giveaways"].get(1)["proof"]) == first
    assert first["participants_count"] == 100 and first["seed"] in results
    assert world.db["giveaway_winners"].count == 5


async def test_vk_winners_get_a_message_or_else_a_comment(tmp_path: Path, caplog) -> None:
    with quiz_world(tmp_path, 43) as (box, world):
        vk = box.vk
        extra = 'tell_winners = "message"\n'
        engine, at, draw_at = _start(world, tmp_path, '["vk"]', '["comment"]', extra=extra)
        await world.fire_due(at)
        group = world.vk["group_id"]
        ref = vk.posts(group)[-1]["ref"]
        readers = [vk.add_reader(f"Победитель{n}", "В") for n in range(3)]
        for reader in readers[:2]:
            vk.write(reader, "Здравствуйте!")  # they allowed the community's messages
        for reader in readers:
            vk.comment(reader, ref, "Участвую")
        with caplog.at_level("WARNING", logger="bot.giveaway.engine"):
            fired = await world.fire_due(draw_at)
        assert fired[-1]["kind"] == "draw" and fired[-1]["state"] == "sent"
        for reader in readers[:2]:
            told = [m["text"] for m in vk.messages(reader) if m["out"]]
            assert len(told) == 1 and f"[id{reader}|Победитель" in told[0]
            assert "поздравляем" in told[0] and "телефон" in told[0].lower()
        assert not [m for m in vk.messages(readers[2]) if m["out"]]  # VK refused: 901
        results = vk.posts(group)[-1]
        (comment,) = [c for c in results["comments"] if c["from_id"] == -group]
        assert (
            f"[id{readers[2]}|Победитель2" in comment["text"] and "поздравляем" in comment["text"]
        )
        assert f"id{readers[0]}" not in comment["text"]
        await world.close()
    (warning,) = [r for r in caplog.records if "private message" in r.getMessage()]
    assert "told in a reply instead" in warning.getMessage()
    assert str(readers[2]) not in warning.getMessage()  # the log names the place, not the id


async def test_telegram_winners_get_a_message_or_else_a_reply(tmp_path: Path, caplog) -> None:
    with quiz_world(tmp_path, 47) as (box, world):
        tg = box.telegram
        extra = 'tell_winners = "message"\n'
        engine, at, draw_at = _start(world, tmp_path, '["telegram"]', '["comment"]', extra=extra)
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(world.db, bot, list(world.config.libraries), world.clock, 0)
        intake.giveaway = engine
        await intake.start()
        await world.fire_due(at)
        announced = tg.messages(world.tg["channel_id"])[-1]
        while await intake.poll_once():
            pass
        readers = [tg.add_user(f"Победитель{n}")["id"] for n in range(3)]
        for reader in readers[:2]:
            tg.post_as_user(reader, reader, "/start")  # they started the bot
        for reader in readers:
            tg.comment_on_post(reader, int(announced["message_id"]), "Участвую")
            world.tick(10)
        while await intake.poll_once():
            pass
        with caplog.at_level("WARNING", logger="bot.giveaway.engine"):
            fired = await world.fire_due(draw_at)
        assert fired[-1]["kind"] == "draw" and fired[-1]["state"] == "sent"
        for n, reader in enumerate(readers[:2]):
            told = [m["text"] for m in tg.messages(reader) if "поздравляем" in m.get("text", "")]
            assert len(told) == 1 and told[0].startswith(f"Победитель{n},")
        group = tg.messages(world.tg["group_id"])
        (reply,) = [m for m in group if "поздравляем" in (m.get("text") or "")]
        assert reply["text"].startswith("Победитель2,")  # Telegram refused: 403
        assert reply["reply_to_message"]["from"]["id"] == readers[2]
        await world.close()
    (warning,) = [r for r in caplog.records if "private message" in r.getMessage()]
    assert (
        "winner No." in warning.getMessage() and "told in a reply instead" in warning.getMessage()
    )


async def test_winners_are_told_after_a_restart_between_the_draw_and_the_results(
    tmp_path: Path,
) -> None:
    with quiz_world(tmp_path, 47) as (box, world):
        engine, at, draw_at = _start(world, tmp_path, '["vk"]', '["comment"]')
        await world.fire_due(at)
        group = world.vk["group_id"]
        ref = box.vk.posts(group)[-1]["ref"]
        readers = [box.vk.add_reader(f"Читатель{n}", "Р") for n in range(4)]
        for reader in readers:
            box.vk.comment(reader, ref, "Участвую!")
        box.vk.fail_next("wall.post", 10)  # the results post fails: drawn, not yet told
        fired = await world.fire_due(draw_at)
        assert fired[-1]["kind"] == "draw" and fired[-1]["state"] == "pending"
        # The bot restarts: a new engine, nothing of the old one's memory.
        restarted = GiveawayEngine(
            world.db, world.config, world.platforms, world.clock, proof_dir=tmp_path / "proofs"
        )
        world.runner.handlers.update(restarted.handlers())
        fired = await world.fire_due(shift(draw_at, 60))
        assert fired[-1]["state"] == "sent"
        results = box.vk.posts(group)[-1]
        told = [c["text"] for c in results["comments"] if c["from_id"] == -group]
        await world.close()
    winners = [r["name"] for r in world.db["giveaway_winners"].rows_where("reserve = 0")]
    assert len(told) == 1 and len(winners) == 3
    assert all(name in told[0] for name in winners)
    assert world.db["giveaways"].get(1)["winners_contact"] is None  # erased once told
