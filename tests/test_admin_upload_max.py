"""Upload to schedule in the MAX admin chat, end to end: an admin sends a file in the dialog
with the bot in the MAX stand-in, the MAX intake hands it to the app's admin desk, the file
is downloaded from its attachment's link (``MaxChat.fetch``), and the admin presses Confirm
or Cancel under the preview (a ``message_callback`` with the signed payload)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.admin.upload import staging_root
from bot.app import build_app, make_refresh
from bot.intake.max import MaxIntake
from bot.problems import ProblemTeller
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from sandbox import max_spec
from sandbox.server import Sandbox
from tests.conftest import MAX_ENV, TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, max_table, write_config
from tests.test_admin_upload import EVENT, PLAN

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday; the library is in Moscow (UTC+3)


class Scene:
    """The stand-ins, the app on a manual clock, a MAX admin and a MAX reader."""

    def __init__(self, box: Sandbox, tmp_path: Path) -> None:
        self.box, self.mx = box, box.max
        info = box.info()
        tg, vk, mx = info["telegram"], info["vk"], info["max"]
        self.api_url = mx["api_url"]
        self.bot_id = mx["bot_id"]
        self.admin = self.mx.add_user(first_name="Мария", last_name="Кузнецова")["user_id"]
        self.stranger = self.mx.add_user(first_name="Пётр")["user_id"]
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
            max_section=max_table(
                mx["api_url"], mx["channel_id"], extra=f"admins = [{self.admin}]"
            ),
        )
        self.config = load_config(path)
        env = {TG_ENV: tg["token"], VK_USER_ENV: vk["user_token"], MAX_ENV: mx["token"]}
        env[VK_COMMUNITY_ENV] = vk["community_token"]
        self.db = open_db(self.config.storage)
        self.app = build_app(
            self.config,
            self.db,
            env=env,
            clock=ManualClock(NOW),
            rate_limit=False,
            tell_admins=False,
            wait=0,
        )
        # As run_bot wires it: a confirmed upload is planned at once.
        problems = ProblemTeller(self.config, self.app.notify)
        self.app.admin.reload = make_refresh(self.db, self.config, self.app.runner, problems)
        self.intake = next(i for i in self.app.intakes if isinstance(i, MaxIntake))
        self.seen: dict[int, int] = {}  # bot messages already read, per person
        self.last_sent: dict = {}  # the message of the last file sent, as MAX shows it

    async def round(self) -> None:
        """The intake reads what is queued; the desk answers it all."""
        await self.intake.poll_once()
        await self.app.admin.idle()

    async def send(self, name: str, data: bytes, user: int | None = None) -> list[dict]:
        """``user`` (the admin) sends a file in the dialog; the bot's new messages to them."""
        user = user or self.admin
        self.last_sent = self.mx.write_file(user, None, name, data, self.api_url)
        await self.round()
        return self.replies(user)

    def replies(self, user: int | None = None) -> list[dict]:
        """The bot's messages in ``user``'s dialog since the last look."""
        user = user or self.admin
        chat = self.dialog(user)
        if chat is None:
            return []
        found = [m for m in self.mx.messages(chat) if m["sender"]["user_id"] == self.bot_id]
        new, self.seen[user] = found[self.seen.get(user, 0) :], len(found)
        return new

    def dialog(self, user: int) -> int | None:
        for chat in self.mx.state()["chats"]:
            if chat.get("type") == "dialog" and chat["dialog_with_user"]["user_id"] == user:
                return int(chat["chat_id"])
        return None

    async def press(self, preview: dict, which: int, user: int | None = None) -> list[dict]:
        """``user`` (the admin) presses button ``which`` (0: Confirm, 1: Cancel)."""
        self.mx.press(
            user or self.admin, preview["body"]["mid"], buttons(preview)[which]["payload"]
        )
        await self.round()
        return self.replies()

    def events(self) -> list[str]:
        return sorted(p.name for p in self.config.events_dir.iterdir())

    def staged(self) -> list[str]:
        root = staging_root(self.config)
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []

    def actions(self) -> list[tuple[str, str, str, str]]:
        rows = self.db["actions"].rows_where("event_id is not null", order_by="due_at, network")
        return [(r["event_id"], r["kind"], r["network"], r["due_at"]) for r in rows]

    def audit(self) -> list[tuple[str, int, str, str, str]]:
        if "admin_audit" not in self.db.table_names():
            return []
        rows = self.db["admin_audit"].rows_where(order_by="id")
        return [
            (r["network"], r["user_id"], r["library_id"], r["command"], r["outcome"].split(" ")[0])
            for r in rows
        ]


def text_of(message: dict) -> str:
    return str(message["body"].get("text") or "")


def buttons(message: dict) -> list[dict]:
    return [
        button
        for attachment in message["body"].get("attachments") or []
        if attachment["type"] == "inline_keyboard"
        for row in attachment["payload"]["buttons"]
        for button in row
    ]


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    with Sandbox(seed=29) as box:
        box.max.set_rate_limit(enabled=False)
        scene = Scene(box, tmp_path)
        await scene.intake.poll_once()  # the stream so far
        scene.mx.start_bot(scene.admin)  # the admin opens the dialog: the help comes
        await scene.round()
        assert "/plan" in text_of(scene.replies()[0])
        try:
            yield scene
        finally:
            await scene.app.admin.idle()
            await scene.app.close()


async def test_a_plan_sent_in_the_max_dialog_is_previewed_then_scheduled(scene: Scene) -> None:
    scene.box.recording = True
    [preview] = await scene.send("План на декабрь.xlsx", PLAN)
    # What MAX delivers for a file is the schema's FileAttachment.
    max_spec.assert_object("Message", scene.last_sent, strict=True)
    [attachment] = scene.last_sent["body"]["attachments"]
    assert (attachment["type"], attachment["size"]) == ("file", len(PLAN))
    assert text_of(preview).splitlines()[:3] == [
        "📋 План на декабрь.xlsx для «Центральная библиотека». Будет опубликовано:",
        "• сб 05.12.2026 18:00 — Telegram, ВКонтакте: пост «Книжный клуб»",
        "• пн 07.12.2026 12:30 — ВКонтакте: опрос «Что читать?» — варианты: Толстой / Чехов",
    ]
    assert [b["text"] for b in buttons(preview)] == ["✅ Запланировать", "✖ Отменить"]
    assert all(b["type"] == "callback" for b in buttons(preview))
    assert scene.events() == [] and scene.actions() == [] and len(scene.staged()) == 1
    # Fetched once, from the attachment's link.
    assert [a.method for a in scene.box.arrivals].count("download") == 1

    [done] = await scene.press(preview, 0)
    assert text_of(done).startswith("✅ Запланировано, событий: 2.")
    files = scene.events()
    assert len(files) == 2 and all(name.startswith("plan-2026120") for name in files)
    club = f"central/{Path(files[0]).stem}"
    assert scene.actions()[:2] == [
        (club, "publish", "telegram", "2026-12-05T15:00:00.000+00:00"),
        (club, "publish", "vk", "2026-12-05T15:00:00.000+00:00"),
    ]
    assert scene.staged() == []
    [answer] = [a for a in scene.mx.callback_answers() if a["user_id"] == scene.admin]
    assert answer["answers"][0]["notification"]  # the press was answered with a note

    [again] = await scene.press(preview, 0)  # Confirm twice: scheduled once
    assert "уже подтверждена" in text_of(again)
    assert scene.events() == files and len(scene.actions()) == 3
    assert scene.audit() == [
        ("max", scene.admin, "central", "help", "ok"),  # Start pressed
        ("max", scene.admin, "central", "upload", "previewed"),
        ("max", scene.admin, "central", "confirm", "scheduled"),
        ("max", scene.admin, "central", "confirm", "refused:"),
    ]
    # The admin's file is the admin chat's, not a reader's message in the report.
    assert scene.db["interactions"].count_where("network = 'max'") == 0


async def test_an_event_file_is_cancelled_and_leaves_nothing(scene: Scene) -> None:
    [preview] = await scene.send("poetry.toml", EVENT)
    assert text_of(preview).splitlines()[1] == (
        "• вт 08.12.2026 19:00 — Telegram: пост «Вечер поэзии»"
    )
    [cancelled] = await scene.press(preview, 1)
    assert text_of(cancelled) == "Загрузка отменена, ничего не запланировано."
    assert scene.staged() == [] and scene.events() == [] and scene.actions() == []
    [late] = await scene.press(preview, 0)
    assert "уже подтверждена, отменена или устарела" in text_of(late)
    assert scene.events() == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("огромный план.xlsx", b"PK" + b"\0" * (1024 * 1024), "больше"),
        ("афиша.pdf", b"%PDF-1.4", "афиша.pdf"),
    ],
)
async def test_a_file_too_big_or_of_another_kind_is_refused_in_one_line(
    scene: Scene, name: str, data: bytes, expected: str
) -> None:
    [refused] = await scene.send(name, data)
    assert "\n" not in text_of(refused) and expected in text_of(refused)
    assert buttons(refused) == []
    assert scene.staged() == [] and scene.events() == []
    assert scene.audit()[-1][3:] == ("upload", "refused:")


async def test_a_link_that_does_not_answer_asks_for_the_file_again(scene: Scene) -> None:
    scene.mx.set_faults("download:5xx:1")
    [asked] = await scene.send("plan.xlsx", PLAN)
    assert text_of(asked) == "Не удалось получить файл «plan.xlsx» от сети; пришлите его ещё раз."
    assert scene.staged() == [] and scene.audit()[-1][3:] == ("upload", "failed:")
    scene.mx.set_faults("")
    [preview] = await scene.send("plan.xlsx", PLAN)  # sent again, it goes through
    assert buttons(preview)


async def test_a_stranger_gets_nothing_for_a_file(scene: Scene) -> None:
    scene.mx.start_bot(scene.stranger)
    await scene.round()
    assert scene.replies(scene.stranger) == []  # no help for a stranger's Start either
    assert await scene.send("plan.xlsx", PLAN, user=scene.stranger) == []
    assert scene.staged() == [] and len(scene.audit()) == 1  # the admin's Start only
    # Not an admin's: a reader's message in a dialog is not counted for any library.
    assert scene.db["interactions"].count_where("network = 'max'") == 0
