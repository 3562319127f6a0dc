"""The admin chat on Telegram, through the stand-in and python-telegram-bot: who gets an
answer, on which library, what each command does, and the audit of it all.

The bot is built as ``run`` builds it (``build_app`` with its readers); a test writes as a
person of the stand-in, runs one update round of the reader and waits for the admin chat's
answers (``Scene.round``). The clock is injected; the scheduler is not started (its jobs
are looked at, never waited for).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx

from bot.admin import commands, uploads
from bot.intake.telegram import TelegramIntake
from core.interactions import library_secret
from tests.admin_chat_helpers import NOW, Scene, scene, text_of

__all__ = ["scene"]  # the fixture, used by name

COMMANDS = ("/plan", "/event", "/cancel", "/pause", "/resume", "/report", "/collect", "/status")


def one_text(answers: list[dict]) -> str:
    assert len(answers) == 1, [text_of(a) for a in answers]
    return text_of(answers[0])


async def test_a_stranger_gets_nothing_and_leaves_no_trace(scene: Scene) -> None:
    for text in ("/start", "/plan", "привет", "/pause central", "/cancel central/club"):
        assert await scene.telegram(scene.olga, text) == []
    assert scene.audit() == []
    assert not scene.library_paused("central")
    assert scene.db["actions"].count_where("state = 'cancelled'") == 0


async def test_an_admin_gets_the_russian_help_with_the_commands(scene: Scene) -> None:
    help_text = one_text(await scene.telegram(scene.anna, "/help"))
    assert "Центральная библиотека" in help_text
    for command in COMMANDS:
        assert command in help_text
    assert "Команды:" in help_text
    # /start and a plain greeting bring the same help.
    assert one_text(await scene.telegram(scene.anna, "/start")) == help_text
    assert one_text(await scene.telegram(scene.anna, "привет")) == help_text
    # An unknown command is told so, in Russian.
    assert "Не знаю такой команды" in one_text(await scene.telegram(scene.anna, "/shout"))
    rows = scene.audit()
    assert [r["command"] for r in rows] == ["help", "help", "help", "unknown"]
    for row in rows:
        assert (row["network"], row["user_id"], row["library_id"]) == (
            "telegram", scene.anna, "central",
        )  # fmt: skip
        assert row["outcome"] and row["at"]


async def test_an_admin_of_one_library_cannot_touch_another(scene: Scene) -> None:
    branch_before = list(scene.db["actions"].rows_where("library_id = 'branch'"))
    answer = one_text(await scene.telegram(scene.anna, "/cancel branch/tales"))
    assert "не ваша библиотека" in answer and "central" in answer
    answer = one_text(await scene.telegram(scene.anna, "/pause branch"))
    assert "не ваша библиотека" in answer
    answer = one_text(await scene.telegram(scene.anna, "/plan branch"))
    assert "не ваша библиотека" in answer
    # Branch is as it was: its event planned, its library not paused.
    assert list(scene.db["actions"].rows_where("library_id = 'branch'")) == branch_before
    assert next(scene.db["events"].rows_where("id = 'branch/tales'"))["status"] == "active"
    assert not scene.library_paused("branch")
    rows = scene.audit()
    assert [(r["command"], r["library_id"], r["user_id"]) for r in rows] == [
        ("cancel", "", scene.anna),
        ("pause", "", scene.anna),
        ("plan", "", scene.anna),
    ]
    assert all(r["outcome"] == "refused: not their library" for r in rows)
    assert [r["arguments"] for r in rows] == ["branch/tales", "branch", "branch"]


async def test_an_admin_of_two_libraries_names_one(scene: Scene) -> None:
    answer = one_text(await scene.telegram(scene.boris, "/pause"))
    assert "назовите одну" in answer and "/pause central" in answer
    assert not scene.library_paused("central") and not scene.library_paused("branch")
    answer = one_text(await scene.telegram(scene.boris, "/pause branch"))
    assert "Детская библиотека" in answer and "на паузе" in answer
    assert scene.library_paused("branch") and not scene.library_paused("central")
    # An event id names its library itself.
    answer = one_text(await scene.telegram(scene.boris, "/event branch/tales"))
    assert "Tales" in answer and "12:00" in answer  # Yekaterinburg's own time
    rows = scene.audit()
    assert [(r["command"], r["library_id"], r["outcome"]) for r in rows] == [
        ("pause", "", "refused: no library chosen"),
        ("pause", "branch", "paused"),
        ("event", "branch", "ok"),
    ]
    # Help tells an admin of several libraries how to name one.
    assert "нескольких библиотек" in one_text(await scene.telegram(scene.boris, "/help"))


async def test_plan_shows_seven_days_in_local_time_with_states(scene: Scene) -> None:
    answer = one_text(await scene.telegram(scene.anna, "/plan"))
    lines = answer.splitlines()
    assert "Europe/Moscow" in lines[0]
    club = [line for line in lines if "Club" in line]
    # 07:00 UTC is 10:00 in Moscow; a post to each network, both planned.
    assert club and all(line.startswith("07.12 10:00") for line in club), club
    assert {("Telegram" in line, "ВКонтакте" in line or "VK" in line) for line in club} == {
        (True, False), (False, True),
    }  # fmt: skip
    assert all("запланировано" in line for line in club)
    assert any("Lecture" in line and line.startswith("09.12 18:30") for line in lines)
    assert not any("Tales" in line for line in lines)  # Branch's, not Anna's
    assert not any("сбор метрик" in line for line in lines)  # metrics reads are not the plan
    # A week earlier, the club was more than 7 days ahead: not shown yet.
    scene.clock.current = NOW - timedelta(days=7, minutes=1)
    assert "ничего нет" in one_text(await scene.telegram(scene.anna, "/план"))


async def test_event_lists_its_actions_and_cancel_drops_them(scene: Scene) -> None:
    answer = one_text(await scene.telegram(scene.anna, "/event club"))
    assert "Club" in answer and "central/club" in answer
    assert re.search(r"07\.12 10:00 · публикация · Telegram · запланировано", answer), answer
    pending = [r["id"] for r in scene.db["actions"].rows_where("event_id = 'central/club'")]
    runner = scene.app.runner
    assert all(runner.scheduler.get_job(str(a)) is not None for a in pending)

    answer = one_text(await scene.telegram(scene.anna, "/cancel club"))
    assert "отменено" in answer
    states = {r["state"] for r in scene.db["actions"].rows_where("event_id = 'central/club'")}
    assert states == {"cancelled"}
    assert all(runner.scheduler.get_job(str(a)) is None for a in pending)
    assert next(scene.db["events"].rows_where("id = 'central/club'"))["status"] == "cancelled"
    # The lecture is untouched and still armed.
    lecture = list(scene.db["actions"].rows_where("event_id = 'central/lecture'"))
    assert {r["state"] for r in lecture} == {"pending"}
    assert "уже отменено" in one_text(await scene.telegram(scene.anna, "/cancel club"))
    assert "нет" in one_text(await scene.telegram(scene.anna, "/cancel nosuch"))
    rows = scene.audit()
    assert [(r["command"], r["arguments"], r["outcome"].split(",")[0]) for r in rows] == [
        ("event", "club", "ok"),
        ("cancel", "club", "cancelled"),
        ("cancel", "club", "already cancelled"),
        ("cancel", "nosuch", "refused: no such event"),
    ]


async def test_pause_and_resume_flip_the_library(scene: Scene) -> None:
    runner = scene.app.runner
    club = [r["id"] for r in scene.db["actions"].rows_where("event_id = 'central/club'")]
    assert "на паузе" in one_text(await scene.telegram(scene.anna, "/pause"))
    assert scene.library_paused("central")
    assert all(runner.scheduler.get_job(str(a)) is None for a in club)  # nothing goes out
    assert "уже на паузе" in one_text(await scene.telegram(scene.anna, "/пауза"))
    plan = one_text(await scene.telegram(scene.anna, "/plan")).splitlines()
    assert plan[1] == "Публикации на паузе: ничего из этого не выйдет до /resume."
    status = one_text(await scene.telegram(scene.anna, "/status"))
    assert "НА ПАУЗЕ" in status
    assert "снова публикует" in one_text(await scene.telegram(scene.anna, "/resume"))
    assert not scene.library_paused("central")
    assert all(runner.scheduler.get_job(str(a)) is not None for a in club)
    assert "не на паузе" in one_text(await scene.telegram(scene.anna, "/resume"))
    assert [(r["command"], r["outcome"]) for r in scene.audit()] == [
        ("pause", "paused"),
        ("pause", "unchanged"),
        ("plan", "ok: 3 lines"),
        ("status", "ok"),
        ("resume", "resumed"),
        ("resume", "unchanged"),
    ]


async def test_report_sends_the_xlsx_and_the_html(scene: Scene) -> None:
    answers = await scene.telegram(scene.anna, "/report month")
    documents = [a["document"] for a in answers if "document" in a]
    assert [d["file_name"].rsplit(".", 1)[1] for d in documents] == ["xlsx", "html"]
    assert all("central" in d["file_name"] for d in documents)
    xlsx, html = (download(scene, d["file_id"]) for d in documents)
    assert xlsx.startswith(b"PK") and b"<html" in html[:500].lower()
    assert "Отчёт за месяц отправлен" in text_of(answers[-1])
    assert "Какой период" in one_text(await scene.telegram(scene.anna, "/report"))
    # A past period by its name, in Russian too.
    answers = await scene.telegram(scene.anna, "/отчёт 2026-q3")
    names = [a["document"]["file_name"] for a in answers if "document" in a]
    assert names == ["report-central-2026-Q3.xlsx", "report-central-2026-Q3.html"]
    assert "Отчёт за 2026-Q3 отправлен" in text_of(answers[-1])
    answer = one_text(await scene.telegram(scene.anna, "/report 2026-13"))
    assert "13" in answer and "Какой период" in answer
    assert [(r["command"], r["outcome"]) for r in scene.audit()] == [
        ("report", "sent 2026-12"),
        ("report", "refused: no period"),
        ("report", "sent 2026-Q3"),
        ("report", "refused: bad period"),
    ]


async def test_collect_and_status_after_a_post(scene: Scene) -> None:
    scene.clock.current = scene.clock.current.replace(hour=7)
    [club] = scene.db["actions"].rows_where(
        "event_id = 'central/club' and network = 'telegram' and kind = 'publish'"
    )
    await scene.app.runner.fire(club["id"])
    assert scene.db["actions"].get(club["id"])["state"] == "sent"
    answer = one_text(await scene.telegram(scene.anna, "/collect"))
    assert re.search(r"сохранено значений: [1-9]", answer), answer
    assert "Не прочитано" not in answer
    status = one_text(await scene.telegram(scene.anna, "/status"))
    assert "Последние публикации:" in status and "07.12 10:00 · Telegram · Club" in status
    assert "Ошибок за 7 дней нет." in status
    assert "Telegram: работает" in status and "ВКонтакте: работает" in status
    scene.box.telegram.fail_next("getChatMemberCount", 401, "Unauthorized", times=20)
    answer = one_text(await scene.telegram(scene.anna, "/собрать"))
    assert answer == "Не получилось: токен отклонён — проверьте его"
    outcomes = [r["outcome"] for r in scene.audit() if r["command"] == "collect"]
    assert outcomes[0].startswith("ok: ") and outcomes[1] == "failed: AuthFailed"


async def test_status_names_errors_and_a_rejected_token(scene: Scene) -> None:
    scene.clock.current = scene.clock.current.replace(hour=7)
    [vk_post] = scene.db["actions"].rows_where(
        "event_id = 'central/club' and network = 'vk' and kind = 'publish'"
    )
    scene.box.vk.fail_next("wall.post", 15)  # access denied: the post fails
    await scene.app.runner.fire(vk_post["id"])
    assert scene.db["actions"].get(vk_post["id"])["state"] == "failed"
    await scene.app.alerts.drain()  # the alert of the failure went to Anna first
    scene.box.telegram.fail_next("getChatMemberCount", 401, "Unauthorized", times=3)
    status = one_text(await scene.telegram(scene.anna, "/status"))
    assert "Ошибки за 7 дней:" in status
    assert re.search(
        r"07\.12 10:\d\d · (VK|ВКонтакте) · Club: не опубликовано\. Не вышло", status
    ), status
    assert "Telegram: НЕ работает (токен отклонён" in status
    assert "MAX: работает" in status


async def test_forged_and_other_admins_presses_do_nothing(scene: Scene) -> None:
    # Boris has a message of the bot in his chat to press on.
    await scene.telegram(scene.boris, "/help central")
    [message] = scene.telegram_from_bot(scene.boris)[-1:]
    secret = library_secret(scene.db, "central")
    annas = uploads.press_data(secret, uploads.CONFIRM, "t0ken", "telegram", scene.anna)
    before = len(scene.audit())
    telegram = scene.box.telegram
    for data in ("au:c:t0ken:AAAAAAAA", annas, "au:x"):
        telegram.forge_callback(scene.boris, scene.boris, message["message_id"], data)
    await scene.round(TelegramIntake)
    answers = [a for a in telegram.callback_answers() if a["user_id"] == scene.boris]
    assert len(answers) == 3
    assert all(a["answer"]["text"] == "Кнопка недействительна" for a in answers), answers
    assert len(scene.telegram_from_bot(scene.boris)) == 1  # no message besides the help
    assert len(scene.audit()) == before
    assert list((scene.tmp_path / "events").glob("*.toml")) and not any(
        p.name.startswith("t0ken") for p in (scene.tmp_path / "events").iterdir()
    )
    # A stranger pressing such a button is not even answered.
    telegram.forge_callback(scene.olga, scene.boris, message["message_id"], annas)
    await scene.round(TelegramIntake)
    olgas = [a for a in telegram.callback_answers() if a["user_id"] == scene.olga]
    assert [a["answer"] for a in olgas] == [None]


async def test_the_command_menu_is_set_in_each_admins_chat(scene: Scene) -> None:
    # Anna opened the chat with the bot before the bot started; Boris had not.
    scene.box.telegram.post_as_user(scene.anna, scene.anna, "Здравствуйте")
    await scene.reader(TelegramIntake).start()
    assert list(menus(scene)) == [scene.anna]
    menu = menus(scene)[scene.anna]
    assert [c["command"] for c in menu] == [
        "plan", "event", "cancel", "pause", "resume", "report", "collect", "status", "help",
    ]  # fmt: skip
    assert menu[0]["description"] == "план на 7 дней"  # the library's language
    # Boris gets his once he writes; a stranger never does.
    await scene.telegram(scene.olga, "/start")
    await scene.telegram(scene.boris, "/start")
    assert sorted(menus(scene)) == sorted([scene.anna, scene.boris])
    assert menus(scene)[scene.boris] == menu


def menus(scene: Scene) -> dict[int, list[dict]]:
    """The command menus the stand-in holds for single chats, by chat id."""
    found = {}
    for key, menu in scene.box.telegram.state()["commands"].items():
        scope, _language = json.loads(key)
        if scope.get("type") == "chat":
            found[int(scope["chat_id"])] = menu
    return found


def download(scene: Scene, file_id: str) -> bytes:
    """The bytes of a file the bot sent, fetched as any client would (getFile, then GET)."""
    info = scene.box.info()["telegram"]
    token = info["token"]
    answer = httpx.get(f"{info['api_url']}{token}/getFile", params={"file_id": file_id}).json()
    return httpx.get(f"{info['file_url']}{token}/{answer['result']['file_path']}").content


async def test_an_edited_command_is_not_run_again(scene: Scene) -> None:
    scene.box.telegram.advance_clock(5)
    sent = scene.box.telegram.post_as_user(scene.anna, scene.anna, "/pause")
    await scene.round(TelegramIntake)
    assert scene.library_paused("central")
    assert "снова публикует" in one_text(await scene.telegram(scene.anna, "/resume"))
    answered = len(scene.telegram_from_bot(scene.anna))
    scene.box.telegram.edit_as_user(scene.anna, scene.anna, sent["message_id"], "/pause central")
    await scene.round(TelegramIntake)
    assert not scene.library_paused("central")
    assert len(scene.telegram_from_bot(scene.anna)) == answered
    assert [r["command"] for r in scene.audit()] == ["pause", "resume"]


async def test_a_throttled_reply_is_sent_after_the_wait_telegram_asks(scene: Scene) -> None:
    telegram = scene.box.telegram
    waits: list[float] = []

    async def pause(seconds: float) -> None:
        waits.append(seconds)
        telegram.advance_clock(seconds)  # the stand-in's time, not the test's

    assert scene.app.admin is not None
    scene.app.admin.pause = pause
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    answer = one_text(await scene.telegram(scene.anna, "/plan"))
    assert answer.startswith("План «Центральная библиотека»")
    assert waits == [3]
    # Throttled for longer than an admin should wait: the pause is done all the same, and
    # the audit says its reply was not delivered.
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 60", retry_after=60)
    assert await scene.telegram(scene.anna, "/pause") == []
    assert scene.library_paused("central")
    assert [(r["command"], r["outcome"]) for r in scene.audit()] == [
        ("plan", "ok: 3 lines"),
        ("pause", "paused; reply not delivered (RetryLater)"),
    ]


async def test_a_command_that_breaks_is_told_in_one_line_and_audited(
    scene: Scene, monkeypatch
) -> None:
    async def broken(desk, request):
        raise RuntimeError("a bug")

    monkeypatch.setitem(commands.HANDLERS, "collect", broken)
    answer = one_text(await scene.telegram(scene.anna, "/collect"))
    assert answer == "Не получилось: внутренняя ошибка, подробности в журнале бота"
    assert [(r["command"], r["outcome"]) for r in scene.audit()] == [
        ("collect", "failed: internal error")
    ]
    # The next command is answered as usual.
    assert "Команды:" in one_text(await scene.telegram(scene.anna, "/help"))


async def test_another_admins_press_on_a_real_preview_does_nothing(scene: Scene) -> None:
    """Anna uploads an event file and gets Confirm / Cancel; Boris, an admin of the same
    library, presses Anna's Confirm with a modified client: nothing is scheduled."""
    event = (
        'kind = "announcement"\nlibrary = "central"\ntitle = "Вечер поэзии"\n'
        'at = 2026-12-10T19:00:00\nnetworks = ["telegram"]\ntext = "Читаем стихи"\n'
    )
    telegram = scene.box.telegram
    telegram.advance_clock(5)
    telegram.document_as_user(scene.anna, scene.anna, event.encode(), "poetry.toml")
    await scene.round(TelegramIntake)
    preview = scene.telegram_from_bot(scene.anna)[-1]
    [buttons] = preview["reply_markup"]["inline_keyboard"]
    confirm, cancel = (b["callback_data"] for b in buttons)
    assert "19:00" in text_of(preview)
    await scene.telegram(scene.boris, "/help central")
    borises = scene.telegram_from_bot(scene.boris)[-1]
    telegram.forge_callback(scene.boris, scene.boris, borises["message_id"], confirm)
    await scene.round(TelegramIntake)
    assert not (scene.tmp_path / "events" / "poetry.toml").exists()
    assert scene.db["events"].count_where("id = 'central/poetry'") == 0
    [answer] = [a for a in telegram.callback_answers() if a["user_id"] == scene.boris]
    assert answer["answer"]["text"] == "Кнопка недействительна"
    # Anna's own Cancel is taken, and audited under her name.
    telegram.press_as_user(scene.anna, scene.anna, preview["message_id"], cancel)
    await scene.round(TelegramIntake)
    assert not (scene.tmp_path / "events" / "poetry.toml").exists()
    assert "отменена" in text_of(scene.telegram_from_bot(scene.anna)[-1])
    assert [(r["user_id"], r["command"]) for r in scene.audit()] == [
        (scene.anna, "upload"),
        (scene.boris, "help"),
        (scene.anna, "cancel upload"),
    ]


def test_every_kind_and_state_has_words_in_both_languages() -> None:
    """What /plan, /event and /status name comes from the catalogue, never a raw id."""
    from core import messages
    from core.model import CONTEST_ENTRY, CONTEST_POLL
    from core.storage import FINAL_STATES, PENDING, SENDING
    from scheduler.events import PARSERS
    from scheduler.plan import PLANNED

    catalogue = messages.catalogue()
    for kind in (*PLANNED, CONTEST_ENTRY, CONTEST_POLL, "snapshot", "community"):
        assert f"admin.kind_{kind}" in catalogue, kind
    for kind in PARSERS:
        assert f"admin.event_kind_{kind}" in catalogue, kind
    for state in (PENDING, SENDING, *FINAL_STATES):
        assert f"common.state_{state}" in catalogue, state
    with messages.use_language("ru"):
        assert commands.kind_word("contest_gallery") == "галерея конкурса"
        assert commands.event_kind_word("quiz") == "викторина"


async def test_a_report_whose_files_the_network_refuses_is_not_called_sent(scene: Scene) -> None:
    scene.box.telegram.fail_next("sendDocument", 400, "Bad Request: file is too big", times=2)
    answers = await scene.telegram(scene.anna, "/report year")
    assert [a for a in answers if "document" in a] == []
    text = one_text(answers)
    assert text.startswith("Файлы отчёта не удалось отправить") and "отправлен:" not in text
    [row] = scene.audit()
    assert row["outcome"] == "not sent 2026; reply not delivered (BadContent)"
