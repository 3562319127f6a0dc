"""VK through vk_api: wall posts with photos, post counters, reach, community size.

vk_api is synchronous, so every call runs in a worker thread. It always calls
api.vk.ru; ``vk_session.make_session`` redirects it to the configured API URL.
Clients are shared per token and paced by ``vk_client`` (posts before reads).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import requests
import vk_api
from vk_api.exceptions import ApiError, ApiHttpError, Captcha, VkApiError

from bot.platforms import vk_metrics
from bot.platforms.vk_client import POST, READ, VkClients, with_priority
from bot.platforms.vk_quiz import VkQuizMixin, is_chat
from core.errors import (
    AmbiguousOutcome,
    AuthFailed,
    BadContent,
    Forbidden,
    NotFound,
    PlatformError,
    RetryLater,
)
from core.platform import PollSpec, Post, PostMetrics, Published

NETWORK = "vk"
TEXT_LIMIT = 16_000
COMMUNITY_RPS = 20.0
READ_ATTEMPTS = 5  # a refused metrics request is sent at most this many times …
READ_RETRY_SECONDS = 60.0  # … and waited for at most this long in all

_AUTH = {5, 1116}
_RETRY = {1, 6, 10, 29, 603}
_FLOOD = {9}
_FORBIDDEN = {7, 8, 15, 17, 27, 28, 30, 200, 203, 210, 214, 219, 220, 222, 224}
_NOT_FOUND = {18, 19, 100_000}


class VkPlatform(VkQuizMixin):
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
        clients: VkClients | None = None,
    ) -> None:
        self.group_id = group_id
        # VK limits requests per token: libraries sharing a token share one client.
        clients = clients or VkClients()
        self._readers = clients.lanes(user_token, api_url, requests_per_second, timeout)
        self._user = self._readers[0] if self._readers else None
        self._community = clients.get(community_token, api_url, COMMUNITY_RPS, timeout)
        self._pool = ThreadPoolExecutor(max_workers=VkClients.LANES + 1, thread_name_prefix="vk")

    @property
    def reader_key(self) -> int:
        """Platforms with the same key read through one client: batch them together."""
        return id(self._user or self._community)

    async def publish(self, post: Post) -> Published:
        """wall.post from the community; the guid makes a repeat harmless.

        A community chat as the target (a live quiz's intro) gets a chat message instead.
        """
        if is_chat(post.target):
            return await self._chat_send(post.target, post.text, post.guid, None)
        api = self._need_user("post to the community wall")
        params: dict[str, Any] = {
            "owner_id": -self.group_id,
            "from_group": 1,
            "message": post.text,
            "guid": post.guid,
        }
        attachments, poll_id, answers = [], None, ()
        if post.image is not None:
            attachments.append(await self._upload_photo(api, post.image.read_bytes()))
        if post.poll is not None:
            poll_id, answers = await self._create_poll(api, post.poll)
            attachments.append(f"poll{-self.group_id}_{poll_id}")
        if attachments:
            params["attachments"] = ",".join(attachments)
        answer = await self._call(api, "wall.post", params, sending=True, priority=POST)
        post_id = answer["post_id"]
        poll = str(poll_id) if poll_id is not None else None
        return Published(
            str(post_id), post_url(self.group_id, post_id), poll_id=poll, poll_answers=answers
        )

    async def _create_poll(self, api: vk_api.VkApi, poll: PollSpec) -> tuple[int, tuple[str, ...]]:
        """polls.create for the community; a repeat after a lost answer leaves an unused poll."""
        params: dict[str, Any] = {
            "owner_id": -self.group_id,
            "question": poll.question,
            "add_answers": json.dumps(list(poll.options), ensure_ascii=False),
            "is_multiple": int(poll.multiple),
            "is_anonymous": int(poll.anonymous),
        }
        if poll.closes_at:
            params["end_date"] = poll.closes_at
        answer = await self._call(api, "polls.create", params, sending=False, priority=POST)
        # Votes name the answer's id, not its place: keep the ids in the options' order.
        ids = tuple(str(a["id"]) for a in answer.get("answers", []))
        return int(answer["id"]), ids

    async def read(
        self, posts: list[tuple[int, int]], groups: list[int], reach: bool = True
    ) -> tuple[dict[tuple[int, int], PostMetrics], dict[int, int]]:  # counters and members
        """Counters and reach of ``posts`` ((owner_id, post_id)) and members of ``groups``."""
        counters: dict[tuple[int, int], PostMetrics] = {}
        reaches: dict[tuple[int, int], int | None] = {}
        members: dict[int, int] = {}
        async for part in self.read_parts(posts, groups, reach):
            counters.update(part.counters)
            reaches.update(part.reach)
            members.update(part.members)
        metrics = {
            key: replace(counters.get(key, PostMetrics(str(key[1]))), reach=reaches.get(key))
            for key in posts
        }
        return metrics, members

    async def read_parts(
        self,
        posts: list[tuple[int, int]],
        groups: list[int],
        reach: bool = True,
        polls: list[tuple[int, int]] = (),  # type: ignore[assignment]
    ) -> AsyncIterator[ReadPart]:
        """The same figures, one part per request as its answer comes in (any communities).

        As few requests as VK allows (execute). Reach needs a user token with statistics
        rights; where VK refuses it, reach is None (not available).
        """
        if self._user is None:  # a community token cannot read wall counters
            yield ReadPart({}, {}, await self._members_only(groups), {})
            return
        lanes: asyncio.Queue = asyncio.Queue()
        for lane in self._readers:
            lanes.put_nowait(lane)

        async def once(batch: list) -> ReadPart:
            lane = await lanes.get()  # one request per lane at a time; the limiter paces all
            try:
                code = {"code": vk_metrics.script(batch)}
                answer = await self._call(lane, "execute", code, sending=False, raw=True)
            finally:
                lanes.put_nowait(lane)
            return _unpack(batch, answer)

        async def run(batch: list) -> ReadPart:
            # A refused request is asked again after its delay (doubling), within a bound;
            # the other requests go on meanwhile. Past the bound its figures are unread.
            waited = 0.0
            for attempt in range(1, READ_ATTEMPTS + 1):
                try:
                    return await once(batch)
                except RetryLater as exc:
                    pause = exc.delay * 2 ** (attempt - 1)
                    if attempt == READ_ATTEMPTS or waited + pause > READ_RETRY_SECONDS:
                        return _unread(batch)
                    waited += pause
                    await asyncio.sleep(pause)
            return _unread(batch)  # not reached: the loop returns

        batches = vk_metrics.executes(vk_metrics.plan_calls(posts, reach, groups, polls))
        tasks = [asyncio.ensure_future(run(batch)) for batch in batches]
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()

    async def post_metrics(self, target: str, remote_ids: list[str]) -> list[PostMetrics]:
        """Counters of many posts of this community."""
        posts = [(-self.group_id, int(r)) for r in remote_ids]
        metrics, _ = await self.read(posts, [])
        return [metrics[p] for p in posts]

    async def audience_size(self, target: str) -> int:
        """members_count of the community."""
        _, members = await self.read([], [self.group_id])
        if self.group_id not in members:
            raise NotFound(f"VK: community {self.group_id} has no members_count", NETWORK)
        return members[self.group_id]

    async def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _members_only(self, groups: list[int]) -> dict[int, int]:
        if not groups or self._community is None:
            return {}
        params = {"group_ids": ",".join(map(str, groups)), "fields": "members_count"}
        answer = await self._call(self._community, "groups.getById", params, sending=False)
        found = answer.get("groups", []) if isinstance(answer, dict) else answer
        return {g["id"]: int(g["members_count"]) for g in found if "members_count" in g}

    async def _upload_photo(self, api: vk_api.VkApi, data: bytes) -> str:
        upload = vk_api.VkUpload(api)
        call = functools.partial(upload.photo_wall, [io.BytesIO(data)], group_id=self.group_id)
        photos = await self._run(call, "photos upload", sending=False, priority=POST)
        photo = photos[0]
        return f"photo{photo['owner_id']}_{photo['id']}"

    async def _call(
        self,
        api: vk_api.VkApi,
        method: str,
        params: dict,
        sending: bool,
        priority: int = READ,
        raw: bool = False,
    ) -> Any:
        call = functools.partial(api.method, method, params, raw=raw)
        return await self._run(call, method, sending, priority)

    async def _run(
        self, call: functools.partial, what: str, sending: bool, priority: int = READ
    ) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, with_priority(priority, call))
        except (VkApiError, requests.RequestException) as exc:
            raise translate(exc, what, sending) from exc

    def _need_user(self, purpose: str) -> vk_api.VkApi:
        if self._user is None:
            raise Forbidden(
                f"VK: a user token of a community admin is needed to {purpose}", NETWORK
            )
        return self._user


@dataclass(frozen=True)
class ReadPart:
    """What one execute answered: counters (or deleted) of its posts, reach, members."""

    counters: dict[tuple[int, int], PostMetrics]
    reach: dict[tuple[int, int], int | None]
    members: dict[int, int]
    polls: dict[tuple[int, int], tuple[int, ...] | None]  # (owner, poll id) → votes per answer
    # What VK kept refusing (after retries): not read this time, which is not "not available".
    unread_posts: frozenset[tuple[int, int]] = frozenset()
    unread_polls: frozenset[tuple[int, int]] = frozenset()
    unread_groups: frozenset[int] = frozenset()


def _unread(batch: list) -> ReadPart:
    """A request VK kept refusing: every post, poll and community it asked for, unread."""
    posts, polls, groups = set(), set(), set()
    for call in batch:
        if call.method == "wall.getById":
            posts.update(_asked_posts(call))
        elif call.method == "stats.getPostReach":
            owner = call.params["owner_id"]
            posts.update((owner, int(p)) for p in call.params["post_ids"].split(","))
        elif call.method == "polls.getById":
            polls.add((call.params["owner_id"], call.params["poll_id"]))
        elif call.method == "groups.getById":
            groups.update(int(g) for g in call.params["group_ids"].split(","))
    return ReadPart({}, {}, {}, {}, frozenset(posts), frozenset(polls), frozenset(groups))


def _unpack(batch: list, answer: dict) -> ReadPart:
    """One execute answer as figures; a refused reach is None, a missing post deleted."""
    counters: dict[tuple[int, int], PostMetrics] = {}
    reach: dict[tuple[int, int], int | None] = {}
    members: dict[int, int] = {}
    polls: dict[tuple[int, int], tuple[int, ...] | None] = {}
    results = answer.get("response") or []
    for call, result in zip(batch, results, strict=False):
        refused = result is False or result is None
        if call.method == "wall.getById":
            if refused:
                errors = [
                    e for e in answer.get("execute_errors", []) if e.get("method") == call.method
                ]
                detail = errors[0].get("error_msg", "") if errors else ""
                text = f"VK: wall.getById refused inside execute: {detail}"
                code = errors[0].get("error_code") if errors else None
                if code in _RETRY or code in _FLOOD:  # transient: the request can be asked again
                    raise RetryLater(text, NETWORK, delay=30.0 if code in _FLOOD else 5.0)
                raise PlatformError(text, NETWORK)
            items = result.get("items", result) if isinstance(result, dict) else result
            found = {(item["owner_id"], item["id"]): item for item in items}
            for key in _asked_posts(call):
                counters[key] = _metrics(str(key[1]), found.get(key))
        elif call.method == "stats.getPostReach":
            owner = call.params["owner_id"]
            asked = [(owner, int(p)) for p in call.params["post_ids"].split(",")]
            got = (
                {}
                if refused
                else {(owner, int(i["post_id"])): int(i.get("reach_total", 0)) for i in result}
            )
            for key in asked:
                reach[key] = got.get(key)
        elif call.method == "polls.getById":
            key = (call.params["owner_id"], call.params["poll_id"])
            polls[key] = None if refused else tuple(int(a["votes"]) for a in result["answers"])
        elif call.method == "groups.getById" and not refused:
            groups = result.get("groups", result) if isinstance(result, dict) else result
            for group in groups:
                if "members_count" in group:
                    members[int(group["id"])] = int(group["members_count"])
    return ReadPart(counters, reach, members, polls)


def _asked_posts(call) -> list[tuple[int, int]]:
    keys = []
    for ref in call.params["posts"].split(","):
        owner, post = ref.rsplit("_", 1)
        keys.append((int(owner), int(post)))
    return keys


def post_url(group_id: int, post_id: int | str) -> str:
    """Public link of a community wall post."""
    return f"https://vk.com/wall-{group_id}_{post_id}"


def _metrics(remote_id: str, item: dict | None, reach: int | None = None) -> PostMetrics:
    if item is None:
        return PostMetrics(remote_id=remote_id, deleted=True)

    def count(key: str) -> int | None:
        value = item.get(key)
        return int(value["count"]) if isinstance(value, dict) and "count" in value else None

    views, likes, reposts = count("views"), count("likes"), count("reposts")
    return PostMetrics(remote_id, views, likes, reposts, count("comments"), reach=reach)


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
