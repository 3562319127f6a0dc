"""VK through vk_api: wall posts with photos, post counters, community size.

vk_api is synchronous, so every call runs in a worker thread. It always calls
api.vk.ru; ``make_session`` redirects it to the configured API URL.
"""

from __future__ import annotations

import asyncio
import functools
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import vk_api
from vk_api.exceptions import ApiError, ApiHttpError, Captcha, VkApiError

from bot.errors import (
    AmbiguousOutcome,
    AuthFailed,
    BadContent,
    Forbidden,
    NotFound,
    PlatformError,
    RetryLater,
)
from bot.platforms.base import Post, PostMetrics, Published
from bot.platforms.vk_session import make_session

NETWORK = "vk"
API_VERSION = "5.199"
TEXT_LIMIT = 16_000
GET_BY_ID_BATCH = 100
COMMUNITY_RPS = 20.0

_AUTH = {5, 1116}
_RETRY = {1, 6, 10, 29, 603}
_FLOOD = {9}
_FORBIDDEN = {7, 8, 15, 17, 27, 28, 30, 200, 203, 210, 214, 219, 220, 222, 224}
_NOT_FOUND = {18, 19, 100_000}


class VkPlatform:
    """One VK community, with a user token (wall, photos) and/or a community token."""

    network = NETWORK

    def __init__(
        self,
        group_id: int,
        user_token: str | None,
        community_token: str | None,
        api_url: str,
        requests_per_second: float = 3.0,
        timeout: float = 10.0,
        clients: dict[tuple[str, str], vk_api.VkApi] | None = None,
    ) -> None:
        self.group_id = group_id
        # VK limits requests per token: libraries sharing a token share one client,
        # whose lock and pacing then hold for all of them together.
        clients = {} if clients is None else clients

        def client(token: str | None, rps: float) -> vk_api.VkApi | None:
            if not token:
                return None
            if (token, api_url) not in clients:
                clients[(token, api_url)] = _client(token, api_url, rps, timeout)
            return clients[(token, api_url)]

        self._user = client(user_token, requests_per_second)
        self._community = client(community_token, COMMUNITY_RPS)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vk")

    async def publish(self, post: Post) -> Published:
        """wall.post from the community; the guid makes a repeat harmless."""
        api = self._need_user("post to the community wall")
        params: dict[str, Any] = {
            "owner_id": -self.group_id,
            "from_group": 1,
            "message": post.text,
            "guid": post.guid,
        }
        if post.image is not None:
            params["attachments"] = await self._upload_photo(api, post.image.read_bytes())
        answer = await self._call(api, "wall.post", params, sending=True)
        post_id = answer["post_id"]
        return Published(str(post_id), post_url(self.group_id, post_id))

    async def post_metrics(self, target: str, remote_ids: list[str]) -> list[PostMetrics]:
        """Views, likes, reposts and comments of many posts, 100 per wall.getById call."""
        api = self._reader()
        found: dict[str, dict] = {}
        for start in range(0, len(remote_ids), GET_BY_ID_BATCH):
            batch = remote_ids[start : start + GET_BY_ID_BATCH]
            posts = ",".join(f"-{self.group_id}_{r}" for r in batch)
            answer = await self._call(api, "wall.getById", {"posts": posts}, sending=False)
            items = answer.get("items", answer) if isinstance(answer, dict) else answer
            for item in items:
                found[str(item["id"])] = item
        return [_metrics(r, found.get(r)) for r in remote_ids]

    async def audience_size(self, target: str) -> int:
        """members_count of the community."""
        answer = await self._call(
            self._reader(),
            "groups.getById",
            {"group_id": self.group_id, "fields": "members_count"},
            sending=False,
        )
        groups = answer.get("groups", []) if isinstance(answer, dict) else answer
        if not groups or "members_count" not in groups[0]:
            raise NotFound(f"VK: community {self.group_id} has no members_count", NETWORK)
        return int(groups[0]["members_count"])

    async def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _upload_photo(self, api: vk_api.VkApi, data: bytes) -> str:
        upload = vk_api.VkUpload(api)
        call = functools.partial(upload.photo_wall, [io.BytesIO(data)], group_id=self.group_id)
        photos = await self._run(call, "photos upload", sending=False)
        photo = photos[0]
        return f"photo{photo['owner_id']}_{photo['id']}"

    async def _call(self, api: vk_api.VkApi, method: str, params: dict, sending: bool) -> Any:
        return await self._run(functools.partial(api.method, method, params), method, sending)

    async def _run(self, call: functools.partial, what: str, sending: bool) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, call)
        except (VkApiError, requests.RequestException) as exc:
            raise translate(exc, what, sending) from exc

    def _need_user(self, purpose: str) -> vk_api.VkApi:
        if self._user is None:
            raise Forbidden(
                f"VK: a user token of a community admin is needed to {purpose}", NETWORK
            )
        return self._user

    def _reader(self) -> vk_api.VkApi:
        api = self._user or self._community
        assert api is not None  # the config requires at least one token
        return api


def _client(token: str, api_url: str, rps: float, timeout: float) -> vk_api.VkApi:
    api = vk_api.VkApi(token=token, session=make_session(api_url, timeout), api_version=API_VERSION)
    api.RPS_DELAY = 1.0 / rps
    # vk_api retries error 6 forever by itself; we want it as RetryLater instead.
    api.error_handlers.pop(6, None)
    return api


def post_url(group_id: int, post_id: int | str) -> str:
    """Public link of a community wall post."""
    return f"https://vk.com/wall-{group_id}_{post_id}"


def _metrics(remote_id: str, item: dict | None) -> PostMetrics:
    if item is None:
        return PostMetrics(remote_id=remote_id, deleted=True)

    def count(key: str) -> int | None:
        value = item.get(key)
        return int(value["count"]) if isinstance(value, dict) and "count" in value else None

    return PostMetrics(
        remote_id, count("views"), count("likes"), count("reposts"), count("comments")
    )


def translate(exc: Exception, what: str, sending: bool) -> PlatformError:
    """vk_api / requests exception → the project's vocabulary."""
    if isinstance(exc, Captcha):
        return RetryLater(f"VK: {what}: captcha required", NETWORK, delay=60.0)
    if isinstance(exc, ApiError):
        code, text = exc.code, f"VK: {what}: [{exc.code}] {exc.error.get('error_msg', '')}"
        if code in _AUTH:
            return AuthFailed(text, NETWORK)
        if code in _RETRY:
            return RetryLater(text, NETWORK, delay=1.0 if code == 6 else 5.0)
        if code in _FLOOD:
            return RetryLater(text, NETWORK, delay=30.0)
        if code in _FORBIDDEN:
            return Forbidden(text, NETWORK)
        if code in _NOT_FOUND:
            return NotFound(text, NETWORK)
        return BadContent(text, NETWORK)
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
