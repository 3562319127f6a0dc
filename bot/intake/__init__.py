"""Update intake: what readers do, read from the bots' own update streams into the database.

``INTAKES`` maps each network to the builder of its readers (``Wiring`` -> readers); the
readers' modules are imported when a bot is built, so ``validate`` and ``plan`` load no
network client. ``build_intakes`` loops over the registry's networks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import sqlite_utils

from core import networks
from core.clock import Clock
from core.config import Config, library_tokens
from core.platform import Platform

if TYPE_CHECKING:
    from bot.admin.desk import AdminDesk
    from bot.alerts import Alerts
    from bot.contest.entries import ContestBook
    from bot.giveaway.engine import GiveawayEngine
    from bot.quiz.answers import AnswerBook


class Intake(Protocol):
    """An update reader (or the webhook server feeding readers): runs until ``stop``."""

    async def run(self, stop: asyncio.Event) -> None:
        """Read updates until ``stop`` is set; errors are logged, never raised."""
        ...


@dataclass(frozen=True)
class Wiring:
    """What every network's readers are built from."""

    db: sqlite_utils.Database
    config: Config
    platforms: Mapping[tuple[str, str], Platform]
    env: Mapping[str, str] | None = None
    quiz: AnswerBook | None = None
    notify: Callable[[str, str], Awaitable[None]] | None = None
    clock: Clock | None = None
    wait: int = 25  # how long a long poll waits for updates (seconds)
    giveaway: GiveawayEngine | None = None
    contest: ContestBook | None = None
    alerts: Alerts | None = None  # told when a platform refuses a token
    admin: AdminDesk | None = None  # the admin chat: admins' private messages go there


def telegram_intakes(w: Wiring) -> list[Any]:
    """One reader per Telegram bot (libraries sharing a bot share its reader)."""
    from bot.intake.telegram import TelegramIntake
    from bot.platforms.telegram import TelegramPlatform

    bots: dict[int, tuple[TelegramPlatform, list]] = {}
    for library in w.config.libraries:
        platform = w.platforms.get((library.id, "telegram"))
        if isinstance(platform, TelegramPlatform):
            bots.setdefault(id(platform), (platform, []))[1].append(library)
    return [
        TelegramIntake(
            w.db,
            p.bot,
            libraries,
            clock=w.clock,
            poll_timeout=w.wait,
            quiz=w.quiz,
            notify=w.notify,
            language=w.config.language,
            alerts=w.alerts,
            admin=w.admin,
            giveaway=w.giveaway,
            contest=w.contest,
            reader=p.reader,
        )
        for p, libraries in bots.values()
    ]


def vk_intakes(w: Wiring) -> list[Any]:
    """One reader per VK community with a community token."""
    from bot.intake.vk import VkIntake

    intakes: list[Any] = []
    for library in w.config.libraries:
        tokens = library_tokens(library, w.env)
        if library.vk and tokens.vk_community:
            intakes.append(
                VkIntake(
                    w.db,
                    library.id,
                    library.vk.group_id,
                    tokens.vk_community,
                    library.vk.api_url,
                    clock=w.clock,
                    wait=w.wait,
                    quiz=w.quiz,
                    contest=w.contest,
                    alerts=w.alerts,
                    token_env=library.vk.community_token_env or "",
                    admin=w.admin,
                )
            )
    return intakes


def max_intakes(w: Wiring) -> list[Any]:
    """One reader per MAX bot token, and the webhook server if a library takes webhooks."""
    from bot.intake.max_webhook import max_readers

    return max_readers(w)


INTAKES: Mapping[str, Callable[[Wiring], list[Any]]] = {
    "telegram": telegram_intakes,
    "vk": vk_intakes,
    "max": max_intakes,
}


def build_intakes(w: Wiring) -> list[Any]:
    """Every network's readers, in the registry's order."""
    return [intake for name in networks.names() if name in INTAKES for intake in INTAKES[name](w)]
