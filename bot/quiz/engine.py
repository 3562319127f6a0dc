"""The quiz actions the runner fires: ask a question, close it, post the results.

The runner claims the action and handles errors and retries as for any post; a
handler returns ``Published`` when it put a new message in front of readers (the
runner records it as a publication, so its metrics are collected too). Polls share
the close and results actions: their final totals per network, then one results post.

The database, not the platform, decides when a question is open: it opens once the
platform took it (a question whose send failed is never open) and closes at its close
action even when the platform refuses to stop the poll or take the buttons off; the
standings follow all the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from bot.quiz import buttons, store
from bot.quiz.answers import AnswerBook
from core import interactions
from core.buttons import tally, votes_key
from core.clock import Clock, SystemClock
from core.config import Config
from core.errors import PlatformError, RetryLater
from core.formulas import right_share
from core.model import CLOSE, QUESTION, RESULTS, SETTLE, Handled, question_key
from core.networks import network
from core.platform import Ask, Platform, Published, QuizPlatform, able
from core.quiz_model import QuestionSpec
from core.storage import PENDING, SENDING
from core.texts import render_frame

log = logging.getLogger(__name__)
Handler = Callable[[dict], Awaitable[Published | None]]
SHOWN = 10  # players listed in the standings


class QuizEngine:
    """Asks, closes and sums up quizzes and polls; ``book`` takes the answers."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        platforms: Mapping[tuple[str, str], Platform],
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.platforms = platforms
        self.clock = clock or SystemClock()
        self.book = AnswerBook(db, config, self.clock)

    def handlers(self) -> dict[str, Handler]:
        """The runner's handlers for the quiz action kinds."""
        return {QUESTION: self.ask, CLOSE: self.close, RESULTS: self.results}

    def _platform(self, row: dict) -> QuizPlatform:
        # Every adapter asks and closes; one that cannot is told in our errors, not a crash.
        platform = self.platforms[(row["library_id"], row["network"])]
        return able(platform, QuizPlatform, "quizzes and polls")

    def _event(self, row: dict) -> dict:
        return self.db["events"].get(row["event_id"])

    # -- questions -----------------------------------------------------------------

    async def ask(self, row: dict) -> Handled | None:
        """Put a question to readers (once: a repeat after a crash finds it asked)."""
        payload = json.loads(row["payload"])
        number, spec = payload["number"], QuestionSpec.from_json(payload["spec"])
        asked = store.find_question(self.db, row["event_id"], row["network"], row["target"], number)
        if asked is not None and asked.remote_id:
            return None
        now = self.clock.now()
        closes = now + timedelta(seconds=payload["answer_seconds"])
        question = store.open_question(
            self.db,
            event_id=row["event_id"],
            library_id=row["library_id"],
            network=row["network"],
            target=row["target"],
            number=number,
            mode=payload["mode"],
            remote_id="",
            poll_id=None,
            spec=spec,
            opened_at=now,
            closes_at=closes,
        )
        secret = self.book.secret(row["library_id"])
        keys = list(range(len(spec.options)))
        several = payload["style"] == "buttons" and len(spec.correct) > 1
        if several:  # buttons mark options; one more sends them
            keys.append(buttons.SEND)
        ask = Ask(
            target=row["target"],
            text=payload["text"],
            style=payload["style"],
            options=spec.options,
            correct=spec.correct,
            explanation=spec.explanation,
            buttons=tuple(buttons.make_data(secret, question.id, n) for n in keys),
            send=buttons.send_label(self.config.language) if several else "",
            open_seconds=payload.get("open_seconds"),
            image=Path(payload["image"]) if payload.get("image") else None,
            guid=f"{row['key']}",
        )
        # A refusal leaves the question as recorded: closed, never open to answers.
        published = await self._platform(row).ask(ask)
        if published.poll_answers:  # its votes name answers by these ids
            spec = replace(spec, answer_ids=tuple(published.poll_answers))

        def record() -> None:
            """Store where the question is and open it to answers (the runner writes this
            again while the database refuses it: the readers have the question already)."""
            asked = store.asked(
                self.db,
                question.id,
                remote_id=published.remote_id,
                poll_id=published.poll_id,
                spec=spec,
                opened_at=now,
                closes_at=closes,
            )
            self.book.opened(asked)

        return Handled(published, record)

    async def close(self, row: dict) -> Published | None:
        """Close a question (and show the standings), or close a poll and keep its totals."""
        event = self._event(row)
        if event["kind"] == "poll":
            await self._close_poll(row)
            return None
        self._wait_for_answers(row)
        payload = json.loads(row["payload"])
        question = store.find_question(
            self.db, row["event_id"], row["network"], row["target"], payload["number"]
        )
        if question is None or not question.remote_id:
            if self._waiting(row, QUESTION, question_key(row["key"])):
                raise RetryLater(f"question {payload['number']} is not asked yet", row["network"])
            return None  # never asked (missed, or refused by the platform): nothing to close
        left = question.closes_at + SETTLE - self.clock.now()
        if left > timedelta(0):  # asked late (after a stop or a database fault): its full time
            raise RetryLater(
                f"question {question.number} was asked late; it is open until "
                f"{question.closes_at:%H:%M:%S} UTC",
                row["network"],
                delay=left.total_seconds(),
            )
        # Closed here first: answers stop whatever the platform makes of the close.
        store.close_question(self.db, question.id, self.clock.now())
        self.book.closed(question.id)
        try:
            await self._take_down(row, question, payload["style"])
        except RetryLater:
            raise  # the runner tries again later; the question stays closed meanwhile
        except PlatformError as exc:  # e.g. the message was deleted: nothing left to stop
            log.warning(
                "%s: question %s closed, but %s did not take it down: %s",
                row["event_id"], question.number, row["network"], exc,
            )  # fmt: skip
        if question.mode in ("live", "daily") and question.in_chat:
            return await self._show_standings(row, event, question, payload.get("last", False))
        return None

    async def _take_down(self, row: dict, question: store.OpenQuestion, style: str) -> None:
        """Stop the poll (keeping an anonymous one's totals) or take the buttons off."""
        platform = self._platform(row)
        if style == "anonymous_quiz_poll" and question.poll_id:
            votes = await platform.stop_poll(row["target"], question.remote_id, question.poll_id)
            if votes is not None:
                totals = {str(n): v for n, v in enumerate(votes)}
                interactions.record_poll_totals(self.db, question.poll_id, totals, self.clock.now())
            return
        asked = self.db["actions"].rows_where("key = ?", [question_key(row["key"])])
        text = next((json.loads(a["payload"])["text"] for a in asked), "")
        await platform.stop_question(row["target"], question.remote_id, style, text)

    async def _show_standings(self, row, event, question, last: bool) -> Published | None:
        """Live: one standings message, edited in place; daily: a new one each day."""
        if last:
            return None  # the results post follows at once
        table = store.standings(self.db, row["event_id"], row["network"])
        text = render_frame(
            "quiz_standings",
            row["network"],
            self.config.language,
            title=event["title"],
            number=question.number,
            answer=_right_answer(question.spec),
            explanation=question.spec.explanation,
            rows=[_line(s) for s in table[:SHOWN]],
            players=len(table),
        )
        platform = self._platform(row)
        earlier = self._standings_message(row)
        if question.mode == "live" and earlier is not None:
            await platform.edit(row["target"], earlier, text)
            return None
        return await platform.say(row["target"], text, f"{row['key']}:standings")

    def _standings_message(self, row: dict) -> str | None:
        found = self.db.execute(
            "select p.remote_id from publications p join actions a on a.id = p.action_id "
            "where a.event_id = ? and a.kind = ? and a.network = ? and a.target = ? "
            "order by a.due_at limit 1",
            [row["event_id"], CLOSE, row["network"], row["target"]],
        ).fetchone()
        return found[0] if found else None

    async def results(self, row: dict) -> Published | None:
        """The final post: winners and standings, or a poll's totals."""
        event = self._event(row)
        if event["kind"] == "poll":
            text = self._poll_results_text(row, event)
            return await self._platform(row).say(row["target"], text, row["key"])
        self._wait_for_answers(row)
        if self._waiting(row, QUESTION) or self._waiting(row, CLOSE):
            raise RetryLater("questions are still to be asked or closed", row["network"])
        payload = json.loads(row["payload"])
        table = store.standings(self.db, row["event_id"], row["network"])
        winners = int(payload.get("winners", 3))
        store.save_results(
            self.db, row["event_id"], row["library_id"], row["network"], table, winners,
            self.clock.now(),
        )  # fmt: skip
        figures = [f for f in store.question_figures(self.db, row["event_id"])]
        figures = [f for f in figures if f["network"] == row["network"]]
        text = render_frame(
            "quiz_results",
            row["network"],
            self.config.language,
            title=event["title"],
            mode=payload.get("mode", "live"),
            winners=[_line(s) for s in table if s.place <= winners and s.points > 0],
            rows=[_line(s) for s in table[:SHOWN]],
            players=len(table),
            figures=figures,
            channel_figures=self._channel_figures(row),
        )
        return await self._platform(row).say(row["target"], text, row["key"])

    def _waiting(self, row: dict, kind: str, key: str | None = None) -> bool:
        """Whether an action of ``kind`` of this quiz here (or the one with ``key``) is still
        to run: after a stop or a database fault, due actions run at once, in any order."""
        where = "event_id = ? and network = ? and target = ? and kind = ? and state in (?, ?)"
        params = [row["event_id"], row["network"], row["target"], kind, PENDING, SENDING]
        if key is not None:
            where, params = where + " and key = ?", [*params, key]
        return bool(self.db["actions"].count_where(where, params))

    def _wait_for_answers(self, row: dict) -> None:
        """RetryLater while answers of the network were read but the database refused them:
        they are read again, and count, once it takes them."""
        if self.book.behind_on(row["network"]):
            raise RetryLater(
                f"{row['network']}: answers read but not stored yet (the database refused "
                "them); waiting for them",
                row["network"],
                delay=5.0,
            )

    def _channel_figures(self, row: dict) -> list[dict]:
        """Anonymous quiz polls: votes and the share of right answers per question."""
        figures = []
        for question in self.db["quiz_questions"].rows_where(
            "event_id = ? and network = ? and target = ? and poll_id is not null",
            [row["event_id"], row["network"], row["target"]],
            order_by="number",
        ):
            spec = QuestionSpec.from_json(json.loads(question["spec"]))
            if spec.style != "anonymous_quiz_poll":
                continue
            totals = interactions.latest_poll_totals(self.db, question["poll_id"]) or {}
            votes = sum(totals.values())
            right = sum(totals.get(str(n), 0) for n in spec.correct)
            share = right_share(right, votes, digits=1)
            figures.append({"number": question["number"], "votes": votes, "share": share})
        return figures

    # -- polls -------------------------------------------------------------------------

    def _poll_publication(self, event_id: str, network: str, target: str) -> dict | None:
        return next(
            self.db["publications"].rows_where(
                "event_id = ? and network = ? and target = ? and poll_id is not null",
                [event_id, network, target],
                order_by="id",
                limit=1,
            ),
            None,
        )

    async def _close_poll(self, row: dict) -> None:
        published = self._poll_publication(row["event_id"], row["network"], row["target"])
        if published is None:
            return
        platform = self._platform(row)
        votes = await platform.stop_poll(
            row["target"], published["remote_id"], published["poll_id"]
        )
        key = poll_key(row["network"], published["poll_id"])
        if votes is not None:
            totals = {str(n): v for n, v in enumerate(votes)}
            interactions.record_poll_totals(self.db, key, totals, self.clock.now())
        elif not network(row["network"]).capabilities.native_polls:
            # Button polls: the final totals are the presses stored, counted once more now
            # that the buttons are gone (zeros when nobody voted).
            options = json.loads(self._event(row)["data"]).get("options", [])
            totals = tally(
                self.db,
                row["network"],
                published["target"],
                published["remote_id"],
                len(options),
                published["id"],
            )
            interactions.record_poll_totals(self.db, key, totals, self.clock.now())

    def _poll_results_text(self, row: dict, event: dict) -> str:
        data = json.loads(event["data"])
        options = data.get("options", [])
        per_network: dict[str, list[int]] = {}
        for published in self.db["publications"].rows_where(
            "event_id = ? and poll_id is not null", [row["event_id"]]
        ):
            totals = interactions.latest_poll_totals(
                self.db, poll_key(published["network"], published["poll_id"])
            )
            if totals is None:
                continue
            counts = per_network.setdefault(published["network"], [0] * len(options))
            for n in range(len(options)):
                counts[n] += int(totals.get(str(n), 0))
        combined = [sum(c[n] for c in per_network.values()) for n in range(len(options))]
        return render_frame(
            "poll_results",
            row["network"],
            self.config.language,
            title=event["title"],
            question=data.get("question", event["title"]),
            options=options,
            per_network=per_network,
            combined=combined,
            total=sum(combined),
        )


def poll_key(network: str, poll_id: str) -> str:
    """The key of a poll's totals: Telegram's poll id as it is, others' prefixed with the
    network (ids may clash)."""
    return poll_id if network == "telegram" else votes_key(network, poll_id)


def _right_answer(spec: QuestionSpec) -> str:
    if spec.options:
        return ", ".join(spec.options[n] for n in spec.correct)
    return (spec.accepted or ("",))[0]


def _line(standing: store.Standing) -> dict:
    return {
        "place": standing.place,
        "name": standing.name or f"#{standing.person[:6]}",
        "points": f"{standing.points:g}",
        "correct": standing.correct,
        "seconds": f"{standing.time_ms / 1000:.1f}",
    }
