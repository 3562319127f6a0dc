"""How the admin chat answers on each network: text, buttons, files, and fetching an upload.

Plain text goes through the library's adapter (``Platform.send_notice``), as alerts do;
a reply with buttons, the answer to a press and a file download use the network's own
call, through the client the intake already holds (one rate limiter per token). Every
error comes out in ``core.errors``' words.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import httpx

from bot.admin.model import Button, Inbound, OutFile, SentFile
from core.errors import BadContent, PlatformError, RetryLater
from core.platform import Attachment, Platform

FETCH_TIMEOUT = 30.0  # seconds to download an admin's file


class TooBig(BadContent):
    """The file an admin sent is larger than an upload may be."""


class Chat(Protocol):
    """One network's private chat with its admins."""

    network: str

    async def say(self, user_id: int, text: str, buttons: Sequence[Button] = ()) -> None:
        """Send ``text`` to the admin, with inline buttons if any."""
        ...

    async def send_file(self, user_id: int, file: OutFile, caption: str) -> None:
        """Send a file (a report) to the admin."""
        ...

    async def fetch(self, file: SentFile, limit: int) -> bytes:
        """The bytes of a file the admin sent; TooBig past ``limit`` bytes."""
        ...

    async def answer_press(self, inbound: Inbound, text: str) -> None:
        """Tell the admin who pressed a button that it was taken (a short note)."""
        ...


async def notice(platform: Platform, user_id: int, text: str, file: OutFile | None = None) -> None:
    """``send_notice``, with the file as its attachment if given."""
    attachment = None if file is None else Attachment(file.name, file.data, is_image=False)
    await platform.send_notice(user_id, text, attachment)


def refuse_if_big(file: SentFile, limit: int, network: str) -> None:
    """TooBig when the network said the file is larger than ``limit`` bytes."""
    if file.size is not None and file.size > limit:
        raise TooBig(f"the file is larger than {limit} bytes", network)


async def download(url: str, limit: int, network: str) -> bytes:
    """GET ``url`` (never logged: it may carry a token), refusing more than ``limit`` bytes."""
    try:
        async with (
            httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise PlatformError(f"download: HTTP {response.status_code}", network)
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise TooBig(f"the file is larger than {limit} bytes", network)
            return bytes(data)
    except httpx.HTTPError as exc:
        raise RetryLater(f"download: {type(exc).__name__}", network, delay=5.0) from exc


class TelegramChat:
    """The private chat with a Telegram bot (``bot``: the intake's ExtBot)."""

    network = "telegram"

    def __init__(self, bot: Any, platform: Platform) -> None:
        self.bot = bot
        self.platform = platform

    async def say(self, user_id: int, text: str, buttons: Sequence[Button] = ()) -> None:
        """Plain text through the adapter; with buttons, an inline keyboard."""
        if not buttons:
            await notice(self.platform, user_id, text)
            return
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup

        from bot.platforms.telegram import translating

        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in buttons]]
        )
        with translating("sendMessage", sending=True):
            await self.bot.send_message(user_id, text, reply_markup=keyboard)

    async def send_file(self, user_id: int, file: OutFile, caption: str) -> None:
        """A document, through the adapter."""
        await notice(self.platform, user_id, caption, file)

    async def fetch(self, file: SentFile, limit: int) -> bytes:
        """getFile, then the download from the Bot API's file URL."""
        from telegram.warnings import PTBUserWarning

        from bot.platforms.telegram import translating

        refuse_if_big(file, limit, self.network)
        # The raw answer: its file_path is relative, python-telegram-bot's is made absolute
        # against api.telegram.org whatever server the bot talks to.
        warnings.filterwarnings("ignore", r"Please use 'Bot\.getFile'", PTBUserWarning)
        with translating("getFile", sending=False):
            answer = await self.bot.do_api_request("getFile", api_kwargs={"file_id": file.ref})
        path = answer.get("file_path") if isinstance(answer, dict) else None
        if not path:
            raise PlatformError("Telegram getFile: no file_path", self.network)
        base, _, token = str(self.bot.base_url).rpartition("/bot")
        return await download(f"{base}/file/bot{token}/{path}", limit, self.network)

    async def answer_press(self, inbound: Inbound, text: str) -> None:
        """answerCallbackQuery with a short note."""
        from bot.platforms.telegram import translating

        with translating("answerCallbackQuery", sending=False):
            await self.bot.answer_callback_query(inbound.press_id, text=text[:200])


VkMethod = Callable[[str, dict[str, Any]], Awaitable[Any]]


class VkChat:
    """A community's messages with its admins (``method``: the intake's community-token call)."""

    network = "vk"

    def __init__(self, method: VkMethod, platform: Platform) -> None:
        self.method = method
        self.platform = platform

    async def say(self, user_id: int, text: str, buttons: Sequence[Button] = ()) -> None:
        """Plain text through the adapter; with buttons, a message with an inline keyboard."""
        if not buttons:
            await notice(self.platform, user_id, text)
            return
        row = [
            {
                "action": {"type": "callback", "label": b.label[:40], "payload": json.dumps({"a": b.data})},
                "color": "positive" if n == 0 else "secondary",
            }
            for n, b in enumerate(buttons)
        ]  # fmt: skip
        keyboard = json.dumps({"inline": True, "buttons": [row]}, ensure_ascii=False)
        params = {
            "user_id": user_id,
            "random_id": secrets.randbelow(2**31),
            "message": text,
            "keyboard": keyboard,
        }
        await self.method("messages.send", params)

    async def send_file(self, user_id: int, file: OutFile, caption: str) -> None:
        """A document, through the adapter."""
        await notice(self.platform, user_id, caption, file)

    async def fetch(self, file: SentFile, limit: int) -> bytes:
        """The doc attachment's URL."""
        refuse_if_big(file, limit, self.network)
        return await download(file.ref, limit, self.network)

    async def answer_press(self, inbound: Inbound, text: str) -> None:
        """messages.sendMessageEventAnswer with a snackbar."""
        event_data = json.dumps({"type": "show_snackbar", "text": text[:90]}, ensure_ascii=False)
        params = {
            "event_id": inbound.press_id,
            "user_id": inbound.user_id,
            "peer_id": inbound.peer_id or inbound.user_id,
            "event_data": event_data,
        }
        await self.method("messages.sendMessageEventAnswer", params)


class MaxChat:
    """A MAX bot's dialogs with its admins (``client``: the intake's MaxClient)."""

    network = "max"

    def __init__(self, client: Any, platform: Platform) -> None:
        self.client = client
        self.platform = platform

    async def say(self, user_id: int, text: str, buttons: Sequence[Button] = ()) -> None:
        """Plain text through the adapter; with buttons, an inline keyboard."""
        if not buttons:
            await notice(self.platform, user_id, text)
            return
        row = [{"type": "callback", "text": b.label[:64], "payload": b.data} for b in buttons]
        body = {
            "text": text,
            "attachments": [{"type": "inline_keyboard", "payload": {"buttons": [row]}}],
        }
        await self.client.call(
            "POST", "/messages", params={"user_id": user_id}, body=body, sending=True
        )

    async def send_file(self, user_id: int, file: OutFile, caption: str) -> None:
        """A file, through the adapter."""
        await notice(self.platform, user_id, caption, file)

    async def fetch(self, file: SentFile, limit: int) -> bytes:
        """The file attachment's URL."""
        refuse_if_big(file, limit, self.network)
        return await download(file.ref, limit, self.network)

    async def answer_press(self, inbound: Inbound, text: str) -> None:
        """POST /answers with a short notification."""
        await self.client.call(
            "POST",
            "/answers",
            params={"callback_id": inbound.press_id},
            body={"notification": text},
            sending=False,
        )
