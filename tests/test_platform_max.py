"""The MAX adapter (bot.platforms.max) and its client against the MAX stand-in over HTTP.

Posts land once, with their image; MAX's refusals and lost answers come out in the
project's vocabulary (a 5xx MAX answered itself is retried, a dropped answer is
ambiguous, 429 waits, a wrong token is AuthFailed); quiz and poll keyboards carry the
signed data and come off again; views and members are read; and the runner posts a
planned MAX event end to end, marking a lost answer uncertain.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app import load_plan
from bot.platforms import build_platforms
from bot.platforms.max import MaxPlatform
from bot.platforms.max_client import MaxClient, token_client
from core.config_file import load_config
from core.errors import AmbiguousOutcome, AuthFailed, BadContent, Forbidden, RetryLater
from core.networks import network
from core.platform import Ask, PollSpec, Post, PostRef
from core.storage import open_db
from reports.output import from_config
from reports.period import date_range
from reports.text import to_csv
from sandbox.server import Sandbox
from scheduler.runner import Runner
from tests.conftest import (
    MAX_ENV,
    TG_ENV,
    VK_COMMUNITY_ENV,
    VK_USER_ENV,
    max_table,
    write_config,
    write_event,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
IMAGE = TEMPLATES / "events" / "ru" / "announcement.png"
ZONE = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(seed=11) as sandbox:
        yield sandbox


@pytest.fixture
def sb(running: Sandbox) -> Sandbox:
    running.reset()
    running.max.set_faults("")
    return running


@pytest.fixture
def mx(sb: Sandbox) -> dict[str, Any]:
    return sb.info()["max"]


@pytest.fixture
def platform(mx: dict[str, Any]) -> MaxPlatform:
    return MaxPlatform(token_client(mx["token"], mx["api_url"], 5.0, True))


def channel_messages(sb: Sandbox, mx: dict[str, Any]) -> list[dict[str, Any]]:
    return sb.max.messages(mx["channel_id"])


def keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The buttons under a message (rows), or [] without a keyboard."""
    for attachment in message["body"].get("attachments") or []:
        if attachment["type"] == "inline_keyboard":
            return attachment["payload"]["buttons"]
    return []


def test_registry_entry_and_client_shared_per_token(mx: dict[str, Any]) -> None:
    entry = network("max")
    assert entry.limits.text == 4000 and entry.limits.requests_per_second == 30
    caps = entry.capabilities
    assert (caps.idempotent_posts, caps.native_polls, caps.markup) == (False, False, "html")
    assert caps.views_readable and caps.metrics_from_api and caps.giveaway_entries == ()
    one = token_client(mx["token"], mx["api_url"])
    assert token_client(mx["token"], mx["api_url"]) is one
    assert token_client(mx["token"], mx["api_url"] + "/other") is not one


async def test_announcement_posted_once_as_html_with_its_link(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    published = await platform.publish(
        Post(
            str(mx["channel_id"]), '<b>Ночь в библиотеке</b>\n\n<a href="https://lib.test">Сайт</a>'
        )
    )
    [message] = channel_messages(sb, mx)
    assert message["body"]["text"] == "Ночь в библиотеке\n\nСайт"
    kinds = {m["type"] for m in message["body"]["markup"]}
    assert kinds == {"strong", "link"}
    assert published.remote_id == message["body"]["mid"]
    assert published.url == message["url"] and published.url.startswith("https://")
    assert "sender" not in message  # posted on behalf of the channel


async def test_announcement_with_image_is_one_message_with_the_image(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    await platform.publish(Post(str(mx["channel_id"]), "<b>Выставка</b>", image=IMAGE))
    [message] = channel_messages(sb, mx)
    [image] = message["body"]["attachments"]
    assert image["type"] == "image" and image["payload"]["token"]
    assert message["body"]["text"] == "Выставка"


async def test_5xx_with_maxs_error_object_is_retried_and_posts_once(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    sb.max.fail_next("sendMessage", "service.unavailable")
    post = Post(str(mx["channel_id"]), "Клуб")
    with pytest.raises(RetryLater):
        await platform.publish(post)
    assert channel_messages(sb, mx) == []  # MAX said it did not do it
    await platform.publish(post)
    assert len(channel_messages(sb, mx)) == 1


async def test_a_dropped_answer_is_ambiguous_and_the_post_may_exist(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    sb.max.set_faults("sendMessage:ambiguous:1")
    noted: list[bool] = []
    with pytest.raises(AmbiguousOutcome):
        await platform.publish(
            Post(str(mx["channel_id"]), "Клуб", on_dispatch=lambda: noted.append(True))
        )
    assert noted == [True]  # noted as leaving before it left
    assert len(channel_messages(sb, mx)) == 1  # it was posted: a repeat would double it


async def test_a_send_that_could_not_be_noted_does_not_leave(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    def broken() -> None:
        raise OSError("disk full")

    with pytest.raises(RetryLater, match="not sent"):
        await platform.publish(Post(str(mx["channel_id"]), "Клуб", on_dispatch=broken))
    assert channel_messages(sb, mx) == []


async def test_429_is_retry_later_and_a_read_loss_is_not_ambiguous(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    sb.max.fail_next("sendMessage", "too.many.requests")
    with pytest.raises(RetryLater) as caught:
        await platform.say(str(mx["chat_id"]), "Привет")
    assert caught.value.delay == 1.0
    sb.max.set_faults("getChat:ambiguous:1")
    with pytest.raises(RetryLater):
        await platform.audience_size(str(mx["channel_id"]))


async def test_wrong_token_is_auth_failed(mx: dict[str, Any]) -> None:
    client = MaxClient("not-the-token", mx["api_url"], rate_limit=False)
    with pytest.raises(AuthFailed, match="rejected") as caught:
        await MaxPlatform(client).publish(Post(str(mx["channel_id"]), "Клуб"))
    assert "not-the-token" not in str(caught.value)
    await client.aclose()


async def test_unreachable_api_is_retry_later_even_for_a_send() -> None:
    client = MaxClient("some-token-123", "http://127.0.0.1:9", rate_limit=False)
    with pytest.raises(RetryLater, match="not sent"):
        await MaxPlatform(client).publish(Post("-1", "Клуб"))
    await client.aclose()


async def test_quiz_buttons_carry_the_signed_data_and_come_off(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    chat = mx["chat_id"]
    ask = Ask(
        str(chat),
        "<b>Вопрос 1</b>\n\nКто написал «Муму»?",
        style="buttons",
        options=("Тургенев", "Толстой"),
        buttons=("q1:a:sig", "q1:b:sig", "q1:send:sig"),
        send="Готово",
        image=IMAGE,
    )
    published = await platform.ask(ask)
    [message] = [m for m in sb.max.messages(chat) if m["body"]["mid"] == published.remote_id]
    rows = keyboard(message)
    assert [[b["text"] for b in row] for row in rows] == [
        ["1. Тургенев"],
        ["2. Толстой"],
        ["Готово"],
    ]
    assert [row[0]["payload"] for row in rows] == ["q1:a:sig", "q1:b:sig", "q1:send:sig"]
    assert all(row[0]["type"] == "callback" for row in rows)
    reader = sb.max.add_user(first_name="Ольга")["user_id"]
    sb.max.join(reader, chat)
    pressed = sb.max.press(reader, published.remote_id, "q1:a:sig")
    assert pressed["update"]["callback"]["payload"] == "q1:a:sig"

    await platform.stop_question(str(chat), published.remote_id, "buttons")
    [message] = [m for m in sb.max.messages(chat) if m["body"]["mid"] == published.remote_id]
    assert keyboard(message) == []
    assert [a["type"] for a in message["body"]["attachments"]] == ["image"]  # the image stays
    await platform.stop_question(str(chat), published.remote_id, "buttons")  # a repeat: fine

    await platform.edit(str(chat), published.remote_id, "<b>Вопрос 1</b> (закрыт)")
    [message] = [m for m in sb.max.messages(chat) if m["body"]["mid"] == published.remote_id]
    assert message["body"]["text"] == "Вопрос 1 (закрыт)"


async def test_typed_answers_question_is_a_plain_message(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    published = await platform.ask(Ask(str(mx["chat_id"]), "Столица Франции?", style="text"))
    [message] = sb.max.messages(mx["chat_id"])
    assert message["body"]["mid"] == published.remote_id and keyboard(message) == []
    with pytest.raises(BadContent):
        await platform.ask(Ask(str(mx["chat_id"]), "?", style="quiz_poll", options=("a", "b")))


async def test_poll_is_a_keyboard_of_its_options_and_stop_removes_it(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    channel = str(mx["channel_id"])
    poll = PollSpec("Что читать?", ("Роман", "Стихи"), buttons=("p:0:sig", "p:1:sig"))
    published = await platform.publish(Post(channel, "<b>Опрос</b>", poll=poll))
    assert published.poll_id == published.remote_id
    [message] = channel_messages(sb, mx)
    assert [[(b["text"], b["payload"]) for b in row] for row in keyboard(message)] == [
        [("Роман", "p:0:sig")],
        [("Стихи", "p:1:sig")],
    ]
    assert await platform.stop_poll(channel, published.remote_id, published.poll_id) is None
    [message] = channel_messages(sb, mx)
    assert keyboard(message) == []
    with pytest.raises(BadContent, match="button"):
        await platform.publish(Post(channel, "x", poll=PollSpec("?", ("a", "b"))))


async def test_views_deleted_posts_and_members_are_read(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform
) -> None:
    channel = str(mx["channel_id"])
    first = await platform.publish(Post(channel, "Один"))
    second = await platform.publish(Post(channel, "Два"))
    sb.max.set_views(first.remote_id, 120)
    reader = sb.max.add_user(first_name="Ольга")["user_id"]
    for text in ("Приду!", "А во сколько?", "Спасибо"):
        sb.max.comment(reader, first.remote_id, text)
    await platform.delete(channel, second.remote_id)
    await platform.delete(channel, second.remote_id)  # already gone: not an error
    sb.max.set_member_count(mx["channel_id"], 345)
    refs = [PostRef(channel, first.remote_id), PostRef(channel, second.remote_id)]
    parts = [part async for part in platform.read_figures(refs, [channel])]
    counters = {ref: m for part in parts for ref, m in part.counters.items()}
    assert counters[refs[0]].views == 120 and not counters[refs[0]].deleted
    assert counters[refs[0]].comments == 3
    assert counters[refs[0]].likes is None and counters[refs[0]].reposts is None
    assert counters[refs[1]].deleted
    members = {t: n for part in parts for t, n in part.members.items()}
    assert members == {channel: 345}
    assert await platform.audience_size(channel) == 345


async def test_figures_unread_after_bounded_retries(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.platforms.max.READ_ATTEMPTS", 2)
    channel = str(mx["channel_id"])
    posted = await platform.publish(Post(channel, "Один"))
    sb.max.fail_next("getMessages", "service.unavailable", times=2)
    sb.max.fail_next("getChat", "service.unavailable", times=2)
    ref = PostRef(channel, posted.remote_id)
    parts = [part async for part in platform.read_figures([ref], [channel])]
    assert any(ref in part.unread_posts for part in parts)
    assert any(channel in part.unread_communities for part in parts)


async def test_admin_notices_are_not_sent_on_max(platform: MaxPlatform) -> None:
    with pytest.raises(Forbidden):
        await platform.send_notice(42, "x")


# -- the runner, end to end ------------------------------------------------------------


def setup(tmp_path: Path, sb: Sandbox, max_extra: str = "") -> tuple:
    info = sb.info()
    path = write_config(
        tmp_path,
        telegram_url=info["telegram"]["api_url"],
        vk_url=info["vk"]["api_url"],
        channel=str(info["telegram"]["channel_id"]),
        group_id=info["vk"]["group_id"],
        timezone=ZONE.key,
        snapshots='["1s"]',
        max_section=max_table(
            info["max"]["api_url"], info["max"]["channel_id"], info["max"]["chat_id"], max_extra
        ),
    )
    (tmp_path / "events" / "poster.png").write_bytes(IMAGE.read_bytes())
    at = (datetime.now(UTC) + timedelta(seconds=1)).astimezone(ZONE).replace(tzinfo=None)
    write_event(
        tmp_path,
        at=at.replace(microsecond=0).isoformat(),
        image='"poster.png"',
        title='"Ночь в библиотеке"',
        networks='["max"]',
    )
    config = load_config(path)
    db = open_db(config.storage)
    assert load_plan(db, config).problems == []
    env = {
        TG_ENV: info["telegram"]["token"],
        VK_USER_ENV: info["vk"]["user_token"],
        VK_COMMUNITY_ENV: info["vk"]["community_token"],
        MAX_ENV: info["max"]["token"],
    }
    return info, config, db, env, at


async def wait_for(predicate, timeout: float = 15.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_runner_posts_a_planned_max_event_and_reports_its_views(
    tmp_path: Path, sb: Sandbox
) -> None:
    info, config, db, env, at = setup(tmp_path, sb)
    assert config.library("central").networks == ("telegram", "vk", "max")
    platforms = build_platforms(config, env)
    runner = Runner(db, config, platforms)
    await runner.start()
    await wait_for(lambda: db["publications"].count == 1)
    [message] = sb.max.messages(info["max"]["channel_id"])
    sb.max.set_views(message["body"]["mid"], 77)
    try:
        assert await runner.wait_until_done(timeout=20)
    finally:
        await runner.stop()
        for p in platforms.values():
            await p.close()
    assert len(sb.max.messages(info["max"]["channel_id"])) == 1  # once
    assert message["body"]["text"].startswith("Ночь в библиотеке")
    assert message["body"]["attachments"][0]["type"] == "image"
    [pub] = db["publications"].rows
    assert (pub["network"], pub["remote_id"], pub["url"]) == (
        "max",
        message["body"]["mid"],
        message["url"],
    )
    report = from_config(db, config, date_range(at.date(), at.date()))
    rows = {r.network: r for r in report.rows}
    assert rows["max"].figures["views"] == 77
    assert rows["max"].figures.get("likes") is None  # not in the API: н/д, not 0
    assert rows["max"].followers is not None
    assert "н/д" in to_csv(report)


async def test_runner_marks_a_lost_max_answer_uncertain_unless_resend_is_set(
    tmp_path: Path, sb: Sandbox
) -> None:
    info, config, db, env, _ = setup(tmp_path, sb)
    sb.max.set_faults("sendMessage:ambiguous:1")
    platforms = build_platforms(config, env)
    runner = Runner(db, config, platforms)
    await runner.start()
    try:
        await wait_for(
            lambda: db["actions"].count_where("kind = 'publish' and state = 'uncertain'") == 1
        )
    finally:
        await runner.stop()
        for p in platforms.values():
            await p.close()
    assert len(sb.max.messages(info["max"]["channel_id"])) == 1  # posted, not repeated


async def test_resend_uncertain_lets_max_repeat_after_a_lost_answer(
    tmp_path: Path, sb: Sandbox
) -> None:
    info, config, db, env, _ = setup(tmp_path, sb, max_extra="resend_uncertain = true")
    assert config.library("central").max.resend_uncertain
    sb.max.set_faults("sendMessage:ambiguous:1")
    platforms = build_platforms(config, env)
    runner = Runner(db, config, platforms)
    await runner.start()
    try:
        await wait_for(lambda: len(sb.max.messages(info["max"]["channel_id"])) == 1)
        sb.max.set_faults("")  # the repeat gets its answer
        await wait_for(lambda: db["publications"].count == 1, timeout=20)
    finally:
        await runner.stop()
        for p in platforms.values():
            await p.close()
    assert len(sb.max.messages(info["max"]["channel_id"])) == 2  # the library chose a repeat


async def test_comments_are_counted_across_pages(
    sb: Sandbox, mx: dict[str, Any], platform: MaxPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.platforms.max.COMMENTS_PAGE", 50)
    channel = str(mx["channel_id"])
    posted = await platform.publish(Post(channel, "Обсуждаем"))
    reader = sb.max.add_user(first_name="Ольга")["user_id"]
    sb.max.freeze_clock(True)
    try:
        for n in range(120):
            sb.max.advance_clock(0.005 if n % 3 else 0.0)  # some share a millisecond
            sb.max.comment(reader, posted.remote_id, f"Комментарий {n}")
    finally:
        sb.max.freeze_clock(False)
    ref = PostRef(channel, posted.remote_id)
    [part] = [part async for part in platform.read_figures([ref], [])]
    assert part.counters[ref].comments == 120


async def test_every_call_is_a_known_method_with_known_parameters(
    sb: Sandbox, mx: dict[str, Any]
) -> None:
    """Contract: each request matches specs/max (path, verb, query, body), raw token auth."""
    import re

    from sandbox import max_spec

    requests: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        requests.append(request)

    client = MaxClient(
        mx["token"], mx["api_url"], httpx_kwargs={"event_hooks": {"request": [record]}}
    )
    platform = MaxPlatform(client)
    channel, chat = str(mx["channel_id"]), str(mx["chat_id"])
    posted = await platform.publish(Post(channel, "<b>Текст</b>", image=IMAGE))
    poll = PollSpec("?", ("А", "Б"), buttons=("p:0", "p:1"))
    polled = await platform.publish(Post(channel, "Опрос", poll=poll))
    asked = await platform.ask(
        Ask(chat, "Вопрос", style="buttons", options=("А", "Б"), buttons=("a", "b"))
    )
    await platform.edit(chat, asked.remote_id, "Вопрос (закрыт)")
    await platform.stop_question(chat, asked.remote_id, "buttons")
    await platform.stop_poll(channel, polled.remote_id, polled.poll_id or "")
    async for _ in platform.read_figures([PostRef(channel, posted.remote_id)], [channel]):
        pass
    await platform.delete(chat, asked.remote_id)
    await client.aclose()

    patterns = {
        name: (entry["http"], re.compile("^" + re.sub(r"\{\w+\}", r"[^/]+", entry["path"]) + "$"))
        for name, entry in max_spec.methods().items()
    }
    seen = set()
    for request in requests:
        assert request.headers["Authorization"] == mx["token"]  # raw, no "Bearer"
        names = [
            n
            for n, (verb, path) in patterns.items()
            if verb == request.method and path.match(request.url.path)
        ]
        assert names, (request.method, request.url.path)
        entry = max_spec.method(names[0])
        seen.add(names[0])
        query = set(dict(request.url.params))
        assert query <= set(entry.get("query", {})), (names[0], query)
        assert "access_token" not in query
        if "body" in entry and request.content:
            body = json.loads(request.content)
            assert max_spec.object_errors(entry["body"], body, strict=True) == [], names[0]
    assert {
        "sendMessage",
        "editMessage",
        "deleteMessage",
        "getMessageById",
        "getMessages",
        "getComments",
        "getChat",
        "getUploadUrl",
    } <= seen


def test_translation_of_answers_and_transport_failures() -> None:
    from bot.platforms.max_client import api_error, transport_error
    from core.errors import NotFound

    refusal = {"code": "service.unavailable", "message": "Service temporarily unavailable"}
    assert type(api_error(503, refusal, "w", sending=True)) is RetryLater  # MAX: not done
    assert type(api_error(502, None, "w", sending=True)) is AmbiguousOutcome  # a proxy's page
    assert type(api_error(502, None, "w", sending=False)) is RetryLater
    assert type(api_error(401, {"code": "verify.token", "message": "x"}, "w", True)) is AuthFailed
    assert type(api_error(403, {"code": "chat.denied", "message": "x"}, "w", True)) is Forbidden
    assert type(api_error(404, {"code": "not.found", "message": "x"}, "w", True)) is NotFound
    assert type(api_error(400, {"code": "bad.request", "message": "x"}, "w", True)) is BadContent
    not_ready = api_error(400, {"code": "attachment.not.ready", "message": ""}, "w", True)
    assert type(not_ready) is RetryLater and not_ready.delay < 1
    request = httpx.Request("POST", "http://max.test/messages")
    lost = httpx.ReadTimeout("timed out", request=request)
    assert type(transport_error(lost, "w", sending=True)) is AmbiguousOutcome
    assert type(transport_error(lost, "w", sending=False)) is RetryLater
    never = httpx.ConnectError("refused", request=request)
    assert type(transport_error(never, "w", sending=True)) is RetryLater
    pool = httpx.PoolTimeout("full", request=request)
    assert type(transport_error(pool, "w", sending=True)) is RetryLater
