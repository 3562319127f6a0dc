"""Shared fixtures: config files written to a temporary folder, a fake platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.intake.waits import release_threads
from core import messages
from core.errors import PlatformError
from core.platform import FiguresPart, Post, PostMetrics, PostRef, Published

TG_ENV, VK_USER_ENV, VK_COMMUNITY_ENV = (
    "TEST_TG_TOKEN",
    "TEST_VK_USER_TOKEN",
    "TEST_VK_COMMUNITY_TOKEN",
)
MAX_ENV = "TEST_MAX_TOKEN"


@pytest.fixture(autouse=True)
def _default_language_each_test():
    """Each test starts in the default language (Russian): a language a CLI command chose
    (``messages.set_language``) would otherwise stay for the tests after it."""
    with messages.use_language(messages.DEFAULT_LANGUAGE):
        yield


@pytest.fixture(autouse=True)
def _no_reader_threads_left():
    """Each test ends with the shared long-poll threads let go, as the bot does at stop:
    an idle reader thread of one test must not be another test's (forking needs none)."""
    yield
    release_threads()


def write_config(
    folder: Path,
    *,
    telegram_url: str = "http://127.0.0.1:9/bot",
    vk_url: str = "http://127.0.0.1:9/method/",
    channel: str = "-1001000000001",
    group_id: int = 1,
    extra_schedule: str = "",
    timezone: str = "Europe/Moscow",
    language: str = "ru",
    snapshots: str = '["1h"]',
    telegram_extra: str = "",
    vk_extra: str = "",
    max_section: str = "",
) -> Path:
    """A valid one-library config in ``folder``; returns its path."""
    (folder / "events").mkdir(exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        f"""storage = "bibliobot.db"
language = "{language}"
events_dir = "events"

[schedule]
misfire_grace = "15m"
snapshot_after = {snapshots}
community_snapshot_at = "off"
{extra_schedule}

[[library]]
id = "central"
name = "Центральная библиотека"
timezone = "{timezone}"
admins = [42]

[library.telegram]
token_env = "{TG_ENV}"
chats = [{channel}]
api_url = "{telegram_url}"
{telegram_extra}

[library.vk]
group_id = {group_id}
user_token_env = "{VK_USER_ENV}"
community_token_env = "{VK_COMMUNITY_ENV}"
api_url = "{vk_url}"
requests_per_second = 3
{vk_extra}
{max_section}
""",
        encoding="utf-8",
    )
    return path


def max_table(
    api_url: str, channel: int | str, quiz_chat: int | str | None = None, extra: str = ""
) -> str:
    """A ``[library.max]`` section for ``write_config(max_section=...)`` (token in MAX_ENV)."""
    chat = f"quiz_chat = {quiz_chat}\n" if quiz_chat is not None else ""
    return (
        f'[library.max]\ntoken_env = "{MAX_ENV}"\nchannels = [{channel}]\n'
        f'api_url = "{api_url}"\n{chat}{extra}\n'
    )


def write_event(
    folder: Path, name: str = "club", at: str = "2026-12-05T18:00:00", **fields: str
) -> Path:
    """An announcement file in ``folder/events``; ``fields`` override TOML lines verbatim."""
    lines = {
        "kind": '"announcement"',
        "library": '"central"',
        "title": '"Книжный клуб"',
        "at": at,
        "networks": '["telegram", "vk"]',
        "text": '"Приходите на встречу клуба!"',
    }
    lines.update(fields)
    body = "\n".join(f"{k} = {v}" for k, v in lines.items() if v is not None)
    path = folder / "events" / f"{name}.toml"
    path.write_text(body + "\n", encoding="utf-8")
    return path


@dataclass
class FakePlatform:
    """A scripted platform: ``outcomes`` are raised in order, then posts succeed."""

    network: str
    outcomes: list[PlatformError] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    members: int = 100

    async def publish(self, post: Post) -> Published:
        if post.on_dispatch:
            post.on_dispatch()
        if self.outcomes:
            raise self.outcomes.pop(0)
        self.posts.append(post)
        n = len(self.posts)
        return Published(str(n), f"https://example.test/{self.network}/{n}")

    async def read_figures(self, posts: list[PostRef], communities: list[str], polls=()):
        counters = {
            p: PostMetrics(p.remote_id, views=10, likes=2, reposts=1, comments=0) for p in posts
        }
        members = dict.fromkeys(communities, self.members)
        yield FiguresPart(counters=counters, reach=dict.fromkeys(posts), members=members)

    async def audience_size(self, target: str) -> int:
        return self.members

    async def close(self) -> None:
        return None


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path)
