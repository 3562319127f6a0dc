"""Upload to schedule in the Telegram admin chat, end to end: an admin sends a file to the bot
in the stand-in, the real python-telegram-bot intake hands it to the app's admin desk, the
admin reads the preview (or the problems) and presses Confirm or Cancel."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.admin.upload import staging_root
from bot.app import build_app, make_refresh
from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from bot.problems import ProblemTeller
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from sandbox.telegram.errors import ApiError
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday; the library is in Moscow (UTC+3)


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """An .xlsx with these sheets, their rows from row 1."""
    book = Workbook()
    for number, (title, rows) in enumerate(sheets.items()):
        sheet = book.active if number == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PLAN = workbook(
    {
        "План": [
            ["№", "Дата", "Время", "Сети", "Вид", "Текст"],
            [1, "05.12.2026", "18:00", "Telegram, ВК", "анонс", "Книжный клуб\nПриходите в субботу!"],
            [2, datetime(2026, 12, 7), "12.30", "вк", "опрос", "Что читать?\nТолстой\nЧехов"],
            [3],  # numbered ahead, not filled: skipped
        ]
    }
)  # fmt: skip
BAD_PLAN = workbook(
    {
        "План": [
            ["Дата", "Время", "Текст", "Сети"],
            ["05.12.2026", "18:00", "Хорошая строка", ""],
            ["31.02.2026", "18:00", "Нет такого дня", ""],
            ["06.12.2026", "25:00", "", "фейсбук"],
            ["01.11.2026", "10:00", "Уже прошло", ""],
        ]
    }
)
QUIZ = workbook(
    {
        "Вопросы": [
            ["№", "Вопрос", "Вариант 1", "Вариант 2", "Правильный"],
            [1, "Кто написал «Евгения Онегина»?", "Пушкин", "Лермонтов", 1],
            [2, "В каком году родился Пушкин?", "1799", "1812", 1],
        ],
        "Настройки": [["Название", "Пушкинская викторина"], ["Дата", "10.12.2026"], ["Время", "17:00"]],
    }
)  # fmt: skip
EVENT = """kind = "announcement"
library = "central"
title = "Вечер поэзии"
at = 2026-12-08T19:00:00
networks = ["telegram"]
text = "Читаем стихи вслух."
""".encode()


class Scene:
    """The stand-in, the app on a manual clock, an admin and a stranger in Telegram."""

    def __init__(self, box: Sandbox, tmp_path: Path) -> None:
        self.box, self.tg = box, box.telegram
        info = box.info()
        tg, vk = info["telegram"], info["vk"]
        self.admin = self.tg.add_user("Анна", "Петрова")["id"]
        self.colleague = self.tg.add_user("Ольга", "Смирнова")["id"]  # another admin
        self.stranger = self.tg.add_user("Иван", "Иванов")["id"]
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
        )
        admins = f"admins = [{self.admin}, {self.colleague}]"
        path.write_text(path.read_text().replace("admins = [42]", admins), encoding="utf-8")
        self.config = load_config(path)
        env = {TG_ENV: tg["token"], VK_USER_ENV: vk["user_token"]}
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
        self.intake = next(i for i in self.app.intakes if isinstance(i, TelegramIntake))
        self.seen = 0  # bot messages in the admin's chat already read

    async def round(self) -> None:
        """The intake reads what is queued; the desk answers it all."""
        await self.intake.poll_once()
        await self.app.admin.idle()

    async def send(self, name: str, data: bytes, user: int | None = None) -> list[dict]:
        """``user`` (the admin) sends a file to the bot; the bot's new messages to the admin."""
        user = user or self.admin
        self.tg.document_as_user(user, user, data, name)
        await self.round()
        return self.replies()

    def replies(self, user: int | None = None) -> list[dict]:
        """The bot's messages in the admin's private chat since the last look."""
        if user not in (None, self.admin):  # someone else's chat: every bot message there
            try:
                return [m for m in self.tg.messages(user) if m["from"]["is_bot"]]
            except ApiError:  # they never wrote to the bot: there is no chat
                return []
        found = [m for m in self.tg.messages(self.admin) if m["from"]["is_bot"]]
        new, self.seen = found[self.seen :], len(found)
        return new

    async def press(self, preview: dict, which: int, user: int | None = None) -> list[dict]:
        """The admin presses button ``which`` (0: Confirm, 1: Cancel) under the preview."""
        data = buttons(preview)[which]["callback_data"]
        self.tg.press_as_user(user or self.admin, self.admin, preview["message_id"], data)
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

    def audit(self) -> list[tuple[int, str, str, str]]:
        rows = self.db["admin_audit"].rows_where(order_by="id")
        return [(r["user_id"], r["library_id"], r["command"], r["outcome"]) for r in rows]


def buttons(message: dict) -> list[dict]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


@pytest.fixture
async def scene(tmp_path: Path) -> Iterator[Scene]:
    with Sandbox(seed=17) as box:
        box.telegram.set_rate_limits(enabled=False)
        scene = Scene(box, tmp_path)
        await scene.intake.poll_once()  # the first read names allowed_updates
        yield scene
        await scene.app.close()


async def test_a_content_plan_is_previewed_in_local_time_then_scheduled_on_confirm(
    scene: Scene,
) -> None:
    [preview] = await scene.send("План на декабрь.xlsx", PLAN)
    assert preview["text"].splitlines() == [
        "📋 План на декабрь.xlsx для «Центральная библиотека». Будет опубликовано:",
        "• сб 05.12.2026 18:00 — Telegram, ВКонтакте: пост «Книжный клуб»",
        "• пн 07.12.2026 12:30 — ВКонтакте: опрос «Что читать?» — варианты: Толстой / Чехов",
        "Событий: 2. Время местное (Europe/Moscow). Подтвердите, чтобы запланировать, "
        "или отмените.",
    ]
    assert [b["text"] for b in buttons(preview)] == ["✅ Запланировать", "✖ Отменить"]
    assert scene.events() == [] and scene.actions() == []  # nothing before the confirm
    assert len(scene.staged()) == 1

    [done] = await scene.press(preview, 0)
    files = scene.events()
    assert len(files) == 2 and all(name.startswith("plan-2026120") for name in files)
    club, poll = (f"central/{Path(name).stem}" for name in files)
    assert done["text"] == (
        f"✅ Запланировано, событий: 2. Их id (для /event и /cancel): {club}, {poll}. "
        "/plan покажет план."
    )
    assert scene.actions() == [  # in UTC: 18:00 and 12:30 in Moscow
        (club, "publish", "telegram", "2026-12-05T15:00:00.000+00:00"),
        (club, "publish", "vk", "2026-12-05T15:00:00.000+00:00"),
        (poll, "publish", "vk", "2026-12-07T09:30:00.000+00:00"),
    ]
    assert scene.staged() == []
    [answer] = scene.tg.callback_answers()
    assert answer["answer"]["text"]  # the press was answered: the spinner stops

    [again] = await scene.press(preview, 0)  # Confirm pressed twice: scheduled once
    assert "уже подтверждена" in again["text"]
    [late] = await scene.press(preview, 1)  # Cancel after Confirm: not "cancelled"
    assert "уже подтверждена" in late["text"]
    assert scene.events() == files and len(scene.actions()) == 3
    assert [(u, lib, c, o.split(" ")[0]) for u, lib, c, o in scene.audit()] == [
        (scene.admin, "central", "upload", "previewed"),
        (scene.admin, "central", "confirm", "scheduled"),
        (scene.admin, "central", "confirm", "refused:"),
        (scene.admin, "central", "cancel upload", "refused:"),
    ]


async def test_cancel_leaves_nothing_and_a_later_confirm_does_nothing(scene: Scene) -> None:
    [preview] = await scene.send("plan.xlsx", PLAN)
    [cancelled] = await scene.press(preview, 1)
    assert cancelled["text"] == "Загрузка отменена, ничего не запланировано."
    assert scene.staged() == [] and scene.events() == [] and scene.actions() == []
    [late] = await scene.press(preview, 0)
    assert "уже подтверждена, отменена или устарела" in late["text"]
    assert scene.events() == [] and scene.actions() == []


async def test_a_bad_spreadsheet_lists_its_problems_by_row_and_stages_nothing(
    scene: Scene,
) -> None:
    [refused] = await scene.send("plan.xlsx", BAD_PLAN)
    assert refused["text"].splitlines() == [
        "❌ plan.xlsx не принят, ошибок: 5. Ничего не запланировано; исправьте и пришлите снова.",
        "строка 3, столбец «Дата»: «31.02.2026» — не дата; пишите 05.12.2026 или 2026-12-05",
        "строка 4, столбец «Время»: «25:00» — не время; пишите 18:00",
        "строка 4, столбец «Текст»: пустой текст",
        "строка 4, столбец «Сети»: «фейсбук» — неизвестная сеть; пишите через запятую: "
        "Telegram, ВКонтакте, MAX (пусто — все сети библиотеки)",
        "строка 5, столбцы «Дата», «Время»: время 2026-11-01 10:00 уже прошло: из этого "
        "события ничего не будет опубликовано; укажите будущее время",
    ]
    assert buttons(refused) == []
    assert scene.staged() == [] and scene.events() == [] and scene.actions() == []
    [(user, library, command, outcome)] = scene.audit()
    assert (user, library, command, outcome) == (
        scene.admin,
        "central",
        "upload",
        "refused: 5 problem(s)",
    )


async def test_an_event_file_is_previewed_and_scheduled_under_its_own_name(scene: Scene) -> None:
    [preview] = await scene.send("poetry.toml", EVENT)
    assert (
        preview["text"].splitlines()[1] == "• вт 08.12.2026 19:00 — Telegram: пост «Вечер поэзии»"
    )
    await scene.press(preview, 0)
    assert scene.events() == ["poetry.toml"]
    assert scene.actions() == [
        ("central/poetry", "publish", "telegram", "2026-12-08T16:00:00.000+00:00")
    ]
    # The same file again: refused, it is in the events folder already.
    [refused] = await scene.send("poetry.toml", EVENT)
    assert "poetry.toml уже есть в папке событий" in refused["text"]
    assert buttons(refused) == [] and scene.staged() == []


async def test_a_quiz_sheet_is_previewed_with_its_questions_then_scheduled(scene: Scene) -> None:
    [preview] = await scene.send("Пушкин.xlsx", QUIZ)
    text = preview["text"].splitlines()
    # No quiz chat in this library: a quiz of a question a day in the channel and on the wall.
    assert text[:5] == [
        "📋 Пушкин.xlsx для «Центральная библиотека». Будет опубликовано:",
        "• чт 10.12.2026 17:00 — Telegram, ВКонтакте: начало викторины «Пушкинская викторина»",
        "• пт 11.12.2026 17:00 — Telegram, ВКонтакте: вопрос 1 «Пушкинская викторина»",
        "• сб 12.12.2026 17:00 — Telegram, ВКонтакте: вопрос 2 «Пушкинская викторина»",
        "• вс 13.12.2026 17:00 — Telegram, ВКонтакте: итоги «Пушкинская викторина»",
    ]
    assert text[5:8] == [
        "Вопросы викторины «Пушкинская викторина»:",
        "1. Кто написал «Евгения Онегина»?",
        "2. В каком году родился Пушкин?",
    ]
    await scene.press(preview, 0)
    [quiz] = scene.events()
    assert quiz.startswith("quiz-20261210-1700-") and quiz.endswith(".toml")
    kinds = {(kind, network) for _, kind, network, _ in scene.actions()}
    assert {("publish", "telegram"), ("question", "vk"), ("results", "telegram")} <= kinds


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("огромный план.xlsx", b"PK" + b"\0" * (1024 * 1024), "больше"),
        ("афиша.pdf", b"%PDF-1.4", "афиша.pdf"),
        ("фото.jpg", b"\xff\xd8\xff\xe0", "фото.jpg"),
    ],
)
async def test_a_file_too_big_or_of_another_kind_is_refused_in_one_line(
    scene: Scene, name: str, data: bytes, expected: str
) -> None:
    [refused] = await scene.send(name, data)
    assert "\n" not in refused["text"] and expected in refused["text"]
    assert buttons(refused) == []
    assert scene.staged() == [] and scene.events() == []
    [(_, _, command, outcome)] = scene.audit()
    assert command == "upload" and outcome.startswith("refused")


async def test_a_stranger_gets_nothing_for_a_file(scene: Scene) -> None:
    scene.tg.document_as_user(scene.stranger, scene.stranger, PLAN, "plan.xlsx")
    await scene.round()
    assert scene.replies(scene.stranger) == []
    assert scene.staged() == [] and scene.audit() == []


async def test_a_press_by_another_user_or_with_a_forged_signature_does_nothing(
    scene: Scene,
) -> None:
    [preview] = await scene.send("plan.xlsx", PLAN)
    confirm = buttons(preview)[0]["callback_data"]
    verb, token, signature = confirm.split(":")[1:]
    forged = f"au:{verb}:{token}:{'0' * len(signature)}"
    message = preview["message_id"]
    # Someone who is no admin replays the button; an admin forges the signature; another
    # admin of the same library presses the first admin's button.
    scene.tg.forge_callback(scene.stranger, scene.admin, message, confirm)
    scene.tg.forge_callback(scene.admin, scene.admin, message, forged)
    scene.tg.forge_callback(scene.colleague, scene.admin, message, confirm)
    await scene.round()
    assert scene.events() == [] and scene.actions() == []
    assert len(scene.staged()) == 1  # the preview still waits for its admin
    assert scene.replies() == [] and scene.replies(scene.colleague) == []
    answers = {q["user_id"]: q.get("answer") for q in scene.tg.callback_answers()}
    assert answers[scene.stranger] is None  # a stranger's press is not even answered
    assert answers[scene.admin]["text"] == answers[scene.colleague]["text"]  # "not valid"
    assert scene.audit() == [(scene.admin, "central", "upload", f"previewed {token}")]
    await scene.press(preview, 0)  # the genuine press still works
    assert len(scene.events()) == 2


async def test_on_vk_a_doc_sent_to_the_community_is_previewed_and_confirmed(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=23) as box:
        box.vk.set_rate_limits(enabled=False)
        info = box.info()
        tg, vk = info["telegram"], info["vk"]
        admin = box.vk.add_reader("Мария", "Кузнецова")
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
            vk_extra=f"admins = [{admin}]",
        )
        config = load_config(path)
        env = {TG_ENV: tg["token"], VK_USER_ENV: vk["user_token"]}
        env[VK_COMMUNITY_ENV] = vk["community_token"]
        db = open_db(config.storage)
        app = build_app(config, db, env=env, clock=ManualClock(NOW), rate_limit=False, wait=0)
        app.admin.reload = make_refresh(db, config, app.runner, ProblemTeller(config, None))
        [intake] = [i for i in app.intakes if isinstance(i, VkIntake)]

        async def round() -> list[dict]:
            before = len([m for m in box.vk.messages(admin) if m["out"]])
            await intake.poll_once()
            await app.admin.idle()
            return [m for m in box.vk.messages(admin) if m["out"]][before:]

        await intake.poll_once()  # the long poll's server and its first ts
        base = vk["api_url"].removesuffix("/method/")
        box.vk.write_doc(admin, "план.xlsx", PLAN, base)
        [preview] = await round()
        assert preview["text"].splitlines()[1] == (
            "• сб 05.12.2026 18:00 — Telegram, ВКонтакте: пост «Книжный клуб»"
        )
        keyboard = preview["keyboard"]
        [confirm, _] = keyboard["buttons"][0]
        assert confirm["action"]["label"] == "✅ Запланировать"
        box.vk.press_button(admin, json.loads(confirm["action"]["payload"]), preview["id"])
        [done] = await round()
        assert done["text"].startswith("✅ Запланировано, событий: 2.")
        assert len(list(config.events_dir.iterdir())) == 2
        assert db["actions"].count_where("kind = 'publish' and network = 'vk'") == 2
        await app.close()


async def test_a_file_the_network_does_not_hand_over_is_asked_for_again(scene: Scene) -> None:
    scene.tg.fail_next("getFile", 400, "Bad Request: file is too big")
    [asked] = await scene.send("plan.xlsx", PLAN)
    assert asked["text"] == "Не удалось получить файл «plan.xlsx» от сети; пришлите его ещё раз."
    assert scene.staged() == [] and scene.events() == []
    [(_, _, command, outcome)] = scene.audit()
    assert command == "upload" and outcome.startswith("failed: ")
    [preview] = await scene.send("plan.xlsx", PLAN)  # sent again, it goes through
    assert buttons(preview)
