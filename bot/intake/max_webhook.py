"""bibliobot's own HTTP server for MAX webhooks, behind the library's HTTPS reverse proxy.

MAX posts each update to the URL a bot subscribed (HTTPS on port 443 with a trusted
certificate, Минцифры's root included): the library's reverse proxy takes it there and
passes it to this server, listening at ``[webhook] listen`` (127.0.0.1:8088 by default).
Each library has its own endpoint, ``path_prefix`` + its id (``/max/central``), and its
own secret, which MAX sends back in ``X-Max-Bot-Api-Secret``: a request without the right
one gets 401 and nothing is recorded. The update goes to the reader of the library's token
(``MaxIntake.deliver``), stored before the 200: when the database refuses it the answer is
503, and MAX delivers it again (it retries for up to 8 hours). The notes answering button
presses are sent after the 200, so MAX is answered fast.

``max_readers`` builds the MAX readers (one per token) and, when a library takes webhooks,
this server; the readers subscribe at start (``updates = "webhook"``) or long poll
(``updates = "poll"``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot import logredact
from bot.intake.max import MaxIntake
from core.config import WebhookConfig, library_tokens

if TYPE_CHECKING:
    from bot.intake import Wiring

SECRET_HEADER = "X-Max-Bot-Api-Secret"
MAX_BODY = 1024 * 1024  # bytes: an update is a few kilobytes

log = logging.getLogger(__name__)


class WebhookServer:
    """One endpoint per library, each handing its updates to the reader of its token."""

    def __init__(self, settings: WebhookConfig) -> None:
        self.settings = settings
        self._endpoints: dict[str, tuple[MaxIntake, str | None]] = {}  # path -> reader, secret
        self._tasks: set[asyncio.Task] = set()
        self.port: int | None = None  # the port bound (``listen`` may ask for 0 in tests)

    def add(self, library_id: str, reader: MaxIntake, secret: str | None) -> None:
        """Serve ``library_id``'s endpoint, checked against ``secret``."""
        logredact.protect(secret, minimum=logredact.WEBHOOK_SECRET_MIN)  # never in a log line
        self._endpoints[self.settings.path(library_id)] = (reader, secret)

    @property
    def paths(self) -> list[str]:
        """The endpoints served, one per library taking webhooks."""
        return list(self._endpoints)

    def make_app(self) -> web.Application:
        """The aiohttp application (tests may serve it themselves)."""
        app = web.Application(client_max_size=MAX_BODY)
        for path in self._endpoints:
            app.router.add_post(path, self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        reader, secret = self._endpoints[request.path]
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("MAX webhook %s: a request without the right secret refused", request.path)
            return web.Response(status=401, text="unauthorized")
        try:
            update = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            # Delivered again, it would not parse either: taken, skipped and logged.
            log.warning("MAX webhook %s: a request that is not JSON skipped", request.path)
            return web.Response(text="ok")
        if not isinstance(update, dict):
            log.warning("MAX webhook %s: an update that is not an object skipped", request.path)
            return web.Response(text="ok")
        if not reader.deliver(update):
            return web.Response(status=503, text="not stored yet")
        reader.serve_admins()
        task = asyncio.ensure_future(reader.answer_presses())  # after the 200
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="ok")

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; a port that cannot be bound is logged, not raised."""
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.host, self.settings.port)
            try:
                await site.start()
            except OSError as exc:
                log.error("MAX webhooks: cannot listen at %s: %s", self.settings.listen, exc)
                return
            addresses = runner.addresses
            self.port = int(addresses[0][1]) if addresses else self.settings.port
            log.info("MAX webhooks: listening at %s:%s", self.settings.host, self.port)
            await stop.wait()
        finally:
            await runner.cleanup()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)


def max_readers(w: Wiring) -> list[Any]:
    """One MAX reader per bot token, and the webhook server if a library takes webhooks."""
    from bot.platforms.max import MaxPlatform

    groups: dict[int, tuple[MaxPlatform, list]] = {}
    for library in w.config.libraries:
        platform = w.platforms.get((library.id, "max"))
        if isinstance(platform, MaxPlatform) and library.max is not None:
            groups.setdefault(id(platform), (platform, []))[1].append(library)
    readers: list[Any] = []
    server = WebhookServer(w.config.webhook)
    for platform, libraries in groups.values():
        hooked = [lib for lib in libraries if lib.max.updates == "webhook"]
        secrets = {lib.id: library_tokens(lib, w.env).max_webhook_secret for lib in hooked}
        url = hooked[0].max.webhook_url if hooked else None
        if len({lib.max.webhook_url for lib in hooked}) > 1:
            log.warning(
                "MAX: libraries %s share a bot but name different webhook URLs; MAX posts "
                "to %s only (one subscription per bot)",
                ", ".join(lib.id for lib in hooked),
                url,
            )
        reader = MaxIntake(
            w.db,
            platform.client,
            libraries,
            clock=w.clock,
            wait=w.wait,
            quiz=w.quiz,
            language=w.config.language,
            webhook_url=url,
            webhook_secret=secrets[hooked[0].id] if hooked else None,
            alerts=w.alerts,
            admin=w.admin,
        )
        readers.append(reader)
        for library in hooked:
            server.add(library.id, reader, secrets[library.id])
    if server.paths:
        readers.append(server)
    return readers
