"""MAX through its Bot API (``max_client``): channel posts, images, button polls, quiz
questions in a group chat, channel views and members.

MAX takes ``format=html`` (b, i, a, code, pre, blockquote...), so posts are the same HTML
as Telegram's. It has no idempotency key: a send whose answer is lost is an
``AmbiguousOutcome`` and the runner marks it uncertain (or re-sends it if the library set
``resend_uncertain``). It has no native polls: a poll is a keyboard of callback buttons
under the post, one per option, whose data the runner signed (``PollSpec.buttons``); the
votes are the presses the intake counts. Views exist only for channel posts, in
``GET /messages`` (``stat.views``); likes, reposts and reactions are not in the API
(not available, never 0).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Sequence
from typing import Any

from bot.platforms.max_client import NOT_READY, MaxClient, token_client
from core.config import LibraryConfig, LibraryTokens
from core.errors import BadContent, Forbidden, NotFound, PlatformError, RetryLater
from core.networks import network
from core.platform import (
    Ask,
    Attachment,
    FiguresPart,
    PollRef,
    Post,
    PostMetrics,
    PostRef,
    Published,
    dispatch_hook,
    dispatching,
)

NETWORK = "max"
LIMITS = network(NETWORK).limits
MESSAGES_BATCH = 100  # GET /messages: count 1..100
COMMENTS_PAGE = 100  # GET /messages/{mid}/comments: count 1..100
COMMENTS_PAGES = 20  # past this many pages a post's comments are not counted (None)
READ_ATTEMPTS = 5  # a refused metrics request is sent at most this many times …
READ_RETRY_SECONDS = 60.0  # … and waited for at most this long in all
NOT_READY_ATTEMPTS = 5  # sends refused while an upload is processed (attachment.not.ready)
KEYBOARD = "inline_keyboard"


class MaxPlatform:
    """One bot token; posts to the channels and the group chats the bot may write to."""

    network = NETWORK

    def __init__(self, client: MaxClient) -> None:
        self.client = client

    # -- posts ---------------------------------------------------------------------

    async def publish(self, post: Post) -> Published:
        """The text (HTML) with its image, or a poll: the text and one button per option."""
        attachments: list[dict[str, Any]] = []
        if post.image is not None:
            attachments.append(await self.client.upload_image(post.image))
        text = post.text
        if post.poll is not None:
            poll = post.poll
            if len(poll.buttons) != len(poll.options) or not poll.options:
                raise BadContent(
                    "MAX: a poll needs one signed button per option (MAX has no native polls)",
                    NETWORK,
                )
            rows = [
                [_button(option, data)]
                for option, data in zip(poll.options, poll.buttons, strict=True)
            ]
            attachments.append(_keyboard(rows))
            if not text.strip():
                text = f"<b>{html.escape(poll.question)}</b>"
        # The post's own hook, else whatever the caller set (a quiz's action).
        hook = post.on_dispatch or dispatch_hook.get()
        with dispatching(hook):
            message = await self._send(post.target, text, attachments)
        published = _published(message)
        if post.poll is not None:  # the votes are counted by message, from the presses
            return Published(published.remote_id, published.url, poll_id=published.remote_id)
        return published

    async def say(self, target: str, text: str, guid: str = "") -> Published:
        """A plain HTML message (standings, results)."""
        return _published(await self._send(target, text, []))

    async def edit(self, target: str, remote_id: str, text: str) -> None:
        """Replace the text of the bot's message (its attachments are kept)."""
        await self.client.call(
            "PUT",
            "/messages",
            params={"message_id": remote_id},
            body={"text": text, "format": "html"},
            sending=False,
        )

    async def delete(self, target: str, remote_id: str) -> None:
        """Delete the bot's message; one already gone is not an error."""
        try:
            await self.client.call(
                "DELETE", "/messages", params={"message_id": remote_id}, sending=False
            )
        except NotFound:
            return

    # -- quizzes and polls ---------------------------------------------------------

    async def ask(self, ask: Ask) -> Published:
        """A question: with a keyboard of answer buttons ("buttons"), or to be answered by
        typing ("text"); MAX has no quiz polls."""
        if ask.style not in ("buttons", "text"):
            raise BadContent(f"MAX: no {ask.style} questions (only buttons or text)", NETWORK)
        attachments: list[dict[str, Any]] = []
        if ask.image is not None:
            attachments.append(await self.client.upload_image(ask.image))
        if ask.style == "buttons":
            attachments.append(_keyboard(_answer_rows(ask)))
        return _published(await self._send(ask.target, ask.text, attachments))

    async def stop_question(self, target: str, remote_id: str, style: str, text: str = "") -> None:
        """Take the buttons off the question (the text and image stay)."""
        if style == "buttons":
            await self._drop_keyboard(remote_id)

    async def stop_poll(self, target: str, remote_id: str, poll_id: str) -> tuple[int, ...] | None:
        """Take the option buttons off; the totals are the presses counted (None here)."""
        await self._drop_keyboard(remote_id)
        return None

    async def _drop_keyboard(self, remote_id: str) -> None:
        try:
            message = await self.client.call("GET", f"/messages/{remote_id}", sending=False)
        except NotFound:
            return  # deleted: no buttons left to press
        body = (message.get("body") or {}) if isinstance(message, dict) else {}
        current = body.get("attachments") or []
        kept = [_resend(a) for a in current if a.get("type") != KEYBOARD]
        if len(kept) == len(current):
            return  # done before (a repeat after a restart)
        await self.client.call(
            "PUT",
            "/messages",
            params={"message_id": remote_id},
            body={"attachments": [a for a in kept if a is not None]},
            sending=False,
        )

    # -- figures -------------------------------------------------------------------

    async def read_figures(
        self, posts: Sequence[PostRef], communities: Sequence[str], polls: Sequence[PollRef] = ()
    ) -> AsyncIterator[FiguresPart]:
        """Views of channel posts (``GET /messages``, up to 100 a request), their comments
        (``GET /messages/{mid}/comments``, a request a page) and members (``GET
        /chats/{id}``); poll votes are presses, counted from updates, not read here."""
        by_chat: dict[str, list[PostRef]] = {}
        for ref in posts:
            by_chat.setdefault(ref.target, []).append(ref)
        for target, refs in by_chat.items():
            for start in range(0, len(refs), MESSAGES_BATCH):
                batch = refs[start : start + MESSAGES_BATCH]
                yield await self._views(target, batch)
        for target in communities:
            try:
                count = await _retrying(lambda t=target: self._members(t))
            except RetryLater:
                yield FiguresPart(unread_communities=frozenset({target}))
            else:
                yield FiguresPart(members={target: count})

    async def _views(self, target: str, batch: list[PostRef]) -> FiguresPart:
        params = {
            "chat_id": target,
            "message_ids": [ref.remote_id for ref in batch],
            "count": len(batch),
        }
        try:
            answer = await _retrying(
                lambda: self.client.call("GET", "/messages", params=params, sending=False)
            )
        except RetryLater:
            return FiguresPart(unread_posts=frozenset(batch))
        found: dict[str, dict] = {}
        for message in answer.get("messages") or []:
            mid = (message.get("body") or {}).get("mid")
            if mid:
                found[str(mid)] = message
        counters = {}
        for ref in batch:
            message = found.get(ref.remote_id)
            if message is None:  # not in the channel any more
                counters[ref] = PostMetrics(ref.remote_id, deleted=True)
                continue
            views = (message.get("stat") or {}).get("views")
            counters[ref] = PostMetrics(
                ref.remote_id,
                views=int(views) if isinstance(views, int) else None,
                comments=await self._comments(ref.remote_id),
            )
        return FiguresPart(counters=counters)

    async def _comments(self, mid: str) -> int | None:
        """How many comments a channel post has; None where MAX does not let the bot count
        them (rights, a failing server, too many pages)."""
        total, before = 0, None
        seen: set[str] = set()
        for _ in range(COMMENTS_PAGES):
            params: dict[str, Any] = {"count": COMMENTS_PAGE}
            if before is not None:
                params["before"] = before
            try:
                page = await _retrying(
                    lambda p=params: self.client.call(
                        "GET", f"/messages/{mid}/comments", params=p, sending=False
                    )
                )
            except (RetryLater, Forbidden, NotFound, BadContent):
                return None
            comments = (page.get("messages") or []) if isinstance(page, dict) else []
            new = [c for c in comments if (c.get("body") or {}).get("mid") not in seen]
            seen.update(str((c.get("body") or {}).get("mid")) for c in comments)
            total += len(new)
            if len(comments) < COMMENTS_PAGE or not new:
                return total
            # Newest first: the next page is what came before the oldest of this one (the
            # same millisecond may come again: counted once by its id).
            before = min(int(c.get("timestamp") or 0) for c in comments) + 1
        return None

    async def _members(self, target: str) -> int | None:
        chat = await self.client.call("GET", f"/chats/{target}", sending=False)
        count = chat.get("participants_count") if isinstance(chat, dict) else None
        return int(count) if isinstance(count, int) else None

    async def audience_size(self, target: str) -> int:
        """Members of a channel or group chat (``participants_count``)."""
        count = await self._members(target)
        if count is None:
            raise NotFound(f"MAX: chat {target} has no participants_count", NETWORK)
        return count

    async def send_notice(
        self, user_id: int, text: str, attachment: Attachment | None = None
    ) -> None:
        """A message in the admin's dialog with the bot (``[library.max] admins``), with an
        image or a file if given; MAX refuses it until the admin has started the dialog."""
        attachments: list[dict[str, Any]] = []
        if attachment is not None:
            kind = "image" if attachment.is_image else "file"
            attachments.append(await self.client.upload(kind, attachment.filename, attachment.data))
        # The notice is plain text; messages go as HTML, so its own "<" must stay text.
        await self._send(None, html.escape(text, quote=False), attachments, user_id=user_id)

    async def close(self) -> None:
        """Close this loop's HTTP connections (the intake of the token opens its own again)."""
        await self.client.aclose()

    # -- sending -------------------------------------------------------------------

    async def _send(
        self,
        target: str | None,
        text: str,
        attachments: list[dict[str, Any]] | None = None,
        user_id: int | None = None,
    ) -> dict:
        """POST /messages to a chat or channel (or, with ``user_id``, the user's dialog); a
        send refused while the upload is being processed is sent again (it was refused, so
        nothing was posted)."""
        where = {"chat_id": target} if user_id is None else {"user_id": user_id}
        body: dict[str, Any] = {"text": text, "format": "html"}
        if attachments:
            body["attachments"] = attachments
        for attempt in range(1, NOT_READY_ATTEMPTS + 1):
            try:
                answer = await self.client.call(
                    "POST", "/messages", params=where, body=body, sending=True
                )
            except RetryLater as exc:
                if getattr(exc, "code", "") != NOT_READY or attempt == NOT_READY_ATTEMPTS:
                    raise
                await asyncio.sleep(exc.delay * attempt)
                continue
            message = answer.get("message") if isinstance(answer, dict) else None
            if not isinstance(message, dict):
                raise PlatformError("MAX POST /messages: no message in the answer", NETWORK)
            return message
        raise RetryLater("MAX POST /messages: the upload is not ready", NETWORK)  # not reached


async def _retrying(call: Any) -> Any:
    """``call()`` again after its RetryLater delay (doubling), within a bound; then the
    RetryLater itself, so the figures are unread rather than waited for."""
    waited = 0.0
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            return await call()
        except RetryLater as exc:
            pause = exc.delay * 2 ** (attempt - 1)
            if attempt == READ_ATTEMPTS or waited + pause > READ_RETRY_SECONDS:
                raise
            waited += pause
            await asyncio.sleep(pause)
    raise RetryLater("MAX: no answer", NETWORK)  # not reached: the loop returns or raises


def _published(message: dict) -> Published:
    """Where a message landed: its id and its link (``url``; none for non-public chats)."""
    mid = (message.get("body") or {}).get("mid")
    if not mid:
        raise PlatformError("MAX POST /messages: the message has no id", NETWORK)
    return Published(str(mid), message.get("url") or "")


def _button(label: str, data: str) -> dict[str, Any]:
    return {"type": "callback", "text": label[: LIMITS.button_label], "payload": data}


def _keyboard(rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {"type": KEYBOARD, "payload": {"buttons": rows}}


def _answer_rows(ask: Ask) -> list[list[dict[str, Any]]]:
    """One button per option, and the button sending several marked options, if any."""
    rows = [
        [_button(f"{n}. {option}", data)]
        for n, (option, data) in enumerate(zip(ask.options, ask.buttons, strict=False), start=1)
    ]
    if ask.send:
        rows.append([_button(ask.send, ask.buttons[-1])])
    return rows


def _resend(attachment: dict) -> dict | None:
    """An attachment of a sent message as a request keeps it (images by their token)."""
    payload = attachment.get("payload") or {}
    kind = attachment.get("type")
    if kind == "image" and payload.get("token"):
        return {"type": "image", "payload": {"token": payload["token"]}}
    if kind in ("video", "audio", "file") and payload.get("token"):
        return {"type": kind, "payload": {"token": payload["token"]}}
    return None


def build(
    library: LibraryConfig, tokens: LibraryTokens, rate_limit: bool, shared: dict
) -> MaxPlatform | None:
    """The adapter of ``library``'s MAX bot, if it has one; libraries sharing a bot share it."""
    settings = library.max
    if settings is None or not tokens.max:
        return None
    key = (tokens.max, settings.api_url)
    if key not in shared:
        client = token_client(tokens.max, settings.api_url, settings.timeout, rate_limit)
        shared[key] = MaxPlatform(client)
    return shared[key]


__all__ = ["MaxPlatform", "build"]
