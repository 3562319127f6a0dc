"""VK through vk_api: wall posts with photos and polls, figures, quiz questions, chats.

vk_api is synchronous, so every call runs in a worker thread. It always calls
api.vk.ru; ``vk_session.make_session`` redirects it to the configured API URL.
Clients are shared per token and paced by ``vk_client`` (posts before reads).

A target of 2000000000 or more is a community chat (a conversation's peer_id):
messages go there with the community token. Any other target is the community wall,
posted with the admin's user token.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
import vk_api
from vk_api.exceptions import VkApiError

from bot.alerts import handed_id
from bot.platforms.vk_client import (
    LANES,
    POST,
    READ,
    TokenClient,
    api_error,
    token_client,
    translate,
    with_priority,
)
from bot.platforms.vk_metrics import executes, plan_calls, script
from core.config import LibraryConfig, LibraryTokens
from core.errors import BadContent, Forbidden, NotFound, PlatformError, RetryLater
from core.networks import network
from core.platform import (
    Ask,
    Attachment,
    Comment,
    FiguresPart,
    Media,
    PollRef,
    PollSpec,
    Post,
    PostMetrics,
    PostRef,
    Published,
    ReplyTo,
)

NETWORK = "vk"
LIMITS = network(NETWORK).limits
CHAT_PEERS = network(NETWORK).chat_targets_from  # peer ids of community chats start here
INLINE_ROWS = 6  # VK's limit on the rows of an inline keyboard
READ_ATTEMPTS = 5  # a refused metrics request is sent at most this many times …
READ_RETRY_SECONDS = 60.0  # … and waited for at most this long in all
COMMENTS_PAGE, LIKES_PAGE, MEMBERS_BATCH = 100, 1000, 500  # VK's largest pages
POLL_QUESTION = 250  # characters of a quiz poll's question kept


def is_chat(target: str) -> bool:
    """True when ``target`` is a community chat rather than the wall."""
    text = str(target)
    return CHAT_PEERS is not None and text.lstrip("-").isdigit() and int(text) >= CHAT_PEERS


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
    ) -> None:
        self.group_id = group_id
        # VK limits requests per token: whoever uses a token in this process shares its client.
        self._readers: TokenClient | None = (
            token_client(user_token, api_url, requests_per_second, timeout) if user_token else None
        )
        self._user = self._readers.main if self._readers else None
        self._community_client: TokenClient | None = (
            token_client(community_token, api_url, LIMITS.requests_per_second, timeout)
            if community_token
            else None
        )
        self._community = self._community_client.main if self._community_client else None
        self._pool = ThreadPoolExecutor(max_workers=LANES + 1, thread_name_prefix="vk")
        # With a community token only: gives a post VK refused to the admins (bot.alerts),
        # True once someone got it; set by the application.
        self.hand_over: Callable[[Post], Awaitable[bool]] | None = None

    @property
    def reads_post_counters(self) -> bool:
        """Whether wall counters can be read: they take a user token (with a community
        token only, a post's likes and comments are those the long poll brought)."""
        return self._readers is not None

    @property
    def reader_key(self) -> int:
        """Platforms with the same key read through one client: batch them together."""
        return id(self._user or self._community)

    # -- posts -------------------------------------------------------------------

    async def publish(self, post: Post) -> Published:
        """wall.post from the community; the guid makes a repeat harmless.

        A community chat as the target (a live quiz's intro) gets a chat message instead.
        """
        if is_chat(post.target):
            return await self._chat_send(post.target, post.text, post.guid, None)
        if self._user is None and self._community is not None and post.poll is None:
            return await self._publish_as_community(post)
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

    async def _publish_as_community(self, post: Post) -> Published:
        """Without a user token: wall.post with the community token (VK has been seen to
        take text posts so); where VK refuses, or the post has an image (wall photo upload
        takes a user token only), the post is handed to the admins to publish by hand."""
        if post.image is None:
            params = {
                "owner_id": -self.group_id,
                "from_group": 1,
                "message": post.text,
                "guid": post.guid,
            }
            try:
                answer = await self._call(
                    self._need_community(), "wall.post", params, sending=True, priority=POST
                )
            except Forbidden as exc:  # error 27: method is unavailable with group auth
                refused = str(exc)
            else:
                return Published(str(answer["post_id"]), post_url(self.group_id, answer["post_id"]))
        else:
            refused = "VK: wall photos need a user token"
        if self.hand_over is None or not await self.hand_over(post):
            raise Forbidden(f"{refused}; no admin could be handed the post", NETWORK)
        # Recorded as published, pending its link: the wall post is found by its text.
        return Published(handed_id(post.guid), "")

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

    async def send_notice(
        self, user_id: int, text: str, attachment: Attachment | None = None
    ) -> None:
        """A community message to an admin (``[library.vk] admins``), with a photo or a
        document if given; VK refuses it (901) until the admin has written to the community."""
        api = self._need_community()
        params: dict[str, Any] = {
            "peer_id": user_id,
            # Each notice is new: a random_id VK has not seen (a repeat within the hour of the
            # same id would be dropped as a duplicate).
            "random_id": secrets.randbits(31),
            "message": text,
        }
        if attachment is not None:
            params["attachment"] = await self._message_file(api, user_id, attachment)
        await self._call(api, "messages.send", params, sending=True, priority=POST)

    async def _message_file(self, api: vk_api.VkApi, peer: int, attachment: Attachment) -> str:
        """Upload a photo or document for a message; its reference (photo-1_2, doc-1_3)."""
        upload = vk_api.VkUpload(api)
        data = io.BytesIO(attachment.data)
        data.name = attachment.filename  # vk_api names the upload by it
        if attachment.is_image:
            call = functools.partial(upload.photo_messages, [data], peer_id=peer)
            photo = (await self._run(call, "photos upload", sending=False, priority=POST))[0]
            key = f"_{photo['access_key']}" if photo.get("access_key") else ""
            return f"photo{photo['owner_id']}_{photo['id']}{key}"
        call = functools.partial(
            upload.document_message, data, title=attachment.filename, peer_id=peer
        )
        saved = await self._run(call, "docs upload", sending=False, priority=POST)
        doc = saved["doc"]
        return f"doc{doc['owner_id']}_{doc['id']}"

    # -- figures -----------------------------------------------------------------

    async def read_figures(
        self,
        posts: Sequence[PostRef],
        communities: Sequence[str],
        polls: Sequence[PollRef] = (),
        *,
        reach: bool = True,
    ) -> AsyncIterator[FiguresPart]:
        """Counters, reach, poll votes and members, one part per request as answers come in.

        As few requests as VK allows (execute), any communities mixed. Reach needs a user
        token with statistics rights; where VK refuses it, reach is None (not available).
        Chats are left out: wall.getById would find no such post (as if deleted), and
        groups.getById refuses the whole call (error 100) for a chat's peer id.
        """
        # A post handed to the admins has no wall post yet: unread until it is linked.
        handed = frozenset(p for p in posts if p.remote_id.startswith(handed_id("")))
        if handed:
            yield FiguresPart(unread_posts=handed)
        posts = [p for p in posts if p not in handed]
        by_post = {(-int(p.target), int(p.remote_id)): p for p in posts if not is_chat(p.target)}
        by_poll = {(-int(p.target), int(p.poll_id)): p for p in polls if not is_chat(p.target)}
        groups = {int(target): target for target in communities if not is_chat(target)}
        seen: set[int] = set()  # communities answered for, or given up on
        async for part in self._read(list(by_post), sorted(groups), reach, list(by_poll)):
            seen.update(part.members, part.unread_groups)
            yield FiguresPart(
                counters={by_post[key]: value for key, value in part.counters.items()},
                reach={by_post[key]: value for key, value in part.reach.items()},
                polls={by_poll[key]: votes for key, votes in part.polls.items()},
                members={groups[g]: n for g, n in part.members.items() if g in groups},
                unread_posts=frozenset(by_post[key] for key in part.unread_posts),
                unread_polls=frozenset(by_poll[key] for key in part.unread_polls),
                unread_communities=frozenset(groups[g] for g in part.unread_groups if g in groups),
            )
        missing = [target for group, target in sorted(groups.items()) if group not in seen]
        if missing:  # read, but VK gave no members_count: not available
            yield FiguresPart(members=dict.fromkeys(missing))

    async def _read(
        self,
        posts: list[tuple[int, int]],
        groups: list[int],
        reach: bool,
        polls: list[tuple[int, int]],
    ) -> AsyncIterator[_Answer]:
        """The figures of ``posts`` and ``polls`` ((owner_id, id)) and ``groups``, by request."""
        if self._readers is None:  # a community token cannot read wall counters
            yield _Answer(members=await self._members_only(groups))
            return
        lanes: asyncio.Queue = asyncio.Queue()
        for lane in self._readers.lanes:
            lanes.put_nowait(lane)

        async def once(batch: list) -> _Answer:
            lane = await lanes.get()  # one request per lane at a time; the limiter paces all
            try:
                code = {"code": script(batch)}
                answer = await self._call(lane, "execute", code, sending=False, raw=True)
            finally:
                lanes.put_nowait(lane)
            return _unpack(batch, answer)

        async def run(batch: list) -> _Answer:
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

        batches = executes(plan_calls(posts, reach, groups, polls))
        tasks = [asyncio.ensure_future(run(batch)) for batch in batches]
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()

    async def audience_size(self, target: str) -> int:
        """members_count of the community."""
        own = str(self.group_id)  # the adapter serves one community, whatever the target
        parts = [part async for part in self.read_figures([], [own])]
        counts = [part.members[own] for part in parts if part.members.get(own) is not None]
        if not counts:
            raise NotFound(f"VK: community {self.group_id} has no members_count", NETWORK)
        return int(counts[0])  # type: ignore[arg-type]

    async def _members_only(self, groups: list[int]) -> dict[int, int]:
        if not groups or self._community is None:
            return {}
        params = {"group_ids": ",".join(map(str, groups)), "fields": "members_count"}
        answer = await self._call(self._community, "groups.getById", params, sending=False)
        found = answer.get("groups", []) if isinstance(answer, dict) else answer
        return {g["id"]: int(g["members_count"]) for g in found if "members_count" in g}

    # -- readers of a post (giveaways) --------------------------------------------

    async def comments(self, remote_id: str) -> list[Comment]:
        """Every comment under a community post, oldest first (pages of 100)."""
        api = self._reader()
        found: list[Comment] = []
        post_id = int(remote_id)
        while True:
            params = {"owner_id": -self.group_id, "post_id": post_id, "offset": len(found)}
            params.update(count=COMMENTS_PAGE, sort="asc")
            page = await self._call(api, "wall.getComments", params, sending=False)
            items = page.get("items", [])
            found += [
                Comment(int(i.get("from_id", 0)), int(i.get("date", 0)), str(i.get("text", "")))
                for i in items
            ]
            if not items or len(found) >= int(page.get("count", 0)):
                return found

    async def likers(self, remote_id: str, reposts: bool = False) -> set[int]:
        """Who liked a community post (or, with ``reposts``, reposted it), 1000 a page."""
        api = self._reader()
        post_id = int(remote_id)
        found: set[int] = set()
        offset = 0
        while True:
            params = {"type": "post", "owner_id": -self.group_id, "item_id": post_id}
            params.update(offset=offset, filter="copies" if reposts else "likes", count=LIKES_PAGE)
            page = await self._call(api, "likes.getList", params, sending=False)
            items = page.get("items", [])
            found.update(int(i["id"] if isinstance(i, dict) else i) for i in items)
            offset += len(items)
            if not items or offset >= int(page.get("count", 0)):
                return found

    async def members_among(self, target: str, user_ids: Iterable[int]) -> set[int]:
        """Which of ``user_ids`` are members of the community (whatever the target: the
        adapter serves one), 500 to a request."""
        api = self._community or self._user
        ids = sorted(set(user_ids))
        found: set[int] = set()
        for start in range(0, len(ids), MEMBERS_BATCH):
            batch = ids[start : start + MEMBERS_BATCH]
            params = {"group_id": self.group_id, "user_ids": ",".join(map(str, batch))}
            answer = await self._call(api, "groups.isMember", params, sending=False)
            found.update(int(a["user_id"]) for a in answer if a.get("member"))
        return found

    async def user_names(self, user_ids: Sequence[int]) -> dict[int, str]:
        """Each user's "First Last" as VK gives it ("" when it gives none)."""
        if not user_ids:
            return {}
        api = self._community or self._user
        params = {"user_ids": ",".join(map(str, user_ids))}
        answer = await self._call(api, "users.get", params, sending=False)
        return {
            int(u["id"]): f"{u.get('first_name', '')} {u.get('last_name', '')}".strip()
            for u in answer
        }

    async def mentions(self, user_ids: Sequence[int]) -> dict[int, str]:
        """Each user as a VK mention: ``[id…|Name Surname]`` (``id…`` if VK gives no name)."""
        names = await self.user_names(user_ids)
        return {u: f"[id{u}|{names[u]}]" if names.get(u) else f"id{u}" for u in user_ids}

    async def comment(self, target: str, remote_id: str, text: str) -> None:
        """A comment under a community post, as the community."""
        api = self._community or self._user
        params = {"owner_id": -self.group_id, "post_id": int(remote_id), "message": text}
        params.update(from_group=self.group_id)
        await self._call(api, "wall.createComment", params, sending=True)

    # -- contests and giveaways ----------------------------------------------------

    async def post_entry(self, target: str, media: Media, text: str, guid: str = "") -> Published:
        """A wall post with the entry's photo or video (its attachment string, access key
        and all), else a text post; the guid makes a repeat harmless."""
        if media.kind not in ("photo", "video") or not media.ref:
            return await self.publish(Post(target, text, guid=guid))
        api = self._need_user("post to the community wall")
        params = {
            "owner_id": -self.group_id,
            "from_group": 1,
            "message": text,
            "guid": guid,
            "attachments": media.ref,
        }
        answer = await self._call(api, "wall.post", params, sending=True, priority=POST)
        post_id = answer["post_id"]
        return Published(str(post_id), post_url(self.group_id, post_id))

    async def reply(
        self, where: ReplyTo, text: str, key: str = "", formatted: bool = False
    ) -> None:
        """Under the reader's comment, or a community message to them (``key`` is the
        random_id's seed: a repeat after a lost answer is not a second message); VK posts
        plain text, so ``formatted`` changes nothing."""
        api = self._need_community()
        if where.comment is not None:
            params = {
                "owner_id": -self.group_id,
                "post_id": where.post,
                "message": text,
                "reply_to_comment": where.comment,
            }
            await self._call(api, "wall.createComment", params, sending=True, priority=POST)
            return
        if where.chat is None:
            raise BadContent("VK: nowhere to answer the reader", NETWORK)
        params = {"peer_id": int(str(where.chat)), "random_id": random_id(key), "message": text}
        await self._call(api, "messages.send", params, sending=True, priority=POST)

    async def chat_id(self, target: str) -> str:
        """The community's id as the updates name it: the target itself."""
        return str(target)

    # -- quizzes -----------------------------------------------------------------

    async def ask(self, ask: Ask) -> Published:
        """A chat message with callback buttons or text; on the wall a post (with a poll)."""
        if is_chat(ask.target):
            keyboard = _keyboard(ask) if ask.style == "buttons" else None
            return await self._chat_send(ask.target, ask.text, ask.guid, keyboard)
        poll = None
        if ask.style == "poll":
            poll = PollSpec(
                ask.text[:POLL_QUESTION], ask.options, len(ask.correct) > 1, anonymous=False
            )
        return await self.publish(Post(ask.target, ask.text, ask.image, ask.guid, poll))

    async def stop_question(self, target: str, remote_id: str, style: str, text: str = "") -> None:
        """Take the buttons off a chat question; a wall question needs nothing.

        VK refuses an edit without the text, and drops the keyboard from an edit
        without one: so the question's text goes again, with no keyboard.
        """
        if is_chat(target) and style == "buttons" and text:
            await self._chat_edit(target, remote_id, text, None)

    async def say(self, target: str, text: str, guid: str = "") -> Published:
        """A message to the chat, or a wall post."""
        if is_chat(target):
            return await self._chat_send(target, text, guid, None)
        return await self.publish(Post(target, text, guid=guid))

    async def edit(self, target: str, remote_id: str, text: str) -> None:
        """Replace the text of the community's chat message or wall post."""
        if is_chat(target):
            await self._chat_edit(target, remote_id, text, None)
            return
        api = self._need_user("edit a wall post")
        params = {"owner_id": -self.group_id, "post_id": int(remote_id), "message": text}
        await self._call(api, "wall.edit", params, sending=False, priority=POST)

    async def stop_poll(self, target: str, remote_id: str, poll_id: str) -> tuple[int, ...] | None:
        """VK closes polls by their end date: read the final votes per option."""
        api = self._need_user("read poll results")
        params = {"owner_id": -self.group_id, "poll_id": int(poll_id)}
        answer = await self._call(api, "polls.getById", params, sending=False)
        return tuple(int(a["votes"]) for a in answer["answers"])

    async def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- chat messages -----------------------------------------------------------

    async def _chat_send(
        self, target: str, text: str, guid: str, keyboard: str | None
    ) -> Published:
        params: dict[str, Any] = {
            "peer_ids": str(target),
            # random_id makes a repeat after a lost answer harmless, like wall.post's guid
            "random_id": random_id(guid),
            "message": text,
        }
        if keyboard:
            params["keyboard"] = keyboard
        answer = await self._call(
            self._need_community(), "messages.send", params, sending=True, priority=POST
        )
        sent = answer[0] if isinstance(answer, list) else {"conversation_message_id": answer}
        if "error" in sent:
            raise BadContent(f"VK: {sent['error']}", NETWORK)
        cmid = str(sent["conversation_message_id"])
        return Published(cmid, f"vk-chat:{target}:{cmid}")

    async def _chat_edit(
        self, target: str, remote_id: str, text: str | None, keyboard: str | None
    ) -> None:
        params: dict[str, Any] = {
            "peer_id": int(target),
            "conversation_message_id": int(remote_id),
        }
        if text is not None:
            params["message"] = text
        if keyboard is not None:
            params["keyboard"] = keyboard
        await self._call(self._need_community(), "messages.edit", params, False, priority=POST)

    # -- calls -------------------------------------------------------------------

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

    def _need_community(self) -> vk_api.VkApi:
        if self._community is None:
            raise Forbidden("VK: a community token is needed for chats and buttons", NETWORK)
        return self._community

    def _reader(self) -> vk_api.VkApi:
        """The client that reads walls and likes: the user token, else the community's."""
        api = self._user or self._community
        if api is None:
            raise Forbidden("VK: a token is needed to check the giveaway's conditions", NETWORK)
        return api


def build(
    library: LibraryConfig, tokens: LibraryTokens, rate_limit: bool, shared: dict
) -> VkPlatform | None:
    """The adapter of ``library``'s community, if it has one.

    Nothing goes in ``shared``: clients are shared per token by ``vk_client.token_client``,
    with the update intake too; VK's limits are paced by its own limiter, so ``rate_limit``
    does not apply.
    """
    if library.vk is None:
        return None
    return VkPlatform(
        library.vk.group_id,
        tokens.vk_user,
        tokens.vk_community,
        library.vk.api_url,
        library.vk.requests_per_second,
        timeout=library.vk.timeout,
    )


@dataclass(frozen=True)
class _Answer:
    """What one execute answered, keyed by VK's ints: (owner_id, post or poll id), group."""

    counters: dict[tuple[int, int], PostMetrics] = field(default_factory=dict)
    reach: dict[tuple[int, int], int | None] = field(default_factory=dict)
    members: dict[int, int] = field(default_factory=dict)
    polls: dict[tuple[int, int], tuple[int, ...] | None] = field(default_factory=dict)
    # What VK kept refusing (after retries): not read this time, which is not "not available".
    unread_posts: frozenset[tuple[int, int]] = frozenset()
    unread_polls: frozenset[tuple[int, int]] = frozenset()
    unread_groups: frozenset[int] = frozenset()


def _unread(batch: list) -> _Answer:
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
    return _Answer(
        unread_posts=frozenset(posts),
        unread_polls=frozenset(polls),
        unread_groups=frozenset(groups),
    )


def _unpack(batch: list, answer: dict) -> _Answer:
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
                if isinstance(api_error(code, text), RetryLater):  # the request can be asked again
                    raise RetryLater(text, NETWORK, delay=30.0 if code == 9 else 5.0)
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
    return _Answer(counters, reach, members, polls)


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


def random_id(key: str) -> int:
    """A stable 31-bit random_id from an idempotency key (0 would mean 'no de-duplication')."""
    if not key:
        return 0
    return int(hashlib.sha256(key.encode()).hexdigest()[:7], 16) + 1


def _keyboard(ask: Ask) -> str:
    """An inline keyboard, one callback button per option, and the send button if any."""
    rows = [
        [_button(f"{n}. {option}", data)]
        for n, (option, data) in enumerate(zip(ask.options, ask.buttons, strict=False), start=1)
    ]
    # VK: at most 6 rows in an inline keyboard; pair the buttons up when there are more.
    if len(rows) + bool(ask.send) > INLINE_ROWS:
        rows = [sum(rows[i : i + 2], []) for i in range(0, len(rows), 2)]
    if ask.send:
        rows.append([_button(ask.send, ask.buttons[-1], "positive")])
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False)


def _button(label: str, data: str, color: str = "secondary") -> dict:
    return {
        "action": {
            "type": "callback",
            "label": label[: LIMITS.button_label],
            "payload": json.dumps({"a": data}),
        },
        "color": color,
    }
