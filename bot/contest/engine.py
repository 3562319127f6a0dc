"""The contest actions the runner fires, and the messages a contest owes.

``contest_gallery`` posts a short intro and plans one ``contest_entry`` action per approved
entry of its network (a few seconds apart, so they appear in order); each entry post is a
publication like any other, so its metrics are collected and reported. ``contest_tally``
reads the votes at ``voting_until``; ``contest_results`` ranks, posts the results and queues
a message to each winner. ``deliver`` sends queued messages (receipts, late and second-entry
answers, entries to the admins with Approve / Reject buttons, winners); ``forget`` erases
names and reply addresses ``keep_names`` after the results, and the entries' texts and file
references ``keep_entries`` after them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import sqlite_utils

from bot.contest import store, voting
from bot.contest.entries import ContestBook, button_data
from core import messages, networks
from core.clock import Clock, SystemClock
from core.config import Config
from core.errors import BadContent, PlatformError, RetryLater
from core.model import CONTEST_ENTRY as ENTRY
from core.model import CONTEST_GALLERY as GALLERY
from core.model import CONTEST_POLL as POLL
from core.model import CONTEST_RESULTS as RESULTS
from core.model import CONTEST_TALLY as TALLY
from core.model import guid_for
from core.platform import (
    Choice,
    ContestPlatform,
    Media,
    ModerationPlatform,
    Platform,
    PollSpec,
    Post,
    Published,
    ReplyTo,
    able,
)
from core.storage import PENDING, to_db
from core.texts import human_time, render_frame
from scheduler.contest_plan import type_word

log = logging.getLogger(__name__)
Handler = Callable[[dict], Awaitable[Published | None]]
ENTRY_SPACING = timedelta(seconds=3)  # between entry posts: in order, within rate limits
MAX_ATTEMPTS = 5  # a notice that failed this often is left, with its error
POLL_OPTIONS = 10  # VK takes at most 10 options (Telegram 12): the finalists are the first 10


class ContestEngine:
    """Runs contests; ``book`` takes entries and presses from the intakes."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        platforms: Mapping[tuple[str, str], Platform],
        clock: Clock | None = None,
    ) -> None:
        self.db, self.config, self.platforms = db, config, platforms
        self.clock = clock or SystemClock()
        self.language = config.language
        self.book = ContestBook(db, config, self.clock)
        self.arm: Callable[[], int] | None = None  # the runner's sync: arms the entry posts
        self._forgotten_at: datetime | None = None

    def handlers(self) -> dict[str, Handler]:
        """The runner's handlers for the contest action kinds."""
        return {
            GALLERY: self.gallery,
            ENTRY: self.entry,
            POLL: self.poll,
            TALLY: self.tally,
            RESULTS: self.results,
        }

    def _platform(self, row: dict) -> ContestPlatform:
        return contest_platform(self.platforms[(row["library_id"], row["network"])])

    def _words(self, contest: store.Contest, network: str) -> dict:
        likes = networks.network(network).capabilities.likes_readable
        # How readers vote: by a poll, else by likes where the API reads them, else by reactions.
        if contest.voting == "poll":
            how = messages.text_in(self.language, "contest.voting_poll")
        elif likes:
            how = messages.text_in(self.language, "contest.voting_likes")
        else:
            how = messages.text_in(self.language, "contest.voting_reactions")
        return {
            "title": contest.title,
            "how": how,
            "until": human_time(contest.voting_until, self.language),
            "results": human_time(contest.results_at, self.language),
        }

    # -- the planned actions ---------------------------------------------------------

    async def gallery(self, row: dict) -> Published | None:
        """The intro post, then an entry post planned for each approved entry."""
        contest = store.contest(self.db, row["event_id"])
        assert contest is not None
        network = row["network"]
        approved = [
            e for e in store.entries(self.db, contest.event_id, network) if e["state"] == "approved"
        ]
        text = render_frame(
            "contest_gallery",
            network,
            self.language,
            count=len(approved),
            works=_plural(len(approved), _works(self.language)),
            **self._words(contest, network),
        )
        published = await self._platform(row).say(row["target"], text, guid_for(row["key"]))
        start = max(self.clock.now(), contest.gallery_at)
        with self.db.atomic():
            for place, entry in enumerate(approved, start=1):
                action = {
                    "key": f"{contest.event_id}:{ENTRY}:{network}:{row['target']}:{entry['number']}",
                    "event_id": contest.event_id,
                    "library_id": contest.library_id,
                    "kind": ENTRY,
                    "network": network,
                    "target": row["target"],
                    "due_at": to_db(start + ENTRY_SPACING * place),
                    "state": PENDING,
                    "attempts": 0,
                    "payload": json.dumps({"entry_id": entry["id"]}),
                    "created_at": to_db(self.clock.now()),
                }
                self.db["actions"].insert(action, ignore=True)
            if contest.voting == "poll" and approved:
                due = start + ENTRY_SPACING * (len(approved) + 1)
                self._plan_poll(contest, row, approved, due)
        if self.arm is not None:
            self.arm()
        return published

    def _plan_poll(
        self, contest: store.Contest, row: dict, approved: list[dict], due: datetime
    ) -> None:
        """The poll of the finalists, after the entry posts (the first ``POLL_OPTIONS``)."""
        finalists = approved[:POLL_OPTIONS]
        if len(approved) > POLL_OPTIONS:
            log.warning(
                "%s: %d entries approved; the poll takes the first %d",
                contest.event_id,
                len(approved),
                POLL_OPTIONS,
            )
        payload = {
            "entries": [e["id"] for e in finalists],
            "question": messages.text_in(
                self.language, "contest.poll_question", title=contest.title
            )[:300],
            "options": [
                messages.text_in(self.language, "contest.poll_option", number=e["number"])
                for e in finalists
            ],
            "closes_at": int(contest.voting_until.timestamp()),
        }
        action = {
            "key": f"{contest.event_id}:{POLL}:{row['network']}:{row['target']}",
            "event_id": contest.event_id,
            "library_id": contest.library_id,
            "kind": POLL,
            "network": row["network"],
            "target": row["target"],
            "due_at": to_db(due),
            "state": PENDING,
            "attempts": 0,
            "payload": json.dumps(payload, ensure_ascii=False),
            "created_at": to_db(self.clock.now()),
        }
        self.db["actions"].insert(action, ignore=True)

    async def poll(self, row: dict) -> Published | None:
        """The finalists' poll: its totals are the votes (anonymous in a channel)."""
        payload = json.loads(row["payload"])
        if len(payload["options"]) < 2:
            return None  # one finalist: nothing to choose between; it wins with 0 votes
        spec = PollSpec(payload["question"], tuple(payload["options"]), False, payload["closes_at"])
        post = Post(row["target"], payload["question"], guid=guid_for(row["key"]), poll=spec)
        return await self._platform(row).publish(post)

    async def entry(self, row: dict) -> Published | None:
        """One approved entry as its own post: its votes are this post's likes / reactions."""
        entry = self.db["contest_entries"].get(json.loads(row["payload"])["entry_id"])
        contest = store.contest(self.db, row["event_id"])
        if contest is None or entry["state"] != store.APPROVED or entry["erased_at"]:
            return None
        text = render_frame(
            "contest_entry",
            row["network"],
            self.language,
            number=entry["number"],
            text=(entry["text"] or "").strip()[:900],
            **self._words(contest, row["network"]),
        )
        media = Media(entry["type"], entry["media"] or "")
        return await self._platform(row).post_entry(
            row["target"], media, text, guid_for(row["key"])
        )

    async def tally(self, row: dict) -> None:
        """Read and keep the votes of every entry post of this network."""
        await self._count(row)

    async def _count(self, row: dict) -> None:
        platform = self._platform(row)
        chat_ids: dict[str, str] = {}
        if not networks.network(row["network"]).capabilities.likes_readable:
            # Reaction totals come by the chat's numeric id; the config may name it otherwise.
            for post in store.entry_posts(self.db, row["event_id"], row["network"]):
                if post["target"] not in chat_ids:
                    chat_ids[post["target"]] = await platform.chat_id(post["target"])
        contest = store.contest(self.db, row["event_id"])
        if contest is not None and contest.voting == "poll":
            votes = await voting.read_poll_votes(self.db, platform, row["event_id"], row["network"])
        else:
            votes = await voting.read_votes(
                self.db, platform, row["event_id"], row["network"], chat_ids
            )
        voting.store_votes(self.db, votes)

    async def results(self, row: dict) -> Published | None:
        """Places by votes (ties: the earlier entry), the results post, the winners told."""
        contest = store.contest(self.db, row["event_id"])
        assert contest is not None
        network = row["network"]
        counted = self.db["actions"].count_where(
            "event_id = ? and network = ? and kind = ? and state = 'sent'",
            [contest.event_id, network, TALLY],
        )
        if not counted:  # the tally failed or never ran: count now, as late as it is
            await self._count(row)
        ranked = voting.ranking(self.db, contest.event_id, network, contest.voting == "poll")
        winners = ranked[: contest.winners]
        now = self.clock.now()
        rows = []
        with self.db.atomic():
            for place, entry in enumerate(winners, start=1):
                self.db["contest_entries"].update(entry["id"], {"place": place})
                votes = entry["votes"] or 0
                rows.append(
                    {
                        "place": place,
                        "number": entry["number"],
                        "votes": votes,
                        "word": _plural(votes, _votes(self.language)),
                    }
                )
                if entry["reply"]:
                    text = messages.text_in(
                        self.language,
                        "contest.winner",
                        number=entry["number"],
                        place=place,
                        title=contest.title,
                        votes=votes,
                    )
                    payload = {"reply": json.loads(entry["reply"]), "text": text}
                    dedup = f"winner:{entry['id']}"
                    store.add_notice(
                        self.db, contest.library_id, network, "reply", payload, dedup, now
                    )
        text = render_frame(
            "contest_results",
            network,
            self.language,
            title=contest.title,
            winners=rows,
            count=len(ranked),
            votes=sum(e["votes"] or 0 for e in ranked),
        )
        return await self._platform(row).say(row["target"], text, guid_for(row["key"]))

    # -- messages owed ------------------------------------------------------------------

    async def deliver(self, limit: int = 50) -> int:
        """Send queued messages, oldest first; returns how many went out.

        A flood answer ends the round (the rest wait for the next one); another refusal
        is kept with the notice and tried again, up to ``MAX_ATTEMPTS`` times.
        """
        sent = 0
        rows = list(
            self.db["contest_notices"].rows_where(
                "sent_at is null and attempts < ?", [MAX_ATTEMPTS], order_by="id", limit=limit
            )
        )
        for row in rows:
            platform = self.platforms.get((row["library_id"], row["network"]))
            try:
                if platform is None:
                    raise PlatformError(f"{row['network']} is not connected", row["network"])
                await self._send(platform, row)
            except RetryLater as exc:
                log.info("contest message %s: %s; later", row["id"], exc)
                break
            except PlatformError as exc:
                log.warning("contest message %s not sent: %s", row["id"], exc)
                change = {"attempts": (row["attempts"] or 0) + 1, "error": str(exc)[:500]}
                with self.db.atomic():
                    self.db["contest_notices"].update(row["id"], change)
            else:
                sent += 1
                with self.db.atomic():
                    self.db["contest_notices"].update(
                        row["id"], {"sent_at": to_db(self.clock.now()), "error": None}
                    )
        return sent

    async def _send(self, platform: Platform, row: dict) -> None:
        payload = json.loads(row["payload"])
        if row["kind"] == "reply":
            where = ReplyTo.from_json(payload["reply"])
            await contest_platform(platform).reply(where, payload["text"], row["dedup"])
            return
        entry = next(
            self.db["contest_entries"].rows_where(
                "event_id = ? and number = ?", [payload["event_id"], payload["number"]]
            ),
            None,
        )
        contest = store.contest(self.db, payload["event_id"])
        if entry is None or contest is None or entry["erased_at"]:
            return
        text = messages.text_in(
            self.language,
            "contest.moderate",
            title=contest.title,
            number=entry["number"],
            network=networks.title(entry["network"], self.language),
            type=type_word(self.language, entry["type"]),
            text=(entry["text"] or "")[:800],
        )
        choices = [
            Choice(
                messages.text_in(self.language, "contest.approve"), button_data(entry["id"], True)
            ),
            Choice(
                messages.text_in(self.language, "contest.reject"), button_data(entry["id"], False)
            ),
        ]
        media: Media | None = None
        if entry["network"] == platform.network:  # a file of this network: sent as it is
            media = Media(entry["type"], entry["media"] or "")
        elif entry["media"]:  # another network's file: a link, where it has one
            link = networks.network(entry["network"]).media_url
            text += f"\n{link.format(ref=entry['media'])}" if link else ""
        admin = able(platform, ModerationPlatform, "moderation with buttons")
        await admin.ask_admin(payload["admin"], text, choices, media)

    def forget(self, now: datetime) -> int:
        """Erase what is kept only for a while after each contest's results; returns rows."""
        changed = 0
        for library in self.config.libraries:
            events = self.db.execute(
                "select distinct event_id from contest_entries where library_id = ? "
                "and (name is not null or reply is not null or erased_at is null)",
                [library.id],
            ).fetchall()
            for (event_id,) in events:
                done, contest = (
                    store.results_done(self.db, event_id),
                    store.contest(self.db, event_id),
                )
                if done is None or contest is None:
                    continue
                since = now - datetime.fromisoformat(done)
                with self.db.atomic():
                    if since >= library.keep_names:
                        changed += self.db.execute(
                            "update contest_entries set name = null, reply = null "
                            "where event_id = ? and (name is not null or reply is not null)",
                            [event_id],
                        ).rowcount
                    if since >= timedelta(seconds=contest.keep_entries):
                        changed += self.db.execute(
                            "update contest_entries set text = null, media = null, erased_at = ? "
                            "where event_id = ? and erased_at is null",
                            [to_db(now), event_id],
                        ).rowcount
        return changed

    async def housekeeping(self) -> None:
        """The running bot's periodic job: send what is owed; erase what expired (hourly)."""
        await self.deliver()
        now = self.clock.now()
        if self._forgotten_at is None or now - self._forgotten_at >= timedelta(hours=1):
            self.forget(now)
            self._forgotten_at = now


def contest_platform(platform: Platform) -> ContestPlatform:
    """``platform`` as one that runs contests; BadContent where its network runs none."""
    if not networks.network(platform.network).capabilities.contests:
        name = networks.title(platform.network, "en")
        raise BadContent(f"{name}: no contests on this network", platform.network)
    return able(platform, ContestPlatform, "contests")


def _votes(language: str) -> tuple[str, str, str]:
    """голос, голоса, голосов: the forms ``_plural`` picks from."""
    return (
        messages.text_in(language, "contest.vote_one"),
        messages.text_in(language, "contest.vote_few"),
        messages.text_in(language, "contest.vote_many"),
    )


def _works(language: str) -> tuple[str, str, str]:
    """работа, работы, работ: the forms ``_plural`` picks from."""
    return (
        messages.text_in(language, "contest.work_one"),
        messages.text_in(language, "contest.work_few"),
        messages.text_in(language, "contest.work_many"),
    )


def _plural(n: int, forms: tuple[str, str, str]) -> str:
    """1 голос, 2 голоса, 5 голосов; English forms repeat the plural (1 vote, 2 votes)."""
    if forms[1] == forms[2]:
        return forms[0] if n == 1 else forms[1]
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]
