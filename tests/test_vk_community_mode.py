"""VK with a community token only: the wall post made with it where VK takes it; where VK
refuses, the post handed to the VK admins at its time and linked to the plan once an admin
publishes it by hand (``wall_post_new``), with its figures and its line in the report.

The real vk_api client talks to the VK stand-in (its ``community_wall`` setting chooses
VK's behaviour, ``post_as_admin`` is the admin publishing by hand); the clock is injected
and actions are fired by hand, so nothing waits for a schedule.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from bot.alerts import handed_id
from bot.app import App, build_app, load_plan
from bot.intake.vk import VkIntake
from core.clock import ManualClock
from core.config import Config
from core.config_file import load_config
from core.storage import open_db, to_db
from reports.output import from_config
from reports.period import date_range
from sandbox.server import Sandbox
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, write_config, write_event

ZONE = ZoneInfo("Europe/Moscow")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The event's time, a few hours ahead of the real clock: the stand-in dates wall posts by
# it (shifted to after the handover), the bot's clock is injected.
DUE = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
TEXT = '"Приходите на встречу клуба! Обсуждаем «Мастера и Маргариту»."'


@dataclass
class Scene:
    """The stand-ins, a one-library bot with a VK community token only, its admin."""

    box: Sandbox
    config: Config
    db: sqlite_utils.Database
    clock: ManualClock
    app: App
    group_id: int
    admin: int  # the VK admin
    tg_admin: int

    @property
    def intake(self) -> VkIntake:
        [intake] = [i for i in self.app.intakes if isinstance(i, VkIntake)]
        intake.wait = 0  # the stand-in answers a check at once
        return intake

    def action(self, kind: str = "publish") -> dict:
        [row] = self.db["actions"].rows_where("network = 'vk' and kind = ?", [kind])
        return row

    def publication(self) -> dict:
        [row] = self.db["publications"].rows_where("network = 'vk'")
        return row

    def notices(self) -> list[dict]:
        """What the community wrote to the admin (the admin's own first message left out)."""
        return [m for m in self.box.vk.messages(self.admin, self.group_id) if m["out"]]

    async def fire(self, kind: str = "publish") -> None:
        await self.app.runner.fire(self.action(kind)["id"])
        await self.app.alerts.drain()


async def make_scene(
    tmp_path: Path, box: Sandbox, image: bool, opened: bool = True, text: str = TEXT
) -> Scene:
    """``opened``: the admins have opened the chat with the bot, on VK by writing to the
    community (it may answer only then)."""
    info = box.info()
    group_id, admin = info["vk"]["group_id"], info["vk"]["admin_id"]
    path = write_config(
        tmp_path,
        telegram_url=info["telegram"]["api_url"],
        vk_url=info["vk"]["api_url"],
        channel=str(info["telegram"]["channel_id"]),
        group_id=group_id,
        vk_extra=f"admins = [{admin}]",
    )
    tg_admin = box.telegram.add_user("Анна", "Смирнова")["id"]
    if opened:  # the Telegram admin has opened the chat with the bot
        box.telegram.post_as_user(tg_admin, tg_admin, "/start")
    config_text = path.read_text(encoding="utf-8").replace(
        "admins = [42]", f"admins = [{tg_admin}]"
    )
    # No user token at all: the community token is all the library has.
    lines = config_text.splitlines()
    path.write_text("\n".join(x for x in lines if "user_token_env" not in x) + "\n", "utf-8")
    fields = {"networks": '["vk"]', "text": text}
    if image:
        (tmp_path / "events" / "poster.png").write_bytes(
            (TEMPLATES / "events" / "ru" / "announcement.png").read_bytes()
        )
        fields["image"] = '"poster.png"'
    write_event(tmp_path, at=DUE.astimezone(ZONE).replace(tzinfo=None).isoformat(), **fields)
    config = load_config(path)
    db = open_db(config.storage)
    clock = ManualClock(DUE - timedelta(hours=1))
    assert load_plan(db, config, clock).problems == []
    env = {TG_ENV: info["telegram"]["token"], VK_COMMUNITY_ENV: info["vk"]["community_token"]}
    app = build_app(config, db, env=env, clock=clock, wait=1)
    if opened:
        box.vk.write(admin, "Начать", group_id=group_id)
    clock.current = DUE
    return Scene(box, config, db, clock, app, group_id, admin, tg_admin)


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    with Sandbox(seed=17) as sandbox:
        yield sandbox


async def test_where_vk_takes_the_community_token_the_post_goes_out_with_it(
    tmp_path: Path, box: Sandbox
) -> None:
    box.vk.set_community_wall_posts(True)
    scene = await make_scene(tmp_path, box, image=False)
    box.recording = True
    await scene.fire()
    [post] = box.vk.posts(scene.group_id)
    assert post["from_id"] == -scene.group_id and "Мастера и Маргариту" in post["text"]
    # One wall.post, from the community (from_group=1), made with the only token there is.
    assert [a.method for a in box.arrivals if a.network == "vk"] == ["wall.post"]
    assert scene.action()["state"] == "sent"
    publication = scene.publication()
    assert publication["remote_id"] == str(post["id"])
    assert publication["url"] == f"https://vk.com/wall-{scene.group_id}_{post['id']}"
    assert scene.notices() == []  # nothing to hand over
    await scene.app.close()


async def test_where_vk_refuses_the_post_is_handed_over_and_linked_once_published(
    tmp_path: Path, box: Sandbox
) -> None:
    scene = await make_scene(tmp_path, box, image=True)
    await scene.fire()

    # At its time the post (text and image) reached the VK admin in community messages.
    [notice] = scene.notices()
    header, body = notice["text"].split("\n\n", 1)
    assert "Опубликуйте его вручную" in header and "Картинка к посту" in header
    assert not re.search(r"[A-Za-z]", notice["text"])  # Russian only, for a Russian library
    assert body.startswith("Книжный клуб") and "Мастера и Маргариту" in body
    [photo] = notice["attachments"]
    owner, photo_id = (int(part) for part in photo.removeprefix("photo").split("_"))
    poster = (scene.config.events_dir / "poster.png").read_bytes()
    assert box.vk.world.photos[(owner, photo_id)].data == poster
    # The Telegram admin has it too: the image, the text as its caption.
    bot_id = box.info()["telegram"]["bot_id"]
    [photo] = [
        m for m in box.telegram.messages(scene.tg_admin) if m.get("from", {}).get("id") == bot_id
    ]
    assert photo["caption"] == notice["text"] and photo["photo"]
    assert box.vk.posts(scene.group_id) == []  # VK refused the bot (error 27)
    # Not failed: the bot did its part; "sent", its publication waiting for the wall post.
    action = scene.action()
    assert (action["state"], action["error"]) == ("sent", None)
    publication = scene.publication()
    assert publication["remote_id"] == handed_id(publication_guid(scene))
    assert publication["url"] == ""

    # Its figures are due before an admin got to it: nothing on the wall yet, read later.
    scene.clock.current = DUE + timedelta(hours=1, minutes=1)
    await scene.fire("snapshot")
    snapshot = scene.action("snapshot")
    assert snapshot["state"] == "pending" and snapshot["retry_at"] is not None
    assert scene.db["metric_samples"].count_where("publication_id is not null") == 0

    # An admin publishes it by hand, as the community, with the image; the long poll
    # brings wall_post_new and the post is linked to the plan.
    intake = scene.intake
    await intake.poll_once()  # the stream up to now (the admin's own first message)
    box.vk.shift_clock((DUE + timedelta(hours=2) - datetime.now(UTC)).total_seconds())
    post_id = box.vk.post_as_admin(body, scene.group_id, photo=True)
    [post] = box.vk.posts(scene.group_id)
    assert await intake.poll_once() == 1
    publication = scene.publication()
    assert publication["remote_id"] == str(post_id)
    assert publication["url"] == f"https://vk.com/wall-{scene.group_id}_{post_id}"
    posted = datetime.fromtimestamp(post["date"], UTC)
    assert publication["published_at"] == to_db(posted)
    # Its figures are read counting from when it appeared, armed again at once.
    snapshot = scene.action("snapshot")
    assert (snapshot["state"], snapshot["due_at"]) == (
        "pending",
        to_db(posted + timedelta(hours=1)),
    )
    assert scene.app.runner.scheduler.get_job(str(snapshot["id"])) is not None

    # Readers like it and comment; the long poll brings that too.
    readers = box.info()["vk"]["reader_ids"]
    ref = f"-{scene.group_id}_{post_id}"
    box.vk.like(readers[0], ref)
    box.vk.like(readers[1], ref)
    box.vk.comment(readers[2], ref, "Обязательно придём!")
    await intake.poll_once()
    scene.clock.current = posted + timedelta(hours=1, minutes=1)
    await scene.fire("snapshot")
    assert scene.action("snapshot")["state"] == "sent"
    figures = {
        row["metric"]: row["value"]
        for row in scene.db["metric_samples"].rows_where("publication_id = ?", [publication["id"]])
    }
    # A community token reads no wall counters: likes and comments as the long poll saw
    # them, views and reposts not available (not zero).
    assert figures == {"views": None, "likes": 2.0, "reposts": None, "comments": 1.0}

    # The period report has the post, its link and its figures.
    day = DUE.astimezone(ZONE).date()
    report = from_config(scene.db, scene.config, date_range(day, day))
    [row] = [r for r in report.rows if r.network == "vk"]
    assert row.title == "Книжный клуб" and row.url == publication["url"]
    assert (row.figures["likes"], row.figures["comments"]) == (2, 1)
    assert row.figures.get("views") is None
    await scene.app.close()


def publication_guid(scene: Scene) -> str:
    [handover] = scene.db["handovers"].rows
    return handover["guid"]


async def test_a_text_post_refused_is_handed_over_and_found_on_the_wall_by_its_words(
    tmp_path: Path, box: Sandbox
) -> None:
    scene = await make_scene(tmp_path, box, image=False)
    await scene.fire()
    [notice] = scene.notices()
    header, body = notice["text"].split("\n\n", 1)
    assert notice["attachments"] == [] and "Картинка" not in header
    intake = scene.intake
    await intake.poll_once()
    box.vk.shift_clock((DUE + timedelta(minutes=30) - datetime.now(UTC)).total_seconds())
    # Another post of the community's is none of the plan's; the admin's copy, with the
    # library's line left out and a hashtag added, is the handed-over one.
    box.vk.post_as_admin("Сегодня библиотека работает до 20:00", scene.group_id)
    lines = [line for line in body.splitlines() if "Центральная" not in line]
    copy = box.vk.post_as_admin("\n".join([*lines, "#книжныйклуб"]), scene.group_id)
    assert await intake.poll_once() == 2
    publication = scene.publication()
    assert publication["remote_id"] == str(copy)
    [handover] = scene.db["handovers"].rows
    assert handover["post_id"] == copy
    # A second copy later (published twice by mistake) is not linked again.
    box.vk.post_as_admin(body, scene.group_id)
    assert await intake.poll_once() == 1
    assert scene.publication()["remote_id"] == str(copy)
    await scene.app.close()


async def test_a_post_nobody_could_be_handed_fails_with_the_reason(
    tmp_path: Path, box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    scene = await make_scene(tmp_path, box, image=False, opened=False)
    await scene.fire()
    action = scene.action()
    assert action["state"] == "failed"
    assert "no admin could be handed the post" in action["error"]
    assert scene.db["publications"].count == 0 and scene.db["handovers"].count == 0
    assert any("could not tell the admins of central" in r.getMessage() for r in caplog.records)
    await scene.app.close()


async def test_a_long_post_is_handed_over_in_pieces_that_make_it_whole(
    tmp_path: Path, box: Sandbox
) -> None:
    lines = [f"{n}. Новая книга на полке: «Роман номер {n}», отзыв читателя." for n in range(66)]
    long = '"""' + "\n".join(lines) + '"""'
    scene = await make_scene(tmp_path, box, image=False, text=long)
    await scene.fire()
    notices = [m["text"] for m in scene.notices()]
    assert len(notices) == 2 and all(len(text) <= 4096 for text in notices)  # VK's limit
    body = "\n".join(notices).split("\n\n", 1)[1]
    assert all(line in body for line in lines)
    intake = scene.intake
    await intake.poll_once()
    box.vk.shift_clock((DUE + timedelta(minutes=5) - datetime.now(UTC)).total_seconds())
    post_id = box.vk.post_as_admin(body, scene.group_id)
    assert await intake.poll_once() == 1
    assert scene.publication()["remote_id"] == str(post_id)
    await scene.app.close()


async def test_a_post_with_an_image_is_handed_over_even_where_text_posts_go_out(
    tmp_path: Path, box: Sandbox
) -> None:
    box.vk.set_community_wall_posts(True)  # text would go out, but a wall photo cannot
    scene = await make_scene(tmp_path, box, image=True)
    box.recording = True
    await scene.fire()
    assert box.vk.posts(scene.group_id) == []
    vk_calls = {a.method for a in box.arrivals if a.network == "vk"}
    assert "wall.post" not in vk_calls and "photos.getWallUploadServer" not in vk_calls
    [notice] = scene.notices()
    assert notice["attachments"][0].startswith("photo")
    assert scene.action()["state"] == "sent"
    assert scene.publication()["remote_id"].startswith("handed:")
    await scene.app.close()
