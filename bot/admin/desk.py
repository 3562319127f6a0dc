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
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from bot.admin import commands, uploads
from bot.admin.chats import Chat
from bot.admin.model import Button, Inbound, OutFile, is_admin_press
from core import messages
from core.clock import Clock, SystemClock
from core.config import Config, LibraryConfig
from core.errors import BibliobotError, PlatformError, RetryLater
from core.platform import Platform
from core.storage import to_db

log = logging.getLogger(__name__)

TEXT_LIMIT = 3500  # characters per message: below every network's limit (MAX: 4000)
SEND_TRIES = 3  # a reply the network throttled is sent again, after the wait it asked for
SEND_WAIT_MAX = 30.0  # seconds: a longer wait is not worth holding the admin's next command


@dataclass(frozen=True)
class Request:
    """One command of an admin, on one of their libraries."""

    inbound: Inbound
    chat: Chat
    library: LibraryConfig
    command: str
    args: tuple[str, ...]
    # Replies the network refused after the command was done (the audit says so).
    undelivered: list[PlatformError] = field(default_factory=list)


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
        self._menus: set[int] = set()  # Telegram admins whose command menu is set (or tried)
        # Waits before a throttled reply is sent again (tests record it instead of sleeping).
        self.pause: Callable[[float], Awaitable[None]] = asyncio.sleep

    # -- who ------------------------------------------------------------------------

    def libraries_of(
        self, network: str, user_id: int, among: Collection[str] = ()
    ) -> tuple[LibraryConfig, ...]:
        """The libraries ``user_id`` is an admin of on ``network`` (of those ``among``, the
        libraries of the bot or community written to, if given)."""
        mine = self._admins.get((network, int(user_id)), ())
        return tuple(lib for lib in mine if lib.id in among) if among else mine

    def is_admin(self, network: str, user_id: int, among: Collection[str] = ()) -> bool:
        """Whether ``user_id`` is an admin on ``network`` (of one of the libraries ``among``)."""
        return bool(self.libraries_of(network, user_id, among))

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
        mine = self.libraries_of(inbound.network, inbound.user_id, inbound.libraries)
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
                await self._menu_once(chat, inbound.user_id)  # after the answer: no delay
            except Exception:
                log.exception("admin chat: %s message not answered", inbound.network)

    async def _command(self, inbound: Inbound, chat: Chat, mine: tuple[LibraryConfig, ...]) -> None:
        words = inbound.text.split()
        head = words[0] if words else ""
        name = commands.command_of(head)
        written = tuple(words[1:])  # the audit keeps the arguments as the admin wrote them
        if name is None:
            name = "help" if not head.startswith("/") else "unknown"
        library, args, refusal = self.choose(mine, name, written)
        if library is None:
            # Audited first: the refusal stands even if the network then refuses the reply.
            why = "not their library" if self._foreign(mine, written) else "no library chosen"
            self.audit(inbound, "", name, written, f"refused: {why}")
            await self.say(chat, inbound.user_id, refusal)
            return
        request = Request(inbound, chat, library, name, args)
        outcome = "failed: internal error"  # a bug in a handler: still one audit row
        try:
            outcome = await commands.HANDLERS[name](self, request)
            if request.undelivered:
                outcome += f"; reply not delivered ({type(request.undelivered[0]).__name__})"
        except Exception as exc:  # the admin is told in one line; a bug's detail is logged
            if isinstance(exc, BibliobotError):
                log.warning("admin chat: /%s of %s failed: %s", name, library.id, exc)
                outcome = f"failed: {type(exc).__name__}"
            else:
                log.exception("admin chat: /%s of %s failed", name, library.id)
            text = messages.text("admin.failed", reason=reason(exc))
            try:
                await self.say(chat, inbound.user_id, text)
            except BibliobotError as again:  # the network refuses even that: logged only
                log.warning("admin chat: %s not told: %s", inbound.network, again)
        finally:
            self.audit(inbound, library.id, name, written, outcome)

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

    def _foreign(self, mine: tuple[LibraryConfig, ...], args: tuple[str, ...]) -> bool:
        """Whether the arguments name a library that is not among ``mine``."""
        ids = {lib.id for lib in mine}
        return any(
            self.config.library(_library_part(a)) is not None and _library_part(a) not in ids
            for a in args
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
        the chat cannot get one yet (Telegram: chat not found): theirs is set when they
        first write."""
        admins = sorted({user for lib in libraries for user in network_admins(lib, "telegram")})
        done = 0
        for user in admins:
            if await self.telegram_menu_for(bot, user):
                self._menus.add(user)
                done += 1
        return done

    async def _menu_once(self, chat: Chat, user_id: int) -> None:
        """The command menu of an admin who opened the chat after the bot started."""
        from bot.admin.chats import TelegramChat

        if isinstance(chat, TelegramChat) and user_id not in self._menus:
            self._menus.add(user_id)  # tried once per run: the menu is a convenience
            await self.telegram_menu_for(chat.bot, user_id)

    async def telegram_menu_for(self, bot: Any, user_id: int) -> bool:
        """One admin's command menu, in the config's language; False (logged) if refused."""
        from telegram import BotCommand, BotCommandScopeChat
        from telegram.error import TelegramError

        with messages.use_language(self.config.language):
            menu = [BotCommand(name, messages.text(f"admin.menu_{name}")) for name in commands.MENU]
        try:
            await bot.set_my_commands(menu, scope=BotCommandScopeChat(user_id))
        except TelegramError as exc:
            log.info("Telegram: no command menu for admin %s yet: %s", user_id, exc.message)
            return False
        return True

    # -- answering and the audit --------------------------------------------------------

    async def say(
        self, chat: Chat, user_id: int, text: str, buttons: Sequence[Button] = ()
    ) -> None:
        """Send ``text`` in pieces the network takes (the buttons under the last one)."""
        pieces = split_text(text)
        for number, piece in enumerate(pieces, start=1):
            under = buttons if number == len(pieces) else ()
            await self.patiently(lambda piece=piece, under=under: chat.say(user_id, piece, under))

    async def answer(self, request: Request, text: str = "", file: OutFile | None = None) -> None:
        """A command's reply (a text, or a file with ``text`` as its caption). The command
        is done by now: a reply the network refuses is logged and noted for the audit, and
        the admin is not told it "failed" (it did not)."""
        chat, user = request.chat, request.inbound.user_id
        try:
            if file is None:
                await self.say(chat, user, text)
            else:
                await self.patiently(lambda: chat.send_file(user, file, text))
        except PlatformError as exc:
            log.warning("admin chat: /%s answered nothing: %s", request.command, exc)
            request.undelivered.append(exc)

    async def patiently(self, send: Callable[[], Awaitable[None]]) -> None:
        """``send``, again after the network's wait if it throttled the bot (an admin's
        commands come in bursts: Telegram allows about one message a second in a chat)."""
        for attempt in range(1, SEND_TRIES + 1):
            try:
                await send()
                return
            except RetryLater as exc:
                if attempt == SEND_TRIES or exc.delay > SEND_WAIT_MAX:
                    raise
                log.info("admin chat: %s throttled; again in %.0f s", exc.network, exc.delay)
                await self.pause(exc.delay)

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
