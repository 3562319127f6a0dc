"""Readers' answers, from any network and any way of answering, to one scoring path.

The intakes call ``on_poll_answer``, ``on_button`` and ``on_text`` with what the
platform told them; ``AnswerBook`` finds the open question, applies the integrity
rules once (staff, forged buttons, closed questions, one answer per player) and
stores the verdict. Open questions are cached in memory, so answers that belong to
no quiz (most chat messages) and repeats from the same player cost no database work.

Options are scored in one place (``_choose``), however chosen: right is exactly the
right options, none missing and none wrong. A poll vote names them (Telegram: all in
one vote; VK: one event per option, and the events of one batch are one answer); a
typed answer lists them ("1, 3", "Пушкин и Гоголь"); with several right options, the
buttons mark and unmark options and the «Готово» button sends them, the first sending
being the answer. Marks are kept in memory: after a restart a player marks again.
In a group chat a message answers an option question only when it names options, so
the chat goes on around the question; while a typed question is open, every message
answers it.

A player counts as answered only once their answer is stored. The intakes write a
batch of updates in one transaction inside ``in_batch``: if it fails (a full disk), the
players it marked as answered, and the buttons it marked, are taken back, because the
intake reads the same updates again and they must count then, not as repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta

import sqlite_utils

from bot.quiz import buttons, store
from bot.quiz.store import Answer, OpenQuestion, Verdict
from core import interactions, messages
from core.clock import Clock, SystemClock
from core.config import Config
from core.matching import choices_from_text, matches

log = logging.getLogger(__name__)

# Answers without the platform's own timestamp (poll votes, button presses) are judged
# by when they arrive; they may lag behind the close by this much.
ARRIVAL_LAG = timedelta(seconds=2)
FORGED = "forged"
MARKED, NOTHING = "marked", "nothing"  # several right options: a mark, a sending of none

# What a press may be told, by the verdict's reason (None: counted); each has its
# catalogue entry "quiz.reply_<reason>" (a test checks).
REASONS = (None, store.DUPLICATE, store.CLOSED, store.STAFF, store.UNKNOWN, FORGED, MARKED, NOTHING)


def reply(language: str, reason: str | None, **fields: object) -> str:
    """The words a reader's press is answered with: "Ответ принят!", "Вопрос уже закрыт."."""
    return messages.text_in(language, f"quiz.reply_{reason or 'accepted'}", **fields)


class AnswerBook:
    """Scores answers to the open questions of every library."""

    def __init__(self, db: sqlite_utils.Database, config: Config, clock: Clock | None = None):
        self.db = db
        self.config = config
        self.clock = clock or SystemClock()
        self._by_id: dict[int, OpenQuestion] = {}
        self._by_poll: dict[tuple[str, str], int] = {}
        self._by_post: dict[tuple[str, str, str], int] = {}
        self._by_chat: dict[tuple[str, str], int] = {}  # latest open question of a chat
        self._answered: set[tuple[int, str]] = set()
        self._secrets: dict[str, bytes] = {}
        self._people: dict[tuple[str, str, int], str] = {}
        self._staff = {
            (lib.id, "telegram"): set(lib.admins) | set(lib.telegram.staff if lib.telegram else ())
            for lib in config.libraries
        }
        self._staff.update(  # the other networks: their own staff ids only
            {
                (lib.id, name): set(getattr(lib.settings(name), "staff", ()))
                for lib in config.libraries
                for name in lib.networks
                if name != "telegram"
            }
        )
        self._pending: list[Answer] = []  # written at the end of the intake's batch
        # Votes of the batch not written yet: (question, player) → index in _pending, options
        self._votes: dict[tuple[int, str], tuple[int, list[int]]] = {}
        self._marks: dict[tuple[int, str], set[int]] = {}  # buttons marked, not sent yet
        self._taken: list[tuple[int, str]] | None = None  # marked in the batch under way
        # A batch the database refused is read again: its updates are judged by when they
        # first came (``arriving``), and until it is stored, its stream is ``behind``.
        self._source: tuple[str, str] | None = None  # (network, stream) of the batch
        self._keys: list[object] = []  # the batch's updates, as ``arriving`` named them
        self._first_read: dict[tuple[tuple[str, str], object], datetime] = {}
        self.arrived: datetime | None = None  # when the update being handled first came
        self.behind: set[tuple[str, str]] = set()  # streams with answers still to store
        for question in store.open_questions(db):
            self.opened(question)
        # After a restart the database knows who answered: the memory must too, as it
        # decides alone (answers are written in batches).
        self._answered = store.answered(db, list(self._by_id))

    # -- the cache of open questions ---------------------------------------------

    def opened(self, question: OpenQuestion) -> None:
        """A question was asked: answers to it are taken from now on."""
        self._by_id[question.id] = question
        if question.poll_id:
            self._by_poll[(question.network, question.poll_id)] = question.id
        if question.remote_id:
            self._by_post[(question.network, question.target, question.remote_id)] = question.id
        self._by_chat[(question.network, question.target)] = question.id

    def waiting(self, network: str) -> bool:
        """Whether a question of this network is open (its answers may be coming)."""
        return any(q.network == network for q in self._by_id.values())

    def closed(self, question_id: int) -> None:
        """A question was closed: forget it (later answers are refused)."""
        question = self._by_id.pop(question_id, None)
        if question is None:
            return
        self._by_poll.pop((question.network, question.poll_id or ""), None)
        self._by_post.pop((question.network, question.target, question.remote_id), None)
        if self._by_chat.get((question.network, question.target)) == question_id:
            del self._by_chat[(question.network, question.target)]
        self._answered = {pair for pair in self._answered if pair[0] != question_id}
        self._marks = {key: marks for key, marks in self._marks.items() if key[0] != question_id}

    def _person(self, library_id: str, network: str, user_id: int) -> str:
        """The player's pseudonym, remembered: a player answers question after question."""
        key = (library_id, network, user_id)
        person = self._people.get(key)
        if person is None:
            if len(self._people) > 500_000:  # bounded memory over months of running
                self._people.clear()
            person = interactions.pseudonym(self.secret(library_id), network, user_id)
            self._people[key] = person
        return person

    def secret(self, library_id: str) -> bytes:
        """The library's key for pseudonyms and button signatures."""
        if library_id not in self._secrets:
            self._secrets[library_id] = interactions.library_secret(self.db, library_id)
        return self._secrets[library_id]

    def language(self) -> str:
        """The language readers are answered in."""
        return self.config.language

    # -- answers -----------------------------------------------------------------------

    def on_poll_answer(
        self, network: str, poll_id: str, user_id: int, name: str, options: list[int]
    ) -> Verdict | None:
        """A vote in a quiz poll; None when the poll is not an open quiz question."""
        question_id = self._by_poll.get((network, str(poll_id)))
        if question_id is None:
            return None
        question = self._by_id[question_id]
        ids = question.spec.answer_ids  # votes that name the answer's id, not its place
        if not ids:
            return self._choose(question, user_id, name, options, None, "poll")
        options = [ids.index(str(o)) for o in options if str(o) in ids]
        if not options:
            return Verdict(False, reason=store.UNKNOWN)
        # VK sends a vote as one event per option: a player's events of one batch are one
        # answer (a vote split over two batches keeps the options of the first).
        person = self._person(question.library_id, question.network, user_id)
        vote = self._votes.get((question.id, person))
        if vote is not None:
            return self._add_to_vote(question, person, name, vote, options)
        verdict = self._choose(question, user_id, name, options, None, "poll")
        if verdict.counted and self._pending:
            self._votes[(question.id, person)] = (len(self._pending) - 1, options)
        return verdict

    def _add_to_vote(
        self,
        question: OpenQuestion,
        person: str,
        name: str,
        vote: tuple[int, list[int]],
        options: list[int],
    ) -> Verdict:
        """The player's vote, not written yet, with more options: it is scored again."""
        index, earlier = vote
        chosen = sorted({*earlier, *options})
        correct = chosen == sorted(question.spec.correct)
        answer = store.scored(
            question,
            person=person,
            name=name,
            answer=",".join(str(n + 1) for n in chosen),
            correct=correct,
            at=self._pending[index].answered_at,
            via="poll",
        )
        assert answer is not None  # scored once at this time already, so not late
        self._pending[index] = answer
        self._votes[(question.id, person)] = (index, chosen)
        return Verdict(True, correct, answer.points)

    def on_button(
        self, network: str, library_id: str, user_id: int, name: str, data: object
    ) -> tuple[Verdict, str]:
        """A press on an answer button: the verdict and the words to show the reader."""
        language = self.language()
        read = buttons.read_data(self.secret(library_id), data)
        if read is None:
            return Verdict(False, reason=FORGED), reply(language, FORGED)
        question_id, option = read
        question = self._by_id.get(question_id)
        if question is None or question.library_id != library_id:
            closed = self.db["quiz_questions"].count_where("id = ?", [question_id])
            reason = store.CLOSED if closed else store.UNKNOWN
            return Verdict(False, reason=reason), reply(language, reason)
        several = len(question.spec.correct) > 1
        if not (option < len(question.options) or (several and option == buttons.SEND)):
            return Verdict(False, reason=FORGED), reply(language, FORGED)
        if not several:  # the press is the answer
            verdict = self._choose(question, user_id, name, [option], None, "button")
            return verdict, reply(language, verdict.reason)
        person = self._person(question.library_id, question.network, user_id)
        key = (question.id, person)
        refused = self._refusal(question, user_id, person)
        if refused is None and self._arrival() > question.closes_at + ARRIVAL_LAG:
            refused = store.CLOSED
        if refused is not None:
            return Verdict(False, reason=refused), reply(language, refused)
        marked = self._marks.setdefault(key, set())
        if option != buttons.SEND:  # a press marks the option, a second one unmarks it
            marked ^= {option}
            if not marked:
                return Verdict(False, reason=NOTHING), reply(language, NOTHING)
            listed = ", ".join(str(n + 1) for n in sorted(marked))
            return Verdict(False, reason=MARKED), reply(language, MARKED, marked=listed)
        if not marked:
            return Verdict(False, reason=NOTHING), reply(language, NOTHING)
        verdict = self._choose(question, user_id, name, sorted(marked), None, "button")
        if verdict.counted:
            del self._marks[key]
        return verdict, reply(language, verdict.reason)

    def on_text(
        self,
        network: str,
        target: str,
        reply_to: str | None,
        user_id: int,
        name: str,
        text: str,
        at: datetime,
        via: str,
        original: bool = False,
    ) -> Verdict | None:
        """A message or comment: an answer if it replies to (or is in the chat of) a question.

        ``at`` is when the platform says it was written: an edited message keeps its
        first date, so an edit made before the close counts as if first written, and
        one made after the close is refused by its arrival below. A message the intake
        knows to be ``original`` (not an edit) is judged by its date alone: read late
        (the database refused its batch, the intake waited), it is not late.
        """
        question, chosen = None, None
        if reply_to is not None:
            question_id = self._by_post.get((network, str(target), str(reply_to)))
            question = self._by_id.get(question_id) if question_id else None
        if question is None:
            # In a group or community chat, a message while a question is open answers it
            # if the question is typed, or if the message names options ("2", "1, 3");
            # on a wall or channel only replies to the question post do.
            candidate = self._open_at(network, str(target), at)
            if candidate is not None and candidate.in_chat:
                if candidate.options:
                    chosen = choices_from_text(text, candidate.options)
                    question = candidate if chosen is not None else None
                elif candidate.spec.style == "text":
                    question = candidate
        if question is None:
            return None
        if not original and self._arrival() > question.closes_at + ARRIVAL_LAG:
            return Verdict(False, reason=store.CLOSED)  # e.g. an edit after the close
        if question.options:
            if chosen is None:
                chosen = choices_from_text(text, question.options)
            return self._choose(question, user_id, name, chosen or [], at, via, text[:500])
        correct = matches(text, question.spec.accepted, question.spec.fuzzy)
        return self._record(question, user_id, name, text[:500], correct, at, via)

    def _open_at(self, network: str, target: str, at: datetime) -> OpenQuestion | None:
        """The chat's question a message written at ``at`` answers: the latest, unless an
        open one was asked before it and the latest after it (a batch read late, after a
        database fault, must not answer a question asked since). Platforms give seconds."""
        question_id = self._by_chat.get((network, target))
        latest = self._by_id.get(question_id) if question_id else None
        if latest is None or latest.opened_at.replace(microsecond=0) <= at:
            return latest
        earlier = [
            q
            for q in self._by_id.values()
            if (q.network, q.target) == (network, target) and q.opened_at <= at
        ]
        return max(earlier, key=lambda q: q.opened_at, default=latest)

    def _choose(
        self,
        question: OpenQuestion,
        user_id: int,
        name: str,
        chosen: list[int] | tuple[int, ...],
        at: datetime | None,
        via: str,
        typed: str | None = None,
    ) -> Verdict:
        """Options chosen, however: right when exactly the right ones (one or several)."""
        chosen = sorted(set(chosen))
        correct = bool(chosen) and chosen == sorted(question.spec.correct)
        answer = typed if typed is not None else ",".join(str(n + 1) for n in chosen)
        return self._record(question, user_id, name, answer, correct, at, via)

    def _refusal(self, question: OpenQuestion, user_id: int, person: str) -> str | None:
        """Why this player cannot answer the question (staff, answered already), if so."""
        if question.spec.exclude_staff and user_id in self._staff.get(
            (question.library_id, question.network), ()
        ):
            return store.STAFF
        if (question.id, person) in self._answered:
            return store.DUPLICATE  # a flood costs no database work
        return None

    def _record(
        self,
        question: OpenQuestion,
        user_id: int,
        name: str,
        answer: str,
        correct: bool,
        at: datetime | None,
        via: str,
    ) -> Verdict:
        person = self._person(question.library_id, question.network, user_id)
        refused = self._refusal(question, user_id, person)
        if refused is not None:
            return Verdict(False, reason=refused)
        now = self._arrival()
        if at is None:
            if now > question.closes_at + ARRIVAL_LAG:
                return Verdict(False, reason=store.CLOSED)
            at = min(now, question.closes_at)
        scored = store.scored(
            question, person=person, name=name, answer=answer, correct=correct, at=at, via=via
        )
        if scored is None:
            return Verdict(False, reason=store.CLOSED)
        self._answered.add((question.id, person))
        if self._taken is not None:
            self._taken.append((question.id, person))
        self._pending.append(scored)
        if not self.db.conn.in_transaction:
            self.flush()  # not within an intake's batch: write at once
        return Verdict(True, correct, scored.points)

    def flush(self) -> int:
        """Write the answers taken since the last flush (the intake calls it per batch)."""
        answers, self._pending = self._pending, []
        self._votes.clear()
        try:
            return store.write_answers(self.db, answers)
        except BaseException:
            # Not stored: the players may answer again (or their update comes again).
            self._answered.difference_update((a.question_id, a.person) for a in answers)
            raise

    def _arrival(self) -> datetime:
        """When the update being handled came: now, or when a refused batch first brought it."""
        return self.arrived or self.clock.now()

    def arriving(self, key: object) -> None:
        """The intake hands over the update ``key`` (its place in the stream) of the batch."""
        self._keys.append(key)
        self.arrived = self._first_read.get((self._source, key)) if self._source else None

    def behind_on(self, network: str) -> bool:
        """Whether answers of ``network`` were read but not stored yet (the database refused
        their batch): a question is not closed nor a quiz summed up without them."""
        return any(stream[0] == network for stream in self.behind)

    @contextmanager
    def batch(self, source: tuple[str, str] | None = None) -> Iterator[None]:
        """One intake batch of ``source`` (network, stream); its transaction is opened
        inside, so that its end is seen here.

        If the block fails, at any point up to and including the commit, what the batch
        did to the memory is undone: its players count as not answered, the buttons
        marked before it are as they were, and answers not written yet are dropped. Its
        updates keep the time they first came, and the stream is behind until a batch
        of it is stored: a database fault delays answers, it does not make them late.
        """
        marks = {key: set(options) for key, options in self._marks.items()}
        started = self.clock.now()
        self._taken, self._source, self._keys = [], source, []
        try:
            yield
        except BaseException:
            self._answered.difference_update(self._taken)
            self._marks = marks
            self._pending, self._votes = [], {}
            if source is not None:
                for key in self._keys:
                    self._first_read.setdefault((source, key), started)
                self.behind.add(source)
            raise
        else:
            if source is not None:
                for key in self._keys:
                    self._first_read.pop((source, key), None)
                self.behind.discard(source)
        finally:
            self._taken, self._source, self._keys, self.arrived = None, None, [], None


def in_batch(
    book: AnswerBook | None, source: tuple[str, str] | None = None
) -> AbstractContextManager[None]:
    """``book.batch(source)``, or nothing to do when the intake takes no quiz answers."""
    return nullcontext() if book is None else book.batch(source)
