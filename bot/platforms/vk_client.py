"""vk_api clients, one per token in the process, paced by the token's own limiter; and
what a vk_api error means in the project's vocabulary.

vk_api's built-in pacing sleeps between calls under a lock, one call at a time,
measured from the end of the previous answer. We pace by send time instead
(``SlidingWindowLimiter``), with publications ahead of metric reads, so a
token's whole allowance is used and posting is never held up by collection.
Every call of the client goes through it — including those VkUpload makes.

VK counts a token's requests wherever they come from, so the adapter and the update
intake of a community get the same client (``token_client``): two limiters of one token
could together pass VK's limit (20 a second for a community token).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import requests
import vk_api
from vk_api.exceptions import ApiError, ApiHttpError, Captcha

from bot.platforms.ratelimit import POST, READ, SlidingWindowLimiter
from bot.platforms.vk_session import make_session
from core.errors import (
    AmbiguousOutcome,
    AuthFailed,
    BadContent,
    Forbidden,
    NotFound,
    PlatformError,
    RetryLater,
)

NETWORK = "vk"
API_VERSION = "5.199"
LANES = 3  # clients of one token, sharing its limiter (see TokenClient)

# VK's error codes, by what they ask of us.
AUTH_CODES = frozenset({5, 1116})
RETRY_CODES = frozenset({1, 6, 10, 29, 603})  # unknown, too many a second, server, rate limit
FLOOD_CODES = frozenset({9})  # flood control: the same action too often
# 901: the person has not allowed the community's messages (never wrote to it)
FORBIDDEN_CODES = frozenset({7, 8, 15, 17, 27, 28, 30, 200, 203, 210, 214, 219, 220, 222, 224, 901})
NOT_FOUND_CODES = frozenset({18, 19, 100_000})

_priority = threading.local()


class PacedVkApi(vk_api.VkApi):
    """A VkApi whose every call first waits for its token's limiter."""

    def __init__(
        self, token: str, api_url: str, limiter: SlidingWindowLimiter, timeout: float
    ) -> None:
        session = make_session(api_url, timeout)
        super().__init__(token=token, session=session, api_version=API_VERSION)
        self.RPS_DELAY = 0.0  # our limiter paces instead (by send time, with priorities)
        self.limiter = limiter
        # vk_api retries error 6 forever by itself; we want it as RetryLater instead.
        self.error_handlers.pop(6, None)

    def method(self, method: str, values: dict | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """Call ``method`` once the token may send (publications first)."""
        slot = self.limiter.acquire(getattr(_priority, "value", READ))
        try:
            return super().method(method, values, **kwargs)
        finally:
            self.limiter.release(slot)


def with_priority(priority: int, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` run (in a worker thread) with its VK calls at ``priority``."""

    def run() -> Any:
        _priority.value = priority
        try:
            return call()
        finally:
            _priority.value = READ

    return run


class TokenClient:
    """The clients of one token: a few lanes sharing one limiter.

    vk_api holds a lock for the whole of a call, so lanes let the requests of one rate
    window be in flight together instead of one after another.
    """

    def __init__(self, token: str, api_url: str, rate: float, timeout: float) -> None:
        self.limiter = SlidingWindowLimiter(rate)
        self.lanes = [PacedVkApi(token, api_url, self.limiter, timeout) for _ in range(LANES)]

    @property
    def main(self) -> PacedVkApi:
        """The lane of single calls (posts, messages, the long poll's server)."""
        return self.lanes[0]


# Alive while an adapter or an intake holds it: a process serving the same token twice
# (libraries sharing a token, the adapter and the intake of a community) shares one.
_clients: weakref.WeakValueDictionary[tuple[str, str], TokenClient] = weakref.WeakValueDictionary()
_clients_lock = threading.Lock()


def token_client(token: str, api_url: str, rate: float, timeout: float = 10.0) -> TokenClient:
    """The process's client of ``token`` at ``api_url`` (made on first use at ``rate``/s)."""
    with _clients_lock:
        client = _clients.get((token, api_url))
        if client is None:
            client = TokenClient(token, api_url, rate, timeout)
            _clients[(token, api_url)] = client
        return client


def api_error(code: int | None, text: str) -> PlatformError:
    """A VK error code (of a call, or of a call inside ``execute``) as the project's error."""
    if code in AUTH_CODES:
        return AuthFailed(text, NETWORK)
    if code in RETRY_CODES:
        return RetryLater(text, NETWORK, delay=1.0 if code == 6 else 5.0)
    if code in FLOOD_CODES:
        return RetryLater(text, NETWORK, delay=30.0)
    if code in FORBIDDEN_CODES:
        return Forbidden(text, NETWORK)
    if code in NOT_FOUND_CODES:
        return NotFound(text, NETWORK)
    return BadContent(text, NETWORK)


def translate(exc: Exception, what: str, sending: bool) -> PlatformError:
    """vk_api / requests exception → the project's vocabulary.

    ``sending``: the call may change something on VK, so an answer lost after the request
    left leaves its outcome unknown.
    """
    if isinstance(exc, Captcha):
        return RetryLater(f"VK: {what}: captcha required", NETWORK, delay=60.0)
    if isinstance(exc, ApiError):
        return api_error(exc.code, f"VK: {what}: [{exc.code}] {exc.error.get('error_msg', '')}")
    if isinstance(exc, ApiHttpError):
        text = f"VK: {what}: HTTP {exc.response.status_code}"
        return AmbiguousOutcome(text, NETWORK) if sending else RetryLater(text, NETWORK, delay=2.0)
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        cause = str(exc)
        if (
            "Connection refused" in cause
            or "Max retries" in cause
            and "NewConnectionError" in cause
        ):
            return RetryLater(f"VK: {what}: cannot connect", NETWORK, delay=2.0)
    if isinstance(exc, requests.RequestException):
        text = f"VK: {what}: {type(exc).__name__}"
        return AmbiguousOutcome(text, NETWORK) if sending else RetryLater(text, NETWORK, delay=2.0)
    return PlatformError(f"VK: {what}: {exc}", NETWORK)


__all__ = ["POST", "READ", "PacedVkApi", "TokenClient", "token_client", "translate"]
