"""A thin MAX Bot API client on httpx: one per token in the process, paced by the token's
own limiter; and what a MAX answer or httpx failure means in the project's vocabulary.

Not the official ``maxapi`` package: it is a dispatcher framework that owns the event loop,
and exactly-once posting needs, per request, to tell "never left" (sent again safely) from
"answer lost" (the post may exist), to note a send as leaving (``dispatch_hook``) and to
share one limiter between the adapter and the update intake of a token.

Translation (``api_error``, ``transport_error``): MAX keys are the HTTP status, never the
error's ``code`` string (official sources name few of them), except ``attachment.not.ready``.
A 5xx carrying MAX's own error object (``{"code", "message"}``) is MAX saying it did not
carry the call out: retried. A 5xx without it comes from a proxy that may have passed the
request on; it, a read timeout and a connection dropped after the request left leave a send
ambiguous. A request that never left (no connection, a full pool, the send not noted as
leaving) is retried. MAX documents no ``Retry-After`` for 429: we wait ``RATE_LIMIT_DELAY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bot import logredact
from bot.platforms.ratelimit import POST, READ, SlidingWindowLimiter
from core.errors import (
    AmbiguousOutcome,
    AuthFailed,
    BadContent,
    Forbidden,
    NotFound,
    PlatformError,
    RetryLater,
)
from core.networks import network
from core.platform import dispatch_hook

NETWORK = "max"
RATE_LIMIT_DELAY = 1.0  # seconds after a 429: MAX's official sources give no figure
NOT_READY_DELAY = 0.5  # an upload still being processed (400 attachment.not.ready)
SERVER_DELAY = 2.0  # a 5xx MAX answered itself, or a request that never left
NOT_READY = "attachment.not.ready"
# httpx errors raised before the request left this machine: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class NotDispatched(Exception):
    """The send could not be noted as leaving (``dispatch_hook``), so it did not leave."""


class MaxClient:
    """Calls of one token: the raw token in ``Authorization``, paced by one limiter.

    The HTTP pool belongs to the event loop that opened it; a call on another loop (a
    second ``asyncio.run`` in one process) opens a new one.
    """

    def __init__(
        self,
        token: str,
        api_url: str,
        timeout: float = 10.0,
        rate_limit: bool = True,
        httpx_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        logredact.protect(token)
        # The transport seam: tests hook every request there.
        self.httpx_kwargs = dict(httpx_kwargs or {})
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        rate = network(NETWORK).limits.requests_per_second
        self.limiter = SlidingWindowLimiter(rate) if rate_limit else None
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop or self._http.is_closed:
            self._http = httpx.AsyncClient(
                base_url=self.api_url,
                headers={"Authorization": self.token},
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=32),
                **self.httpx_kwargs,
            )
            self._loop = loop
        return self._http

    async def call(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        sending: bool,
        timeout: float | None = None,
    ) -> Any:
        """One API call; its decoded JSON answer, or the project's error.

        Every call waits for the token's limiter. ``sending``: the call may change
        something on MAX (a message), so it goes ahead of reads in the limiter, the
        dispatch hook is called just before it leaves, and an answer lost after it left is
        an ``AmbiguousOutcome``. ``timeout``: the read timeout, if longer than the
        client's (a long poll).
        """
        what = f"MAX {verb} {path}"
        request_timeout = httpx.Timeout(self.timeout, read=timeout) if timeout else None
        http = self._client()
        slot = await self._acquire(POST if sending else READ)
        try:
            if sending:
                _note_dispatch()
            response = await http.request(
                verb,
                path,
                params=_query(params),
                json=dict(body) if body is not None else None,
                timeout=request_timeout or httpx.USE_CLIENT_DEFAULT,
            )
        except NotDispatched as exc:
            raise RetryLater(f"{what}: {exc}", NETWORK, delay=SERVER_DELAY) from exc
        except httpx.HTTPError as exc:
            raise transport_error(exc, what, sending) from exc
        finally:
            if slot is not None and self.limiter is not None:
                self.limiter.release(slot)
        return answer(response, what, sending)

    async def upload_image(self, path: Path) -> dict[str, Any]:
        """Upload an image file; the attachment a message carries to show it."""
        return await self.upload("image", path.name, path.read_bytes())

    async def upload(self, kind: str, filename: str, data: bytes) -> dict[str, Any]:
        """Upload an ``image`` or a ``file``; the attachment a message carries to show it.

        ``POST /uploads?type=...`` gives the upload server's URL; the file goes there as
        multipart field ``data`` (without the token: it is another server); its answer
        (``{"photos": {...}}`` for an image, ``{"token": ...}`` for a file) is the
        attachment's payload. Nothing is posted yet, so a lost answer is retried, not
        ambiguous.
        """
        endpoint = await self.call("POST", "/uploads", params={"type": kind}, sending=False)
        url = endpoint.get("url") if isinstance(endpoint, dict) else None
        if not url:
            raise PlatformError("MAX POST /uploads: no upload URL in the answer", NETWORK)
        what = "MAX upload"
        slot = await self._acquire(READ)
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout * 3)) as upload:
                response = await upload.post(
                    url, files={"data": (filename, data, _mime(Path(filename), kind))}
                )
        except httpx.HTTPError as exc:
            raise transport_error(exc, what, sending=False) from exc
        finally:
            if slot is not None and self.limiter is not None:
                self.limiter.release(slot)
        result = answer(response, what, sending=False)
        if not isinstance(result, dict) or not (result.get("photos") or result.get("token")):
            raise PlatformError(f"{what}: unexpected answer", NETWORK)
        payload = (
            {"photos": result["photos"]} if result.get("photos") else {"token": result["token"]}
        )
        return {"type": kind, "payload": payload}

    async def aclose(self) -> None:
        """Close this loop's HTTP pool (a later call opens a new one)."""
        http, self._http = self._http, None
        if http is not None and not http.is_closed:
            with contextlib.suppress(RuntimeError):  # opened on a loop that is gone
                await http.aclose()

    async def _acquire(self, priority: int) -> Any:
        """A slot of the token's limiter, waited for in a thread of its own.

        The limiter is a blocking one (shared with nothing else here), and a full window
        must not block the event loop. The thread ends with the wait: no idle thread is
        left behind (a process with other threads may not fork, ``reports.forked``).
        """
        limiter = self.limiter
        if limiter is None:
            return None
        loop = asyncio.get_running_loop()
        granted: asyncio.Future = loop.create_future()

        def settle(slot: Any) -> None:
            if granted.cancelled():  # the caller is gone: give the slot back
                limiter.release(slot)
            else:
                granted.set_result(slot)

        def wait() -> None:
            slot = limiter.acquire(priority)
            try:
                loop.call_soon_threadsafe(settle, slot)
            except RuntimeError:  # the loop is closed
                limiter.release(slot)

        threading.Thread(target=wait, name="max-limiter", daemon=True).start()
        return await granted


def _note_dispatch() -> None:
    hook = dispatch_hook.get()
    if hook is not None:
        try:
            hook()
        except Exception as exc:
            raise NotDispatched(f"the send could not be noted, so not sent: {exc}") from exc


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Query values as MAX reads them: lists comma-joined, booleans lower-case."""
    if params is None:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def _mime(path: Path, kind: str = "image") -> str:
    suffix = path.suffix.lower()
    if kind != "image":
        return "application/octet-stream"
    return {".png": "image/png", ".gif": "image/gif", ".webp": "image/webp"}.get(
        suffix, "image/jpeg"
    )


def answer(response: httpx.Response, what: str, sending: bool) -> Any:
    """The decoded JSON of a 2xx answer, or the error the answer means."""
    try:
        body: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if response.status_code >= 400:
        raise api_error(response.status_code, body, what, sending)
    if body is None:
        text = f"{what}: an answer that is not JSON (HTTP {response.status_code})"
        # MAX took the call and answered: a message may well exist.
        raise (
            AmbiguousOutcome(text, NETWORK)
            if sending
            else RetryLater(text, NETWORK, delay=SERVER_DELAY)
        )
    if isinstance(body, dict) and body.get("success") is False:
        # SimpleQueryResult: the call was understood and not done (since November 2026
        # with a ``code``).
        code = str(body.get("code") or "")
        text = f"{what}: refused ({code or 'no code'}: {body.get('message') or ''})"
        raise NotFound(text, NETWORK) if code == "not.found" else BadContent(text, NETWORK)
    return body


def max_error(body: Any) -> tuple[str, str] | None:
    """``(code, message)`` if ``body`` is MAX's error object."""
    if isinstance(body, dict) and isinstance(body.get("code"), str) and "message" in body:
        return body["code"], str(body.get("message") or "")
    return None


def api_error(status: int, body: Any, what: str, sending: bool) -> PlatformError:
    """An HTTP error answer of MAX as the project's error (``status`` and ``code`` kept on it)."""
    found = max_error(body)
    code = found[0] if found else ""
    detail = f"{found[0]}: {found[1]}" if found and found[1] else code or "no error object"
    text = logredact.redact(f"{what}: HTTP {status} ({detail})")
    error: PlatformError
    if status == 401:
        error = AuthFailed(f"{what}: the bot token was rejected (HTTP 401 {code})", NETWORK)
    elif status == 403:
        error = Forbidden(text, NETWORK)
    elif status == 404:
        error = NotFound(text, NETWORK)
    elif status == 429:
        error = RetryLater(text, NETWORK, delay=RATE_LIMIT_DELAY)
    elif status == 400 and code == NOT_READY:
        error = RetryLater(text, NETWORK, delay=NOT_READY_DELAY)
    elif status >= 500 and found is not None:
        error = RetryLater(text, NETWORK, delay=SERVER_DELAY)  # MAX's own "not done"
    elif status >= 500:
        # A proxy's answer: the request may have reached MAX and been carried out.
        error = (
            AmbiguousOutcome(text, NETWORK)
            if sending
            else RetryLater(text, NETWORK, delay=SERVER_DELAY)
        )
    else:  # 400 and the other refusals of the request itself (405: long poll vs webhook)
        error = BadContent(text, NETWORK)
    error.status = status  # type: ignore[attr-defined]
    error.code = code  # type: ignore[attr-defined]
    return error


def transport_error(exc: httpx.HTTPError, what: str, sending: bool) -> PlatformError:
    """An httpx failure: never left → RetryLater; left, answer lost → ambiguous if sending."""
    text = f"{what}: {type(exc).__name__}"
    if isinstance(exc, _NOT_SENT):
        return RetryLater(f"{text} (not sent)", NETWORK, delay=SERVER_DELAY)
    if isinstance(exc, httpx.TransportError):
        # A read timeout, a connection dropped or reset after the request went out.
        return (
            AmbiguousOutcome(text, NETWORK)
            if sending
            else RetryLater(text, NETWORK, delay=SERVER_DELAY)
        )
    return PlatformError(text, NETWORK)


# Alive while an adapter or an intake holds it: the adapter and the intake of one bot
# (and libraries sharing a bot) share one client, so one limiter paces the token.
_clients: weakref.WeakValueDictionary[tuple[str, str], MaxClient] = weakref.WeakValueDictionary()
_clients_lock = threading.Lock()


def token_client(
    token: str, api_url: str, timeout: float = 10.0, rate_limit: bool = True
) -> MaxClient:
    """The process's client of ``token`` at ``api_url`` (made on first use)."""
    with _clients_lock:
        client = _clients.get((token, api_url))
        if client is None:
            client = MaxClient(token, api_url, timeout=timeout, rate_limit=rate_limit)
            _clients[(token, api_url)] = client
        return client


__all__ = ["MaxClient", "api_error", "answer", "token_client", "transport_error"]
