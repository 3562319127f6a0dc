"""MaxStandIn: the MAX Bot API over HTTP at the real paths, plus a control API for tests.

The API app answers the paths of ``https://platform-api2.max.ru`` (``GET /me``,
``POST /messages?chat_id=...``...) with MAX's JSON objects and errors. Order of checks on
every call: the path (404, or 405 for a known path with another verb), the token (the raw
value of ``Authorization``, no ``Bearer``; a token in the query string is not read, as MAX
no longer accepts it: 401 ``verify.token``), injected faults (``sandbox.faults`` rules named
by operationId: ``sendMessage:5xx:0.1`` here, ``max/sendMessage:5xx:0.1`` through
sandbox.server; ``5xx`` answers 503), the per-token rate limit (429), queued failures
(``fail_next``), then the method under the lock. ``GET /chats``, withdrawn by MAX in June 2026,
answers 404 unless ``legacy_chats`` is on. ``GET /updates`` long polls
and ends early when an update arrives; while a webhook subscription exists updates go to it
instead and ``GET /updates`` answers 405. Upload URLs (``POST /upload/<id>``, returned by
``POST /uploads``) take the file as multipart field ``data``, like MAX's upload servers.
A file a reader sends (``write_file``) is downloaded from its attachment's link
(``GET /files/<id>``): unguessable, without the bot's token, as MAX's signed file links are.

The server runs on its own event loop in another thread (sandbox.server), so one lock guards
the World and every critical section is short.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox import max_spec
from sandbox.faults import FaultInjector, FaultRule, parse_rules
from sandbox.max import api, control
from sandbox.max.errors import MaxError, bad_request, not_found
from sandbox.max.limits import RateLimit
from sandbox.max.webhooks import Deliveries
from sandbox.max.world import ALL_PERMISSIONS, Member, World

_log = logging.getLogger(__name__)
_LONG_POLL_CAP = 90  # seconds: the schema's maximum timeout for GET /updates


class MaxStandIn:
    """A local MAX Bot API with one bot, a library channel and a group chat."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time):
        self._seed = seed
        self._base_clock = clock
        self._offset = 0.0
        self._frozen: float | None = None
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._failures: dict[str, list[MaxError]] = {}
        self._faults = FaultInjector(seed=seed)
        self._limit = RateLimit()
        self._stopping: asyncio.Event | None = None
        self.long_poll_cap = _LONG_POLL_CAP
        # GET /chats is withdrawn since June 2026 (dev.max.ru changelog); True serves it anyway.
        self.legacy_chats = False
        self.deliveries = Deliveries(self._lock, self.now)
        self.deliveries.on_give_up = self._gave_up
        self._world = self._new_world()

    def now(self) -> float:
        """The stand-in's clock (seconds since the epoch)."""
        if self._frozen is not None:
            return self._frozen + self._offset
        return self._base_clock() + self._offset

    def _new_world(self) -> World:
        world = World(self._seed, self.now)
        world.on_update = self._dispatch
        return world

    # -- the interface sandbox.server uses -------------------------------------------

    def make_app(self) -> web.Application:
        """The Bot API at MAX's paths, and the upload URLs."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/upload/{upload_id}", self._handle_upload)
        app.router.add_get("/files/{file_id}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_api)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    def make_control_app(self) -> web.Application:
        """JSON control routes for tests and demos (listed in sandbox.max.control)."""
        return control.make_control_app(self)

    def info(self, base_url: str) -> dict[str, Any]:
        """What a client needs to connect, and the demo chats."""
        with self._lock:
            world = self._world
            return {
                "api_url": base_url,
                "token": world.token,
                "bot_id": world.bot["user_id"],
                "bot_username": world.bot["username"],
                "channel_id": world.channel.chat_id,
                "chat_id": world.group.chat_id,
                "owner_id": world.owner["user_id"],
            }

    def state(self) -> dict[str, Any]:
        """A JSON-ready snapshot of everything the stand-in holds, limits and faults too."""
        with self._lock:
            snapshot = copy.deepcopy(self._world.snapshot())
            snapshot["rate_limit"] = self._limit.settings()
            snapshot["webhook_deliveries"] = list(self.deliveries.log)
            snapshot["webhook_pending"] = self.deliveries.pending()
        return {**snapshot, "faults": self.faults()}

    def reset(self) -> None:
        """Forget messages, updates, readers, uploads, subscriptions, counters and queued
        failures; keep the bot, token, chats' ids, limits and fault rules."""
        with self._lock:
            old = self._world
            for url in list(self.deliveries.boxes):
                self.deliveries.forget(url)
            self.deliveries.log.clear()
            self._world = self._new_world()
            # The marker never goes back, or a client's saved marker would swallow updates.
            self._world.next_marker = self._world.committed = max(
                old.next_marker, self._world.next_marker
            )
            self._failures.clear()
            self._limit.clear()
        self._faults.clear()

    def operation(self, request: web.Request) -> str:
        """The operationId a request calls (for sandbox.server's arrival log)."""
        if request.path.startswith("/upload/"):
            return "upload"
        if request.path.startswith("/files/"):
            return "download"
        name, _, _ = api.match(request.method, request.path)
        return name or request.path

    # -- the API over HTTP ------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        fault: FaultRule | None = None
        try:
            name, path, known = api.match(request.method, request.path)
            if name is None:
                if known:
                    raise MaxError(
                        "method.not.allowed",
                        f"Method {request.method} is not allowed for {request.path}",
                    )
                raise not_found(f"Path {request.path} not found")
            token = request.headers.get("Authorization")
            if not token or token != self._world.token:
                raise MaxError("verify.token")
            if name == "getChats" and not self.legacy_chats:
                raise not_found("GET /chats is no longer supported (since June 2026)")
            fault = self._faults.pick(name)
            if fault and fault.kind == "5xx":
                raise MaxError("service.unavailable", "Service temporarily unavailable")
            if fault and fault.kind == "429":
                raise MaxError("too.many.requests")
            if fault and fault.kind == "reset":
                return _drop(request)
            with self._lock:
                if self._limit.over(token, self.now()):
                    raise MaxError("too.many.requests")
                queued = self._failures.get(name)
                if queued:
                    raise queued.pop(0)
            body = await _body(request)
            query = api.Query(
                name, request.query, {k: request.query.getall(k) for k in request.query}
            )
            if name == "getUpdates":
                result = await self._get_updates(query)
            else:
                with self._lock:
                    result = copy.deepcopy(api.HANDLERS[name](self._world, query, path, body))
                    if name == "unsubscribe":
                        self._forget_outboxes()
                if name == "getUploadUrl":
                    result["url"] = f"{request.scheme}://{request.host}{result['url']}"
            response = _json(result)
        except MaxError as error:
            response = _json(error.body(), status=error.status)
        except Exception:
            _log.exception("MAX stand-in failed on %s %s", request.method, request.path)
            response = _json({"code": "internal.error", "message": "Internal error"}, status=500)
        if fault and fault.kind == "ambiguous":
            return _drop(request)
        if fault and fault.kind == "slow":
            await self._hold(fault.delay)
        return response

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        fault = self._faults.pick("upload")
        if fault and fault.kind == "reset":
            return _drop(request)
        if fault and fault.kind in ("5xx", "429"):
            error = MaxError("service.unavailable" if fault.kind == "5xx" else "too.many.requests")
            return _json(error.body(), status=error.status)
        with self._lock:
            upload = self._world.uploads.get(request.match_info["upload_id"])
        if upload is None:
            return _json(not_found("Upload not found").body(), status=404)
        data, filename = b"", ""
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "name", None) == "data":
                    filename = part.filename or ""  # type: ignore[union-attr]
                    data = await part.read()  # type: ignore[union-attr]
        else:
            data = await request.read()
        if not data:
            return _json(bad_request("No file in field 'data'").body(), status=400)
        with self._lock:
            stored = self._world.store(upload, data, filename)
            photo_key = f"{stored.photo_id}"
        if fault and fault.kind == "ambiguous":
            return _drop(request)
        if upload.kind == "image":
            return _json({"photos": {photo_key: {"token": stored.token}}})
        if upload.kind == "file":
            return _json({"file_id": stored.photo_id or 0, "token": stored.token})
        # Video and audio: the upload server answers XML (Go client stabs/upload.video.response.xml).
        return web.Response(text="<retval>1</retval>", content_type="application/xml")

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A file a reader sent, by its link (no token needed: the link is the key)."""
        fault = self._faults.pick("download")
        if fault and fault.kind == "reset":
            return _drop(request)
        if fault and fault.kind in ("5xx", "429"):
            return web.Response(status=503 if fault.kind == "5xx" else 429)
        with self._lock:
            data = self._world.files.get(request.match_info["file_id"])
        if data is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _get_updates(self, q: api.Query) -> dict[str, Any]:
        limit = q.integer("limit") or 100
        timeout = min(q.integer("timeout") or 0, self.long_poll_cap)
        marker = q.integer("marker")
        wanted = q.items("types")
        types = set(wanted) if wanted else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or 0)
        first = True
        while True:
            event = asyncio.Event()
            waiter = (loop, event)
            with self._lock:
                if self._world.subscriptions:
                    raise MaxError(
                        "method.not.allowed",
                        "Long polling is not available while the bot has webhook subscriptions",
                    )
                updates, next_marker = self._world.take_updates(
                    marker if first else None, limit, types
                )
                first = False
                stopping = self._stopping is not None and self._stopping.is_set()
                if updates or stopping or loop.time() >= deadline:
                    return {"updates": copy.deepcopy(updates), "marker": next_marker}
                self._waiters.add(waiter)
            try:
                await asyncio.wait_for(event.wait(), timeout=max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._waiters.discard(waiter)

    def _dispatch(self, update: dict[str, Any]) -> None:
        """Where a new update goes (called with the lock held): webhooks, else the poll queue."""
        world = self._world
        if world.subscriptions:
            for subscription in world.subscriptions:
                types = subscription.get("update_types")
                if not types or update["update_type"] in types:
                    self.deliveries.push(subscription, copy.deepcopy(update))
            return
        world.enqueue(update)
        for loop, event in list(self._waiters):
            loop.call_soon_threadsafe(event.set)

    def _forget_outboxes(self) -> None:
        # With the lock held: undelivered updates of a removed subscription are dropped.
        urls = {s["url"] for s in self._world.subscriptions}
        for url in [u for u in self.deliveries.boxes if u not in urls]:
            self.deliveries.forget(url)

    def _gave_up(self, url: str) -> None:
        # Called with the lock held: MAX unsubscribes after 8 hours without a 200.
        self._world.subscriptions = [s for s in self._world.subscriptions if s["url"] != url]

    async def _hold(self, seconds: float) -> None:
        if self._stopping is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _on_startup(self, app: web.Application) -> None:
        self._stopping = asyncio.Event()
        self.deliveries.start(asyncio.get_running_loop())

    async def _on_shutdown(self, app: web.Application) -> None:
        if self._stopping is not None:
            self._stopping.set()
        with self._lock:
            for loop, event in list(self._waiters):
                loop.call_soon_threadsafe(event.set)
        await self.deliveries.stop()

    # -- control: the audience, the librarian, the platform ----------------------------

    def _locked(self, action: Callable[[World], Any]) -> Any:
        with self._lock:
            return copy.deepcopy(action(self._world))

    def add_user(self, **names: Any) -> dict[str, Any]:
        """A new reader (seeded names unless given)."""
        return self._locked(lambda world: world.add_user(**names))

    def add_users(self, count: int) -> list[dict[str, Any]]:
        return self._locked(lambda world: [world.add_user() for _ in range(count)])

    def create_chat(
        self, title: str, kind: str = "chat", public: bool = False, bot: str | None = None
    ) -> dict[str, Any]:
        """A new channel or group chat; ``bot``: "admin", "member" or None (not in it)."""
        return self._locked(lambda world: world.chat_json(world.new_chat(kind, title, public, bot)))

    def join(self, user_id: int, chat_id: int, inviter_id: int | None = None) -> dict[str, Any]:
        """A reader joins (or is added to) a chat or channel: user_added when the bot reads all."""

        def act(world: World) -> dict[str, Any]:
            chat, user = world.chat(chat_id), world.user(user_id)
            chat.members[user_id] = Member(user_id, world.now_ms())
            if world.bot_reads_all(chat):
                world.emit(
                    "user_added",
                    chat_id=chat_id,
                    user=world.user_json(user["user_id"]),
                    inviter_id=inviter_id,
                    is_channel=chat.type == "channel",
                )
            return world.chat_json(chat)

        return self._locked(act)

    def leave(self, user_id: int, chat_id: int, admin_id: int | None = None) -> dict[str, Any]:
        def act(world: World) -> dict[str, Any]:
            chat = world.chat(chat_id)
            if chat.members.pop(user_id, None) is None:
                raise bad_request(f"User {user_id} is not in chat {chat_id}")
            if world.bot_reads_all(chat):
                world.emit(
                    "user_removed",
                    chat_id=chat_id,
                    user=world.user_json(user_id),
                    admin_id=admin_id,
                    is_channel=chat.type == "channel",
                )
            return world.chat_json(chat)

        return self._locked(act)

    def set_member_count(self, chat_id: int, count: int) -> int:
        """Set a chat's participants_count (members nobody lists fill the gap)."""

        def act(world: World) -> int:
            chat = world.chat(chat_id)
            chat.extra_members = max(0, count - len(chat.members))
            return world.participants_count(chat)

        return self._locked(act)

    def start_bot(self, user_id: int, payload: str | None = None) -> dict[str, Any]:
        """A reader presses Start (or a deep link ``?start=payload``): bot_started."""

        def act(world: World) -> dict[str, Any]:
            user = world.user(user_id)
            chat = world.dialog_with(user_id, create=True)
            assert chat is not None
            chat.status = "active"
            if payload is not None and len(payload) > max_spec.limit("deep_link_payload_max"):
                sent = None  # schema: longer deep-link payloads are not passed to the bot
            else:
                sent = payload
            world.emit(
                "bot_started",
                chat_id=chat.chat_id,
                user=world.user_json(user["user_id"]),
                payload=sent,
                user_locale=world.locales.get(user_id, "ru"),
            )
            return world.chat_json(chat)

        return self._locked(act)

    def stop_bot(self, user_id: int) -> dict[str, Any]:
        def act(world: World) -> dict[str, Any]:
            chat = world.dialog_with(user_id)
            if chat is None:
                raise bad_request(f"User {user_id} has no dialog with the bot")
            chat.status = "suspended"
            world.emit(
                "bot_stopped",
                chat_id=chat.chat_id,
                user=world.user_json(user_id),
                user_locale=world.locales.get(user_id, "ru"),
            )
            return world.chat_json(chat)

        return self._locked(act)

    def write(
        self, user_id: int, chat_id: int | None, text: str, reply_to: str | None = None
    ) -> dict[str, Any]:
        """A reader writes in a chat (``chat_id`` None: to the bot in their dialog)."""
        return self._locked(lambda world: self._write(world, user_id, chat_id, text, reply_to))

    def write_file(
        self,
        user_id: int,
        chat_id: int | None,
        filename: str,
        data: bytes,
        base_url: str,
        text: str = "",
    ) -> dict[str, Any]:
        """A reader sends a file of their own (``chat_id`` None: in their dialog with the bot),
        with ``text`` if given: a ``file`` attachment (FileAttachment) whose ``url``, under
        ``base_url`` (the stand-in's address), serves the bytes."""
        if not data:
            raise ValueError("a file needs some bytes")

        def act(world: World) -> dict[str, Any]:
            file_id = world.random_token(32)
            attachment = {
                "type": "file",
                "payload": {
                    "url": f"{base_url.rstrip('/')}/files/{file_id}",
                    "token": world.random_token(),
                },
                "filename": filename,
                "size": len(data),
            }
            out = self._write(world, user_id, chat_id, text, None, [attachment])
            world.files[file_id] = data
            return out

        return self._locked(act)

    def _write(
        self,
        world: World,
        user_id: int,
        chat_id: int | None,
        text: str,
        reply_to: str | None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A reader's message (with the lock held)."""
        world.user(user_id)
        chat = world.dialog_with(user_id, create=True) if chat_id is None else world.chat(chat_id)
        assert chat is not None
        if user_id not in chat.members:
            raise bad_request(f"User {user_id} is not in chat {chat.chat_id}")
        if chat.type == "channel":
            raise bad_request("Readers cannot post to a channel; use comment")
        link = api._link(world, chat, {"type": "reply", "mid": reply_to}) if reply_to else None
        message = world.add_message(chat, user_id, text, link=link, attachments=attachments)
        out = world.message_json(chat, message)
        if world.bot_reads_all(chat):
            extra = (
                {"user_locale": world.locales.get(user_id, "ru")} if chat.type == "dialog" else {}
            )
            world.emit("message_created", message=out, **extra)
        return out

    def post_as_admin(self, chat_id: int, text: str) -> dict[str, Any]:
        """The librarian posts by hand (in a channel on behalf of the channel)."""

        def act(world: World) -> dict[str, Any]:
            chat = world.chat(chat_id)
            sender = None if chat.type == "channel" else world.owner["user_id"]
            message = world.add_message(chat, sender, text)
            out = world.message_json(chat, message)
            if world.bot_reads_all(chat):
                world.emit("message_created", message=out)
            return out

        return self._locked(act)

    def edit_as_user(self, user_id: int, mid: str, text: str) -> dict[str, Any]:
        def act(world: World) -> dict[str, Any]:
            chat, message = world.find_message(mid)
            if message.sender_id != user_id:
                raise bad_request("Only the author edits a message")
            message.text, message.markup, message.edited_at = text, None, world.now_ms()
            out = world.message_json(chat, message)
            if world.bot_reads_all(chat):
                world.emit("message_edited", message=out)
            return out

        return self._locked(act)

    def delete_as_user(self, user_id: int, mid: str) -> dict[str, Any]:
        def act(world: World) -> dict[str, Any]:
            chat, message = world.find_message(mid)
            if message.sender_id != user_id and user_id != chat.owner_id:
                raise bad_request("Only the author or the owner deletes a message")
            del chat.messages[mid]
            if world.bot_reads_all(chat):
                world.emit("message_removed", message_id=mid, chat_id=chat.chat_id, user_id=user_id)
            return {"deleted": mid}

        return self._locked(act)

    def press(self, user_id: int, mid: str, payload: str) -> dict[str, Any]:
        """A reader presses the callback button with ``payload`` under message ``mid``."""

        def act(world: World) -> dict[str, Any]:
            chat, message = world.find_message(mid)
            world.user(user_id)
            if user_id not in chat.members:
                raise bad_request(f"User {user_id} is not in chat {chat.chat_id}")
            buttons = [
                b
                for a in message.attachments or []
                if a["type"] == "inline_keyboard"
                for row in a["payload"]["buttons"]
                for b in row
            ]
            if not any(b["type"] == "callback" and b.get("payload") == payload for b in buttons):
                raise bad_request(f"No callback button with payload {payload!r} under {mid}")
            callback_id = world.random_token(96)
            now = world.now_ms()
            world.callbacks[callback_id] = {
                "user_id": user_id,
                "mid": mid,
                "chat_id": chat.chat_id,
                "payload": payload,
                "at": now,
                "answers": [],
            }
            update = world.emit(
                "message_callback",
                callback={
                    "timestamp": now,
                    "callback_id": callback_id,
                    "payload": payload,
                    "user": world.user_json(user_id),
                },
                message=world.message_json(chat, message),
                user_locale=world.locales.get(user_id, "ru"),
            )
            return {"callback_id": callback_id, "update": update}

        return self._locked(act)

    def comment(self, user_id: int, post_mid: str, text: str) -> dict[str, Any]:
        """A reader comments on a channel post: comment_created when the bot reads all."""

        def act(world: World) -> dict[str, Any]:
            chat, post = world.find_message(post_mid)
            world.user(user_id)
            if chat.type != "channel":
                raise bad_request("Comments exist only under channel posts")
            comment = world.add_message(chat, user_id, text, post_mid=post_mid)
            del chat.messages[comment.mid]
            post.comments[comment.mid] = comment
            out = world.comment_json(chat, comment)
            if world.bot_reads_all(chat):
                world.emit("comment_created", message=out)
            return out

        return self._locked(act)

    def set_views(self, mid: str, views: int) -> int:
        """Set a channel post's view count (MessageStat.views)."""

        def act(world: World) -> int:
            _, message = world.find_message(mid)
            message.views = int(views)
            return message.views

        return self._locked(act)

    def add_bot(
        self,
        chat_id: int,
        admin: bool = True,
        by_user_id: int | None = None,
        permissions: list[str] | None = None,
    ) -> dict[str, Any]:
        """The librarian adds the bot (or changes its rights): bot_added."""

        def act(world: World) -> dict[str, Any]:
            chat = world.chat(chat_id)
            if permissions is not None and any(p not in ALL_PERMISSIONS for p in permissions):
                raise bad_request(f"Unknown permissions: {permissions}")
            was_in = world.bot_member(chat) is not None
            world._seat_bot(chat, admin, permissions)
            if not was_in:
                # Since November 2026 bot_added carries no ``user`` (dev.max.ru changelog).
                world.emit("bot_added", chat_id=chat_id, is_channel=chat.type == "channel")
            else:
                member = world.bot_member(chat)
                assert member is not None
                world.emit(
                    "bot_admin_permissions_changed",
                    chat_id=chat_id,
                    user_id=by_user_id or world.owner["user_id"],
                    bot_id=world.bot["user_id"],
                    is_channel=chat.type == "channel",
                    is_admin=member.is_admin,
                    permissions=list(member.permissions)
                    if member.is_admin and member.permissions
                    else None,
                )
            return world.chat_json(chat)

        return self._locked(act)

    def remove_bot(self, chat_id: int, by_user_id: int | None = None) -> dict[str, Any]:
        def act(world: World) -> dict[str, Any]:
            chat = world.chat(chat_id)
            if world.bot_member(chat) is None:
                raise bad_request(f"The bot is not in chat {chat_id}")
            chat.members.pop(world.bot["user_id"], None)
            chat.status = "removed"
            world.emit(
                "bot_removed",
                chat_id=chat_id,
                user=world.user_json(by_user_id or world.owner["user_id"]),
                is_channel=chat.type == "channel",
            )
            return world.chat_json(chat)

        return self._locked(act)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """A chat's messages, oldest first, with views."""
        return self._locked(
            lambda world: [
                world.message_json(world.chat(chat_id), m, stat=True)
                for m in world.chat(chat_id).messages.values()
            ]
        )

    def pending_updates(self) -> list[dict[str, Any]]:
        return self._locked(lambda world: [u for n, u in world.queue if n >= world.committed])

    def callback_answers(self) -> list[dict[str, Any]]:
        return self._locked(
            lambda world: [dict(c, callback_id=k) for k, c in world.callbacks.items()]
        )

    def serve_legacy_chats(self, on: bool = True) -> bool:
        """Answer GET /chats as MAX did before June 2026 (withdrawn since; off by default)."""
        self.legacy_chats = bool(on)
        return self.legacy_chats

    def allow_insecure_webhooks(self, allowed: bool = True) -> bool:
        """Accept http://127.0.0.1 webhook URLs (tests have no trusted certificate). MAX
        itself refuses plain HTTP since 25 May 2026."""
        with self._lock:
            self._world.allow_insecure_webhooks = bool(allowed)
            return self._world.allow_insecure_webhooks

    def set_webhook_retry(self, delay: float) -> float:
        """Seconds before the first webhook retry (doubling, at most 30)."""
        with self._lock:
            self.deliveries.retry_delay = max(0.0, float(delay))
            return self.deliveries.retry_delay

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.deliveries.log)

    def set_upload_delay(self, seconds: float) -> float:
        """Seconds after an upload before video, audio or file attachments are accepted
        (before that, sendMessage answers 400 attachment.not.ready)."""
        with self._lock:
            self._world.upload_delay = max(0.0, float(seconds))
            return self._world.upload_delay

    def set_rate_limit(self, enabled: bool = True, per_second: int = 30) -> dict[str, Any]:
        with self._lock:
            return self._limit.configure(enabled, per_second)

    def advance_clock(self, seconds: float) -> float:
        """Move the stand-in's clock forward; returns now."""
        with self._lock:
            self._offset += float(seconds)
        return self.now()

    def freeze_clock(self, frozen: bool = True) -> float:
        """Stop (or restart) the clock, so only advance_clock moves it; returns now."""
        with self._lock:
            if frozen and self._frozen is None:
                self._frozen = self._base_clock()
            elif not frozen and self._frozen is not None:
                self._offset += self._frozen - self._base_clock()
                self._frozen = None
        return self.now()

    def fail_next(
        self,
        method: str,
        code: str,
        message: str | None = None,
        status: int | None = None,
        times: int = 1,
    ) -> int:
        """The next ``times`` calls of operationId ``method`` answer this MAX error."""
        max_spec.method(method)
        error = MaxError(code, message, status)
        with self._lock:
            self._failures.setdefault(method, []).extend([error] * times)
            return len(self._failures[method])

    def set_faults(self, rules: list[FaultRule] | str, seed: int | None = None) -> dict[str, Any]:
        """Fault rules by operationId (or ``upload``, or ``*``); a string in
        sandbox.faults syntax is parsed."""
        parsed = parse_rules(rules) if isinstance(rules, str) else list(rules)
        self._faults.set_rules(parsed, seed=seed)
        return self.faults()

    def faults(self) -> dict[str, Any]:
        return self._faults.state()


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer: the client sees it reset."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


async def _body(request: web.Request) -> Any:
    if request.method not in ("POST", "PUT", "PATCH") or not request.can_read_body:
        return None
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("Request body is not valid JSON") from None


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
