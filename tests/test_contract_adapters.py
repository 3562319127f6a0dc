"""Contract: every call the adapters make is a known method with known parameters.

The Telegram adapter's requests are captured at the httpx seam; the VK
stand-in records the calls it receives. Both are checked against the official
descriptions in specs/ (the project's copy of the official ones).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

from bot.platforms.telegram import TelegramPlatform
from bot.platforms.vk import VkPlatform
from core.platform import PollSpec, Post, PostRef
from sandbox import telegram_spec, vk_spec
from sandbox.server import Sandbox

IMAGE = Path(__file__).resolve().parent.parent / "templates" / "events" / "ru" / "announcement.png"
POLL = PollSpec("Какую книгу обсудим?", ("Одну", "Другую"), multiple=False)
VK_GLOBAL = {"v", "access_token", "lang", "test_mode"}
# The official schema lists no parameters for execute, though VK documents `code` for it.
VK_UNDECLARED = {"execute": {"code"}}


def _params(request: httpx.Request) -> dict[str, str]:
    body = request.read()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        # "; name=" and not the "filename=" of the same header
        return {name.decode(): "" for name in re.findall(rb'; name="([^"]+)"', body)}
    return dict(parse_qsl(body.decode()))


async def test_telegram_adapter_sends_only_known_parameters() -> None:
    calls: list[tuple[str, dict]] = []

    async def record(request: httpx.Request) -> None:
        calls.append((request.url.path.rsplit("/", 1)[-1], _params(request)))

    with Sandbox(seed=2) as box:
        info = box.info()["telegram"]
        platform = TelegramPlatform(
            info["token"], info["api_url"], httpx_kwargs={"event_hooks": {"request": [record]}}
        )
        chat = str(info["channel_id"])
        await platform.publish(Post(chat, "<b>Текст</b>"))
        await platform.publish(Post(chat, "С картинкой", image=IMAGE))
        await platform.publish(Post(chat, "", poll=POLL))
        await platform.audience_size(chat)
        await platform.close()
    methods = [name for name, _ in calls]
    assert {"getMe", "sendMessage", "sendPhoto", "sendPoll", "getChatMemberCount"} <= set(methods)
    for name, params in calls:
        assert telegram_spec.call_errors(name, params) == [], name


def test_vk_adapter_sends_only_known_parameters() -> None:
    import asyncio

    with Sandbox(seed=2) as box:
        info = box.info()["vk"]
        platform = VkPlatform(
            info["group_id"], info["user_token"], info["community_token"], info["api_url"]
        )

        async def exercise() -> None:
            published = await platform.publish(
                Post(str(info["group_id"]), "Текст", image=IMAGE, guid="g1")
            )
            await platform.publish(Post(str(info["group_id"]), "Опрос", guid="g2", poll=POLL))
            post = PostRef(str(info["group_id"]), published.remote_id)
            async for _ in platform.read_figures([post], [str(info["group_id"])]):
                pass
            await platform.audience_size(str(info["group_id"]))
            await platform.close()

        asyncio.run(exercise())
        calls = box.vk.state()["calls"]
    names = {call["method"] for call in calls}
    assert {
        "execute",
        "polls.create",
        "stats.getPostReach",
        "wall.post",
        "wall.getById",
        "groups.getById",
        "photos.getWallUploadServer",
        "photos.saveWallPhoto",
    } <= names
    for call in calls:
        spec = vk_spec.method(call["method"])
        known = {p["name"] for p in spec.get("parameters", [])} | VK_UNDECLARED.get(
            call["method"], set()
        )
        required = {p["name"] for p in spec.get("parameters", []) if p.get("required")}
        sent = set(call["params"]) - VK_GLOBAL
        assert sent <= known, (call["method"], sent - known)
        assert required <= sent, (call["method"], required - sent)


def test_every_registered_network_has_an_adapter_that_builds() -> None:
    from bot.platforms import ADAPTERS, builder
    from core import networks

    assert set(ADAPTERS) == set(networks.names())
    for name in networks.names():
        assert callable(builder(name)), name


async def test_vk_sends_no_admin_notices() -> None:
    # The config's admin ids are Telegram users (the registry: admin_notices is off).
    import pytest

    from core import networks
    from core.errors import Forbidden

    assert not networks.network("vk").capabilities.admin_notices
    platform = VkPlatform(1, None, None, "http://127.0.0.1:9/method/")
    with pytest.raises(Forbidden):
        await platform.send_notice(42, "Пост не вышел")
    await platform.close()
