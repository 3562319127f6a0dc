"""What the VK stand-in remembers: people, communities, posts, photos, comments, polls, chats.

Plain records plus id counters; no HTTP and no VK JSON here (``render`` turns records into
API objects). Everything is created deterministically from a seed, so two stand-ins with the
same seed hand out the same ids, names and tokens. The first community comes from the seed as
it always did; each further one (``add_community``) from the seed and its position, so adding
communities never changes the first one's ids or tokens.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FIRST_NAMES = (
    "Анна", "Мария", "Ольга", "Ирина", "Елена", "Дмитрий", "Алексей", "Сергей", "Никита", "Павел",
    "Anna", "Maria", "Olga", "Ivan", "Mark", "Sofia", "Lev", "Ekaterina", "Artem", "Polina",
)  # fmt: skip
LAST_NAMES = (
    "Иванова", "Смирнова", "Кузнецова", "Петров", "Соколов", "Попов", "Лебедева", "Новиков",
    "Morozova", "Volkov", "Fedorova", "Orlov", "Belova", "Zaitsev", "Pavlova", "Semenov",
)  # fmt: skip
LIBRARIES = (
    ("Центральная городская библиотека им. А. С. Пушкина", "cgb_pushkin"),
    ("Детская библиотека «Радуга»", "raduga_library"),
    ("Библиотека семейного чтения № 5", "bsch5"),
    ("Районная библиотека им. М. Ю. Лермонтова", "lermontov_lib"),
)
# Synthetic readers (added by counters such as add_likes) get ids from here upward.
CROWD_BASE = 700_000_000
NAMED_READERS = 8
USER_SCOPES = frozenset({"wall", "photos", "groups", "stats", "offline"})
# A community token's rights as the README tells a librarian to create it (messages, wall,
# manage) plus photos and docs; sandbox.vk.methods.permissions gives and takes them.
GROUP_SCOPES = frozenset({"messages", "wall", "manage", "photos", "docs"})
WALL_ALBUM_GROUP = -14
WALL_ALBUM_USER = -7
MESSAGE_ALBUM_USER = -3  # the album of photos a person sent in messages
READER_MEDIA_URL = "https://sun9-1.userapi.com"  # readers' files: only their addresses
# A chat's peer_id is this plus its chat_id; chat_ids count from 1 in each community.
CHAT_PEER_BASE = 2_000_000_000


@dataclass
class User:
    """A VK person: the community admin or a reader."""

    id: int
    first_name: str
    last_name: str


@dataclass
class Community:
    """A VK community (group) with its ordered member list."""

    id: int
    name: str
    screen_name: str
    admin_id: int
    members: list[int] = field(default_factory=list)
    first_post_id: int = 1
    # Manage → API usage: Long Poll API on, its version, event types switched off; messages.
    long_poll_enabled: bool = True
    long_poll_version: str = "5.199"
    long_poll_off: set[str] = field(default_factory=set)
    messages_enabled: bool = True


@dataclass
class Photo:
    """An uploaded and saved photo."""

    id: int
    owner_id: int
    album_id: int
    user_id: int
    date: int
    width: int
    height: int
    data: bytes
    extension: str
    base_url: str
    text: str = ""
    access_key: str = ""


@dataclass
class Video:
    """A video a reader has (the stand-in keeps no file: only what VK tells about it)."""

    id: int
    owner_id: int
    date: int
    title: str
    access_key: str
    duration: int = 15
    width: int = 1280
    height: int = 720


@dataclass
class Comment:
    """A comment under a wall post."""

    id: int
    owner_id: int
    post_id: int
    from_id: int
    date: int
    text: str
    reply_to_comment: int | None = None
    reply_to_user: int | None = None
    likes: list[int] = field(default_factory=list)
    deleted: bool = False
    # what the reader attached: ("photo", (owner_id, id)) or ("video", (owner_id, id))
    attachments: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Post:
    """A wall post; counters are lists of who acted, so lists and counts agree."""

    owner_id: int
    id: int
    from_id: int
    created_by: int
    date: int
    text: str
    attachments: list[tuple[str, Any]]
    created_at: float
    guid: str | None = None
    postponed: bool = False
    views: int = 0
    likes: list[int] = field(default_factory=list)
    reposts: list[int] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    deleted: bool = False
    comments_closed: bool = False

    @property
    def ref(self) -> str:
        """The post as VK writes it in links and wall.getById: ``-GROUP_ID``."""
        return f"{self.owner_id}_{self.id}"


@dataclass
class PollAnswer:
    """One option of a poll."""

    id: int
    text: str


@dataclass
class Poll:
    """A poll; votes map a voter to the answer ids they chose."""

    id: int
    owner_id: int
    author_id: int
    created: int
    question: str
    answers: list[PollAnswer]
    anonymous: bool = False
    multiple: bool = False
    end_date: int = 0
    disable_unvote: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Chat:
    """A group chat (conversation) the community's bot is a member of."""

    group_id: int
    peer_id: int
    title: str
    owner_id: int
    members: list[int] = field(default_factory=list)
    # user id -> the date they joined, as getConversationMembers reports it
    joined: dict[int, int] = field(default_factory=dict)


@dataclass
class Message:
    """A message of a community: in a dialog with a reader, or in a group chat."""

    id: int
    peer_id: int
    from_id: int
    date: int
    text: str
    conversation_message_id: int
    out: bool
    payload: str | None = None
    keyboard: dict[str, Any] | None = None
    random_id: int = 0
    group_id: int = 0
    reply_to: Message | None = None
    update_time: int = 0
    attachments: list[tuple[str, Any]] = field(default_factory=list)  # as Comment's


@dataclass
class Upload:
    """A file the upload server received and photos.saveWallPhoto has not saved yet."""

    data: bytes
    width: int
    height: int
    extension: str


@dataclass
class Doc:
    """A document (docs_doc): uploaded for a message by docs.getMessagesUploadServer and
    saved by docs.save."""

    id: int
    owner_id: int
    title: str
    data: bytes
    date: int
    base_url: str = ""  # where the stand-in serves it: a reader's file has a ``url``

    @property
    def extension(self) -> str:
        """What follows the title's last dot, as VK's ``ext``."""
        return self.title.rpartition(".")[2].lower() if "." in self.title else ""


@dataclass(frozen=True)
class Token:
    """Who a token speaks for: kind is "user", "group" or "service"; scopes of a user token."""

    kind: str
    owner: int
    scopes: frozenset[str] = frozenset()


class World:
    """Everything the stand-in holds; callers serialise access with the stand-in's lock."""

    def __init__(self, seed: int, clock: Callable[[], float] = time.time) -> None:
        self.seed = seed
        self.clock = clock
        rng = random.Random(seed)
        name, screen_name = LIBRARIES[seed % len(LIBRARIES)]
        self.admin = User(rng.randint(100_000_000, 199_999_999), *self._name(rng))
        group_id = rng.randint(200_000_000, 229_999_999)
        # The first community: what single-community callers mean by "the community".
        self.community = Community(group_id, name, screen_name, self.admin.id)
        self.communities: dict[int, Community] = {group_id: self.community}
        self.users: dict[int, User] = {self.admin.id: self.admin}
        for index in range(NAMED_READERS):
            user = User(rng.randint(300_000_000, 399_999_999) + index, *self._name(rng))
            self.users[user.id] = user
        readers = [uid for uid in self.users if uid != self.admin.id]
        self.community.members = [self.admin.id, *readers[: NAMED_READERS // 2]]
        self.tokens = {
            _token(rng, "user"): Token("user", self.admin.id, USER_SCOPES),
            _token(rng, "group"): Token("group", group_id, GROUP_SCOPES),
            _token(rng, "service"): Token("service", 0),
            # What VK now issues by default: a user token without the "wall" scope.
            _token(rng, "user"): Token("user", self.admin.id, USER_SCOPES - {"wall"}),
        }
        # (community, reader) pairs where the reader wrote first; only they get its messages.
        self.messaging_allowed: set[tuple[int, int]] = set()
        # (community, peer_id) -> the chat; chats stay on reset(), like communities.
        self.chats: dict[tuple[int, int], Chat] = {}
        self.first_post_id = rng.randint(100, 999)
        self.community.first_post_id = self.first_post_id
        self.first_photo_id = rng.randint(457_239_000, 457_239_999)
        self.first_poll_id = rng.randint(700_000_000, 799_999_999)
        self.upload_server = rng.randint(500_000, 899_999)
        self.upload_secret = f"{rng.getrandbits(64):016x}"
        # Whether wall.post takes a community token (owner_id=-group, from_group=1): the
        # schema says user tokens only (error 27), reports of 2025-2026 say text posts work.
        self.community_wall_posts = False
        self.clear()

    def clear(self) -> None:
        """Forget published things; keep people, tokens and the community."""
        self.posts: dict[tuple[int, int], Post] = {}
        # The posts still postponed: each API call publishes those due, and a world of
        # 100,000 posts must not be walked for that (VK's answer time does not grow so).
        self.postponed: dict[tuple[int, int], Post] = {}
        self.photos: dict[tuple[int, int], Photo] = {}
        self.polls: dict[int, Poll] = {}
        self.videos: dict[tuple[int, int], Video] = {}
        self.messages: list[Message] = []
        # (community, peer_id) -> the last conversation_message_id given out there
        self.last_cmid: dict[tuple[int, int], int] = {}
        self.uploads: dict[str, Upload] = {}
        self.doc_uploads: dict[str, tuple[bytes, str]] = {}  # file key -> (data, filename)
        self.docs: dict[tuple[int, int], Doc] = {}
        self.button_presses: dict[str, dict[str, Any]] = {}
        # Post ids run per wall, as in VK.
        self.next_post_ids: dict[int, int] = {}
        self.next_photo_id = self.first_photo_id
        self.next_poll_id = self.first_poll_id
        self.next_comment_id = 1
        self.next_message_id = 1

    def now(self) -> int:
        """The stand-in's current Unix time."""
        return int(self.clock())

    # -- communities -------------------------------------------------------

    def add_community(self, name: str, screen_name: str | None = None) -> Community:
        """A new community administered by the admin, with its own community token.

        Ids and the token come from the seed and the community's position, so the n-th
        community of a seed is the same whichever way it was added.
        """
        rng = random.Random(f"vk-community:{self.seed}:{len(self.communities)}")
        group_id = rng.randint(230_000_000, 259_999_999)
        while group_id in self.communities:
            group_id += 1
        screen_name = screen_name or f"club{group_id}"
        if not name.strip():
            raise ValueError("a community needs a name")
        if self.find_community(screen_name) is not None:
            raise ValueError(f"the screen name {screen_name!r} is taken")
        community = Community(group_id, name, screen_name, self.admin.id, [self.admin.id])
        community.first_post_id = rng.randint(100, 999)
        self.communities[group_id] = community
        self.tokens[_token(rng, "group")] = Token("group", group_id, GROUP_SCOPES)
        return community

    def find_community(self, raw: str | int) -> Community | None:
        """A community by id (``123``, ``-123``, ``club123``) or screen name."""
        text = str(raw).strip().lstrip("-")
        number = text.removeprefix("club").removeprefix("public")
        if number.isdigit() and int(number) in self.communities:
            return self.communities[int(number)]
        return next((c for c in self.communities.values() if c.screen_name == text), None)

    def group_token(self, group_id: int) -> str:
        """The community token of a community."""
        return next(
            value
            for value, token in self.tokens.items()
            if token.kind == "group" and token.owner == group_id
        )

    def admin_of(self, user_id: int, group_id: int) -> bool:
        """Whether ``user_id`` administers the community ``group_id``."""
        community = self.communities.get(group_id)
        return community is not None and community.admin_id == user_id

    # -- people ------------------------------------------------------------

    def token_of(self, kind: str) -> str:
        """The main seeded token of a kind ("user", "group", "service")."""
        return next(value for value, token in self.tokens.items() if token.kind == kind)

    def limited_user_token(self) -> str:
        """The admin's user token that lacks the "wall" scope."""
        return next(
            value
            for value, token in self.tokens.items()
            if token.kind == "user" and "wall" not in token.scopes
        )

    def readers(self) -> list[User]:
        """The named readers (everyone but the admin), in creation order."""
        return [user for user in self.users.values() if user.id != self.admin.id]

    def user(self, user_id: int) -> User:
        """A known person, or a crowd reader made up on first sight."""
        if user_id not in self.users:
            self.users[user_id] = User(
                user_id, *self._name(random.Random(self.seed * 31 + user_id))
            )
        return self.users[user_id]

    def add_user(self, first_name: str, last_name: str) -> User:
        """A new named reader with the next free id."""
        user_id = max(uid for uid in self.users if uid < CROWD_BASE) + 1
        self.users[user_id] = User(user_id, first_name, last_name)
        return self.users[user_id]

    def crowd(self, count: int, exclude: list[int]) -> list[int]:
        """``count`` crowd reader ids not in ``exclude``, lowest first."""
        taken = set(exclude)
        found: list[int] = []
        candidate = CROWD_BASE
        while len(found) < count:
            if candidate not in taken:
                found.append(self.user(candidate).id)
            candidate += 1
        return found

    # -- records -----------------------------------------------------------

    def post(self, owner_id: int, post_id: int) -> Post | None:
        """A live (not deleted) post."""
        post = self.posts.get((owner_id, post_id))
        return post if post and not post.deleted else None

    def new_post_id(self, owner_id: int) -> int:
        """The next post id of a wall (each wall counts on its own)."""
        community = self.communities.get(-owner_id)
        start = community.first_post_id if community else self.first_post_id
        post_id = self.next_post_ids.get(owner_id, start)
        self.next_post_ids[owner_id] = post_id + 1
        return post_id

    def new_photo_id(self) -> int:
        """The next photo id."""
        self.next_photo_id += 1
        return self.next_photo_id - 1

    def reader_media(self, user_id: int, kinds: list[str], album_id: int) -> list[tuple[str, Any]]:
        """Photos / videos of a reader's own (``kinds``: "photo" or "video"), to attach to a
        comment or a message; each has an access key, as VK gives media sent by people."""
        self.user(user_id)
        made: list[tuple[str, Any]] = []
        for kind in kinds:
            key = hashlib.sha256(f"{self.seed}:{kind}:{len(made)}:{self.now()}".encode())
            access_key = key.hexdigest()[:18]
            if kind == "photo":
                photo = Photo(
                    id=self.new_photo_id(), owner_id=user_id, album_id=album_id,
                    user_id=user_id, date=self.now(), width=800, height=600, data=b"",
                    extension="jpg", base_url=READER_MEDIA_URL, access_key=access_key,
                )  # fmt: skip
                self.photos[(user_id, photo.id)] = photo
                made.append(("photo", (user_id, photo.id)))
            elif kind == "video":
                video_id = self.first_photo_id + 10_000 + len(self.videos)
                video = Video(video_id, user_id, self.now(), "Видео", access_key)
                self.videos[(user_id, video_id)] = video
                made.append(("video", (user_id, video_id)))
            else:
                raise ValueError(f"a reader attaches a photo or a video, not {kind!r}")
        return made

    def new_poll_id(self) -> int:
        """The next poll id."""
        self.next_poll_id += 1
        return self.next_poll_id - 1

    def new_comment_id(self) -> int:
        """The next comment id (one sequence per wall, as in VK)."""
        self.next_comment_id += 1
        return self.next_comment_id - 1

    def new_message_id(self) -> int:
        """The next community message id."""
        self.next_message_id += 1
        return self.next_message_id - 1

    def upload_hash(self, owner_id: int, payload: str) -> str:
        """The hash the upload server signs a photo payload with."""
        text = f"{self.upload_secret}:{owner_id}:{payload}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @staticmethod
    def _name(rng: random.Random) -> tuple[str, str]:
        return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _token(rng: random.Random, kind: str) -> str:
    return f"vk1.a.sandbox-{kind}-" + "".join(rng.choices("abcdef0123456789", k=40))
