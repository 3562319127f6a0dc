"""The admin chat's commands: one short handler each, on the library the desk chose.

The work itself is ``bot.operations``' (the same the CLI does); a handler says what came
of it in the config's language and returns the outcome the audit keeps. Russian aliases
(``/план``, ``/отмена`` …) lead to the same handlers.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.admin.model import OutFile
from core import messages
from core.errors import (
    AuthFailed,
    Forbidden,
    InputError,
    NotFound,
    PlatformError,
    RetryLater,
)
from core.networks import names, title
from core.storage import FAILED, MISSED, UNCERTAIN, from_db, to_db
from reports.period import PeriodError

if TYPE_CHECKING:
    from bot.admin.desk import AdminDesk, Request

PLAN_DAYS = 7
PLAN_LINES = 40  # lines of /plan before "…and N more"
STATUS_POSTS = 5
STATUS_ERRORS = 5
COLLECT_DAYS = 30
CHECK_TIMEOUT = 10.0  # seconds for a token check in /status
PERIODS = {"month": "month", "quarter": "quarter", "year": "year"}
PERIOD_ALIASES = {"месяц": "month", "квартал": "quarter", "год": "year"}
NOT_IN_PLAN = ("snapshot", "community")  # metrics reads: not what a librarian plans

Handler = Callable[["AdminDesk", "Request"], Awaitable[str]]


def when(request: Request, moment: str) -> str:
    """A stored UTC time as the library's local day and time."""
    return f"{from_db(moment).astimezone(request.library.timezone):%d.%m %H:%M}"


def network_name(network: str) -> str:
    """A network's name as readers know it (the same in both languages)."""
    return title(network, messages.language()) if network in names() else network


def kind_word(kind: str) -> str:
    """An action's kind in the reader's words."""
    key = f"admin.kind_{kind}"
    return messages.text(key) if key in messages.catalogue() else kind


def event_kind_word(kind: str) -> str:
    """An event's kind (announcement, quiz …) in the reader's words."""
    key = f"admin.event_kind_{kind}"
    return messages.text(key) if key in messages.catalogue() else kind


def state_word(state: str) -> str:
    """An action's state in the reader's words."""
    key = f"common.state_{state}"
    return messages.text(key) if key in messages.catalogue() else state


async def reply(desk: AdminDesk, request: Request, text: str) -> None:
    """Answer the admin who asked (a refused reply is logged and audited, not raised)."""
    await desk.answer(request, text)


# -- the handlers ---------------------------------------------------------------------


async def help_command(desk: AdminDesk, request: Request) -> str:
    """What the bot does, and its commands."""
    library = request.library
    networks = ", ".join(network_name(n) for n in library.networks)
    text = messages.text("admin.help", library=library.name, networks=networks)
    inbound = request.inbound
    mine = desk.libraries_of(inbound.network, inbound.user_id, inbound.libraries)
    if len(mine) > 1:
        ids = ", ".join(lib.id for lib in mine)
        text += "\n\n" + messages.text("admin.help_several", libraries=ids, example=mine[0].id)
    await reply(desk, request, text)
    return "ok"


async def unknown_command(desk: AdminDesk, request: Request) -> str:
    """A slash command the bot does not know."""
    await reply(desk, request, messages.text("admin.unknown"))
    return "unknown command"


async def plan_command(desk: AdminDesk, request: Request) -> str:
    """The next 7 days of the plan, in local time, with states."""
    from scheduler.agenda import coming

    library = request.library
    items = [
        item
        for item in coming(desk.db, desk.config, desk.clock.now(), PLAN_DAYS, library.id)
        if item.kind not in NOT_IN_PLAN
    ]
    if not items:
        await reply(desk, request, messages.text("admin.plan_empty", library=library.name))
        return "ok: 0 lines"
    zone = library.timezone.key
    lines = [messages.text("admin.plan_header", library=library.name, zone=zone)]
    if _is_paused(desk, library.id):
        lines.append(messages.text("admin.plan_paused"))
    for item in items[:PLAN_LINES]:
        lines.append(
            messages.text(
                "admin.plan_line",
                when=f"{item.local:%d.%m %H:%M}",
                title=item.title or item.event_id,
                kind=kind_word(item.kind),
                network=network_name(item.network),
                state=state_word(item.state),
            )
        )
    if len(items) > PLAN_LINES:
        lines.append(messages.text("admin.plan_more", count=len(items) - PLAN_LINES))
    await reply(desk, request, "\n".join(lines))
    return f"ok: {len(items)} lines"


async def event_command(desk: AdminDesk, request: Request) -> str:
    """One event: what goes out where and when, with states and links."""
    event = await _event_named(desk, request)
    if event is None:
        return "refused: no such event"
    status = messages.text(
        "admin.event_" + ("cancelled" if event["status"] == "cancelled" else "active")
    )
    lines = [
        messages.text(
            "admin.event_header",
            title=event["title"], event=event["id"], kind=event_kind_word(event["kind"]),
            status=status,
        )
    ]  # fmt: skip
    links = {
        row["action_id"]: row["url"]
        for row in desk.db["publications"].rows_where("event_id = ?", [event["id"]])
    }
    for action in desk.db["actions"].rows_where(
        "event_id = ? and kind not in ('snapshot', 'community')",
        [event["id"]],
        order_by="due_at, id",
    ):
        link = links.get(action["id"])
        lines.append(
            messages.text(
                "admin.event_line",
                when=when(request, action["due_at"]),
                kind=kind_word(action["kind"]),
                network=network_name(action["network"]),
                state=state_word(action["state"]),
                link=f" {link}" if link else "",
            )
        )
    await reply(desk, request, "\n".join(lines))
    return "ok"


async def cancel_command(desk: AdminDesk, request: Request) -> str:
    """Cancel an event: nothing more of it goes out."""
    from bot import operations

    event = await _event_named(desk, request)
    if event is None:
        return "refused: no such event"
    if event["status"] == "cancelled":
        text = messages.text("admin.cancel_already", title=event["title"], event=event["id"])
        await reply(desk, request, text)
        return "already cancelled"
    actor = f"{request.inbound.network}:{request.inbound.user_id}"
    count = operations.cancel_event(desk.db, event["id"], desk.clock.now(), actor)
    desk.changed()
    text = messages.text("admin.cancel_done", title=event["title"], event=event["id"], count=count)
    await reply(desk, request, text)
    return f"cancelled, {count} dropped"


async def pause_command(desk: AdminDesk, request: Request) -> str:
    """Pause the library: its planned posts wait."""
    return await _pause(desk, request, True)


async def resume_command(desk: AdminDesk, request: Request) -> str:
    """Resume the library's posting."""
    return await _pause(desk, request, False)


async def report_command(desk: AdminDesk, request: Request) -> str:
    """The month's, quarter's or year's report (to date), as XLSX and HTML files."""
    from bot import operations

    word = _period(request.args)
    named = next((a for a in request.args if a[:4].isdigit()), None)  # 2026-11, 2026-Q4, 2026
    if word is None and named is None:
        await reply(desk, request, messages.text("admin.report_usage"))
        return "refused: no period"
    library = request.library
    today = desk.clock.now().astimezone(library.timezone).date()
    try:
        period = operations.current_period(word or str(named).upper(), today)
    except PeriodError as exc:  # its text is the reader's (the catalogue's)
        await reply(desk, request, f"{exc}\n{messages.text('admin.report_usage')}")
        return "refused: bad period"
    said = messages.text(f"admin.period_{word}") if word else period.label
    with tempfile.TemporaryDirectory(prefix="bibliobot-report-") as folder:
        # In the loop's thread: the database connection is not shared with others (one
        # library's report takes about a second).
        built = operations.build_report(desk.db, desk.config, period, library.id, Path(folder))
        for path in (built.xlsx, built.html):
            caption = messages.text(
                "admin.report_caption", library=library.name, period=said, name=path.name
            )
            await desk.answer(request, caption, OutFile(path.name, path.read_bytes()))
    if request.undelivered:  # the files did not go out: not "sent", and why
        why = messages.text(reason_key(request.undelivered[0]))
        await reply(desk, request, messages.text("admin.report_not_sent", reason=why))
        return f"not sent {period.label}"
    await reply(desk, request, messages.text("admin.report_sent", period=said))
    return f"sent {period.label}"


async def collect_command(desk: AdminDesk, request: Request) -> str:
    """Read the metrics of the library's recent posts now."""
    from scheduler.snapshots import collect_recent

    library = request.library
    platforms = {key: p for key, p in desk.platforms.items() if key[0] == library.id}
    since = desk.clock.now() - timedelta(days=COLLECT_DAYS)
    written = await collect_recent(desk.db, platforms, since, desk.clock.now, library.id)
    text = messages.text(
        "admin.collect_done", library=library.name, days=COLLECT_DAYS, count=int(written)
    )
    unread = getattr(written, "unread", 0)
    if unread:
        text += "\n" + messages.text("admin.collect_unread", count=unread)
    await reply(desk, request, text)
    return f"ok: {int(written)} samples, {unread} unread"


async def status_command(desk: AdminDesk, request: Request) -> str:
    """Last posts, errors of the week, and whether each token works."""
    library = request.library
    paused = _is_paused(desk, library.id)
    state = messages.text("admin.status_paused" if paused else "admin.status_running")
    lines = [messages.text("admin.status_header", library=library.name, state=state)]
    lines += _last_posts(desk, request)
    lines += _last_errors(desk, request)
    lines.append(messages.text("admin.status_tokens"))
    lines += await asyncio.gather(*(_token_line(desk, library.id, n) for n in library.networks))
    await reply(desk, request, "\n".join(lines))
    return "ok"


# -- helpers of the handlers ----------------------------------------------------------


async def _event_named(desk: AdminDesk, request: Request) -> dict | None:
    """The event the arguments name (``central/club`` or ``club``); None, told, if none."""
    library = request.library
    known = [
        row["id"]
        for row in desk.db["events"].rows_where(
            "library_id = ? and status = 'active'",
            [library.id],
            order_by="starts_at desc",
            limit=10,
        )
    ]
    listing = ", ".join(known) or messages.text("admin.event_none")
    if not request.args:
        example = known[0] if known else f"{library.id}/club"
        usage = messages.text(
            "admin.event_usage", command=request.command, example=example, known=listing
        )
        await reply(desk, request, usage)
        return None
    wanted = request.args[0]
    event_id = wanted if "/" in wanted else f"{library.id}/{wanted}"
    found = next(
        desk.db["events"].rows_where("id = ? and library_id = ?", [event_id, library.id]), None
    )
    if found is None:
        await reply(
            desk, request, messages.text("admin.event_unknown", event=wanted, known=listing)
        )
    return found


async def _pause(desk: AdminDesk, request: Request, paused: bool) -> str:
    """Pause or resume, unless it is so already."""
    from bot import operations

    library = request.library
    row = next(desk.db["libraries"].rows_where("id = ?", [library.id]), None)
    if row is not None and bool(row["paused"]) == paused:
        key = "admin.already_paused" if paused else "admin.not_paused"
        await reply(desk, request, messages.text(key, library=library.name))
        return "unchanged"
    operations.set_paused(desk.db, library.id, paused)
    desk.changed()
    await reply(
        desk,
        request,
        messages.text("admin.paused" if paused else "admin.resumed", library=library.name),
    )
    return "paused" if paused else "resumed"


def _is_paused(desk: AdminDesk, library_id: str) -> bool:
    """Whether the library is paused (``libraries.paused``)."""
    row = next(desk.db["libraries"].rows_where("id = ?", [library_id]), None)
    return bool(row and row["paused"])


def _period(args: tuple[str, ...]) -> str | None:
    """month, quarter or year from the arguments (Russian words too)."""
    for word in args:
        word = word.lower()
        if word in PERIODS or word in PERIOD_ALIASES:
            return PERIODS.get(word) or PERIOD_ALIASES[word]
    return None


def _last_posts(desk: AdminDesk, request: Request) -> list[str]:
    rows = list(
        desk.db.execute(
            "select p.published_at, p.network, p.url, e.title from publications p "
            "join events e on e.id = p.event_id where p.library_id = ? "
            "order by p.published_at desc limit ?",
            [request.library.id, STATUS_POSTS],
        )
    )
    if not rows:
        return [messages.text("admin.status_no_posts")]
    return [messages.text("admin.status_posts")] + [
        messages.text(
            "admin.status_post",
            when=when(request, at), network=network_name(network), title=name, url=url or "",
        ).rstrip()
        for at, network, url, name in rows
    ]  # fmt: skip


def _last_errors(desk: AdminDesk, request: Request) -> list[str]:
    since = to_db(desk.clock.now() - timedelta(days=7))
    rows = list(
        desk.db.execute(
            "select a.finished_at, a.network, a.state, e.title from actions a "
            "join events e on e.id = a.event_id where a.library_id = ? and a.state in (?, ?, ?) "
            "and a.finished_at >= ? order by a.finished_at desc limit ?",
            [request.library.id, FAILED, UNCERTAIN, MISSED, since, STATUS_ERRORS],
        )
    )
    if not rows:
        return [messages.text("admin.status_no_errors")]
    return [messages.text("admin.status_errors")] + [
        messages.text(
            "admin.status_error",
            when=when(request, at), network=network_name(network), title=name,
            state=state_word(state), reason=messages.text(f"admin.status_hint_{state}"),
        )
        for at, network, state, name in rows
    ]  # fmt: skip


async def _token_line(desk: AdminDesk, library_id: str, network: str) -> str:
    """Whether the network's token answers: the members count of the library's first place."""
    platform = desk.platforms.get((library_id, network))
    library = desk.config.library(library_id)
    settings = library.settings(network) if library else None
    targets = getattr(settings, "post_targets", ())
    name = network_name(network)
    if platform is None or not targets:
        return messages.text(
            "admin.token_bad", network=name, reason=messages.text("admin.reason_other")
        )
    try:
        await asyncio.wait_for(platform.audience_size(targets[0]), CHECK_TIMEOUT)
    except (PlatformError, TimeoutError) as exc:
        return messages.text("admin.token_bad", network=name, reason=messages.text(reason_key(exc)))
    return messages.text("admin.token_ok", network=name)


def reason_key(exc: BaseException) -> str:
    """The catalogue key of why something failed, by the error's kind."""
    kinds: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
        (AuthFailed, "admin.reason_auth"),
        (Forbidden, "admin.reason_forbidden"),
        (NotFound, "admin.reason_not_found"),
        ((RetryLater, TimeoutError), "admin.reason_retry"),
        (InputError, "admin.reason_input"),
    )
    return next((key for kind, key in kinds if isinstance(exc, kind)), "admin.reason_other")


HANDLERS: dict[str, Handler] = {
    "help": help_command,
    "unknown": unknown_command,
    "plan": plan_command,
    "event": event_command,
    "cancel": cancel_command,
    "pause": pause_command,
    "resume": resume_command,
    "report": report_command,
    "collect": collect_command,
    "status": status_command,
}
ALIASES = {
    "start": "help",
    "помощь": "help",
    "справка": "help",
    "старт": "help",
    "план": "plan",
    "мероприятие": "event",
    "событие": "event",
    "отмена": "cancel",
    "отменить": "cancel",
    "пауза": "pause",
    "продолжить": "resume",
    "отчёт": "report",
    "отчет": "report",
    "метрики": "collect",
    "собрать": "collect",
    "статус": "status",
    "состояние": "status",
}
MENU = ("plan", "event", "cancel", "pause", "resume", "report", "collect", "status", "help")


def command_of(word: str) -> str | None:
    """The command a message's first word names (``/plan``, ``/plan@bot``, ``/план``)."""
    if not word.startswith("/"):
        return None
    name = word[1:].split("@", 1)[0].lower()
    name = ALIASES.get(name, name)
    return name if name in HANDLERS and name != "unknown" else None
