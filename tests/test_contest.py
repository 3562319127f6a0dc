"""Creative contests end to end on the stand-ins: entries (in time, late, a second one),
moderation (Telegram buttons and the CLI), votes (VK likes, Telegram reactions), results."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.contest import moderation
from core.config_file import load_config
from core.errors import EventFileError
from scheduler.events import load_event
from tests.conftest import write_config
from tests.contest_helpers import contest_world
from tests.images import png
from tests.quiz_helpers import shift

ROOT = Path(__file__).resolve().parent.parent


def _buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


async def test_a_contest_in_telegram_from_entries_to_winners(tmp_path: Path) -> None:
    with contest_world(tmp_path, 21) as (box, world):
        tg = box.telegram
        at = shift(world.clock.now(), 60)
        world.write("poems", at, '["telegram"]')
        world.plan()
        intake = world.telegram_intake()
        await intake.start()
        await intake.poll_once()  # the admin's /start: not an entry
        fired = await world.fire_all(at)
        assert [row["kind"] for row in fired] == ["publish"]
        (call_post,) = world.db["publications"].rows_where("action_id = ?", [fired[0]["id"]])
        call = int(call_post["remote_id"])
        anna = tg.add_user("Анна", "Иванова")["id"]
        boris = tg.add_user("Борис", "Петров")["id"]
        world.tick(60)
        tg.photo_as_user(anna, anna, png(64, 48), caption="Зимний лес")  # privately to the bot
        world.tick(60)
        tg.comment_on_post(boris, call, "Мой отзыв: «Снежная королева» — чудо!")  # a comment
        world.tick(60)
        tg.photo_as_user(anna, anna, png(32, 32), caption="Ещё один")  # a second entry
        await intake.poll_once()
        assert await world.contest.deliver() == 5  # 3 answers, 2 entries to the admin
        entries = world.entries()
        assert [(e["number"], e["type"], e["via"], e["state"]) for e in entries] == [
            (1, "photo", "message", "pending"),
            (2, "text", "comment", "pending"),
        ]
        assert str(anna) not in json.dumps([e["person"] for e in entries])
        assert entries[0]["name"] == "Анна Иванова" and entries[0]["text"] == "Зимний лес"
        said = [m.get("text", "") for m in tg.messages(anna)]
        assert any("Работа №1 получена" in t for t in said)
        assert any("уже участвует" in t for t in said)
        group = world.tg["group_id"]
        assert any("Работа №2 получена" in m.get("text", "") for m in tg.messages(group))

        # Moderation: the admin gets each entry with buttons; a forged press by a reader fails.
        to_admin = [m for m in tg.messages(world.admin) if _buttons(m)]
        assert len(to_admin) == 2 and "photo" in to_admin[0]
        approve_1, reject_1 = _buttons(to_admin[0])
        tg.press_as_user(world.admin, world.admin, to_admin[0]["message_id"], approve_1)
        await intake.poll_once()
        answers = tg.callback_answers()
        assert answers[-1]["answer"]["text"] == "Работа №1 принята в галерею"
        # The CLI: list, then approve entry 2.
        runner = CliRunner()
        config = ["-c", str(tmp_path / "config.toml")]
        listed = runner.invoke(main, ["contest", "central/poems", "list", *config])
        assert listed.exit_code == 0, listed.output
        assert "одобрена" in listed.output and "Борис Петров" in listed.output
        done = runner.invoke(main, ["contest", "central/poems", "approve", "2", *config])
        assert done.exit_code == 0 and "заявка № 2 — одобрена" in done.output

        # A late entry is answered and not counted.
        await world.fire_all(shift(at, 3600 + 1))
        carl = tg.add_user("Карл", "Сидоров")["id"]
        tg.photo_as_user(carl, carl, png(20, 20))
        await intake.poll_once()
        await world.contest.deliver()
        assert len(world.entries()) == 2
        assert any("закончился" in m.get("text", "") for m in tg.messages(carl))

        # The gallery: an intro, then each approved entry as its own post.
        fired = await world.fire_all(shift(at, 7200 + 30))
        assert [row["kind"] for row in fired] == [
            "contest_gallery",
            "contest_entry",
            "contest_entry",
        ]
        assert all(row["state"] == "sent" for row in fired)
        channel = world.tg["channel_id"]
        posts = tg.messages(channel)
        photo_post, text_post = posts[-2], posts[-1]
        assert "photo" in photo_post and "Работа №1" in photo_post["caption"]
        assert "Работа №2" in text_post["text"] and "Снежная королева" in text_post["text"]
        # Votes: anonymous reaction totals on each entry post (the bot is a channel admin).
        tg.react_anonymously(channel, photo_post["message_id"], "👍", 3)
        tg.react_anonymously(channel, text_post["message_id"], "❤", 4)
        tg.react_anonymously(channel, text_post["message_id"], "🔥", 1)
        await intake.poll_once()
        fired = await world.fire_all(shift(at, 7200 + 86460))
        assert [row["kind"] for row in fired][-2:] == ["contest_tally", "contest_results"]
        results = tg.messages(channel)[-1]["text"]
        assert results.index("работа №2: 5 голосов") < results.index("работа №1: 3 голоса")
        assert await world.contest.deliver() == 2  # each winner is told where they wrote
        assert any("заняла 1 место" in m.get("text", "") for m in tg.messages(group))
        assert any("заняла 2 место" in m.get("text", "") for m in tg.messages(anna))
        # Names and reply addresses go after keep_names; texts and files after keep_entries.
        later = world.clock.now() + world.config.libraries[0].keep_names
        assert world.contest.forget(later) == 2
        assert all(e["name"] is None and e["reply"] is None for e in world.entries())
        assert world.entries()[0]["text"] == "Зимний лес"
        world.contest.forget(world.clock.now() + timedelta(days=91))
        assert all(e["text"] is None and e["media"] is None for e in world.entries())
        await world.close()


async def test_a_contest_in_vk_with_likes_and_a_tie(tmp_path: Path) -> None:
    with contest_world(tmp_path, 22) as (box, world):
        vk, tg = box.vk, box.telegram
        at = shift(world.clock.now(), 60)
        world.write("reviews", at, '["vk"]', 'entry_types = ["text"]\nentries_per_person = 1')
        world.plan()
        intake = world.vk_intake()
        await intake.poll_once()
        await world.fire_all(at)
        group = world.vk["group_id"]
        call = vk.posts(group)[-1]
        readers = [vk.add_reader(name, "Читатель") for name in ("Вера", "Глеб", "Дина")]
        for reader, review in zip(
            readers, ("Отзыв о «Дубровском»", "Отзыв о «Муму»"), strict=False
        ):
            world.tick(30)
            vk.comment(reader, call["ref"], review)
        world.tick(30)
        vk.write(readers[2], "Мой отзыв: «Капитанская дочка» — лучшая!")  # a private message
        world.tick(30)
        vk.comment(readers[0], call["ref"], "И ещё один отзыв")  # a second entry: not counted
        await intake.poll_once()
        assert [e["number"] for e in world.entries()] == [1, 2, 3]
        await world.contest.deliver()
        replies = [c["text"] for c in vk.posts(group)[-1]["comments"] if c["from_id"] < 0]
        assert sum("получена" in r for r in replies) == 2 and any(
            "уже участвует" in r for r in replies
        )
        assert any("Работа №3 получена" in m["text"] for m in vk.messages(readers[2]))
        # Moderation through the admin's Telegram buttons: 1 and 2 approved, 3 rejected.
        tg_intake = world.telegram_intake()
        await tg_intake.start()
        to_admin = [m for m in tg.messages(world.admin) if _buttons(m)]
        assert len(to_admin) == 3 and "ВКонтакте" in to_admin[0]["text"]
        for message, verdict in zip(to_admin, (0, 0, 1), strict=True):
            tg.press_as_user(
                world.admin, world.admin, message["message_id"], _buttons(message)[verdict]
            )
        stranger = tg.add_user("Чужой")["id"]
        tg.forge_callback(
            stranger, world.admin, to_admin[2]["message_id"], _buttons(to_admin[2])[0]
        )
        await tg_intake.poll_once()
        assert [e["state"] for e in world.entries()] == ["approved", "approved", "rejected"]
        fired = await world.fire_all(shift(at, 7200 + 10))
        assert [row["kind"] for row in fired] == [
            "contest_gallery",
            "contest_entry",
            "contest_entry",
        ]
        entry_posts = vk.posts(group)[-2:]
        assert [p["text"].split("\n")[0] for p in entry_posts] == [
            "🎨 Работа №1 · Зимние стихи",
            "🎨 Работа №2 · Зимние стихи",
        ]
        with pytest.raises(moderation.GalleryOut):  # the gallery is out: decisions stand
            moderation.decide(world.db, "central/reviews", 3, True, "cli", world.clock.now())
        # Two likes each: a tie, which the earlier entry (No. 1) wins.
        for post in (entry_posts[1], entry_posts[0]):
            for reader in readers[1:]:
                vk.like(reader, post["ref"])
        await world.fire_all(shift(at, 7200 + 86460))
        results = vk.posts(group)[-1]["text"]
        assert "1 место — работа №1: 2 голоса" in results
        assert "2 место — работа №2: 2 голоса" in results
        await world.contest.deliver()
        comments = vk.posts(group)[0]["comments"]
        assert any("заняла 1 место" in c["text"] and c["reply_to"] for c in comments)
        await world.close()


CONTEST_FILE = """kind = "contest"
library = "central"
title = "Рисунки"
text = "Рисуйте!"
at = 2099-01-10T12:00:00
entries_until = 2099-01-20T12:00:00
gallery_at = 2099-01-21T12:00:00
voting_until = 2099-01-25T12:00:00
results_at = 2099-01-25T12:00:00
"""


def test_a_contest_file_is_read_with_its_rules(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = tmp_path / "events" / "draw.toml"
    path.write_text(CONTEST_FILE + 'entry_types = ["photo"]\nentries_per_person = 2\n', "utf-8")
    event = load_event(path, config)
    assert event.kind == "contest" and event.contest.entry_types == ("photo",)
    assert event.contest.entries_per_person == 2 and event.contest.keep_entries == timedelta(
        days=90
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('voting = "jury"', "voting"),
        ('entry_types = ["audio"]', "entry_types"),
        ('keep_entries = "forever"', "keep_entries"),
        ("entries_per_person = 0", "entries_per_person"),
        ("phone = true", "phone"),
    ],
)
def test_a_contest_file_with_a_bad_rule_is_refused(tmp_path: Path, extra: str, field: str) -> None:
    config = load_config(write_config(tmp_path))
    path = tmp_path / "events" / "draw.toml"
    path.write_text(CONTEST_FILE + extra + "\n", "utf-8")
    with pytest.raises(EventFileError) as error:
        load_event(path, config)
    assert field in str(error.value)


def test_contest_times_must_follow_each_other(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = tmp_path / "events" / "draw.toml"
    text = CONTEST_FILE.replace("gallery_at = 2099-01-21", "gallery_at = 2099-01-19")
    path.write_text(text, "utf-8")
    with pytest.raises(EventFileError, match="gallery_at.*entries_until"):
        load_event(path, config)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_sample_contest_files_load(tmp_path: Path, language: str) -> None:
    config = load_config(write_config(tmp_path, language=language))
    sample = ROOT / "templates" / "events" / language / "contest.toml"
    (tmp_path / "events" / "contest.toml").write_text(sample.read_text("utf-8"), "utf-8")
    event = load_event(tmp_path / "events" / "contest.toml", config)
    assert event.contest.entry_types == ("photo", "video", "text")


async def test_editing_the_file_keeps_the_gallery_and_the_figures_count(tmp_path: Path) -> None:
    from reports.contest_figures import ContestFigures, contest_figures

    with contest_world(tmp_path, 23) as (box, world):
        vk = box.vk
        at = shift(world.clock.now(), 60)
        world.write("reviews", at, '["vk"]')
        world.plan()
        intake = world.vk_intake()
        await intake.poll_once()
        await world.fire_all(at)
        call = vk.posts(world.vk["group_id"])[-1]["ref"]
        readers = [vk.add_reader(f"Читатель{n}", "Т") for n in range(3)]
        for reader in readers:
            world.tick(10)
            vk.comment(reader, call, f"Отзыв {reader}")
        await intake.poll_once()
        for number in (1, 2):
            moderation.decide(world.db, "central/reviews", number, True, "cli", world.clock.now())
        await world.fire_all(shift(at, 7200 + 1))  # the gallery and its first entry post
        world.write("reviews", at, '["vk"]', 'keep_entries = "30d"')  # an edit of the file
        world.plan()
        assert world.db["actions"].count_where("kind = 'contest_entry'") == 2
        await world.fire_all(shift(at, 7200 + 86460))
        figures = ContestFigures(
            "central/reviews", "vk", entries=3, approved=2, votes=0, entrants=3
        )
        assert contest_figures(world.db, ["central/reviews"]) == [figures]
        await world.close()


async def test_a_poll_among_the_finalists_decides_in_a_telegram_channel(tmp_path: Path) -> None:
    with contest_world(tmp_path, 24) as (box, world):
        tg = box.telegram
        at = shift(world.clock.now(), 60)
        world.write("poll", at, '["telegram"]', 'voting = "poll"\nentry_types = ["text"]')
        world.plan()
        intake = world.telegram_intake()
        await intake.start()
        await intake.poll_once()
        await world.fire_all(at)
        readers = [tg.add_user(f"Чтец{n}")["id"] for n in range(3)]
        for reader in readers:
            world.tick(10)
            tg.post_as_user(reader, reader, f"Стихотворение чтеца {reader}")
        await intake.poll_once()
        for number in (1, 2, 3):
            moderation.decide(world.db, "central/poll", number, True, "cli", world.clock.now())
        fired = await world.fire_all(shift(at, 7200 + 60))
        kinds = [row["kind"] for row in fired]
        assert kinds == ["contest_gallery", *["contest_entry"] * 3, "contest_poll"]
        channel = world.tg["channel_id"]
        poll = tg.messages(channel)[-1]
        assert [o["text"] for o in poll["poll"]["options"]] == [
            "Работа №1",
            "Работа №2",
            "Работа №3",
        ]
        crowd = [u["id"] for u in tg.add_users(8)]
        choices = [2, 2, 2, 2, 0, 0, 1, 1]  # No. 3: 4 votes; No. 1 and No. 2: 2 each
        tg.vote_many(
            channel, poll["message_id"], [(u, [c]) for u, c in zip(crowd, choices, strict=True)]
        )
        await intake.poll_once()  # the poll's totals (anonymous: no voters)
        await world.fire_all(shift(at, 7200 + 86460))
        results = tg.messages(channel)[-1]["text"]
        assert "1 место — работа №3: 4 голоса" in results
        assert "2 место — работа №1: 2 голоса" in results  # the tie goes to the earlier entry
        assert "работа №2" not in results
        await world.close()


async def test_a_poll_among_the_finalists_decides_on_the_vk_wall(tmp_path: Path) -> None:
    with contest_world(tmp_path, 25) as (box, world):
        vk = box.vk
        at = shift(world.clock.now(), 60)
        world.write("poll", at, '["vk"]', 'voting = "poll"\nentry_types = ["text"]\nwinners = 1')
        world.plan()
        intake = world.vk_intake()
        await intake.poll_once()
        await world.fire_all(at)
        readers = [vk.add_reader(f"Чтец{n}", "Т") for n in range(2)]
        for reader in readers:
            world.tick(10)
            vk.write(reader, f"Отзыв читателя {reader}")
        await intake.poll_once()
        for number in (1, 2):
            moderation.decide(world.db, "central/poll", number, True, "cli", world.clock.now())
        fired = await world.fire_all(shift(at, 7200 + 60))
        assert fired[-1]["kind"] == "contest_poll" and fired[-1]["state"] == "sent"
        (poll_post,) = world.db["publications"].rows_where("action_id = ?", [fired[-1]["id"]])
        polls = box.state()["vk"]["polls"]
        (poll,) = [p for p in polls if str(p["id"]) == poll_post["poll_id"]]
        answers = poll["answers"]
        voters = [vk.add_reader(f"Голос{n}", "Г") for n in range(3)]
        for voter in voters:
            vk.vote(voter, int(poll_post["poll_id"]), [answers[1]["id"]])
        await world.fire_all(shift(at, 7200 + 86460))
        results = vk.posts(world.vk["group_id"])[-1]["text"]
        assert "1 место — работа №2: 3 голоса" in results and "работа №1" not in results
        await world.close()


async def test_a_video_entry_in_telegram_is_moderated_and_posted_by_its_file_id(
    tmp_path: Path,
) -> None:
    with contest_world(tmp_path, 26) as (box, world):
        tg = box.telegram
        at = shift(world.clock.now(), 60)
        world.write("readers", at, '["telegram"]', 'entry_types = ["video"]')
        world.plan()
        intake = world.telegram_intake()
        await intake.start()
        await intake.poll_once()
        await world.fire_all(at)
        reader = tg.add_user("Вера", "Чтецова")["id"]
        world.tick(60)
        sent = tg.video_as_user(reader, reader, b"\x00\x00\x00\x18ftypmp42", caption="Пушкин")
        file_id = sent["video"]["file_id"]
        await intake.poll_once()
        (entry,) = world.entries()
        assert (entry["type"], entry["media"], entry["text"]) == ("video", file_id, "Пушкин")
        assert await world.contest.deliver() == 2  # the receipt, the entry to the admin
        (to_admin,) = [m for m in tg.messages(world.admin) if _buttons(m)]
        assert to_admin["video"]["file_id"] == file_id and "Пушкин" in to_admin["caption"]
        tg.press_as_user(world.admin, world.admin, to_admin["message_id"], _buttons(to_admin)[0])
        await intake.poll_once()
        fired = await world.fire_all(shift(at, 7200 + 10))
        assert [(row["kind"], row["state"]) for row in fired] == [
            ("contest_gallery", "sent"),
            ("contest_entry", "sent"),
        ]
        posted = tg.messages(world.tg["channel_id"])[-1]
        assert posted["video"]["file_id"] == file_id and "Работа №1" in posted["caption"]
        await world.close()


async def test_vk_photo_and_video_entries_are_moderated_and_posted_with_their_media(
    tmp_path: Path,
) -> None:
    with contest_world(tmp_path, 27) as (box, world):
        vk, tg = box.vk, box.telegram
        at = shift(world.clock.now(), 60)
        world.write("drawings", at, '["vk"]', 'entry_types = ["photo", "video"]')
        world.plan()
        intake = world.vk_intake()
        await intake.poll_once()
        await world.fire_all(at)
        group = world.vk["group_id"]
        call = vk.posts(group)[-1]["ref"]
        anna, boris = vk.add_reader("Анна", "Рисует"), vk.add_reader("Борис", "Снимает")
        world.tick(30)
        vk.comment(anna, call, "Мой рисунок", attachments=["photo"])  # a comment with a photo
        world.tick(30)
        vk.write(boris, "Моё видео", attachments=["video"])  # a community message with a video
        await intake.poll_once()
        photo, video = world.entries()
        state = box.state()["vk"]
        (comment,) = [c for p in state["posts"] if p["ref"] == call for c in p["comments"]]
        (message,) = [m for m in state["messages"] if m["from_id"] == boris]
        assert (photo["type"], photo["via"]) == ("photo", "comment")
        assert (video["type"], video["via"]) == ("video", "message")
        # The attachment strings VK takes back: type, owner, id and the access key.
        assert photo["media"].startswith(comment["attachments"][0] + "_")
        assert video["media"].startswith(message["attachments"][0] + "_")
        await world.contest.deliver()
        to_admin = [m for m in tg.messages(world.admin) if _buttons(m)]
        assert len(to_admin) == 2  # as text with a link: Telegram cannot show VK's files
        assert f"https://vk.com/{photo['media']}" in to_admin[0]["text"]
        assert f"https://vk.com/{video['media']}" in to_admin[1]["text"]
        for number in (1, 2):
            moderation.decide(world.db, "central/drawings", number, True, "cli", world.clock.now())
        fired = await world.fire_all(shift(at, 7200 + 10))
        assert [row["state"] for row in fired] == ["sent"] * 3
        posted = vk.posts(group)[-2:]
        assert posted[0]["attachments"] == comment["attachments"]
        assert posted[1]["attachments"] == message["attachments"]
        assert "Работа №1" in posted[0]["text"] and "Работа №2" in posted[1]["text"]
        await world.close()
