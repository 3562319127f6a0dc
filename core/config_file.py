"""Validation of the config file: one ConfigError per bad key, with its line.

``core.config_file.load_config`` drives this; the typed result is defined there. Every value
is bounded, so that nothing read here can overflow or stall the bot later: durations
(``LONGEST``), numbers (finite, within their range), ids (``MAX_ID``) and paths.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core import networks
from core.config import (
    GRACE_KINDS,
    LANGUAGES,
    LIBRARY_ID,
    MAX_API_URL,
    MAX_UPDATES,
    PARTICIPATION_RULES,
    TELEGRAM_API_URL,
    VK_API_URL,
    Config,
    LibraryConfig,
    MaxConfig,
    ReportRules,
    ScheduleConfig,
    TelegramConfig,
    VkConfig,
    WebhookConfig,
    parse_duration,
    say_duration,
)
from core.errors import ConfigError, Problems
from core.tomlfile import key_name, line_of, read_toml, shown, unknown_key

DAY = timedelta(days=1)
LONGEST = {  # the most each duration may be
    "misfire_grace": 30 * DAY,
    "retry_deadline": 30 * DAY,
    "grace": 30 * DAY,
    "refresh_every": DAY,
    "snapshot_after": 366 * DAY,
    "keep_names": 366 * DAY,
}
MAX_ID = 2**53  # Telegram's ids fit in 52 bits, VK's are smaller; a bigger number is a typo
MAX_RATE = 100.0  # requests per second; VK allows 3 (user token) to 20 (community token)
_USERNAME = re.compile(r"^@[A-Za-z0-9_]{4,}$")
_NUMERIC = re.compile(r"^-?[0-9]{1,16}$")  # an id written in quotes
MAX_NAME_BYTES = 255  # of one name in a path, as Linux, macOS and Windows file systems allow


class Reader:
    """Walks the parsed TOML, collecting one ConfigError per bad key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.problems: list[ConfigError] = []

    def fail(self, key_path: tuple, label: str, message: str) -> None:
        self.problems.append(ConfigError(self.path, label, message, line_of(self.text, key_path)))

    def unknown(self, table: dict, allowed: set[str], key_path: tuple, label: str) -> None:
        for key in sorted(set(table) - allowed):
            self.fail((*key_path, key), f"{label}{key_name(key)}", unknown_key(key, allowed))

    def typed(
        self,
        table: dict,
        key: str,
        kind: type | tuple,
        key_path: tuple,
        label: str,
        default: Any = None,
        required: bool = False,
    ) -> Any:
        if key not in table:
            if required:
                self.fail(key_path, f"{label}{key}", "is required")
            return default
        value = table[key]
        # TOML booleans are ints to Python; true is not a group id.
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
        if not ok:
            self.fail(
                (*key_path, key), f"{label}{key}", f"must be {_kind_name(kind)}, not {shown(value)}"
            )
            return default
        return value

    def config(self, data: dict) -> Config:
        allowed = {"storage", "events_dir", "language", "schedule", "library", "report"}
        allowed |= {"webhook"}
        self.unknown(data, allowed, (), "")
        base = self.path.parent
        storage = self.path_value(data, "storage", "bibliobot.db")
        events_dir = self.path_value(data, "events_dir", "events")
        language = self.typed(data, "language", str, (), "", "ru")
        if language not in LANGUAGES:
            self.fail(
                ("language",),
                "language",
                f"must be one of {', '.join(LANGUAGES)}, not {language!r}",
            )
            language = "ru"
        schedule = self.schedule(self.typed(data, "schedule", dict, (), "", {}))
        report = self.report(self.typed(data, "report", dict, (), "", {}))
        webhook = self.webhook(self.typed(data, "webhook", dict, (), "", {}))
        raw_libraries = self.typed(data, "library", list, (), "", [], required=True)
        libraries = [self.library(i, raw) for i, raw in enumerate(raw_libraries)]
        ids = [lib.id for lib in libraries if lib]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            self.fail(("library",), "library.id", f"library id {dup!r} is used twice")
        if not raw_libraries and "library" in data:
            self.fail(("library",), "library", "at least one [[library]] is required")
        return Config(
            path=self.path,
            storage=(base / storage).resolve(),
            events_dir=(base / events_dir).resolve(),
            language=language,
            schedule=schedule,
            libraries=tuple(lib for lib in libraries if lib),
            report=report,
            webhook=webhook,
        )

    def path_value(self, data: dict, key: str, default: str) -> str:
        """A file or folder name relative to the config; one a file system can hold."""
        value = self.typed(data, key, str, (), "", default)
        parts = value.replace("\\", "/").split("/")
        if not value.strip() or "\0" in value:
            problem = "must be a file or folder name"
        elif any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
            problem = f"a name in it is longer than {MAX_NAME_BYTES} bytes"
        elif len(value.encode()) > 4 * MAX_NAME_BYTES:
            problem = f"is longer than {4 * MAX_NAME_BYTES} bytes"
        else:
            return value
        self.fail((key,), key, problem)
        return default

    def report(self, table: dict) -> ReportRules:
        """The ``[report]`` counting rules of the 6-НК helper."""
        keys, label = ("report",), "report."
        allowed = {"views_are_visits", "participation", "count_reminders_as_events", "event_kinds"}
        self.unknown(table, allowed, keys, label)
        defaults = ReportRules()
        views = self.typed(table, "views_are_visits", bool, keys, label, defaults.views_are_visits)
        reminders = self.typed(
            table,
            "count_reminders_as_events",
            bool,
            keys,
            label,
            defaults.count_reminders_as_events,
        )
        participation = self.typed(table, "participation", str, keys, label, defaults.participation)
        if participation not in PARTICIPATION_RULES:
            choices = " or ".join(f'"{rule}"' for rule in PARTICIPATION_RULES)
            self.fail((*keys, "participation"), f"{label}participation", f"must be {choices}")
            participation = defaults.participation
        kinds = self.typed(table, "event_kinds", list, keys, label, list(defaults.event_kinds))
        # Kinds are not checked against today's list: contests and giveaways come later.
        if any(not isinstance(k, str) or not re.match(r"^[a-z][a-z_]*$", k) for k in kinds):
            self.fail(
                (*keys, "event_kinds"),
                f"{label}event_kinds",
                'must list event kinds such as "quiz", "poll", "announcement"',
            )
            kinds = list(defaults.event_kinds)
        return ReportRules(views, participation, reminders, tuple(kinds))

    def schedule(self, table: dict) -> ScheduleConfig:
        keys = ("schedule",)
        allowed = {
            "misfire_grace",
            "retry_deadline",
            "snapshot_after",
            "grace",
            "refresh_every",
            "community_snapshot_at",
        }
        self.unknown(table, allowed, keys, "schedule.")
        defaults = ScheduleConfig()
        raw = self.typed(table, "snapshot_after", list, keys, "schedule.", None)
        snapshots = defaults.snapshot_after
        if raw is not None:
            parsed = [parse_duration(v) for v in raw]
            most = LONGEST["snapshot_after"]
            if any(p is None or not timedelta(0) < p <= most for p in parsed):
                self.fail(
                    (*keys, "snapshot_after"),
                    "schedule.snapshot_after",
                    f'must list durations such as "1h", "24h", "7d", each at most '
                    f"{say_duration(most)}",
                )
            else:
                snapshots = tuple(sorted(p for p in parsed if p))
        return ScheduleConfig(
            misfire_grace=self.duration(table, "misfire_grace", defaults.misfire_grace),
            retry_deadline=self.duration(
                table, "retry_deadline", defaults.retry_deadline, timedelta(seconds=1)
            ),
            snapshot_after=snapshots,
            grace_by_kind=self.grace_by_kind(table, dict(defaults.grace_by_kind)),
            refresh_every=self.duration(
                table, "refresh_every", defaults.refresh_every, timedelta(seconds=1)
            ),
            community_snapshot_at=self.clock_time(
                table, "community_snapshot_at", defaults.community_snapshot_at
            ),
        )

    def clock_time(self, table: dict, key: str, default: time | None) -> time | None:
        raw = self.typed(table, key, str, ("schedule",), "schedule.", None)
        if raw is None:
            return default
        if raw == "off":
            return None
        try:
            return time.fromisoformat(raw)
        except ValueError:
            self.fail(
                ("schedule", key),
                f"schedule.{key}",
                f'must be a time of day such as "23:50" (or "off"), not {raw!r}',
            )
            return default

    def grace_by_kind(self, table: dict, by_kind: dict) -> tuple[tuple[str, timedelta], ...]:
        raw = self.typed(table, "grace", dict, ("schedule",), "schedule.", {})
        for kind, value in raw.items():
            parsed = parse_duration(value)
            if kind not in GRACE_KINDS or parsed is None:
                self.fail(
                    ("schedule", "grace", kind),
                    f"schedule.grace.{key_name(kind)}",
                    f'needs an action kind ({", ".join(GRACE_KINDS)}) and a duration such as "10m"',
                )
                continue
            if parsed > LONGEST["grace"]:
                self.fail(
                    ("schedule", "grace", kind),
                    f"schedule.grace.{key_name(kind)}",
                    f"must be at most {say_duration(LONGEST['grace'])}, not {shown(value)}",
                )
                continue
            by_kind[kind] = parsed
        return tuple(sorted(by_kind.items()))

    def duration(
        self, table: dict, key: str, default: timedelta, least: timedelta = timedelta(0)
    ) -> timedelta:
        """A ``[schedule]`` duration, from ``least`` to ``LONGEST[key]``."""
        if key not in table:
            return default
        parsed = parse_duration(table[key])
        most = LONGEST[key]
        if parsed is None:
            problem = f'must be a duration such as "15m" or "2h", not {shown(table[key])}'
        elif parsed < least:
            problem = f"must be at least {say_duration(least)}, not {shown(table[key])}"
        elif parsed > most:
            problem = f"must be at most {say_duration(most)}, not {shown(table[key])}"
        else:
            return parsed
        self.fail(("schedule", key), f"schedule.{key}", problem)
        return default

    def library(self, index: int, raw: object) -> LibraryConfig | None:
        keys: tuple = ("library", index)
        label = f"library[{index + 1}]."
        if not isinstance(raw, dict):
            self.fail(keys, label.rstrip("."), "must be a table")
            return None
        lib_id = self.typed(raw, "id", str, keys, label, required=True)
        if lib_id is not None and not LIBRARY_ID.match(lib_id):
            self.fail(
                (*keys, "id"),
                f"{label}id",
                "must be lowercase latin letters, digits, '-' or '_' (e.g. \"central\")",
            )
        label = f"library[{lib_id or index + 1}]."
        allowed = {"id", "name", "short_name", "timezone", "admins", "keep_names"}
        allowed |= set(networks.names())
        self.unknown(raw, allowed, keys, label)
        name = self.typed(raw, "name", str, keys, label, required=True)
        zone = self.timezone(raw, keys, label)
        admins = self.typed(raw, "admins", list, keys, label, [])
        if not all(_is_id(a) for a in admins):
            self.fail((*keys, "admins"), f"{label}admins", "must list numeric Telegram user ids")
            admins = []
        telegram = self.telegram(raw, keys, label)
        vk = self.vk(raw, keys, label)
        mx = self.max(raw, keys, label)
        if not any(section in raw for section in networks.names()):
            sections = [f"[library.{section}]" for section in networks.names()]
            self.fail(
                keys,
                label.rstrip("."),
                f"connect at least one network: {', '.join(sections[:-1])} or {sections[-1]}",
            )
        if lib_id is None or name is None or zone is None:
            return None
        keep = parse_duration(raw.get("keep_names", "30d"))
        most = LONGEST["keep_names"]
        if keep is None or keep > most:
            self.fail(
                (*keys, "keep_names"),
                f"{label}keep_names",
                f'must be a duration like "30d", at most {say_duration(most)}',
            )
            keep = timedelta(days=30)
        short_name = self.typed(raw, "short_name", str, keys, label, lib_id) or lib_id
        return LibraryConfig(lib_id, name, zone, tuple(admins), telegram, vk, keep, short_name, mx)

    def timezone(self, raw: dict, keys: tuple, label: str) -> ZoneInfo | None:
        name = self.typed(raw, "timezone", str, keys, label, required=True)
        if name is None:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
            self.fail(
                (*keys, "timezone"),
                f"{label}timezone",
                f'unknown IANA time zone {name!r} (e.g. "Europe/Moscow")',
            )
            return None

    def telegram(self, raw: dict, keys: tuple, label: str) -> TelegramConfig | None:
        table = self.typed(raw, "telegram", dict, keys, label)
        if table is None:
            return None
        keys, label = (*keys, "telegram"), f"{label}telegram."
        allowed = {"token_env", "chats", "api_url", "resend_uncertain", "timeout", "quiz_chat"}
        allowed |= {"staff"}
        self.unknown(table, allowed, keys, label)
        timeout = self.seconds(table, "timeout", keys, label)
        resend = self.typed(table, "resend_uncertain", bool, keys, label, False)
        token_env = self.env_name(table, "token_env", keys, label, required=True)
        chats = self.typed(table, "chats", list, keys, label, [], required=True)
        for number, chat in enumerate(chats):
            if isinstance(chat, str) and _NUMERIC.match(chat.strip()):
                chat = chats[number] = int(chat)  # a numeric id written in quotes is that id
            if not (_is_id(chat) or (isinstance(chat, str) and _USERNAME.match(chat))):
                hint = "; a username starts with @" if _username(chat) else ""
                self.fail(
                    (*keys, "chats"),
                    f"{label}chats",
                    f"{chat!r} is neither a numeric chat id (like -1001234567890) "
                    f"nor an @username{hint}",
                )
                chats = []
                break
        api_url = self.url(table, keys, label, TELEGRAM_API_URL)
        quiz_chat = self.typed(table, "quiz_chat", (int, str), keys, label)
        staff = self.user_ids(table, "staff", keys, label)
        if token_env is None:
            return None
        return TelegramConfig(
            token_env,
            tuple(str(c) for c in chats),
            api_url,
            resend,
            timeout,
            None if quiz_chat is None else str(quiz_chat),
            staff,
        )

    def user_ids(self, table: dict, key: str, keys: tuple, label: str) -> tuple[int, ...]:
        """A list of numeric user ids (e.g. the library's staff, who do not play)."""
        ids = self.typed(table, key, list, keys, label, [])
        if not all(_is_id(i) for i in ids):
            self.fail((*keys, key), f"{label}{key}", "must list numeric user ids")
            return ()
        return tuple(ids)

    def vk(self, raw: dict, keys: tuple, label: str) -> VkConfig | None:
        table = self.typed(raw, "vk", dict, keys, label)
        if table is None:
            return None
        keys, label = (*keys, "vk"), f"{label}vk."
        self.unknown(
            table,
            {
                "group_id",
                "user_token_env",
                "community_token_env",
                "api_url",
                "requests_per_second",
                "timeout",
                "quiz_chat",
                "staff",
                "admins",
            },
            keys,
            label,
        )
        group_id = self.typed(table, "group_id", int, keys, label, required=True)
        if group_id is not None and not 0 < group_id < MAX_ID:
            self.fail(
                (*keys, "group_id"),
                f"{label}group_id",
                "must be the positive community id (without the minus)",
            )
        user = self.env_name(table, "user_token_env", keys, label)
        community = self.env_name(table, "community_token_env", keys, label)
        if "user_token_env" not in table and "community_token_env" not in table:
            self.fail(
                keys,
                label.rstrip("."),
                "name at least one token variable: user_token_env or community_token_env",
            )
        rate = self.typed(table, "requests_per_second", (int, float), keys, label, 3.0)
        if not 0 < rate <= MAX_RATE:  # also refuses nan, which no comparison holds for
            self.fail(
                (*keys, "requests_per_second"),
                f"{label}requests_per_second",
                f"must be a positive number, at most {MAX_RATE:g}",
            )
            rate = 3.0
        api_url = self.url(table, keys, label, VK_API_URL)
        if group_id is None:
            return None
        timeout = self.seconds(table, "timeout", keys, label)
        quiz_chat = self.typed(table, "quiz_chat", int, keys, label)
        if quiz_chat is not None and not 2_000_000_000 < quiz_chat < MAX_ID:
            self.fail(
                (*keys, "quiz_chat"),
                f"{label}quiz_chat",
                "must be the chat's peer_id, 2000000000 + the chat number (e.g. 2000000001)",
            )
            quiz_chat = None
        staff = self.user_ids(table, "staff", keys, label)
        admins = self.user_ids(table, "admins", keys, label)
        return VkConfig(
            group_id, user, community, api_url, float(rate), timeout, quiz_chat, staff, admins
        )

    def max(self, raw: dict, keys: tuple, label: str) -> MaxConfig | None:
        """``[library.max]``: the bot, its channels, quiz chat and how updates arrive."""
        table = self.typed(raw, "max", dict, keys, label)
        if table is None:
            return None
        keys, label = (*keys, "max"), f"{label}max."
        allowed = {"token_env", "channels", "quiz_chat", "api_url", "timeout", "resend_uncertain"}
        allowed |= {"staff", "updates", "webhook_url", "webhook_secret_env", "admins"}
        self.unknown(table, allowed, keys, label)
        token_env = self.env_name(table, "token_env", keys, label, required=True)
        channels = self.typed(table, "channels", list, keys, label, [], required=True)
        ids = [self.chat_id(chat) for chat in channels]
        if any(i is None for i in ids):
            self.fail(
                (*keys, "channels"),
                f"{label}channels",
                "must list the channels' numeric chat ids (like -72996371719896)",
            )
            ids = []
        elif "channels" in table and not ids:
            self.fail((*keys, "channels"), f"{label}channels", "must list at least one channel")
        quiz_chat = None
        if "quiz_chat" in table:
            quiz_chat = self.chat_id(table["quiz_chat"])
            if quiz_chat is None:
                self.fail(
                    (*keys, "quiz_chat"),
                    f"{label}quiz_chat",
                    f"must be the group chat's numeric id (like -78835471834864), "
                    f"not {shown(table['quiz_chat'])}",
                )
        api_url = self.url(table, keys, label, MAX_API_URL)
        timeout = self.seconds(table, "timeout", keys, label)
        resend = self.typed(table, "resend_uncertain", bool, keys, label, False)
        staff = self.user_ids(table, "staff", keys, label)
        updates = self.typed(table, "updates", str, keys, label, "poll")
        if updates not in MAX_UPDATES:
            choices = " or ".join(f'"{mode}"' for mode in MAX_UPDATES)
            self.fail((*keys, "updates"), f"{label}updates", f"must be {choices}, not {updates!r}")
            updates = "poll"
        webhook_url = self.typed(table, "webhook_url", str, keys, label)
        secret_env = self.env_name(table, "webhook_secret_env", keys, label)
        if webhook_url is not None and not re.match(r"^https://[^\s/]+", webhook_url):
            self.fail(
                (*keys, "webhook_url"),
                f"{label}webhook_url",
                f"must be an https:// URL (MAX posts only to HTTPS), not {webhook_url!r}",
            )
            webhook_url = None
        if updates == "webhook":
            for key, value in (("webhook_url", webhook_url), ("webhook_secret_env", secret_env)):
                if value is None and key not in table:
                    self.fail(keys, f"{label}{key}", 'is required with updates = "webhook"')
        if token_env is None:
            return None
        return MaxConfig(
            token_env,
            tuple(str(i) for i in ids),
            api_url,
            timeout,
            resend,
            None if quiz_chat is None else str(quiz_chat),
            staff,
            updates,
            webhook_url,
            secret_env,
            self.user_ids(table, "admins", keys, label),
        )

    @staticmethod
    def chat_id(value: object) -> int | None:
        """A MAX chat id, a whole number or one written in quotes; None if it is neither."""
        if isinstance(value, str) and _NUMERIC.match(value.strip()):
            value = int(value)
        return value if _is_id(value) and value != 0 else None  # type: ignore[return-value]

    def webhook(self, table: dict) -> WebhookConfig:
        """``[webhook]``: where bibliobot's own HTTP server listens, and its paths."""
        keys, label = ("webhook",), "webhook."
        self.unknown(table, {"listen", "path_prefix"}, keys, label)
        defaults = WebhookConfig()
        listen = self.typed(table, "listen", str, keys, label, defaults.listen)
        found = re.match(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$", listen)
        if not found or not 0 < int(found.group(2)) < 65536:
            self.fail(
                (*keys, "listen"),
                f"{label}listen",
                f'must be host:port such as "127.0.0.1:8088", not {listen!r}',
            )
            listen = defaults.listen
        prefix = self.typed(table, "path_prefix", str, keys, label, defaults.path_prefix)
        if not re.match(r"^/([A-Za-z0-9._~-]+/)*$", prefix):
            self.fail(
                (*keys, "path_prefix"),
                f"{label}path_prefix",
                f'must be a URL path starting and ending with "/" such as "/max/", not {prefix!r}',
            )
            prefix = defaults.path_prefix
        return WebhookConfig(listen, prefix)

    def seconds(self, table: dict, key: str, keys: tuple, label: str) -> float:
        """A positive number of seconds (a request timeout)."""
        value = self.typed(table, key, (int, float), keys, label, 10.0)
        if not 0 < value <= 300:
            self.fail((*keys, key), f"{label}{key}", "must be a number of seconds, 0 to 300")
            return 10.0
        return float(value)

    def env_name(
        self, table: dict, key: str, keys: tuple, label: str, required: bool = False
    ) -> str | None:
        name = self.typed(table, key, str, keys, label, required=required)
        if name is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            self.fail(
                (*keys, key),
                f"{label}{key}",
                "must be the NAME of an environment variable, not the token itself",
            )
            return None
        return name

    def url(self, table: dict, keys: tuple, label: str, default: str) -> str:
        url = self.typed(table, "api_url", str, keys, label, default)
        if not re.match(r"^https?://[^\s/]+", url):
            self.fail((*keys, "api_url"), f"{label}api_url", f"must be an http(s) URL, not {url!r}")
            return default
        return url


def _is_id(value: object) -> bool:
    """A numeric Telegram or VK id: a whole number (not true/false) of at most 53 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_ID


def _username(chat: object) -> bool:
    """``central_library`` written without its @."""
    return isinstance(chat, str) and re.match(r"^[A-Za-z][A-Za-z0-9_]{3,}$", chat) is not None


def _kind_name(kind: type | tuple) -> str:
    names = {
        str: "text",
        int: "a whole number",
        float: "a number",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_config(path: str | Path) -> Config:
    """Parse and validate ``path``; raise Problems listing every bad key."""
    path = Path(path)
    data, text = read_toml(path, ConfigError)
    reader = Reader(path, text)
    config = reader.config(data)
    if reader.problems:
        raise Problems(reader.problems)
    return config
