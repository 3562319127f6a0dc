"""The admin chat's front desk: who may ask, about which library, and the audit of it all.

The intakes hand over what an admin sends in a private chat with the bot (``Inbound``,
with the network's ``Chat`` to answer through) after their batch is stored; anyone who is
not an admin of a library on that network is never handed over, so they get nothing and
leave no trace. The desk works in a task of its own, so a slow command (a report, a
collect) does not hold the network's update reading back; an admin's messages are
answered in the order they came.

Which library: an admin of one library acts on it; an admin of several names one
(``/plan central``, an event id ``central/club``, or a file's caption). Naming a library
one does not administer is refused, and audited. Each action is one row of
``admin_audit`` (at, network, user id, library, command, arguments, outcome).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.admin import commands, uploads
from bot.admin.chats import Chat
from bot.admin.model import Button, Inbound, is_admin_press
from core import messages
from core.clock import Clock, SystemClock
from core.config import Config, LibraryConfig
from core.errors import BibliobotError
from core.platform import Platform
from core.storage import to_db

log = logging.getLogger(__name__)

TEXT_LIMIT = 3500  # characters per message: below every network's limit (MAX: 4000)


@dataclass(frozen=True)
class Request:
    """One command of an admin, on one of their libraries."""

    inbound: Inbound
    chat: Chat
    library: LibraryConfig
    command: str
    args: tuple[str, ...]


def network_admins(library: LibraryConfig, network: str) -> tuple[int, ...]:
    """The user ids of ``library``'s admins on ``network`` (Telegram's are the library's)."""
    if network == "telegram":
        return library.admins if library.telegram is not None else ()
    settings = library.settings(network)
    return tuple(getattr(settings, "admins", ())) if settings is not None else ()


class AdminDesk:
    """Answers the libraries' admins in their private chats with the bot, on every network."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        platforms: Mapping[tuple[str, str], Platform],
        clock: Clock | None = None,
        *,
        replan: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.platforms = platforms
        self.clock = clock or SystemClock()
        self.replan = replan  # re-arms the runner's jobs after a cancel, pause or resume
        # Loads the events folder into the plan at once after an upload is confirmed
        # (the running bot's refresh); without it the next refresh does.
        self.reload: Callable[[], Awaitable[None]] | None = None
        self._admins: dict[tuple[str, int], tuple[LibraryConfig, ...]] = {}
        for library in config.libraries:
            for network in library.networks:
                for user in network_admins(library, network):
                    key = (network, int(user))
                    self._admins[key] = (*self._admins.get(key, ()), library)
        self._work: asyncio.Task | None = None  # the chain of batches being answered

    # -- who ------------------------------------------------------------------------

    def libraries_of(self, network: str, user_id: int) -> tuple[LibraryConfig, ...]:
        """The libraries ``user_id`` is an admin of on ``network``."""
        return self._admins.get((network, int(user_id)), ())

    def is_admin(self, network: str, user_id: int) -> bool:
        """Whether ``user_id`` is an admin of some library on ``network``."""
        return (network, int(user_id)) in self._admins

    @staticmethod
    def is_press(data: object) -> bool:
        """Whether a button's callback data is the admin chat's."""
        return is_admin_press(data)

    # -- taking work from the intakes --------------------------------------------------

    def serve(self, batch: Sequence[tuple[Inbound, Chat]]) -> None:
        """Answer a stored batch's admin messages, after those of earlier batches."""
        if not batch:
            return
        before = self._work

        async def chain() -> None:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            for inbound, chat in batch:
                await self.take(inbound, chat)

        self._work = asyncio.ensure_future(chain())

    async def idle(self) -> None:
        """Wait until every admin message handed over so far is answered."""
        while self._work is not None and not self._work.done():
            await asyncio.gather(self._work, return_exceptions=True)

    async def take(self, inbound: Inbound, chat: Chat) -> None:
        """One admin message or button press: answered, audited; errors logged, never raised."""
        mine = self.libraries_of(inbound.network, inbound.user_id)
        if not mine:
            return  # not an admin here: nothing, not even an audit row
        language = self.config.language
        with messages.use_language(language):
            try:
                if inbound.press is not None:
                    await uploads.press(self, inbound, chat, mine)
                elif inbound.file is not None:
                    await uploads.received(self, inbound, chat, mine)
                else:
                    await self._command(inbound, chat, mine)
            except Exception:
                log.exception("admin chat: %s message not answered", inbound.network)

    async def _command(self, inbound: Inbound, chat: Chat, mine: tuple[LibraryConfig, ...]) -> None:
        words = inbound.text.split()
        head = words[0] if words else ""
        name = commands.command_of(head)
        args = tuple(words[1:])
        if name is None:
            name = "help" if not head.startswith("/") else "unknown"
        library, args, refusal = self.choose(mine, name, args)
        if library is None:
            await self.say(chat, inbound.user_id, refusal)
            self.audit(inbound, "", name, args, "refused: no library chosen")
            return
        request = Request(inbound, chat, library, name, args)
        try:
            outcome = await commands.HANDLERS[name](self, request)
        except BibliobotError as exc:
            log.warning("admin chat: /%s of %s failed: %s", name, library.id, exc)
            await self.say(chat, inbound.user_id, messages.text("admin.failed", reason=reason(exc)))
            outcome = f"failed: {type(exc).__name__}"
        self.audit(inbound, library.id, name, args, outcome)

    def choose(
        self, mine: tuple[LibraryConfig, ...], command: str, args: tuple[str, ...]
    ) -> tuple[LibraryConfig | None, tuple[str, ...], str]:
        """The library a command is about, the arguments left, and the refusal if none."""
        ids = {lib.id for lib in mine}
        named = [a for a in args if self.config.library(_library_part(a)) is not None]
        for word in named:
            wanted = _library_part(word)
            if wanted not in ids:
                return None, args, self._text_not_yours(wanted, mine)
        if named:
            library = self.config.library(_library_part(named[0]))
            rest = tuple(a for a in args if a != named[0] or "/" in a)
            return library, rest, ""
        if len(mine) == 1 or command in ("help", "unknown"):
            return mine[0], args, ""
        example = mine[0].id
        return (
            None,
            args,
            messages.text(
                "admin.choose_library",
                libraries=", ".join(sorted(ids)),
                command=command,
                example=example,
            ),
        )

    def _text_not_yours(self, wanted: str, mine: tuple[LibraryConfig, ...]) -> str:
        return messages.text(
            "admin.not_yours", library=wanted, libraries=", ".join(lib.id for lib in mine)
        )

    def chat(self, network: str, library_id: str, handle: Any) -> Chat:
        """How to answer on ``network``: ``handle`` is the intake's own client (Telegram:
        the bot; VK: the community token's call; MAX: the bot's client); plain text goes
        through ``library_id``'s adapter."""
        from bot.admin.chats import MaxChat, TelegramChat, VkChat

        platform = self.platforms[(library_id, network)]
        kinds: dict[str, Callable[[Any, Platform], Chat]] = {
            "telegram": TelegramChat,
            "vk": VkChat,
            "max": MaxChat,
        }
        return kinds[network](handle, platform)

    def changed(self) -> None:
        """The plan or a library's pause changed here: the runner's jobs follow at once."""
        if self.replan is not None:
            self.replan()

    async def telegram_menu(self, bot: Any, libraries: Sequence[LibraryConfig]) -> int:
        """The command menu in each admin's private chat with this bot (``setMyCommands``
        scoped to that chat); returns how many menus were set. An admin who never opened
        the chat cannot get one yet: logged, and the bot goes on."""
        from telegram import BotCommand, BotCommandScopeChat
        from telegram.error import TelegramError

        with messages.use_language(self.config.language):
            menu = [BotCommand(name, messages.text(f"admin.menu_{name}")) for name in commands.MENU]
        admins = sorted({user for lib in libraries for user in network_admins(lib, "telegram")})
        done = 0
        for user in admins:
            try:
                await bot.set_my_commands(menu, scope=BotCommandScopeChat(user))
                done += 1
            except TelegramError as exc:
                log.warning("Telegram: no command menu for admin %s: %s", user, exc.message)
        return done

    # -- answering and the audit --------------------------------------------------------

    async def say(
        self, chat: Chat, user_id: int, text: str, buttons: Sequence[Button] = ()
    ) -> None:
        """Send ``text`` in pieces the network takes (the buttons under the last one)."""
        pieces = split_text(text)
        for number, piece in enumerate(pieces, start=1):
            await chat.say(user_id, piece, buttons if number == len(pieces) else ())

    def audit(
        self, inbound: Inbound, library_id: str, command: str, args: Sequence[str], outcome: str
    ) -> None:
        """One row of ``admin_audit``."""
        self.db["admin_audit"].insert(
            {
                "at": to_db(self.clock.now()),
                "network": inbound.network,
                "user_id": inbound.user_id,
                "library_id": library_id,
                "command": command,
                "arguments": " ".join(args)[:500],
                "outcome": outcome[:500],
            }
        )


def _library_part(word: str) -> str:
    """The library an argument names: itself, or the part before "/" of an event id."""
    return word.split("/", 1)[0] if "/" in word else word


def reason(exc: BaseException) -> str:
    """Why something failed, in the reader's words (the detail stays in the log)."""
    return messages.text(commands.reason_key(exc))


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` cut at line ends into pieces of at most ``limit`` characters."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not pieces:
        pieces.append(current)
    return pieces
