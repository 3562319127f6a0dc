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
from core.storage import FAILED, MISSED, PENDING, SENT, UNCERTAIN, from_db, to_db
from scheduler import snapshots

log = logging.getLogger(__name__)

THROTTLED = timedelta(minutes=10)  # retries of one network this long after the first: news
# No wait for this long: the next one starts anew (the runner's backoff is 5 min at most).
QUIET = timedelta(minutes=15)
LONG_WAIT = 300.0  # seconds: one wait asked for this long is news at once
NOTICE_ATTEMPTS, NOTICE_WAIT = 3, 30.0  # a notice refused for a while: tried again, waited
# Alerts of one moment (a restart finding posts missed) go as one message of at most this
# many characters (Telegram and VK take 4096, MAX 4000).
MESSAGE_CHARS = 3500
MESSAGE_LIMIT = 4000  # a longer notice (a handed-over post) goes in pieces cut at line ends
HANDOVER_WINDOW = timedelta(days=3)  # a wall post this long after the handover still links
# A wall post like a handed-over one (not the same text): at least this many words, most
# of the handed-over post's words among them, and those most of its own.
MATCH_WORDS, SHARED_OF_OURS, SHARED_OF_THEIRS = 5, 0.7, 0.7

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
        reached = listed = 0
        for network in library.networks:
            platform = platforms.get((library_id, network))
            admins = admins_on(library, network)
            if platform is None or not admins:
                continue
            listed += len(admins)
            reached += await _send_to(platform, library_id, admins, text, attachment)
        if not listed:  # the library names no admin: nobody to tell, by its choice
            log.info("no admins of %s to tell: %s", library_id, text)
        elif not reached:
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
    *first, last = _pieces(text, MESSAGE_LIMIT)  # a long handed-over post: in pieces
    for admin in admins:
        try:
            for piece in first:
                await _send_notice(platform, admin, piece, None)
            await _send_notice(platform, admin, last, attachment)
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


async def _send_notice(
    platform: Platform, admin: int, text: str, attachment: Attachment | None
) -> None:
    """One notice; a short wait the network asks for (a private chat's flood limit) is
    waited, so an alert is not lost to it."""
    for attempt in range(1, NOTICE_ATTEMPTS + 1):
        try:
            await platform.send_notice(admin, text, attachment)
            return
        except RetryLater as exc:
            if attempt == NOTICE_ATTEMPTS or exc.delay > NOTICE_WAIT:
                raise
            await asyncio.sleep(exc.delay)


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
        # (library, network) → the first and the last wait of the waits going on there.
        self._throttled_since: dict[tuple[str, str], datetime] = {}
        self._throttled_last: dict[tuple[str, str], datetime] = {}
        self._tasks: set[asyncio.Task] = set()
        self._waiting: dict[str, list[str]] = {}  # library → alerts to send in one message
        self._troubled: set[tuple[str, str]] | None = None  # (library, network) with TROUBLES
        # Arms the plan's actions anew (the runner's sync; set by the application).
        self.replan: Callable[[], object] | None = None

    # -- what happens ------------------------------------------------------------

    def observe(self, outcome: ActionOutcome) -> None:
        """The runner's observer: alerts for what became of one action."""
        where = (outcome.library_id, outcome.network)
        if outcome.state == SENT:
            self._throttled_since.pop(where, None)
            self._throttled_last.pop(where, None)
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
            # (A metrics read it cost is no post that did not go out.)
            title = "" if outcome.kind in snapshots.KINDS else self._title(outcome)
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

    async def webhook_removed(self, library_id: str, network: str, url: str, since: str) -> None:
        """An update reader in poll mode deleted the bot's webhook subscription to ``url``
        (made at ``since``): told once per subscription, a restart included."""
        if self._claim(library_id, network, "webhook_removed", f"{url} {since}".strip()):
            text = messages.text_in(
                self.language,
                "alerts.webhook_removed",
                network=networks.title(network, self.language),
                url=url,
            )
            await self._tell(library_id, text)

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
        attachment, image = None, ""
        if post.image is not None:
            attachment = Attachment(post.image.name, post.image.read_bytes(), is_image=True)
            image = messages.text_in(self.language, "alerts.hand_over_image")
        text = messages.text_in(self.language, "alerts.hand_over", text=post.text, image=image)
        if await self._tell(library_id, text, attachment) > 0:
            return True
        # Nobody has it: no wall post can be its (the action fails, with its own alert).
        self.db["handovers"].delete_where("guid = ? and post_id is null", [post.guid])
        return False

    def link_wall_post(
        self,
        library_id: str,
        group_id: int,
        post_id: int,
        text: str,
        posted_at: datetime | None = None,
    ) -> str:
        """A new wall post: the guid of the handover it fulfils (its publication now points
        at it, and its figures are read counting from ``posted_at``), or "" when it is none's."""
        wall = normalise(text)
        if not wall:
            return ""
        since = to_db(self.clock.now() - HANDOVER_WINDOW)
        waiting = self.db.execute(
            "select guid, text from handovers where library_id = ? and group_id = ? and "
            "post_id is null and handed_at >= ? order by handed_at",
            [library_id, group_id, since],
        ).fetchall()
        # The same text first; else one much like it (an admin who left out a line, or
        # added a hashtag).
        found = [guid for guid, handed in waiting if handed == wall] or [
            guid for guid, handed in waiting if _alike(handed, wall)
        ]
        if not found:
            return ""
        guid = found[0]
        when = posted_at or self.clock.now()
        with self.db.atomic():
            self.db["handovers"].update(guid, {"post_id": post_id})
            row = self.db.execute(
                "select id from publications where library_id = ? and network = 'vk' and "
                "remote_id = ?",
                [library_id, handed_id(guid)],
            ).fetchone()
            if row is not None:
                self.db["publications"].update(
                    row[0],
                    {
                        "remote_id": str(post_id),
                        "url": handed_url(group_id, post_id),
                        "published_at": to_db(when),
                    },
                )
                self._replan_snapshots(row[0], when)
        if row is not None and self.replan is not None:
            # After the update reader's batch is stored: the runner arms the snapshots anew.
            try:
                asyncio.get_running_loop().call_soon(self.replan)
            except RuntimeError:  # no loop (a command, not the running bot): now
                self.replan()
        return guid

    def _replan_snapshots(self, publication_id: int, posted_at: datetime) -> None:
        """The figures of a handed-over post are read counting from when it appeared (the
        snapshots planned at the handover found nothing on the wall yet)."""
        found = self.db.execute(
            "select id, key from actions where kind = 'snapshot' and state != ? and "
            "json_extract(payload, '$.publication_id') = ?",
            [SENT, publication_id],
        ).fetchall()
        for action_id, key in found:
            offset = timedelta(seconds=int(key.rsplit(":", 1)[1]))
            self.db["actions"].update(
                action_id,
                {
                    "state": PENDING,
                    "due_at": to_db(posted_at + offset),
                    "retry_at": None,
                    "attempts": 0,
                    "error": None,
                    "finished_at": None,
                },
            )

    # -- inside --------------------------------------------------------------------

    def _watch_waits(self, outcome: ActionOutcome, error: RetryLater) -> None:
        """A network that keeps the bot waiting: told once it asks for a long wait, or once
        its waits have lasted THROTTLED."""
        where = (outcome.library_id, outcome.network)
        last = self._throttled_last.get(where)
        if last is None or outcome.at - last > QUIET:  # waits long ago are another story
            self._throttled_since[where] = outcome.at
        self._throttled_last[where] = outcome.at
        lasted = outcome.at - self._throttled_since[where]
        if error.delay < LONG_WAIT and lasted < THROTTLED:
            return
        if not self._claim(outcome.library_id, outcome.network, "throttled", ""):
            return
        if error.delay >= LONG_WAIT:  # one wait asked for: how long it is
            key, span = "alerts.throttled_wait", timedelta(seconds=error.delay)
        else:  # many short ones: how long they have lasted
            key, span = "alerts.throttled", lasted
        text = messages.text_in(
            self.language,
            key,
            network=networks.title(outcome.network, self.language),
            minutes=max(1, round(span.total_seconds() / 60)),
            deadline=self._duration(self.config.schedule.retry_deadline),
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
        fields = {"check": messages.text_in(self.language, f"alerts.right_{network}")}
        return messages.text_in(
            self.language,
            f"alerts.{kind}",
            network=networks.title(network, self.language),
            variable=variable,
            post=post,
            **(fields if kind == "right_lost" else {}),
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
        why = why_of(outcome.error)
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
        library = self.config.library(library_id)
        # The token that posts works, and the waits are over; another token's trouble (the
        # VK community token of the update reader) ends when that token works again.
        variable = posting_variable(library, network) if library else ""
        with self.db.atomic():
            self.db.execute(
                f"delete from alerts_told where library_id = ? and network = ? and kind in "
                f"{TROUBLES} and subject in (?, '')",
                [library_id, network, variable],
            )
            left = self.db.execute(
                f"select 1 from alerts_told where library_id = ? and network = ? and kind in "
                f"{TROUBLES} limit 1",
                [library_id, network],
            ).fetchone()
        if left is None:
            self._troubled.discard((library_id, network))

    def _send(self, library_id: str, text: str) -> None:
        """Send in the background: the runner's observers must not wait for the network.
        Alerts of the same moment go together (eight posts missed: one message, not eight
        that a private chat's flood limit would refuse)."""
        waiting = self._waiting.setdefault(library_id, [])
        waiting.append(text)
        if len(waiting) > 1:
            return  # the message being gathered takes it
        task = asyncio.get_running_loop().create_task(self._tell_gathered(library_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell_gathered(self, library_id: str) -> None:
        await asyncio.sleep(0)  # the alerts made in the same turn of the loop join this one
        texts = self._waiting.pop(library_id, [])
        for message in _gathered(texts):
            await self._tell(library_id, message)

    async def _tell(self, library_id: str, text: str, attachment: Attachment | None = None) -> int:
        log.warning("alert for %s: %s", library_id, text.splitlines()[0])
        if self.notify is None:
            return 0
        try:
            return await self.notify(library_id, text, attachment)
        except Exception:  # an alert that cannot be sent must not break what caused it
            log.exception("the alert for %s was not sent", library_id)
            return 0


def _gathered(texts: list[str]) -> list[str]:
    """Alerts joined into as few messages as the length allows."""
    joined: list[str] = []
    for text in texts:
        if joined and len(joined[-1]) + 2 + len(text) <= MESSAGE_CHARS:
            joined[-1] += "\n\n" + text
        else:
            joined.append(text)
    return joined


def _pieces(text: str, limit: int) -> list[str]:
    """``text`` cut at line ends (or, for a longer line, anywhere) into pieces of at most
    ``limit`` characters."""
    pieces: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        if pieces and len(pieces[-1]) + 1 + len(line) <= limit:
            pieces[-1] += "\n" + line
        else:
            pieces.append(line)
    return pieces


def why_of(error: Exception | None) -> str:
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


def _alike(handed: str, wall: str) -> bool:
    """Whether a wall post is a handed-over post as an admin may publish it: most of its
    words there (a line left out), and not lost among many others (a hashtag added)."""
    ours, theirs = set(handed.split()), set(wall.split())
    if len(theirs) < MATCH_WORDS or not ours:
        return False
    shared = len(ours & theirs)
    return shared >= SHARED_OF_OURS * len(ours) and shared >= SHARED_OF_THEIRS * len(theirs)


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
