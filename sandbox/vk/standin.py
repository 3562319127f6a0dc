"""VkStandIn: the VK API stand-in the sandbox runner hosts, and the handles tests pull on.

Tests (on their own thread) change the communities through plain methods, e.g.
``vk.add_likes("-GROUP_12", 5)`` or ``vk.write(reader_id, "Привет")`` (messaging and group
chats come from ``conversations.Conversations``); the same actions are JSON routes on the
control app. One lock guards the records, held only briefly.

The stand-in holds one community or several (``communities=`` or ``add_community``), all run
by the same admin, each with its own community token, wall, limits and long poll. Actions
that concern a community take ``group_id``; left out, they mean the first community.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.faults import FaultRule
from sandbox.vk import audience, chats, methods, snapshot
from sandbox.vk.api import Faults, MethodEndpoint
from sandbox.vk.control import make_control_app
from sandbox.vk.conversations import Conversations
from sandbox.vk.events import EventHub
from sandbox.vk.faulting import FaultGate
from sandbox.vk.limits import COMMUNITY_PER_SECOND, USER_PER_SECOND, RateLimits
from sandbox.vk.uploads import UploadServer
from sandbox.vk.world import CROWD_BASE, LIBRARIES, WALL_ALBUM_GROUP, Community, Post, World


class VkStandIn(Conversations):
    """VK communities with their admin, readers and tokens, served over the real VK wire format."""

    def __init__(
        self, seed: int = 0, clock: Callable[[], float] = time.time, communities: int = 1
    ) -> None:
        if isinstance(communities, bool) or not isinstance(communities, int) or communities < 1:
            raise ValueError("communities must be a whole number of at least 1")
        self._base_clock = clock
        self._shift = 0.0
        self.world = World(seed, clock=self._now)
        self.events = EventHub(seed)
        self.events.open(self.world.community.id)
        self.lock = threading.RLock()
        self.faults = Faults()
        self.limits = RateLimits()
        self.gate = FaultGate(seed, self.lock)
        self._endpoint = MethodEndpoint(
            self.world,
            self.events,
            self.lock,
            methods.HANDLERS,
            self.faults,
            self.limits,
            self.gate,
            self._tick,
        )
        self._uploads = UploadServer(self.world, self.lock, self.gate)
        for index in range(1, communities):
            name, screen_name = LIBRARIES[(seed + index) % len(LIBRARIES)]
            taken = self.world.find_community(screen_name) is not None
            self.add_community(name, None if taken else screen_name)

    # -- runner interface ----------------------------------------------------

    def make_app(self) -> web.Application:
        """The API at /method/<name>, the upload server, photo files and the long-poll server."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/method/{name}", self._endpoint.handle)
        app.router.add_post("/upload/wall", self._uploads.upload)
        app.router.add_post("/upload/doc", self._uploads.upload_doc)
        app.router.add_get("/photos/{name}", self._uploads.photo_file)
        app.router.add_get("/docs/{name}", self._uploads.doc_file)
        app.router.add_route("*", "/whp/{group_id}", self.events.handle)
        app.on_cleanup.append(self._endpoint.close)
        return app

    def make_control_app(self) -> web.Application:
        """JSON routes driving the audience and the counters (see sandbox.vk.control)."""
        return make_control_app(self)

    def info(self, base_url: str) -> dict[str, Any]:
        """What a client needs: the API URL, tokens and the communities (the first one also
        under group_id, community_token and group_*, as before there were several)."""
        world = self.world
        return {
            "api_url": base_url + "/method/",
            "user_token": world.token_of("user"),
            "community_token": world.token_of("group"),
            "service_token": world.token_of("service"),
            "user_token_without_wall": world.limited_user_token(),
            "group_id": world.community.id,
            "group_screen_name": world.community.screen_name,
            "group_name": world.community.name,
            "admin_id": world.admin.id,
            "reader_ids": [user.id for user in world.readers()],
            "communities": self.communities(),
        }

    def state(self) -> dict[str, Any]:
        """Everything the stand-in holds, JSON-ready."""
        with self.lock:
            self._tick()
            world = self.world
            return {
                "community": snapshot.community_state(world.community),
                "communities": [snapshot.community_state(c) for c in world.communities.values()],
                "users": [
                    {"id": u.id, "first_name": u.first_name, "last_name": u.last_name}
                    for u in world.users.values()
                    if u.id < CROWD_BASE
                ],
                "posts": [snapshot.post_state(p) for p in world.posts.values()],
                "photos": [snapshot.photo_state(p) for p in world.photos.values()],
                "polls": [snapshot.poll_state(p) for p in world.polls.values()],
                "messages": [snapshot.message_state(m) for m in world.messages],
                "chats": [chats.members_state(world, chat) for chat in world.chats.values()],
                "button_presses": dict(world.button_presses),
                "events": len(self.events.all()),
                "calls": list(self._endpoint.calls),
                "rate_limits": self.limits.settings(),
                "faults": self.gate.state(),
            }

    def reset(self) -> None:
        """Forget posts, photos, comments, polls, messages and events; keep people and tokens."""
        with self.lock:
            self.world.clear()
            self.events.clear()
            self._endpoint.calls.clear()
            self.limits.clear()
            self.gate.clear()

    # -- communities -------------------------------------------------------------

    def add_community(
        self, name: str, screen_name: str | None = None, members: int = 0
    ) -> dict[str, Any]:
        """A new community run by the same admin (so the user token posts to it too), with its
        own community token and long poll; ``members`` is its member count (0: the admin only).
        Returns its group_id, community_token, screen_name and name."""
        with self.lock:
            community = self.world.add_community(str(name), screen_name)
            self.events.open(community.id)
            if _positive(members) > 1:
                self.set_members(community.id, members)
            return self._describe(community)

    def communities(self) -> list[dict[str, Any]]:
        """Every community (group_id, community_token, screen_name, name), the first first."""
        with self.lock:
            return [self._describe(c) for c in self.world.communities.values()]

    # -- counters --------------------------------------------------------------

    def add_views(self, post: str | int, count: int) -> int:
        """Add views to a post; returns the new total."""
        with self.lock:
            record = self._post(post)
            record.views += _positive(count)
            return record.views

    def add_likes(self, post: str | int, count: int) -> int:
        """Crowd readers like a post (like_add each); returns the new total."""
        with self.lock:
            record = self._post(post)
            for user_id in self.world.crowd(_positive(count), record.likes):
                audience.like(self.world, self.events, user_id, record)
            return len(record.likes)

    def add_reposts(self, post: str | int, count: int) -> int:
        """Crowd readers repost a post; returns the new total."""
        with self.lock:
            record = self._post(post)
            for user_id in self.world.crowd(_positive(count), record.reposts):
                audience.repost(self.world, user_id, record)
            return len(record.reposts)

    def add_comments(self, post: str | int, count: int) -> int:
        """Crowd readers comment on a post (wall_reply_new each); returns the new total."""
        with self.lock:
            record = self._post(post)
            authors = self.world.crowd(_positive(count), [c.from_id for c in record.comments])
            for index, user_id in enumerate(authors):
                text = audience.CROWD_COMMENTS[(len(record.comments) + index) % 6]
                audience.comment(self.world, self.events, record, user_id, text)
            return sum(not c.deleted for c in record.comments)

    def set_members(self, group_id: int, count: int) -> int:
        """Make the community have ``count`` members, adding or dropping crowd readers."""
        with self.lock:
            community = self._community(group_id)
            members = community.members
            named = [uid for uid in members if uid < CROWD_BASE]
            if count < len(named):
                raise ValueError(f"{len(named)} named readers are members; leave() them first")
            crowd = [uid for uid in members if uid >= CROWD_BASE][: count - len(named)]
            crowd += self.world.crowd(count - len(named) - len(crowd), crowd)
            community.members = named + crowd
            return len(community.members)

    def posts(self, group_id: int) -> list[dict[str, Any]]:
        """The community's posts with their counters, oldest first."""
        with self.lock:
            self._tick()
            owner_id = -self._community(group_id).id
            return [
                snapshot.post_state(p) for p in self.world.posts.values() if p.owner_id == owner_id
            ]

    def add_posts(
        self, count: int, group_id: int | None = None, text: str = "Запись из архива"
    ) -> list[int]:
        """``count`` posts the community published already (a long wall to read back), made
        without wall.post's daily limit; each text ends with its number. Returns their ids."""
        with self.lock:
            owner_id = -self._community(group_id).id
            created = []
            for number in range(1, _positive(count) + 1):
                record = audience.publish(
                    self.world,
                    self.events,
                    owner_id=owner_id,
                    from_id=owner_id,
                    created_by=self.world.admin.id,
                    text=f"{text} {number}",
                    attachments=[],
                    guid=None,
                    publish_date=None,
                )
                created.append(record.id)
            return created

    def post_as_admin(self, text: str, group_id: int | None = None, photo: bool = False) -> int:
        """An admin publishes a post on the community wall by hand, as the community (in
        VK's own interface, so no API call): wall_post_new with this text, and a photo of
        the admin's own if ``photo``. Returns the post id."""
        with self.lock:
            community = self._community(group_id)
            owner_id, admin = -community.id, community.admin_id
            attachments = (
                self.world.reader_media(admin, ["photo"], WALL_ALBUM_GROUP) if photo else []
            )
            record = audience.publish(
                self.world,
                self.events,
                owner_id=owner_id,
                from_id=owner_id,
                created_by=admin,
                text=str(text),
                attachments=attachments,
                guid=None,
                publish_date=None,
            )
            return record.id

    # -- the audience ------------------------------------------------------------

    def add_reader(self, first_name: str, last_name: str) -> int:
        """A new named reader (not yet a member); returns their id."""
        with self.lock:
            return self.world.add_user(first_name, last_name).id

    def comment(
        self,
        user_id: int,
        post: str | int,
        text: str,
        reply_to: int | None = None,
        attachments: list[str] | None = None,
    ) -> int:
        """A reader comments on a post (wall_reply_new), with ``attachments`` of their own
        ("photo", "video") if given; returns the comment id."""
        with self.lock:
            record = self._post(post)
            return audience.comment(
                self.world, self.events, record, user_id, text, reply_to, attachments
            ).id

    def edit_comment(self, comment_id: int, text: str) -> None:
        """A reader edits their comment (wall_reply_edit)."""
        with self.lock:
            audience.edit_comment(self.world, self.events, comment_id, text)

    def like(self, user_id: int, post: str | int) -> None:
        """A reader likes a post (like_add)."""
        with self.lock:
            audience.like(self.world, self.events, user_id, self._post(post))

    def unlike(self, user_id: int, post: str | int) -> None:
        """A reader takes their like back (like_remove)."""
        with self.lock:
            audience.unlike(self.world, self.events, user_id, self._post(post))

    def repost(self, user_id: int, post: str | int) -> None:
        """A reader shares a post."""
        with self.lock:
            audience.repost(self.world, user_id, self._post(post))

    def vote(self, user_id: int, poll_id: int, answer_ids: list[int]) -> None:
        """A reader votes in a poll (poll_vote_new per chosen answer)."""
        with self.lock:
            poll = self.world.polls.get(poll_id)
            if poll is None:
                raise KeyError(f"no poll {poll_id}")
            audience.vote(self.world, self.events, user_id, poll, list(answer_ids))

    def join(self, user_id: int, group_id: int | None = None) -> None:
        """A reader joins a community (group_join)."""
        with self.lock:
            audience.join(self.world, self.events, user_id, self._community(group_id).id)

    def leave(self, user_id: int, group_id: int | None = None) -> None:
        """A reader leaves a community (group_leave)."""
        with self.lock:
            audience.leave(self.world, self.events, user_id, self._community(group_id).id)

    # -- the network ---------------------------------------------------------------

    def events_log(self, group_id: int | None = None) -> list[dict[str, Any]]:
        """Bots Long Poll events so far: of one community, or of all (community by community)."""
        with self.lock:
            return self.events.all(None if group_id is None else self._community(group_id).id)

    def expire_longpoll_key(self, failed: int = 2, group_id: int | None = None) -> None:
        """Retire a community's long-poll key: checks with it answer {"failed": failed}."""
        if failed not in (2, 3):
            raise ValueError("failed must be 2 or 3")
        with self.lock:
            self.events.log(self._community(group_id).id).expire_key(failed)

    def set_token_rights(
        self, token: str, give: list[str] | None = None, take: list[str] | None = None
    ) -> list[str]:
        """Give or take rights of a user or community token ("wall", "photos", "messages",
        "manage"…); returns the rights it has now."""
        with self.lock:
            return methods.permissions.set_token_rights(self.world, token, give, take)

    def set_long_poll(
        self,
        enabled: bool | None = None,
        api_version: str | None = None,
        on: list[str] | None = None,
        off: list[str] | None = None,
        group_id: int | None = None,
    ) -> dict[str, Any]:
        """A community's Bots Long Poll settings: on or off, its version, event types."""
        with self.lock:
            community = self._community(group_id)
            return methods.permissions.set_long_poll(community, enabled, api_version, on, off)

    def set_community_messages(self, enabled: bool, group_id: int | None = None) -> bool:
        """Switch a community's messages on or off (groups.getById's can_message)."""
        with self.lock:
            self._community(group_id).messages_enabled = bool(enabled)
            return bool(enabled)

    def set_community_wall_posts(self, allowed: bool) -> bool:
        """Whether wall.post takes a community token (else VK's error 27, as its schema
        says); returns the setting."""
        with self.lock:
            self.world.community_wall_posts = bool(allowed)
            return self.world.community_wall_posts

    def fail_next(self, method: str, code: int, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` ("*" for any) fail with VK error ``code``."""
        with self.lock:
            self.faults.queued[method].extend([code] * _positive(times))

    def set_rate_limits(
        self,
        enabled: bool = True,
        user_per_second: int = USER_PER_SECOND,
        community_per_second: int = COMMUNITY_PER_SECOND,
    ) -> dict[str, Any]:
        """VK's per-token limits, answered with error 6 (on by default; service tokens count
        as user tokens); returns the settings."""
        with self.lock:
            return self.limits.configure(enabled, user_per_second, community_per_second)

    def set_rate_limiting(self, enabled: bool) -> dict[str, Any]:
        """Switch the limits on (at VK's figures) or off; kept for older callers."""
        return self.set_rate_limits(enabled)

    def set_faults(self, rules: str | list[FaultRule], seed: int | None = None) -> dict[str, Any]:
        """Transport faults (see sandbox.vk.faulting): a ``METHOD:KIND:RATE[:DELAY],...`` spec
        or FaultRule objects, optionally re-seeded; "" switches them off. Returns the rules."""
        return self.gate.set_rules(rules, seed)

    def faults_state(self) -> dict[str, Any]:
        """The fault rules and every fault that fired (method, kind, and what was done)."""
        return self.gate.state()

    def shift_clock(self, seconds: float) -> int:
        """Move the stand-in's time forward (publishes due posts, ages guids, slides the
        rate-limit and flood windows); returns now."""
        with self.lock:
            self._shift += seconds
            self._tick()
            return self.world.now()

    # -- internals -------------------------------------------------------------------

    def _now(self) -> float:
        return self._base_clock() + self._shift

    def _tick(self) -> None:
        audience.publish_due(self.world, self.events)

    def _community(self, group_id: int | str | None) -> Community:
        if group_id is None:
            return self.world.community
        community = self.world.find_community(group_id)
        if community is None:
            raise KeyError(f"no community {group_id}; there are {list(self.world.communities)}")
        return community

    def _describe(self, community: Community) -> dict[str, Any]:
        return {
            "group_id": community.id,
            "community_token": self.world.group_token(community.id),
            "screen_name": community.screen_name,
            "name": community.name,
        }

    def _post(self, post: str | int) -> Post:
        if isinstance(post, int) or str(post).isdigit():
            key = (-self.world.community.id, int(post))
        else:
            owner, _, post_id = str(post).removeprefix("wall").partition("_")
            key = (int(owner), int(post_id))
        record = self.world.post(*key)
        if record is None:
            raise KeyError(f"no post {post}")
        return record


def _positive(count: int) -> int:
    if int(count) < 0:
        raise ValueError("count must not be negative")
    return int(count)
