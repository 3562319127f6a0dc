"""Alerts to a library's admins: what went wrong, and what to check, in the config's language.

An ``Alerts`` is an observer of the runner's outcomes (``Runner.observers``) and is told by
the update readers when a platform refuses a token. It tells the admins of:

* a post that failed, was missed or is uncertain (one alert per post);
* a token the platform rejected (``AuthFailed``) or that lost a right (``Forbidden``): one
  alert per token while the trouble lasts; the posts it costs are not told one by one;
* a platform that keeps the bot waiting (``RetryLater``) for long: retries of one network
  reaching ``THROTTLED`` past the first, or one wait over ``LONG_WAIT``.

Repeats are not spam: an alert is written to ``alerts_told`` before it is sent, so neither
a repeat of the fault nor a restart tells it again. A token's and a network's trouble ends
when a post goes out on it again (that row is deleted): the next fault is news again.

Admins are reached on every network of their library that names them (Telegram's
``admins``, ``[library.vk] admins``, ``[library.max] admins``), each through the bot of
that network: a rejected Telegram token does not keep the VK admins from hearing of it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import sqlite_utils

from core import messages, networks
from core.clock import Clock, SystemClock
from core.config import Config, LibraryConfig
from core.errors import (
    AmbiguousOutcome,
    AuthFailed,
    BadContent,
    Forbidden,
    NotFound,
    PlatformError,
    RetryLater,
)
from core.model import RETRYING, ActionOutcome
from core.platform import Attachment, Platform, Post
from core.storage import FAILED, MISSED, SENT, UNCERTAIN, from_db, to_db
from scheduler import snapshots

log = logging.getLogger(__name__)

THROTTLED = timedelta(minutes=10)  # retries of one network this long after the first: news
LONG_WAIT = 300.0  # seconds: one wait asked for this long is news at once
HANDOVER_WINDOW = timedelta(days=3)  # a wall post this long after the handover still links

# Alerts about a token or a network (not one post): they last until a post goes out there.
TROUBLES = ("token_rejected", "right_lost", "throttled")

# Sends ``text`` (and a file) to a library's admins; returns how many were reached.
Notify = Callable[..., Awaitable[int]]


def admins_on(library: LibraryConfig, network: str) -> tuple[int, ...]:
    """The admins of ``library`` the bot of ``network`` can write to."""
    if network == "telegram":
        return library.admins  # the library's own list holds Telegram user ids
    return tuple(getattr(library.settings(network), "admins", ()) or ())


def make_notifier(config: Config, platforms: Mapping[tuple[str, str], Platform]) -> Notify:
    """Tell a library's admins on every network that names them; returns the admins reached."""

    async def notify(library_id: str, text: str, attachment: Attachment | None = None) -> int:
        library = config.library(library_id)
        if library is None:
            return 0
        reached = 0
        for network in library.networks:
            platform = platforms.get((library_id, network))
            admins = admins_on(library, network)
            if platform is None or not admins:
                continue
            reached += await _send_to(platform, library_id, admins, text, attachment)
        if not reached:
            # Nobody could be told (a rejected token, admins who never wrote to the bot):
            # the log is then the only place it is said.
            log.error("could not tell the admins of %s: %s", library_id, text)
        return reached

    return notify


async def _send_to(
    platform: Platform,
    library_id: str,
    admins: tuple[int, ...],
    text: str,
    attachment: Attachment | None,
) -> int:
    reached = 0
    for admin in admins:
        try:
            await platform.send_notice(admin, text, attachment)
        except AuthFailed as exc:  # the bot's token: no admin on this network can be told
            log.warning("%s: cannot tell the admins of %s: %s", platform.network, library_id, exc)
            return reached
        except PlatformError as exc:
            log.warning(
                "%s: could not tell admin %s of %s: %s", platform.network, admin, library_id, exc
            )
        else:
            reached += 1
    return reached


def notice_text(language: str, title: str, network: str, state: str, reason: str) -> str:
    """The short notice of a post that did not go out (its state and a reason already in
    the reader's language)."""
    return messages.text_in(
        language,
        "alerts.post_not_out",
        title=title,
        network=networks.title(network, language),
        state=messages.text_in(language, f"common.state_{state}"),
        reason=reason,
    )


def posting_variable(library: LibraryConfig, network: str) -> str:
    """The environment variable of the token that posts on ``network`` (VK: the user
    token, else the community token)."""
    settings = library.settings(network)
    for name in ("token_env", "user_token_env", "community_token_env"):
        value = getattr(settings, name, None)
        if value:
            return str(value)
    return ""


class Alerts:
    """Tells a library's admins what went wrong, once per fault."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        notify: Notify | None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.notify = notify  # None: alerts are logged only
        self.clock = clock or SystemClock()
        self.language = config.language
        self._throttled_since: dict[tuple[str, str], datetime] = {}
        self._tasks: set[asyncio.Task] = set()
        self._troubled: set[tuple[str, str]] | None = None  # (library, network) with TROUBLES

    # -- what happens ------------------------------------------------------------

    def observe(self, outcome: ActionOutcome) -> None:
        """The runner's observer: alerts for what became of one action."""
        where = (outcome.library_id, outcome.network)
        if outcome.state == SENT:
            self._throttled_since.pop(where, None)
            self._clear(outcome.library_id, outcome.network)
            return
        error = outcome.error
        if outcome.state == RETRYING and isinstance(error, RetryLater):
            self._watch_waits(outcome, error)
            return
        if outcome.state not in (FAILED, UNCERTAIN, MISSED):
            return
        if isinstance(error, (AuthFailed, Forbidden)):
            # The token's trouble, told once; the posts it costs are not told one by one.
            title = self._title(outcome)
            self._token_trouble(outcome.library_id, outcome.network, error, title)
            return
        if outcome.kind in snapshots.KINDS:
            return  # metrics read later or not at all: logged, not an admin's matter
        if self._claim(outcome.library_id, outcome.network, outcome.state, outcome.key):
            self._send(outcome.library_id, self._post_text(outcome))

    async def token_refused(
        self, library_id: str, network: str, variable: str, forbidden: bool = False
    ) -> None:
        """An update reader's word: the platform refused the token in ``variable``."""
        kind = "right_lost" if forbidden else "token_rejected"
        if self._claim(library_id, network, kind, variable):
            await self._tell(library_id, self._token_text(kind, network, variable, ""))

    def token_works(self, library_id: str, network: str, variable: str) -> None:
        """The token in ``variable`` was accepted again: its next refusal is news."""
        with self.db.atomic():
            self.db.execute(
                "delete from alerts_told where library_id = ? and network = ? and subject = ? "
                "and kind in ('token_rejected', 'right_lost')",
                [library_id, network, variable],
            )

    async def drain(self) -> None:
        """Wait for the alerts being sent (tests, and a stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- VK posts handed over --------------------------------------------------

    async def hand_over(self, library_id: str, group_id: int, post: Post) -> bool:
        """Send a post VK would not take from the bot to the admins, to publish by hand;
        remembered to link the wall post to the plan when it appears. False: nobody was
        reached (the post then fails rather than waiting for a hand that never comes)."""
        # A repeat (the runner retrying after a lost answer) keeps the first handover.
        self.db["handovers"].insert(
            {
                "guid": post.guid,
                "library_id": library_id,
                "group_id": group_id,
                "text": normalise(post.text),
                "handed_at": to_db(self.clock.now()),
                "post_id": None,
            },
            ignore=True,
        )
        text = messages.text_in(self.language, "alerts.hand_over", text=post.text)
        attachment = None
        if post.image is not None:
            attachment = Attachment(post.image.name, post.image.read_bytes(), is_image=True)
        return await self._tell(library_id, text, attachment) > 0

    def link_wall_post(self, library_id: str, group_id: int, post_id: int, text: str) -> str:
        """A new wall post: the guid of the handover it fulfils (its publication now points
        at it), or "" when it is none's."""
        since = to_db(self.clock.now() - HANDOVER_WINDOW)
        found = self.db.execute(
            "select guid from handovers where library_id = ? and group_id = ? and text = ? "
            "and post_id is null and handed_at >= ? order by handed_at limit 1",
            [library_id, group_id, normalise(text), since],
        ).fetchone()
        if found is None:
            return ""
        guid = found[0]
        with self.db.atomic():
            self.db["handovers"].update(guid, {"post_id": post_id})
            self.db.execute(
                "update publications set remote_id = ?, url = ? where library_id = ? and "
                "network = 'vk' and remote_id = ?",
                [str(post_id), handed_url(group_id, post_id), library_id, handed_id(guid)],
            )
        return guid

    # -- inside --------------------------------------------------------------------

    def _watch_waits(self, outcome: ActionOutcome, error: RetryLater) -> None:
        """A network that keeps the bot waiting: told once it lasts past THROTTLED."""
        where = (outcome.library_id, outcome.network)
        since = self._throttled_since.setdefault(where, outcome.at)
        until = outcome.retry_at or outcome.at
        if error.delay < LONG_WAIT and until - since < THROTTLED:
            return
        if self._claim(outcome.library_id, outcome.network, "throttled", ""):
            waited = max(until - since, timedelta(seconds=error.delay))
            minutes = max(1, round(waited.total_seconds() / 60))
            text = messages.text_in(
                self.language,
                "alerts.throttled",
                network=networks.title(outcome.network, self.language),
                minutes=minutes,
            )
            self._send(outcome.library_id, text)

    def _token_trouble(self, library_id: str, network: str, error: Exception, title: str) -> None:
        library = self.config.library(library_id)
        variable = posting_variable(library, network) if library else ""
        kind = "right_lost" if isinstance(error, Forbidden) else "token_rejected"
        if self._claim(library_id, network, kind, variable):
            self._send(library_id, self._token_text(kind, network, variable, title))

    def _token_text(self, kind: str, network: str, variable: str, title: str) -> str:
        post = (
            messages.text_in(self.language, "alerts.first_post_lost", title=title) if title else ""
        )
        return messages.text_in(
            self.language,
            f"alerts.{kind}",
            network=networks.title(network, self.language),
            variable=variable,
            post=post,
        )

    def _post_text(self, outcome: ActionOutcome) -> str:
        """What the admins read of a post that failed, was missed or is uncertain."""
        title = self._title(outcome)
        network = networks.title(outcome.network, self.language)
        when = self._local(outcome)
        if outcome.state == UNCERTAIN:
            return messages.text_in(
                self.language, "alerts.post_uncertain", title=title, network=network, when=when
            )
        if outcome.state == MISSED:
            grace = self.config.schedule.grace(outcome.kind) or timedelta(0)
            return messages.text_in(
                self.language,
                "alerts.post_missed",
                title=title,
                network=network,
                when=when,
                late=self._duration(outcome.at - self._due(outcome)),
                grace=self._duration(grace),
            )
        why = _why(outcome.error)
        return messages.text_in(
            self.language,
            "alerts.post_failed",
            title=title,
            network=network,
            when=when,
            reason=messages.text_in(self.language, f"alerts.why_{why}"),
            check=messages.text_in(self.language, f"alerts.check_{why}"),
        )

    def _title(self, outcome: ActionOutcome) -> str:
        event = self.db.execute(
            "select title from events where id = ?", [outcome.event_id]
        ).fetchone()
        return event[0] if event else outcome.event_id

    def _due(self, outcome: ActionOutcome) -> datetime:
        row = self.db.execute("select due_at from actions where id = ?", [outcome.action_id])
        found = row.fetchone()
        return from_db(found[0]) if found else outcome.at

    def _local(self, outcome: ActionOutcome) -> str:
        library = self.config.library(outcome.library_id)
        due = self._due(outcome)
        moment = due.astimezone(library.timezone) if library else due
        return moment.strftime("%d.%m.%Y %H:%M")

    def _duration(self, span: timedelta) -> str:
        minutes = int(span.total_seconds() // 60)
        if minutes >= 60 * 24:
            return messages.text_in(self.language, "alerts.days", count=minutes // (60 * 24))
        if minutes >= 60:
            return messages.text_in(self.language, "alerts.hours", count=minutes // 60)
        return messages.text_in(self.language, "alerts.minutes", count=max(minutes, 0))

    def _claim(self, library_id: str, network: str, kind: str, subject: str) -> bool:
        """Write the alert down; False when it was told already (this trouble, or before a
        restart)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "insert or ignore into alerts_told (library_id, network, kind, subject, told_at) "
                "values (?, ?, ?, ?, ?)",
                [library_id, network, kind, subject, to_db(self.clock.now())],
            )
        if kind in TROUBLES and self._troubled is not None:
            self._troubled.add((library_id, network))
        return cursor.rowcount == 1

    def _clear(self, library_id: str, network: str) -> None:
        """A post went out on ``network``: its token and its waits are fine again."""
        if self._troubled is None:  # once: which networks have an open trouble (a restart)
            found = self.db.execute(
                f"select library_id, network from alerts_told where kind in {TROUBLES}"
            )
            self._troubled = {tuple(row) for row in found}
        if (library_id, network) not in self._troubled:
            return  # the usual case: nothing to write for a post that went out
        self._troubled.discard((library_id, network))
        with self.db.atomic():
            self.db.execute(
                f"delete from alerts_told where library_id = ? and network = ? and kind in "
                f"{TROUBLES}",
                [library_id, network],
            )

    def _send(self, library_id: str, text: str) -> None:
        """Send in the background: the runner's observers must not wait for the network."""
        task = asyncio.get_running_loop().create_task(self._tell(library_id, text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(self, library_id: str, text: str, attachment: Attachment | None = None) -> int:
        log.warning("alert for %s: %s", library_id, text.splitlines()[0])
        if self.notify is None:
            return 0
        try:
            return await self.notify(library_id, text, attachment)
        except Exception:  # an alert that cannot be sent must not break what caused it
            log.exception("the alert for %s was not sent", library_id)
            return 0


def _why(error: Exception | None) -> str:
    """The reason of a failure, as a catalogue word: alerts.why_<word>, alerts.check_<word>."""
    for kind, word in (
        (BadContent, "content"),
        (NotFound, "not_found"),
        (RetryLater, "busy"),
        (AmbiguousOutcome, "busy"),
    ):
        if isinstance(error, kind):
            return word
    return "other"


def normalise(text: str) -> str:
    """A post's text as matched against the wall: words only, markup and spacing aside."""
    plain = re.sub(r"<[^>]+>", " ", text)
    return " ".join(re.findall(r"\w+", plain.casefold()))


def handed_id(guid: str) -> str:
    """The remote id a handed-over post is recorded with until its wall post is linked."""
    return f"handed:{guid}"


def handed_url(group_id: int, post_id: int) -> str:
    """The wall post's link (as the VK adapter makes it)."""
    return f"https://vk.com/wall-{group_id}_{post_id}"
