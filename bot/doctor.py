"""``bibliobot doctor``: every library's setup checked against the networks, as typed results.

One ``Check`` per thing checked: the library, the network, ``ok``/``warn``/``fail``, what was
found and exactly how to fix it, in the language of the moment (``core.messages``). ``fail``
means something the bot needs is missing (the CLI exits 1); ``warn`` means it works, with less.

- Telegram: the token (getMe); the bot is an administrator of each channel with the right to
  post (getChatMember → can_post_messages) and of the quiz chat; no webhook, since the bot
  long-polls, and reactions in the update types it asks for (getWebhookInfo); each admin has
  opened the chat with the bot (getChat on the admin's id is "chat not found" until then).
- VK: which tokens exist and their type; the user token's rights (account.getAppPermissions:
  wall, photos) or else the community-token mode; the community token's rights
  (groups.getTokenPermissions), that it is the configured community's (groups.getById), its
  messages switched on (can_message), Bots Long Poll on with the version and the event types
  the intake handles (groups.getLongPollSettings); each VK admin has let the community write
  to them (messages.isMessagesFromGroupAllowed).
- MAX: the token (GET /me); the bot is an admin who may write in each channel and a member of
  the quiz chat (GET /chats/{id}/members/me); the subscriptions fit the way updates come.

Nothing here changes anything on a network: every call only reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import logredact
from core import messages
from core.config import Config, LibraryConfig, MaxConfig, TelegramConfig, VkConfig

OK, WARN, FAIL = "ok", "warn", "fail"
TG_REACTIONS = ("message_reaction", "message_reaction_count")
VK_USER_WALL, VK_USER_PHOTOS = 8192, 4  # account.getAppPermissions bits
VK_COMMUNITY_RIGHTS = ("messages", "wall", "photos", "manage")  # what the bot uses
_UNREACHABLE = "doctor.unreachable"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One thing checked: where, how it stands, what was found and how to fix it."""

    library: str
    network: str
    status: str  # OK, WARN or FAIL
    found: str
    fix: str = ""

    @property
    def needed(self) -> bool:
        """Something the bot needs is missing."""
        return self.status == FAIL


@dataclass(frozen=True)
class Diagnosis:
    """Every check of every library, in the config's order."""

    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        """Nothing needed is missing (warnings allowed)."""
        return not any(check.needed for check in self.checks)


class _Found:
    """Collects the checks of one library and network."""

    def __init__(self, library: str, network: str) -> None:
        self.library, self.network = library, network
        self.checks: list[Check] = []

    def add(self, status: str, key: str, fix_key: str = "", **fields: object) -> None:
        """A check whose texts are catalogue entries ``doctor.<key>`` and ``doctor.<fix_key>``."""
        fix = messages.text(f"doctor.{fix_key}", **fields) if fix_key else ""
        found = messages.text(f"doctor.{key}", **fields)
        self.checks.append(Check(self.library, self.network, status, found, fix))


async def diagnose(config: Config, env: Mapping[str, str]) -> Diagnosis:
    """Check every library's networks; ``env`` holds the tokens (the process environment)."""
    checks: list[Check] = []
    for library in config.libraries:
        for name in library.networks:
            found = _Found(library.id, name)
            try:
                await _CHECKERS[name](found, library, env)
            except Exception as exc:  # a doctor reports, it does not crash
                _log.warning("doctor: %s/%s failed", library.id, name, exc_info=exc)
                detail = logredact.redact(f"{type(exc).__name__}: {exc}")[:200]
                found.add(FAIL, "check_crashed", "check_crashed_fix", detail=detail)
            checks += found.checks
    return Diagnosis(tuple(checks))


def _secret(found: _Found, variable: str | None, env: Mapping[str, str]) -> str | None:
    """The token in ``variable``; a missing one is a failed check."""
    if variable is None:
        return None
    value = env.get(variable, "").strip()
    if not value:
        found.add(FAIL, "secret_missing", "secret_missing_fix", variable=variable)
        return None
    logredact.protect(value)
    return value


# -- Telegram ----------------------------------------------------------------------------


async def _telegram(found: _Found, library: LibraryConfig, env: Mapping[str, str]) -> None:
    settings = library.telegram
    assert isinstance(settings, TelegramConfig)
    token = _secret(found, settings.token_env, env)
    if token is None:
        return
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError
    from telegram.request import HTTPXRequest

    timeout = settings.timeout
    request = HTTPXRequest(read_timeout=timeout, connect_timeout=timeout, write_timeout=timeout)
    bot = Bot(token, base_url=settings.api_url, request=request)
    try:
        await bot.initialize()  # getMe
    except InvalidToken:
        variable = settings.token_env
        found.add(FAIL, "tg_token_rejected", "tg_token_rejected_fix", variable=variable)
        return
    except NetworkError:
        found.add(FAIL, "unreachable", "unreachable_fix", url=settings.api_url)
        return
    try:
        username = bot.bot.username or str(bot.bot.id)
        found.add(OK, "tg_token_ok", bot=f"@{username}")
        for chat in settings.chats:
            await _tg_chat(found, bot, chat, quiz=False)
        if settings.quiz_chat:
            await _tg_chat(found, bot, settings.quiz_chat, quiz=True)
        await _tg_updates(found, bot)
        for admin in library.admins:
            await _tg_admin(found, bot, admin, username)
    finally:
        await bot.shutdown()


async def _tg_chat(found: _Found, bot: Any, chat: str, quiz: bool) -> None:
    """The bot is an administrator there, with the right to post in a channel."""
    from telegram.constants import ChatMemberStatus, ChatType
    from telegram.error import BadRequest, Forbidden

    try:
        member = await bot.get_chat_member(chat, bot.bot.id)
        info = await bot.get_chat(chat)
    except (BadRequest, Forbidden):  # an unknown chat, or one the bot was never let into
        found.add(FAIL, "tg_chat_unknown", "tg_chat_unknown_fix", chat=chat)
        return
    title = info.title or chat
    admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    if info.type == ChatType.CHANNEL:
        if not admin:
            found.add(FAIL, "tg_channel_not_admin", "tg_channel_not_admin_fix", chat=title)
        elif member.status == ChatMemberStatus.ADMINISTRATOR and not member.can_post_messages:
            found.add(FAIL, "tg_channel_cannot_post", "tg_channel_cannot_post_fix", chat=title)
        else:
            found.add(OK, "tg_channel_ok", chat=title)
        return
    key = "tg_quiz_chat" if quiz else "tg_group"
    if admin:
        found.add(OK, f"{key}_ok", chat=title)
    elif member.status == ChatMemberStatus.MEMBER:
        found.add(WARN, f"{key}_member", "tg_group_member_fix", chat=title)
    else:
        found.add(FAIL, f"{key}_absent", "tg_group_absent_fix", chat=title)


async def _tg_updates(found: _Found, bot: Any) -> None:
    """No webhook (the bot long-polls), and reactions among the update types."""
    from bot.intake.telegram import ALLOWED_UPDATES

    info = await bot.get_webhook_info()
    if info.url:
        found.add(FAIL, "tg_webhook_set", "tg_webhook_set_fix", url=info.url)
        return
    missing = [kind for kind in TG_REACTIONS if kind not in ALLOWED_UPDATES]
    if missing:  # the bot itself does not ask for them: a bug, not a setting
        found.add(FAIL, "tg_reactions_not_asked", "check_crashed_fix", types=", ".join(missing))
        return
    subscribed = info.allowed_updates or ()
    if subscribed and not set(TG_REACTIONS) <= set(subscribed):
        # Another program polling with this token asked for other types; run asks again.
        found.add(WARN, "tg_reactions_not_subscribed", "tg_reactions_not_subscribed_fix")
        return
    found.add(OK, "tg_updates_ok", types=", ".join(TG_REACTIONS))


async def _tg_admin(found: _Found, bot: Any, admin: int, username: str) -> None:
    """The admin has opened the chat with the bot (else the bot cannot write to them)."""
    from telegram.error import BadRequest, Forbidden

    try:
        await bot.get_chat(admin)
    except (BadRequest, Forbidden):
        found.add(
            FAIL, "tg_admin_not_started", "tg_admin_not_started_fix", admin=admin, bot=username
        )
        return
    found.add(OK, "tg_admin_ok", admin=admin)


# -- VK ----------------------------------------------------------------------------------


async def _vk(found: _Found, library: LibraryConfig, env: Mapping[str, str]) -> None:
    settings = library.vk
    assert isinstance(settings, VkConfig)
    if not settings.user_token_env and not settings.community_token_env:
        found.add(FAIL, "vk_no_tokens", "vk_no_tokens_fix")
        return
    user = _secret(found, settings.user_token_env, env)
    community = _secret(found, settings.community_token_env, env)
    # vk_api is synchronous (requests): its calls run in a worker thread.
    await asyncio.to_thread(_vk_checks, found, settings, user, community)


class _VkRefused(Exception):
    """VK answered a call with an error: its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message


def _vk_caller(token: str, settings: VkConfig) -> Callable[..., Any]:
    """A function calling one VK method with ``token``: its answer, or _VkRefused."""
    import vk_api

    from bot.platforms.vk_client import API_VERSION
    from bot.platforms.vk_session import make_session

    session = make_session(settings.api_url, settings.timeout)
    api = vk_api.VkApi(token=token, session=session, api_version=API_VERSION)
    api.error_handlers.pop(6, None)  # vk_api retries "too many requests" forever by itself

    def call(method: str, **values: Any) -> Any:
        try:
            return api.method(method, values)
        except vk_api.exceptions.ApiError as exc:
            raise _VkRefused(exc.code, str(exc.error.get("error_msg", ""))) from None

    return call


def _vk_checks(found: _Found, settings: VkConfig, user: str | None, community: str | None) -> None:
    import requests

    try:
        if settings.user_token_env is None:
            found.add(WARN, "vk_community_mode", "vk_community_mode_fix")
        elif user is not None:
            _vk_user(found, settings, _vk_caller(user, settings), community is not None)
        if community is not None:
            _vk_community(found, settings, _vk_caller(community, settings), user is not None)
    except requests.RequestException:
        found.add(FAIL, "unreachable", "unreachable_fix", url=settings.api_url)


def _vk_user(found: _Found, settings: VkConfig, call: Callable[..., Any], mode: bool) -> None:
    """The user token: valid, of a community admin, with wall and photos."""
    variable = settings.user_token_env
    try:
        person = call("users.get")[0]
    except _VkRefused as exc:
        if exc.code in (5, 1116):
            found.add(FAIL, "vk_token_rejected", "vk_user_token_fix", variable=variable)
        else:
            found.add(FAIL, "vk_user_not_user", "vk_user_token_fix", variable=variable)
        return
    name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
    found.add(OK, "vk_user_token_ok", name=name, id=person["id"])
    mask = int(call("account.getAppPermissions"))
    if not mask & VK_USER_WALL:
        # Without wall the community token posts (text), or admins get the post to publish.
        status = WARN if mode else FAIL
        fix = "vk_user_no_wall_fix" if mode else "vk_user_no_wall_alone_fix"
        found.add(status, "vk_user_no_wall", fix)
    if not mask & VK_USER_PHOTOS:
        found.add(WARN, "vk_user_no_photos", "vk_user_token_fix", variable=variable)
    if mask & VK_USER_WALL and mask & VK_USER_PHOTOS:
        found.add(OK, "vk_user_rights_ok")
    try:
        group = call("groups.getById", group_id=settings.group_id)["groups"][0]
    except _VkRefused:
        found.add(FAIL, "vk_group_unknown", "vk_group_unknown_fix", group=settings.group_id)
        return
    if not group.get("is_admin"):
        found.add(
            FAIL, "vk_user_not_admin", "vk_user_not_admin_fix", name=name, group=group["name"]
        )


def _vk_community(
    found: _Found, settings: VkConfig, call: Callable[..., Any], user_posts: bool
) -> None:
    """The community token: valid and of this community, its rights, messages, long poll."""
    variable = settings.community_token_env
    try:
        own = call("groups.getById")["groups"][0]
    except _VkRefused:
        found.add(FAIL, "vk_token_rejected", "vk_community_token_fix", variable=variable)
        return
    if int(own["id"]) != settings.group_id:
        found.add(
            FAIL, "vk_group_mismatch", "vk_group_mismatch_fix",
            variable=variable, own=own["id"], name=own["name"], group=settings.group_id,
        )  # fmt: skip
        return
    found.add(OK, "vk_community_token_ok", name=own["name"], group=own["id"])
    _vk_rights(found, call, user_posts)
    group = call("groups.getById", group_id=settings.group_id, fields="can_message")["groups"][0]
    if not group.get("can_message"):
        found.add(FAIL, "vk_messages_off", "vk_messages_off_fix")
    _vk_long_poll(found, settings, call)
    for admin in getattr(settings, "admins", ()):  # [library.vk] admins, where configured
        allowed = call("messages.isMessagesFromGroupAllowed", group_id=settings.group_id,
                       user_id=admin)  # fmt: skip
        if allowed.get("is_allowed"):
            found.add(OK, "vk_admin_ok", admin=admin)
        else:
            found.add(
                FAIL, "vk_admin_not_started", "vk_admin_not_started_fix",
                admin=admin, group=settings.group_id,
            )  # fmt: skip


def _vk_rights(found: _Found, call: Callable[..., Any], user_posts: bool) -> None:
    """The community token's rights the bot uses: messages always, wall without a user token."""
    answer = call("groups.getTokenPermissions")
    have = {item["name"] for item in answer.get("permissions", [])}
    missing = [right for right in VK_COMMUNITY_RIGHTS if right not in have]
    for right in missing:
        needed = right == "messages" or (right == "wall" and not user_posts)
        found.add(FAIL if needed else WARN, f"vk_right_{right}", "vk_right_fix", right=right)
    if not missing:
        found.add(OK, "vk_rights_ok", rights=", ".join(VK_COMMUNITY_RIGHTS))


def _vk_long_poll(found: _Found, settings: VkConfig, call: Callable[..., Any]) -> None:
    """Bots Long Poll on, at the bot's API version, with every event type the intake reads."""
    from bot.intake.vk import VkIntake
    from bot.platforms.vk_client import API_VERSION

    try:
        answer = call("groups.getLongPollSettings", group_id=settings.group_id)
    except _VkRefused as exc:
        found.add(WARN, "vk_long_poll_unread", "vk_right_fix", right="manage", code=exc.code)
        return
    if not answer.get("is_enabled"):
        found.add(FAIL, "vk_long_poll_off", "vk_long_poll_off_fix", version=API_VERSION)
        return
    version = str(answer.get("api_version") or "")
    if version != API_VERSION:
        found.add(
            WARN, "vk_long_poll_version", "vk_long_poll_version_fix",
            version=version, wanted=API_VERSION,
        )  # fmt: skip
    events = answer.get("events") or {}
    needed = sorted(name[4:] for name in dir(VkIntake) if name.startswith("_on_"))
    missing = [kind for kind in needed if not events.get(kind)]
    if missing:
        found.add(FAIL, "vk_events_off", "vk_events_off_fix", types=", ".join(missing))
    else:
        found.add(OK, "vk_long_poll_ok", version=version, count=len(needed))


# -- MAX ---------------------------------------------------------------------------------


async def _max(found: _Found, library: LibraryConfig, env: Mapping[str, str]) -> None:
    settings = library.max
    assert isinstance(settings, MaxConfig)
    token = _secret(found, settings.token_env, env)
    if token is None:
        return
    import httpx

    headers = {"Authorization": token}  # MAX takes the raw token, no "Bearer"
    base = settings.api_url.rstrip("/")
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=settings.timeout) as http:
        try:
            me = await http.get("/me")
        except httpx.HTTPError:
            found.add(FAIL, "unreachable", "unreachable_fix", url=settings.api_url)
            return
        if me.status_code == 401:
            variable = settings.token_env
            found.add(FAIL, "max_token_rejected", "max_token_rejected_fix", variable=variable)
            return
        me.raise_for_status()
        bot = me.json()
        found.add(OK, "max_token_ok", bot=bot.get("username") or bot.get("name") or bot["user_id"])
        for channel in settings.channels:
            await _max_chat(found, http, channel, quiz=False)
        if settings.quiz_chat:
            await _max_chat(found, http, settings.quiz_chat, quiz=True)
        await _max_subscriptions(found, http, settings)


async def _max_chat(found: _Found, http: Any, chat: str, quiz: bool) -> None:
    """The bot's membership: an admin who may write in a channel; reading all in the quiz chat."""
    answer = await http.get(f"/chats/{chat}/members/me")
    if answer.status_code in (403, 404):
        key = "max_quiz_chat_absent" if quiz else "max_channel_absent"
        found.add(FAIL, key, "max_chat_absent_fix", chat=chat)
        return
    answer.raise_for_status()
    member = answer.json()
    rights = set(member.get("permissions") or ()) if member.get("is_admin") else set()
    if quiz:
        if "read_all_messages" in rights:
            found.add(OK, "max_quiz_chat_ok", chat=chat)
        else:
            found.add(WARN, "max_quiz_chat_cannot_read", "max_read_all_fix", chat=chat)
    elif "write" not in rights:
        found.add(FAIL, "max_channel_cannot_write", "max_channel_cannot_write_fix", chat=chat)
    elif "read_all_messages" not in rights:
        found.add(WARN, "max_channel_cannot_read", "max_read_all_fix", chat=chat)
    else:
        found.add(OK, "max_channel_ok", chat=chat)


async def _max_subscriptions(found: _Found, http: Any, settings: MaxConfig) -> None:
    """Polling needs no subscription (MAX refuses polling while one exists); a webhook one."""
    answer = await http.get("/subscriptions")
    answer.raise_for_status()
    urls = [item.get("url", "") for item in answer.json().get("subscriptions") or []]
    if settings.updates == "webhook":
        if settings.webhook_url in urls:
            found.add(OK, "max_webhook_ok", url=settings.webhook_url)
        else:  # run subscribes at start
            found.add(
                WARN, "max_webhook_missing", "max_webhook_missing_fix", url=settings.webhook_url
            )
    elif urls:
        found.add(
            FAIL, "max_webhook_blocks_poll", "max_webhook_blocks_poll_fix", urls=", ".join(urls)
        )
    else:
        found.add(OK, "max_poll_ok")


_CHECKERS: dict[str, Callable[[_Found, LibraryConfig, Mapping[str, str]], Any]] = {
    "telegram": _telegram,
    "vk": _vk,
    "max": _max,
}
