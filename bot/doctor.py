"""``bibliobot doctor``: every library's setup checked against the networks, as typed results.

One ``Check`` per thing checked: the library, the network, ``ok``/``warn``/``fail``, what was
found and exactly how to fix it, in the language of the moment (``core.messages``). ``fail``
means something the bot needs is missing (the CLI exits 1); ``warn`` means it works, with less.

- Telegram: the token (getMe); the bot is an administrator of each channel with the right to
  post (getChatMember → can_post_messages) and of the quiz chat; no webhook, since the bot
  long-polls, and reactions in the update types it asks for (getWebhookInfo); each admin has
  opened the chat with the bot (getChat on the admin's id is "chat not found" until then).
- VK: which tokens exist and their type (a community token names its community without a
  group id, a user token names its person); the user token's rights
  (account.getAppPermissions: wall, photos, offline); the community token's rights
  (groups.getTokenPermissions), that it is the configured community's (groups.getById), its
  messages switched on (can_message), Bots Long Poll on with the version and the event types
  the intake handles (groups.getLongPollSettings); each VK admin has let the community write
  to them (messages.isMessagesFromGroupAllowed). Where a post would go out with the
  community token, whether VK takes ``wall.post`` from it: a call with no text and no
  attachment, which VK refuses either for the token (error 27) or for the empty post
  (error 100), and which therefore can never publish anything.
- MAX: the token (GET /me); the bot is an admin who may write in each channel and a member of
  the quiz chat (GET /chats/{id}/members/me); the subscriptions fit the way updates come.

Nothing here changes anything on a network: every call only reads (the empty post above
included).
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
# account.getAppPermissions bits (dev.vk.com, "Права доступа" of a user token)
VK_USER_BITS = {"photos": 4, "wall": 8192, "offline": 65536}
VK_USER_NEEDED = ("wall", "photos")  # wall.post, and the upload of a post's picture
# A community token's rights the bot uses, most needed first: messages (the admin chat,
# quiz answers), manage (Bots Long Poll), photos and docs (pictures and reports sent to the
# admins), wall (posting with the community token alone).
VK_COMMUNITY_RIGHTS = ("messages", "manage", "photos", "docs", "wall")
VK_AUTH_CODES = (5, 1116)  # the token is invalid or expired
VK_BUSY_CODES = (1, 6, 9, 10, 29, 603)  # unknown, too many a second, flood, server, limits
VK_GROUP_AUTH_REFUSED = 27  # "method is unavailable with group auth"
VK_EMPTY_POST = 100  # "message is empty or invalid": VK would take the token, not the post

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

    def count(self, status: str) -> int:
        """How many checks have ``status``."""
        return sum(1 for check in self.checks if check.status == status)


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

    def unreachable(self, url: str) -> None:
        """The network did not answer (or answered with a server error)."""
        self.add(FAIL, "unreachable", "unreachable_fix", url=url)

    def busy(self) -> None:
        """The network asked the bot to wait (too many requests, a failure on its side)."""
        self.add(FAIL, "busy", "busy_fix", network=messages.text(f"doctor.network_{self.network}"))


async def diagnose(config: Config, env: Mapping[str, str]) -> Diagnosis:
    """Check every library's networks; ``env`` holds the tokens (the process environment)."""
    checks: list[Check] = []
    for library in config.libraries:
        for name in library.networks:
            found = _Found(library.id, name)
            try:
                await _CHECKERS[name](found, library, env)
            except Exception as exc:  # a doctor reports, it does not crash
                # DEBUG: logging's last resort prints WARNING records, tracebacks and all.
                _log.debug("doctor: %s/%s failed", library.id, name, exc_info=exc)
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
    # Every network's tokens are printable ASCII without spaces: anything else is a token
    # copied with a piece missing or extra, which the network would only call "invalid".
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        found.add(FAIL, "secret_malformed", "secret_malformed_fix", variable=variable)
        return None
    return value


# -- Telegram ----------------------------------------------------------------------------


async def _telegram(found: _Found, library: LibraryConfig, env: Mapping[str, str]) -> None:
    settings = library.telegram
    assert isinstance(settings, TelegramConfig)
    token = _secret(found, settings.token_env, env)
    if token is None:
        return
    from telegram import Bot
    from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
    from telegram.request import HTTPXRequest

    timeout = settings.timeout
    request = HTTPXRequest(read_timeout=timeout, connect_timeout=timeout, write_timeout=timeout)
    bot = Bot(token, base_url=settings.api_url, request=request)
    try:
        await bot.initialize()  # getMe
        username = f"@{bot.bot.username}" if bot.bot.username else str(bot.bot.id)
        found.add(OK, "tg_token_ok", bot=username)
        for chat in settings.chats:
            await _tg_chat(found, bot, chat, username, quiz=False)
        if settings.quiz_chat:
            await _tg_chat(found, bot, settings.quiz_chat, username, quiz=True)
        await _tg_updates(found, bot)
        for admin in library.admins:
            await _tg_admin(found, bot, admin, username)
    except InvalidToken:
        variable = settings.token_env
        found.add(FAIL, "tg_token_rejected", "tg_token_rejected_fix", variable=variable)
    except RetryAfter:
        found.busy()
    except NetworkError as exc:
        if isinstance(exc, BadRequest):  # not the network's silence: a real answer
            raise
        found.unreachable(settings.api_url)
    finally:
        try:
            await bot.shutdown()
            await request.shutdown()
        except Exception:  # closing a client that never connected; nothing to report
            _log.debug("doctor: closing the Telegram client failed", exc_info=True)


async def _tg_chat(found: _Found, bot: Any, chat: str, username: str, quiz: bool) -> None:
    """The bot is an administrator there, with the right to post in a channel."""
    from telegram.constants import ChatMemberStatus, ChatType
    from telegram.error import BadRequest, Forbidden

    try:
        member = await bot.get_chat_member(chat, bot.bot.id)
        info = await bot.get_chat(chat)
    except (BadRequest, Forbidden):  # an unknown chat, or one the bot was never let into
        found.add(FAIL, "tg_chat_unknown", "tg_chat_unknown_fix", chat=chat, bot=username)
        return
    title = info.title or chat
    admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    if info.type == ChatType.CHANNEL:
        if not admin:
            found.add(
                FAIL, "tg_channel_not_admin", "tg_channel_not_admin_fix", chat=title, bot=username
            )
        elif member.status == ChatMemberStatus.ADMINISTRATOR and not member.can_post_messages:
            found.add(
                FAIL, "tg_channel_cannot_post", "tg_channel_cannot_post_fix",
                chat=title, bot=username,
            )  # fmt: skip
        else:
            found.add(OK, "tg_channel_ok", chat=title)
        return
    key = "tg_quiz_chat" if quiz else "tg_group"
    if admin:
        found.add(OK, f"{key}_ok", chat=title)
    elif member.status == ChatMemberStatus.MEMBER:
        found.add(WARN, f"{key}_member", "tg_group_member_fix", chat=title, bot=username)
    else:
        found.add(FAIL, f"{key}_absent", "tg_group_absent_fix", chat=title, bot=username)


async def _tg_updates(found: _Found, bot: Any) -> None:
    """No webhook (the bot long-polls), and reactions among the update types."""
    from bot.intake.telegram import ALLOWED_UPDATES

    info = await bot.get_webhook_info()
    if info.url:
        found.add(FAIL, "tg_webhook_set", "tg_webhook_set_fix", url=info.url)
        return
    missing = [kind for kind in TG_REACTIONS if kind not in ALLOWED_UPDATES]
    if missing:  # the bot itself does not ask for them: a bug, not a setting
        found.add(FAIL, "tg_reactions_not_asked", "check_crashed_fix", detail=", ".join(missing))
        return
    subscribed = info.allowed_updates or ()
    if subscribed and not set(TG_REACTIONS) <= set(subscribed):
        # Another program polling with this token asked for other types; run asks again.
        found.add(WARN, "tg_reactions_not_subscribed", "tg_reactions_not_subscribed_fix")
        return
    found.add(OK, "tg_updates_ok")


async def _tg_admin(found: _Found, bot: Any, admin: int, username: str) -> None:
    """The admin has opened the chat with the bot (else the bot cannot write to them)."""
    from telegram.error import BadRequest, Forbidden

    try:
        chat = await bot.get_chat(admin)
    except (BadRequest, Forbidden):
        found.add(
            FAIL, "tg_admin_not_started", "tg_admin_not_started_fix", admin=admin, bot=username
        )
        return
    name = " ".join(part for part in (chat.first_name, chat.last_name) if part)
    found.add(OK, "tg_admin_ok", admin=f"{name} ({admin})" if name else admin)


# -- VK ----------------------------------------------------------------------------------


async def _vk(found: _Found, library: LibraryConfig, env: Mapping[str, str]) -> None:
    settings = library.vk
    assert isinstance(settings, VkConfig)
    if not settings.user_token_env and not settings.community_token_env:
        found.add(FAIL, "vk_no_tokens", "vk_no_tokens_fix")
        return
    user = _secret(found, settings.user_token_env, env)
    community = _secret(found, settings.community_token_env, env)
    # Someone to hand a post to, where VK takes it from no token of the bot's.
    has_admins = bool(library.admins or settings.admins or (library.max and library.max.admins))
    # vk_api is synchronous (requests): its calls run in a worker thread.
    await asyncio.to_thread(_vk_checks, found, settings, user, community, has_admins)


class _VkRefused(Exception):
    """VK answered a call with an error: its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message


class _VkSilent(Exception):
    """VK did not answer, or answered with an HTTP error."""


def _vk_caller(token: str, settings: VkConfig) -> Callable[..., Any]:
    """A function calling one VK method with ``token``: its answer, or _VkRefused."""
    import requests
    import vk_api

    from bot.platforms.vk_client import API_VERSION
    from bot.platforms.vk_session import make_session

    session = make_session(settings.api_url, settings.timeout)
    api = vk_api.VkApi(token=token, session=session, api_version=API_VERSION)
    api.error_handlers.pop(6, None)  # vk_api retries "too many requests" forever by itself
    # vk_api's own pause between calls, at the rate the config says VK allows this library.
    api.RPS_DELAY = 1.0 / settings.requests_per_second

    def call(method: str, **values: Any) -> Any:
        try:
            return api.method(method, values)
        except vk_api.exceptions.ApiError as exc:
            raise _VkRefused(exc.code, str(exc.error.get("error_msg", ""))) from None
        except (requests.RequestException, vk_api.exceptions.ApiHttpError, ValueError):
            raise _VkSilent() from None  # ValueError: an answer that is not JSON

    return call


@dataclass(frozen=True)
class _VkToken:
    """What a token turned out to be: "user", "group", "rejected" or "other", and whom for."""

    kind: str
    id: int = 0
    name: str = ""


def _vk_kind(call: Callable[..., Any]) -> _VkToken:
    """A community token names its community without a group id; a user token its person."""
    try:
        own = call("groups.getById")["groups"][0]
        return _VkToken("group", int(own["id"]), str(own.get("name", "")))
    except _VkRefused as exc:
        if exc.code in VK_AUTH_CODES:
            return _VkToken("rejected")
    except (LookupError, TypeError, ValueError):  # an answer without a community
        pass
    try:
        people = call("users.get")
    except _VkRefused as exc:
        return _VkToken("rejected" if exc.code in VK_AUTH_CODES else "other")
    if not people:  # VK answers [] to a token of no person (a service token)
        return _VkToken("other")
    person = people[0]
    name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
    return _VkToken("user", int(person["id"]), name)


def _vk_checks(
    found: _Found, settings: VkConfig, user: str | None, community: str | None, has_admins: bool
) -> None:
    try:
        user_call = _vk_caller(user, settings) if user is not None else None
        group_call = _vk_caller(community, settings) if community is not None else None
        rights = _vk_user(found, settings, user_call) if user_call else None
        after_user = len(found.checks)
        group_ok = _vk_community(found, settings, group_call) if group_call else False
        community_checks = found.checks[after_user:]
        if settings.user_token_env is not None:
            # Who posts reads best next to the user token's own lines, before the community's.
            del found.checks[after_user:]
        _vk_posting(found, settings, rights, group_call if group_ok else None, has_admins)
        if settings.user_token_env is not None:
            found.checks += community_checks
    except _VkSilent:
        found.unreachable(settings.api_url)
    except _VkRefused as exc:  # a refusal no check above expects
        if exc.code in VK_BUSY_CODES:
            found.busy()
        else:
            found.add(FAIL, "vk_refused", "check_crashed_fix", code=exc.code)


def _vk_user(found: _Found, settings: VkConfig, call: Callable[..., Any]) -> set[str] | None:
    """The user token: valid, a person's, an admin of the community; its rights (None: no
    usable token)."""
    variable = settings.user_token_env
    token = _vk_kind(call)
    if token.kind != "user":
        key = {"rejected": "vk_token_rejected", "group": "vk_user_is_community"}
        found.add(
            FAIL, key.get(token.kind, "vk_user_not_user"), "vk_user_token_fix", variable=variable
        )
        return None
    found.add(OK, "vk_user_token_ok", name=token.name, id=token.id, variable=variable)
    try:
        group = call("groups.getById", group_id=settings.group_id)["groups"][0]
    except (_VkRefused, LookupError):
        found.add(FAIL, "vk_group_unknown", "vk_group_unknown_fix", group=settings.group_id)
        return None
    if not group.get("is_admin"):
        found.add(
            FAIL, "vk_user_not_admin", "vk_user_not_admin_fix",
            name=token.name, group=group.get("name", settings.group_id),
        )  # fmt: skip
        return None
    try:
        mask = int(call("account.getAppPermissions"))
    except _VkRefused:
        found.add(WARN, "vk_user_rights_unread", "vk_user_token_fix", variable=variable)
        return set(VK_USER_NEEDED)  # unknown: the posts themselves will tell
    rights = {name for name, bit in VK_USER_BITS.items() if mask & bit}
    if "offline" not in rights:  # such a token lives an hour or a day, then posts fail
        found.add(WARN, "vk_user_not_offline", "vk_user_token_fix", variable=variable)
    return rights


def _vk_community(found: _Found, settings: VkConfig, call: Callable[..., Any]) -> bool:
    """The community token: valid and of this community, its rights, messages, long poll."""
    variable = settings.community_token_env
    token = _vk_kind(call)
    if token.kind != "group":
        key = {"rejected": "vk_token_rejected", "user": "vk_community_is_user"}
        found.add(
            FAIL, key.get(token.kind, "vk_community_not_community"), "vk_community_token_fix",
            variable=variable,
        )  # fmt: skip
        return False
    if token.id != settings.group_id:
        found.add(
            FAIL, "vk_group_mismatch", "vk_group_mismatch_fix",
            variable=variable, own=token.id, name=token.name, group=settings.group_id,
        )  # fmt: skip
        return False
    found.add(OK, "vk_community_token_ok", name=token.name, group=token.id, variable=variable)
    _vk_rights(found, settings, call)
    group = call("groups.getById", group_id=settings.group_id, fields="can_message")["groups"][0]
    if not group.get("can_message"):
        found.add(FAIL, "vk_messages_off", "vk_messages_off_fix")
    _vk_long_poll(found, settings, call)
    for admin in settings.admins:
        try:
            allowed = call("messages.isMessagesFromGroupAllowed", group_id=settings.group_id,
                           user_id=admin)  # fmt: skip
        except _VkRefused:
            found.add(WARN, "vk_admin_unread", "vk_admin_not_started_fix", admin=admin)
            continue
        if allowed.get("is_allowed"):
            found.add(OK, "vk_admin_ok", admin=admin)
        else:
            found.add(FAIL, "vk_admin_not_started", "vk_admin_not_started_fix", admin=admin)
    return True


def _vk_rights(found: _Found, settings: VkConfig, call: Callable[..., Any]) -> None:
    """The community token's rights the bot uses: messages always, wall without a user token."""
    answer = call("groups.getTokenPermissions")
    have = {item.get("name") for item in answer.get("permissions", [])}
    wanted = [r for r in VK_COMMUNITY_RIGHTS if r != "wall" or settings.user_token_env is None]
    missing = [right for right in wanted if right not in have]
    for right in missing:
        # Only messages is needed outright; without the others the bot works with less.
        found.add(
            FAIL if right == "messages" else WARN, f"vk_right_{right}", "vk_right_fix",
            right=messages.text(f"doctor.vk_right_name_{right}"),
            variable=settings.community_token_env,
        )  # fmt: skip
    if not missing:
        names = ", ".join(messages.text(f"doctor.vk_right_name_{right}") for right in wanted)
        found.add(OK, "vk_rights_ok", rights=names)


def _vk_long_poll(found: _Found, settings: VkConfig, call: Callable[..., Any]) -> None:
    """Bots Long Poll on, at the bot's API version, with every event type the intake reads."""
    from bot.platforms.vk_client import API_VERSION

    try:
        answer = call("groups.getLongPollSettings", group_id=settings.group_id)
    except _VkRefused:
        found.add(WARN, "vk_long_poll_unread", "vk_long_poll_off_fix", version=API_VERSION,
                  types=_vk_event_names(_vk_event_types()))  # fmt: skip
        return
    if not answer.get("is_enabled"):
        found.add(FAIL, "vk_long_poll_off", "vk_long_poll_off_fix", version=API_VERSION,
                  types=_vk_event_names(_vk_event_types()))  # fmt: skip
        return
    version = str(answer.get("api_version") or "")
    if version != API_VERSION:
        found.add(
            WARN, "vk_long_poll_version", "vk_long_poll_version_fix",
            version=version, wanted=API_VERSION,
        )  # fmt: skip
    events = answer.get("events") or {}
    needed = _vk_event_types()
    missing = [kind for kind in needed if not events.get(kind)]
    if missing:
        found.add(FAIL, "vk_events_off", "vk_events_off_fix", types=_vk_event_names(missing))
    else:
        found.add(OK, "vk_long_poll_ok")


def _vk_event_names(kinds: list[str]) -> str:
    """Event types as VK's settings page names them, each with its API name to match."""
    known = messages.catalogue()
    names = [
        messages.text(f"doctor.vk_event_{kind}", kind=kind)
        if f"doctor.vk_event_{kind}" in known
        else kind  # a type the intake learnt after the catalogue: its API name still guides
        for kind in kinds
    ]
    return "; ".join(names)


def _vk_event_types() -> list[str]:
    """The event types the intake handles (its ``_on_<type>`` methods)."""
    from bot.intake.vk import VkIntake

    return sorted(name[4:] for name in dir(VkIntake) if name.startswith("_on_"))


def _vk_posting(
    found: _Found,
    settings: VkConfig,
    rights: set[str] | None,
    group_call: Callable[..., Any] | None,
    has_admins: bool,
) -> None:
    """Who posts on the wall: the user token with its rights, or the community token alone
    (text posts where VK takes them from it; the rest handed to the admins)."""
    if settings.user_token_env is not None:
        if rights is None:  # the user token itself failed: said above
            return
        missing = [right for right in VK_USER_NEEDED if right not in rights]
        if not missing:
            found.add(OK, "vk_user_rights_ok")
            return
        # The adapter posts with the user token whenever one is set: it fails without wall.
        community_posts = "wall" in missing and _vk_wall_probe(settings, group_call) == "posts"
        fix = "vk_user_rights_or_community_fix" if community_posts else "vk_user_rights_fix"
        named = ", ".join(messages.text(f"doctor.vk_user_right_{right}") for right in missing)
        found.add(
            FAIL, "vk_user_rights_missing", fix, rights=named, variable=settings.user_token_env
        )
        return
    if group_call is None:  # the community token failed: said above
        return
    probe = _vk_wall_probe(settings, group_call)
    if probe == "posts":
        found.add(WARN, "vk_community_mode_posts", "vk_community_mode_fix")
    elif probe == "unknown":
        found.add(WARN, "vk_community_mode_unknown", "vk_community_mode_fix")
    elif has_admins:
        found.add(WARN, "vk_community_mode_hand_over", "vk_community_mode_fix")
    else:
        found.add(FAIL, "vk_community_mode_nobody", "vk_community_mode_nobody_fix")


def _vk_wall_probe(settings: VkConfig, call: Callable[..., Any] | None) -> str:
    """Whether VK takes wall.post from the community token: "posts", "refused" or "unknown".

    The call has no text and no attachment, so it can never publish: VK refuses either the
    token (error 27, or 15 without the wall right) or, having taken it, the empty post (100).
    """
    if call is None:
        return "refused"
    try:
        call("wall.post", owner_id=-settings.group_id, from_group=1)
    except _VkRefused as exc:
        if exc.code == VK_EMPTY_POST:
            return "posts"
        if exc.code in (VK_GROUP_AUTH_REFUSED, 15):
            return "refused"
        return "unknown"
    return "unknown"  # VK published an empty post?; nothing to conclude from


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
            if me.status_code == 401:
                variable = settings.token_env
                found.add(FAIL, "max_token_rejected", "max_token_rejected_fix", variable=variable)
                return
            me.raise_for_status()
            bot = me.json()
            name = bot.get("username") or bot.get("name") or bot.get("user_id")
            found.add(OK, "max_token_ok", bot=name)
            for channel in settings.channels:
                await _max_chat(found, http, channel, quiz=False)
            if settings.quiz_chat:
                await _max_chat(found, http, settings.quiz_chat, quiz=True)
            await _max_subscriptions(found, http, settings)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 429:
                found.busy()
            else:
                found.unreachable(settings.api_url)
        except (httpx.HTTPError, ValueError):  # ValueError: an answer that is not JSON
            found.unreachable(settings.api_url)


async def _max_chat(found: _Found, http: Any, chat_id: str, quiz: bool) -> None:
    """The bot's membership: an admin who may write in a channel; reading all in the quiz chat."""
    chat = await _max_title(http, chat_id)
    answer = await http.get(f"/chats/{chat_id}/members/me")
    if answer.status_code in (400, 403, 404):  # 400: a chat id MAX cannot read
        key = "max_quiz_chat_absent" if quiz else "max_channel_absent"
        found.add(FAIL, key, "max_chat_absent_fix", chat=chat, id=chat_id)
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


async def _max_title(http: Any, chat_id: str) -> str:
    """The chat's title as the librarian knows it; its id where MAX does not tell."""
    answer = await http.get(f"/chats/{chat_id}")
    if answer.status_code != 200:
        return chat_id
    title = answer.json().get("title")
    return str(title) if title else chat_id


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
            WARN, "max_webhook_blocks_poll", "max_webhook_blocks_poll_fix", urls=", ".join(urls)
        )
    else:
        found.add(OK, "max_poll_ok")


_CHECKERS: dict[str, Callable[[_Found, LibraryConfig, Mapping[str, str]], Any]] = {
    "telegram": _telegram,
    "vk": _vk,
    "max": _max,
}
