"""The admin chat on VK (the community's messages, answered with the community token by
vk_api) and on MAX (a dialog with the bot), through the stand-ins; and the audit's rows.

The same scene as tests/test_admin_chat.py: the bot built by ``build_app`` with its
readers, the clock injected, one update round per step.
"""

from __future__ import annotations

import json

from bot.admin import uploads
from bot.admin.model import Button
from bot.intake.max import MaxIntake
from bot.intake.vk import VkIntake
from core.interactions import library_secret
from tests.admin_chat_helpers import Scene, scene, text_of

__all__ = ["scene"]  # the fixture, used by name


def one_text(answers: list[dict]) -> str:
    assert len(answers) == 1, [text_of(a) for a in answers]
    return text_of(answers[0])


# -- VK ------------------------------------------------------------------------------------


async def test_vk_admin_gets_help_and_plan_from_the_community(scene: Scene) -> None:
    await scene.round(VkIntake)  # the stream so far
    scene.box.recording = True
    help_text = one_text(await scene.vk(scene.vk_admin, "/help"))
    assert "Центральная библиотека" in help_text and "/plan" in help_text
    # Answered by messages.send with the community token (the community wrote it).
    sends = [a for a in scene.box.arrivals if a.network == "vk" and a.method == "messages.send"]
    assert len(sends) == 1
    [answer] = scene.vk_from_community(scene.vk_admin)
    assert answer["from_id"] == -scene.box.info()["vk"]["group_id"]
    plan = one_text(await scene.vk(scene.vk_admin, "/план"))
    assert "Europe/Moscow" in plan
    assert any(line.startswith("07.12 10:00 — Club") for line in plan.splitlines()), plan
    assert [(r["network"], r["user_id"], r["library_id"], r["command"]) for r in scene.audit()] == [
        ("vk", scene.vk_admin, "central", "help"),
        ("vk", scene.vk_admin, "central", "plan"),
    ]
    # An admin's message is the admin chat's, not a reader's message in the report.
    assert scene.db["interactions"].count_where("network = 'vk' and kind = 'message'") == 0


async def test_vk_stranger_gets_nothing(scene: Scene) -> None:
    await scene.round(VkIntake)
    for text in ("/help", "/plan", "привет", "/pause"):
        assert await scene.vk(scene.vk_reader, text) == []
    assert scene.audit() == []
    assert not scene.library_paused("central")
    # What a reader writes to the community is theirs: counted as a reader's message.
    assert scene.db["interactions"].count_where("network = 'vk' and kind = 'message'") == 4


async def test_vk_admin_of_one_library_is_a_reader_in_another_community(scene: Scene) -> None:
    """Central's VK admin writes to Branch's community: Branch's community does not answer
    an admin of another library (not even about their own); the message is a reader's."""
    await scene.round(VkIntake, "branch")  # each reader's stream so far
    await scene.round(VkIntake)
    vk, group = scene.box.vk, scene.branch_group
    for text in ("/help", "/pause", "/pause central"):
        vk.write(scene.vk_admin, text, group_id=group)
    await scene.round(VkIntake, "branch")
    assert [m for m in vk.messages(scene.vk_admin, group) if m["out"]] == []
    assert scene.audit() == [] and not scene.library_paused("central")
    rows = scene.db["interactions"].rows_where("network = 'vk' and kind = 'message'")
    assert [r["library_id"] for r in rows] == ["branch"] * 3
    # In Central's own community the same admin is answered.
    assert "Центральная библиотека" in one_text(await scene.vk(scene.vk_admin, "/help"))


async def test_vk_and_max_admins_get_the_report_files(scene: Scene) -> None:
    await scene.round(VkIntake)
    answers = await scene.vk(scene.vk_admin, "/отчёт месяц")
    docs = [a["attachments"] for a in answers if a.get("attachments")]
    assert len(docs) == 2 and all(ref.startswith("doc-") for [ref] in docs), docs
    assert "Отчёт за месяц отправлен" in text_of(answers[-1])
    await scene.round(MaxIntake)
    scene.box.max.start_bot(scene.max_admin)
    answers = await scene.max(scene.max_admin, "/report month")
    files = [
        item["filename"]
        for a in answers
        for item in a["body"].get("attachments") or []
        if item["type"] == "file"
    ]
    assert sorted(files) == ["report-central-2026-12.html", "report-central-2026-12.xlsx"]
    assert [r["outcome"] for r in scene.audit() if r["command"] == "report"] == [
        "sent 2026-12",
        "sent 2026-12",
    ]


async def test_vk_pause_and_cancel_work_from_the_community(scene: Scene) -> None:
    await scene.round(VkIntake)
    assert "на паузе" in one_text(await scene.vk(scene.vk_admin, "/pause"))
    assert scene.library_paused("central")
    assert "отменено" in one_text(await scene.vk(scene.vk_admin, "/cancel central/lecture"))
    states = {r["state"] for r in scene.db["actions"].rows_where("event_id = 'central/lecture'")}
    assert states == {"cancelled"}
    assert [(r["command"], r["outcome"].split(",")[0]) for r in scene.audit()] == [
        ("pause", "paused"),
        ("cancel", "cancelled"),
    ]


async def test_vk_forged_and_other_peoples_presses_do_nothing(scene: Scene) -> None:
    await scene.round(VkIntake)
    await scene.vk(scene.vk_admin, "/help")
    # The admin chat's buttons go out as an inline keyboard VK takes (callback buttons).
    desk, reader = scene.app.admin, scene.reader(VkIntake)
    chat = desk.chat("vk", "central", reader._method)
    await desk.say(chat, scene.vk_admin, "Проверка", [Button("Да", "au:c:t0ken:AAAAAAAA")])
    keyboard = scene.vk_from_community(scene.vk_admin)[-1]["keyboard"]
    [[button]] = keyboard["buttons"]
    assert keyboard["inline"] and button["action"]["type"] == "callback"
    assert json.loads(button["action"]["payload"]) == {"a": "au:c:t0ken:AAAAAAAA"}
    secret = library_secret(scene.db, "central")
    someone_elses = uploads.press_data(secret, uploads.CONFIRM, "t0ken", "vk", scene.vk_reader)
    forged = "au:c:t0ken:AAAAAAAA"
    before = len(scene.audit())
    vk = scene.box.vk
    admin_presses = [
        vk.press_button(scene.vk_admin, {"a": data}) for data in (forged, someone_elses)
    ]
    vk.write(scene.vk_reader, "Здравствуйте")  # the reader's dialog, to press in
    stranger = vk.press_button(scene.vk_reader, {"a": someone_elses})
    await scene.round(VkIntake)
    for event_id in admin_presses:
        answer = vk.button_answer(event_id)
        assert answer["answered"] and answer["answer"]["text"] == "Кнопка недействительна"
    assert not vk.button_answer(stranger)["answered"]  # not an admin: nothing at all
    assert len(scene.vk_from_community(scene.vk_admin)) == 2  # the help and the buttons only
    assert scene.vk_from_community(scene.vk_reader) == []
    assert len(scene.audit()) == before


# -- MAX -----------------------------------------------------------------------------------


async def test_max_admin_gets_help_and_plan_in_the_dialog(scene: Scene) -> None:
    await scene.round(MaxIntake)
    # Start in the dialog brings no message, only bot_started: the admin gets the help.
    scene.box.max.start_bot(scene.max_admin)
    await scene.round(MaxIntake)
    [started] = scene.max_from_bot(scene.max_admin)
    help_text = one_text(await scene.max(scene.max_admin, "/help"))
    assert "Центральная библиотека" in help_text and "/status" in help_text
    assert text_of(started) == help_text
    plan = one_text(await scene.max(scene.max_admin, "/plan"))
    assert "07.12 10:00 — Club" in plan and "09.12 18:30 — Lecture" in plan
    assert "Tales" not in plan
    status = one_text(await scene.max(scene.max_admin, "/status"))
    assert "MAX: работает" in status
    assert [(r["network"], r["user_id"], r["library_id"], r["command"]) for r in scene.audit()] == [
        ("max", scene.max_admin, "central", "help"),
        ("max", scene.max_admin, "central", "help"),
        ("max", scene.max_admin, "central", "plan"),
        ("max", scene.max_admin, "central", "status"),
    ]


async def test_max_stranger_gets_nothing(scene: Scene) -> None:
    await scene.round(MaxIntake)
    scene.box.max.start_bot(scene.max_reader)
    for text in ("/start", "/plan", "привет"):
        assert await scene.max(scene.max_reader, text) == []
    assert scene.audit() == []


async def test_max_buttons_and_a_press_with_a_bad_signature(scene: Scene) -> None:
    await scene.round(MaxIntake)
    scene.box.max.start_bot(scene.max_admin)
    await scene.max(scene.max_admin, "/help")
    # A button of the admin chat whose signature does not hold (a stale or forged one),
    # sent as the admin chat sends its buttons: MAX keeps a button's payload, so a client
    # can only press what the bot sent.
    desk, reader = scene.app.admin, scene.reader(MaxIntake)
    chat = desk.chat("max", "central", reader.client)
    await desk.say(chat, scene.max_admin, "Проверка", [Button("Да", "au:c:t0ken:AAAAAAAA")])
    message = scene.max_from_bot(scene.max_admin)[-1]
    [keyboard] = message["body"]["attachments"]
    assert keyboard["type"] == "inline_keyboard"
    before = len(scene.audit())
    scene.box.max.press(scene.max_admin, message["body"]["mid"], "au:c:t0ken:AAAAAAAA")
    await scene.round(MaxIntake)
    answers = [a for a in scene.box.max.callback_answers() if a["user_id"] == scene.max_admin]
    assert len(answers) == 1, answers
    assert "Кнопка недействительна" in json.dumps(answers[0], ensure_ascii=False)
    # The help at Start and at /help, the buttons: nothing more.
    assert len(scene.max_from_bot(scene.max_admin)) == 3
    assert len(scene.audit()) == before


# -- the audit -----------------------------------------------------------------------------


async def test_each_action_is_one_audit_row_on_every_network(scene: Scene) -> None:
    await scene.round(VkIntake)
    await scene.round(MaxIntake)
    scene.box.max.start_bot(scene.max_admin)
    await scene.telegram(scene.anna, "/status")
    await scene.telegram(scene.boris, "/resume branch")
    await scene.telegram(scene.anna, "/pause branch")
    await scene.vk(scene.vk_admin, "/event club")
    await scene.max(scene.max_admin, "/pause")
    await scene.telegram(scene.olga, "/pause central")  # a stranger: no row
    await scene.vk(scene.vk_reader, "/pause")  # nor here
    rows = scene.audit()
    assert [
        (r["network"], r["user_id"], r["library_id"], r["command"], r["arguments"], r["outcome"])
        for r in rows
    ] == [
        ("telegram", scene.anna, "central", "status", "", "ok"),
        ("telegram", scene.boris, "branch", "resume", "branch", "unchanged"),
        ("telegram", scene.anna, "", "pause", "branch", "refused: not their library"),
        ("vk", scene.vk_admin, "central", "event", "club", "ok"),
        ("max", scene.max_admin, "central", "help", "", "ok"),  # Start pressed
        ("max", scene.max_admin, "central", "pause", "", "paused"),
    ]
    assert all(r["at"] for r in rows)
