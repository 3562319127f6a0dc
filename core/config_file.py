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
)
from core.errors import ConfigError, Problems
from core.messages import DEFAULT_LANGUAGE, text, use_language
from core.tomlfile import key_name, line_of, or_join, read_toml, say_span, shown, unknown_key

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

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.text = source
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
                self.fail(key_path, f"{label}{key}", text("config.required"))
            return default
        value = table[key]
        # TOML booleans are ints to Python; true is not a group id.
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
        if not ok:
            self.fail(
                (*key_path, key),
                f"{label}{key}",
                text("config.must_be_kind", kind=_kind_name(kind), value=shown(value)),
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
                text("config.must_be_not", choices=or_join(LANGUAGES), value=shown(language)),
            )
            language = "ru"
        schedule = self.schedule(self.typed(data, "schedule", dict, (), "", {}))
        report = self.report(self.typed(data, "report", dict, (), "", {}))
        webhook = self.webhook(self.typed(data, "webhook", dict, (), "", {}))
        raw_libraries = self.typed(data, "library", list, (), "", [], required=True)
        libraries = [self.library(i, raw) for i, raw in enumerate(raw_libraries)]
        ids = [lib.id for lib in libraries if lib]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            self.fail(("library",), "library.id", text("config.library_twice", id=repr(dup)))
        if not raw_libraries and "library" in data:
            self.fail(("library",), "library", text("config.library_required"))
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
            problem = text("config.must_be_path")
        elif any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
            problem = text("config.name_too_long", limit=MAX_NAME_BYTES)
        elif len(value.encode()) > 4 * MAX_NAME_BYTES:
            problem = text("config.path_too_long", limit=4 * MAX_NAME_BYTES)
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
            choices = or_join(f'"{rule}"' for rule in PARTICIPATION_RULES)
            self.fail(
                (*keys, "participation"),
                f"{label}participation",
                text("config.must_be", choices=choices),
            )
            participation = defaults.participation
        kinds = self.typed(table, "event_kinds", list, keys, label, list(defaults.event_kinds))
        # Kinds are not checked against today's list: contests and giveaways come later.
        if any(not isinstance(k, str) or not re.match(r"^[a-z][a-z_]*$", k) for k in kinds):
            self.fail(
                (*keys, "event_kinds"),
                f"{label}event_kinds",
                text("config.event_kinds"),
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
                    text("config.snapshot_after", most=say_span(most)),
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
                text("config.time_of_day", value=shown(raw)),
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
                    text("config.grace_kind", kinds=", ".join(GRACE_KINDS)),
                )
                continue
            if parsed > LONGEST["grace"]:
                self.fail(
                    ("schedule", "grace", kind),
                    f"schedule.grace.{key_name(kind)}",
                    text("config.at_most", most=say_span(LONGEST["grace"]), value=shown(value)),
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
            problem = text("config.duration", value=shown(table[key]))
        elif parsed < least:
            problem = text("config.at_least", least=say_span(least), value=shown(table[key]))
        elif parsed > most:
            problem = text("config.at_most", most=say_span(most), value=shown(table[key]))
        else:
            return parsed
        self.fail(("schedule", key), f"schedule.{key}", problem)
        return default

    def library(self, index: int, raw: object) -> LibraryConfig | None:
        keys: tuple = ("library", index)
        label = f"library[{index + 1}]."
        if not isinstance(raw, dict):
            self.fail(keys, label.rstrip("."), text("config.must_be_table"))
            return None
        lib_id = self.typed(raw, "id", str, keys, label, required=True)
        if lib_id is not None and not LIBRARY_ID.match(lib_id):
            self.fail(
                (*keys, "id"),
                f"{label}id",
                text("config.library_id_form"),
            )
        label = f"library[{lib_id or index + 1}]."
        allowed = {"id", "name", "short_name", "timezone", "admins", "keep_names"}
        allowed |= set(networks.names())
        self.unknown(raw, allowed, keys, label)
        name = self.typed(raw, "name", str, keys, label, required=True)
        zone = self.timezone(raw, keys, label)
        admins = self.typed(raw, "admins", list, keys, label, [])
        if not all(_is_id(a) for a in admins):
            self.fail((*keys, "admins"), f"{label}admins", text("config.admins"))
            admins = []
        telegram = self.telegram(raw, keys, label)
        vk = self.vk(raw, keys, label)
        mx = self.max(raw, keys, label)
        if not any(section in raw for section in networks.names()):
            sections = [f"[library.{section}]" for section in networks.names()]
            self.fail(
                keys,
                label.rstrip("."),
                text("config.connect_network", sections=or_join(sections)),
            )
        if lib_id is None or name is None or zone is None:
            return None
        keep = parse_duration(raw.get("keep_names", "30d"))
        most = LONGEST["keep_names"]
        if keep is None or keep > most:
            self.fail(
                (*keys, "keep_names"),
                f"{label}keep_names",
                text("config.keep_names", most=say_span(most)),
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
                text("config.timezone", value=shown(name)),
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
                hint = text("config.username_hint") if _username(chat) else ""
                self.fail(
                    (*keys, "chats"),
                    f"{label}chats",
                    text("config.chat", value=shown(chat), hint=hint),
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
            self.fail((*keys, key), f"{label}{key}", text("config.user_ids"))
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
                text("config.group_id"),
            )
        user = self.env_name(table, "user_token_env", keys, label)
        community = self.env_name(table, "community_token_env", keys, label)
        if "user_token_env" not in table and "community_token_env" not in table:
            self.fail(
                keys,
                label.rstrip("."),
                text("config.vk_token"),
            )
        rate = self.typed(table, "requests_per_second", (int, float), keys, label, 3.0)
        if not 0 < rate <= MAX_RATE:  # also refuses nan, which no comparison holds for
            self.fail(
                (*keys, "requests_per_second"),
                f"{label}requests_per_second",
                text("config.rate", most=f"{MAX_RATE:g}"),
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
                text("config.vk_quiz_chat"),
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
                text("config.max_channels"),
            )
            ids = []
        elif "channels" in table and not ids:
            self.fail((*keys, "channels"), f"{label}channels", text("config.one_channel"))
        quiz_chat = None
        if "quiz_chat" in table:
            quiz_chat = self.chat_id(table["quiz_chat"])
            if quiz_chat is None:
                self.fail(
                    (*keys, "quiz_chat"),
                    f"{label}quiz_chat",
                    text("config.max_quiz_chat", value=shown(table["quiz_chat"])),
                )
        api_url = self.url(table, keys, label, MAX_API_URL)
        timeout = self.seconds(table, "timeout", keys, label)
        resend = self.typed(table, "resend_uncertain", bool, keys, label, False)
        staff = self.user_ids(table, "staff", keys, label)
        updates = self.typed(table, "updates", str, keys, label, "poll")
        if updates not in MAX_UPDATES:
            choices = or_join(f'"{mode}"' for mode in MAX_UPDATES)
            self.fail(
                (*keys, "updates"),
                f"{label}updates",
                text("config.must_be_not", choices=choices, value=shown(updates)),
            )
            updates = "poll"
        webhook_url = self.typed(table, "webhook_url", str, keys, label)
        secret_env = self.env_name(table, "webhook_secret_env", keys, label)
        if webhook_url is not None and not re.match(r"^https://[^\s/]+", webhook_url):
            self.fail(
                (*keys, "webhook_url"),
                f"{label}webhook_url",
                text("config.webhook_url", value=shown(webhook_url)),
            )
            webhook_url = None
        if updates == "webhook":
            for key, value in (("webhook_url", webhook_url), ("webhook_secret_env", secret_env)):
                if value is None and key not in table:
                    self.fail(keys, f"{label}{key}", text("config.required_webhook"))
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
                text("config.listen", value=shown(listen)),
            )
            listen = defaults.listen
        prefix = self.typed(table, "path_prefix", str, keys, label, defaults.path_prefix)
        if not re.match(r"^/([A-Za-z0-9._~-]+/)*$", prefix):
            self.fail(
                (*keys, "path_prefix"),
                f"{label}path_prefix",
                text("config.path_prefix", value=shown(prefix)),
            )
            prefix = defaults.path_prefix
        return WebhookConfig(listen, prefix)

    def seconds(self, table: dict, key: str, keys: tuple, label: str) -> float:
        """A positive number of seconds (a request timeout)."""
        value = self.typed(table, key, (int, float), keys, label, 10.0)
        if not 0 < value <= 300:
            self.fail((*keys, key), f"{label}{key}", text("config.seconds"))
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
                text("config.env_name"),
            )
            return None
        return name

    def url(self, table: dict, keys: tuple, label: str, default: str) -> str:
        url = self.typed(table, "api_url", str, keys, label, default)
        if not re.match(r"^https?://[^\s/]+", url):
            self.fail((*keys, "api_url"), f"{label}api_url", text("config.url", value=shown(url)))
            return default
        return url


def _is_id(value: object) -> bool:
    """A numeric Telegram or VK id: a whole number (not true/false) of at most 53 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_ID


def _username(chat: object) -> bool:
    """``central_library`` written without its @."""
    return isinstance(chat, str) and re.match(r"^[A-Za-z][A-Za-z0-9_]{3,}$", chat) is not None


def _kind_name(kind: type | tuple) -> str:
    """What a value of ``kind`` is called in "must be …": "целым числом", "a whole number"."""
    names = {
        str: text("config.kind_text"),
        int: text("config.kind_whole"),
        float: text("config.kind_number"),
        list: text("config.kind_list"),
        dict: text("config.kind_table"),
        bool: text("config.kind_bool"),
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return or_join(names.get(k, k.__name__) for k in kinds)


def load_config(path: str | Path) -> Config:
    """Parse and validate ``path``; raise Problems listing every bad key."""
    path = Path(path)
    data, source = read_toml(path, ConfigError)  # unreadable: said in the language in hand
    chosen = data.get("language")  # the problems are told in the config's own language
    with use_language(chosen if isinstance(chosen, str) else DEFAULT_LANGUAGE):
        reader = Reader(path, source)
        config = reader.config(data)
    if reader.problems:
        raise Problems(reader.problems)
    return config
