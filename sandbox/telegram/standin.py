"""TelegramStandIn: the Bot API over HTTP plus a control API for tests and demos.

The Bot API app answers ``/bot<token>/<method>`` with the real envelopes; getUpdates long
polls and ends early when an update arrives. The control app (mounted by sandbox.server
under ``/_sandbox/telegram/``) lets a test or demo act as the audience. The server runs on
its own event loop in another thread, so one lock guards the World and every critical
section is short.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

# Importing these modules registers their Bot API methods.
from sandbox.telegram import audience, callbacks, chats, control, messages, polls  # noqa: F401
from sandbox.telegram.errors import ApiError
from sandbox.telegram.params import Params
from sandbox.telegram.registry import METHODS
from sandbox.telegram.world import DEFAULT_UPDATE_TYPES, World

_log = logging.getLogger(__name__)
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{35}$")
_LONG_POLL_CAP = 50  # seconds; the real server also caps long polls
_CONFLICT_OTHER_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


class TelegramStandIn:
    """A local Telegram Bot API with one bot, a library channel and its discussion group."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time):
        self._seed = seed
        self._clock = clock
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._poll_generation = 0
        self._closing = False
        self._failures: dict[str, list[ApiError]] = {}
        self._world = self._new_world(first_update_id=None)

    def _new_world(self, first_update_id: int | None) -> World:
        world = World(self._seed, self._clock)
        if first_update_id is not None:
            # Update ids never go back, or a client's saved offset would swallow new updates.
            world.next_update_id = max(world.next_update_id, first_update_id)
        world.on_update = self._wake_pollers
        return world

    # -- the interface sandbox.server uses -----------------------------------------

    def make_app(self) -> web.Application:
        """The Bot API at /bot<token>/<method>, files at /file/bot<token>/<path>."""
        self._closing = False  # the runner may serve the same stand-in again after a stop
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        app.router.add_route("*", "/{tail:.*}", _not_found)
        app.on_shutdown.append(self._on_shutdown)
        return app

    def make_control_app(self) -> web.Application:
        """JSON control routes for tests and demos (listed in sandbox.telegram.control)."""
        return control.make_control_app(self)

    def info(self, base_url: str) -> dict[str, Any]:
        """What a client needs to connect, and the demo chats."""
        with self._lock:
            world = self._world
            return {
                "api_url": base_url + "/bot",
                "file_url": base_url + "/file/bot",
                "token": world.token,
                "bot_id": world.bot["id"],
                "bot_username": world.bot["username"],
                "channel_id": world.channel.id,
                "channel_username": world.channel.username,
                "group_id": world.group.id,
                "group_username": world.group.username,
                "owner_id": world.owner["id"],
            }

    def state(self) -> dict[str, Any]:
        """A JSON-ready snapshot of everything the stand-in holds."""
        return self._locked(lambda world: world.snapshot())

    def reset(self) -> None:
        """Forget messages, updates, files and readers; keep the bot, token and chats."""
        with self._lock:
            self._world = self._new_world(first_update_id=self._world.next_update_id)
            self._failures.clear()

    # -- control, as Python methods ---------------------------------------------------

    def set_member_count(self, chat_id: int | str, count: int) -> int:
        """Set a chat's member (subscriber) count."""
        return self._locked(lambda world: audience.set_member_count(world, chat_id, count))

    def add_members(self, chat_id: int | str, count: int) -> int:
        """Add (or with a negative count remove) members; returns the new count."""

        def change(world: World) -> int:
            chat = world.chat(chat_id)
            return audience.set_member_count(world, chat_id, chat.member_count + count)

        return self._locked(change)

    def messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """All messages stored in a chat, oldest first."""
        return self._locked(lambda world: list(world.chat(chat_id).messages.values()))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued for the bot and not yet confirmed."""
        return self._locked(lambda world: world.updates)

    def add_user(
        self,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "ru",
    ) -> dict[str, Any]:
        """Create a reader; names come from the seed when not given."""
        return self._locked(
            lambda world: world.add_user(first_name, last_name, username, language_code)
        )

    def post_as_user(
        self, user_id: int, chat_id: int | str, text: str, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        """A reader writes in the group, or privately to the bot when chat_id == user_id."""
        return self._locked(
            lambda world: audience.post_as_user(world, user_id, chat_id, text, reply_to_message_id)
        )

    def comment_on_post(self, user_id: int, channel_post_id: int, text: str) -> dict[str, Any]:
        """A reader comments on a channel post (a reply in the discussion group)."""
        return self._locked(
            lambda world: audience.comment_on_post(world, user_id, channel_post_id, text)
        )

    def post_as_admin(self, chat_id: int | str, text: str) -> dict[str, Any]:
        """The librarian posts by hand in a chat; the bot gets channel_post or message."""
        return self._locked(lambda world: audience.post_as_admin(world, chat_id, text))

    def vote_as_user(
        self, user_id: int, chat_id: int | str, message_id: int, option_ids: list[int]
    ) -> dict[str, Any]:
        """A reader answers a poll (empty option_ids retracts the vote); returns the poll."""
        return self._locked(
            lambda world: polls.vote(world, user_id, chat_id, message_id, option_ids)
        )

    def press_as_user(
        self, user_id: int, chat_id: int | str, message_id: int, callback_data: str
    ) -> dict[str, Any]:
        """A reader presses an inline button; returns the callback query the bot receives."""
        return self._locked(
            lambda world: callbacks.press_button(world, user_id, chat_id, message_id, callback_data)
        )

    def callback_answers(self) -> list[dict[str, Any]]:
        """Callback queries with the answers the bot gave (what readers saw)."""
        return self._locked(lambda world: list(world.callback_queries.values()))

    def advance_clock(self, seconds: float) -> int:
        """Move the stand-in's clock forward (polls close on time); returns the new now."""

        def advance(world: World) -> int:
            world.clock_offset += seconds
            polls.close_expired(world)
            return world.now()

        return self._locked(advance)

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next calls of a method fail as given (e.g. 429 with retry_after)."""
        with self._lock:
            failure = ApiError(error_code, description, retry_after)
            self._failures.setdefault(method.lower(), []).extend([failure] * times)

    def _locked(self, action: Callable[[World], Any]) -> Any:
        with self._lock:
            return copy.deepcopy(action(self._world))

    # -- Bot API over HTTP ----------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        try:
            self._check_token(request.match_info["token"])
            name = request.match_info["method"].lower()
            params = await Params.from_request(request)
            if name == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self._call(name, params)
        except ApiError as error:
            return _json(error.envelope(), status=error.code)
        except Exception:
            # A stand-in bug must still look like the API's own 500, not an HTML page.
            _log.exception("Bot API stand-in failed on %s", request.path.split("/")[-1])
            return _json(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
            )
        return _json({"ok": True, "result": result})

    def _check_token(self, token: str) -> None:
        if token != self._world.token:
            # The real server tells a malformed token (404) from a wrong one (401).
            raise (
                ApiError(401, "Unauthorized")
                if _TOKEN_SHAPE.match(token)
                else ApiError(404, "Not Found")
            )

    def _call(self, name: str, params: Params) -> Any:
        method = METHODS.get(name)
        if method is None:
            raise chats.unknown_method()
        with self._lock:
            self._raise_injected(name)
            polls.close_expired(self._world)
            return copy.deepcopy(method(self._world, params))

    def _raise_injected(self, name: str) -> None:
        queued = self._failures.get(name)
        if queued:
            raise queued.pop(0)

    async def _get_updates(self, p: Params) -> list[dict[str, Any]]:
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = min(max(p.integer("timeout", 0) or 0, 0), _LONG_POLL_CAP)
        allowed = p.json("allowed_updates")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with self._lock:
            self._raise_injected("getupdates")
            if self._world.webhook_url:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            if isinstance(allowed, list):
                self._world.allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
            self._world.confirm_updates(p.integer("offset"))
            self._poll_generation += 1
            generation = self._poll_generation
            self._wake_pollers()  # an older long poll now ends with 409, as on Telegram
        while True:
            event = asyncio.Event()
            waiter = (loop, event)
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(409, _CONFLICT_OTHER_POLL)
                polls.close_expired(self._world)
                updates = self._world.pending_updates(limit)
                if updates or self._closing or loop.time() >= deadline:
                    return updates
                self._waiters.add(waiter)
            try:
                await asyncio.wait_for(event.wait(), timeout=self._next_wake(loop, deadline))
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._waiters.discard(waiter)

    def _next_wake(self, loop: asyncio.AbstractEventLoop, deadline: float) -> float:
        # Wake in time to report a poll that closes by itself during the long poll.
        remaining = deadline - loop.time()
        with self._lock:
            closes_in = polls.seconds_to_next_close(self._world)
        return max(0.0, min(remaining, closes_in + 0.05 if closes_in is not None else remaining))

    def _wake_pollers(self) -> None:
        # Called with the lock held, possibly from a test's thread.
        for loop, event in list(self._waiters):
            loop.call_soon_threadsafe(event.set)

    async def _on_shutdown(self, app: web.Application) -> None:
        with self._lock:
            self._closing = True
            self._wake_pollers()

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._world.token:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        with self._lock:
            stored = self._world.files.by_path(request.match_info["path"])
            data = stored.data if stored else None
        if data is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(
            body=data,
            content_type=stored.mime_type
            if stored and stored.mime_type
            else "application/octet-stream",
        )


async def _not_found(request: web.Request) -> web.Response:
    return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
