"""Quiz data in the database: questions as asked, first answers, standings and results.

Integrity lives here, once for every network and mode: one answer per player per
question (the first: a unique index, so a replayed update or a second click cannot
add one), nothing after the question closed, staff left out. Scores are computed
from the stored answers, so standings can be rebuilt at any time.

A question is recorded before it is sent (its buttons carry its id), but closed: only
``asked``, once the platform took it, opens it. A question that never left, whatever
stopped it (a refusal, a crash), is never open, and no chat is taken for its answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from core.formulas import right_share
from core.networks import network as network_of
from core.quiz_model import QuestionSpec
from core.storage import from_db, to_db

# Why an answer was not counted (None: it was).
DUPLICATE, CLOSED, STAFF, UNKNOWN = "duplicate", "closed", "staff", "unknown"


@dataclass(frozen=True)
class OpenQuestion:
    """A question as asked, with what scoring needs (cached in memory by the engine)."""

    id: int
    event_id: str
    library_id: str
    network: str
    target: str
    number: int
    mode: str
    remote_id: str
    poll_id: str | None
    spec: QuestionSpec
    opened_at: datetime
    closes_at: datetime
    closed: bool = False

    @property
    def options(self) -> tuple[str, ...]:
        """The options (empty for a free-text question)."""
        return self.spec.options

    @property
    def in_chat(self) -> bool:
        """Whether it is asked in the network's quiz chat (not in a channel, on a wall)."""
        return self.spec.where == network_of(self.network).chat_place


@dataclass(slots=True)  # not frozen: made for every answer of a live quiz, 3× as fast
class Answer:
    """A player's scored answer to a question, as ``quiz_answers`` keeps it."""

    question_id: int
    event_id: str
    library_id: str
    network: str
    number: int
    person: str
    name: str
    answer: str
    correct: bool
    points: float
    elapsed_ms: int
    answered_at: datetime
    via: str

    def values(self) -> tuple:
        """The row's values in the order of ``_INSERT``."""
        return (
            self.question_id,
            self.event_id,
            self.library_id,
            self.network,
            self.number,
            self.person,
            self.name,
            self.answer,
            int(self.correct),
            self.points,
            self.elapsed_ms,
            to_db(self.answered_at),
            self.via,
        )


@dataclass(frozen=True)
class Verdict:
    """What became of one answer."""

    counted: bool
    correct: bool = False
    points: float = 0.0
    reason: str | None = None  # DUPLICATE, CLOSED, STAFF, UNKNOWN (or the book's) if not counted


@dataclass(frozen=True)
class Standing:
    """One player's line in the standings."""

    place: int
    person: str
    name: str
    points: float
    correct: int
    time_ms: int
    answers: int = 0


def open_question(
    db: sqlite_utils.Database,
    *,
    event_id: str,
    library_id: str,
    network: str,
    target: str,
    number: int,
    mode: str,
    remote_id: str,
    poll_id: str | None,
    spec: QuestionSpec,
    opened_at: datetime,
    closes_at: datetime,
) -> OpenQuestion:
    """Record a question about to be asked (once: asking again keeps the first record).

    Without ``remote_id`` (not sent yet) it is recorded closed, until ``asked``.
    """
    row = {
        "event_id": event_id,
        "library_id": library_id,
        "network": network,
        "target": str(target),
        "number": number,
        "mode": mode,
        "remote_id": str(remote_id),
        "poll_id": poll_id,
        "spec": json.dumps(spec.to_json(), ensure_ascii=False),
        "opened_at": to_db(opened_at),
        "closes_at": to_db(closes_at),
        "closed_at": None if remote_id else to_db(opened_at),
    }
    with db.atomic():
        db["quiz_questions"].insert(row, ignore=True)
    return find_question(db, event_id, network, str(target), number)  # type: ignore[return-value]


def asked(
    db: sqlite_utils.Database,
    question_id: int,
    *,
    remote_id: str,
    poll_id: str | None,
    spec: QuestionSpec,
    opened_at: datetime,
    closes_at: datetime,
) -> OpenQuestion:
    """The platform took the question: record where it is, and open it to answers."""
    with db.atomic():
        db["quiz_questions"].update(
            question_id,
            {
                "spec": json.dumps(spec.to_json(), ensure_ascii=False),
                "remote_id": str(remote_id),
                "poll_id": poll_id,
                "opened_at": to_db(opened_at),
                "closes_at": to_db(closes_at),
                "closed_at": None,
            },
        )
    return _question(db["quiz_questions"].get(question_id))


def find_question(
    db: sqlite_utils.Database, event_id: str, network: str, target: str, number: int
) -> OpenQuestion | None:
    """The question ``number`` of an event as asked in ``target``, if it was."""
    row = next(
        db["quiz_questions"].rows_where(
            "event_id = ? and network = ? and target = ? and number = ?",
            [event_id, network, str(target), number],
        ),
        None,
    )
    return None if row is None else _question(row)


def open_questions(db: sqlite_utils.Database) -> list[OpenQuestion]:
    """Every question asked and not closed yet (re-read on start).

    A question without ``remote_id`` never left: earlier versions left such questions
    open, so they are passed over here.
    """
    where = "closed_at is null and remote_id != ''"
    return [_question(r) for r in db["quiz_questions"].rows_where(where, order_by="id")]


def close_question(db: sqlite_utils.Database, question_id: int, at: datetime) -> bool:
    """Close a question; later answers are ignored. False if it was closed already.

    Its answers and right answers are counted once, now that they can no longer change:
    a year report then reads one row per question instead of every answer.
    """
    with db.atomic():
        cursor = db.execute(
            "update quiz_questions set closed_at = ?, "
            "answers = (select count(*) from quiz_answers a where a.question_id = ?), "
            "correct = (select coalesce(sum(a.correct), 0) from quiz_answers a "
            " where a.question_id = ?) "
            "where id = ? and closed_at is null",
            [to_db(at), question_id, question_id, question_id],
        )
    return cursor.rowcount == 1


def score(question: OpenQuestion, correct: bool, elapsed: timedelta, speed_bonus: int) -> float:
    """Points for an answer: the question's points if right, plus a bonus for speed.

    The bonus falls linearly from ``speed_bonus`` at once to 0 when the question closes.
    """
    if not correct:
        return 0.0
    points = float(question.spec.points)
    window = (question.closes_at - question.opened_at).total_seconds()
    if speed_bonus and window > 0:
        share = max(0.0, 1.0 - elapsed.total_seconds() / window)
        points += round(speed_bonus * share, 2)
    return points


_INSERT = (
    "insert or ignore into quiz_answers (question_id, event_id, library_id, network, "
    "number, person, name, answer, correct, points, elapsed_ms, answered_at, via) "
    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def scored(
    question: OpenQuestion,
    *,
    person: str,
    name: str,
    answer: str,
    correct: bool,
    at: datetime,
    via: str,
) -> Answer | None:
    """An answer to an open question, scored; None if the question was closed."""
    if question.closed or at > question.closes_at:
        return None
    elapsed = max(at - question.opened_at, timedelta(0))
    return Answer(
        question.id,
        question.event_id,
        question.library_id,
        question.network,
        question.number,
        person,
        name,
        answer,
        correct,
        score(question, correct, elapsed, question.spec.speed_bonus),
        int(elapsed.total_seconds() * 1000),
        at,
        via,
    )


def write_answers(db: sqlite_utils.Database, answers: list[Answer]) -> int:
    """Store answers; a player's second answer to a question is ignored. Returns stored."""
    if not answers:
        return 0
    rows = [a.values() for a in answers]
    if db.conn.in_transaction:  # the caller's transaction (a batch of updates) commits them
        return db.conn.executemany(_INSERT, rows).rowcount
    with db.atomic():
        return db.conn.executemany(_INSERT, rows).rowcount


def answered(db: sqlite_utils.Database, question_ids: list[int]) -> set[tuple[int, str]]:
    """(question, player) pairs already answered, for questions still open (on start)."""
    if not question_ids:
        return set()
    marks = ", ".join("?" for _ in question_ids)
    rows = db.execute(
        f"select question_id, person from quiz_answers where question_id in ({marks})",
        question_ids,
    ).fetchall()
    return {(q, p) for q, p in rows}


def standings(db: sqlite_utils.Database, event_id: str, network: str) -> list[Standing]:
    """Players by points; ties broken by the total time of their right answers (less wins)."""
    rows = db.execute(
        "select person, coalesce(max(name), ''), sum(points), sum(correct), "
        "sum(case when correct then elapsed_ms else 0 end), min(id), count(*) "
        "from quiz_answers where question_id in (select id from quiz_questions "
        "where event_id = ? and network = ?) group by person "
        "order by sum(points) desc, 5 asc, min(id) asc",
        [event_id, network],
    ).fetchall()
    return [
        Standing(place, person, name, float(points), int(right), int(time_ms), answers)
        for place, (person, name, points, right, time_ms, _, answers) in enumerate(rows, start=1)
    ]


def question_figures(db: sqlite_utils.Database, event_id: str) -> list[dict]:
    """Per question and network: players, right answers and the share of right ones."""
    rows = db.execute(
        "select q.number, q.network, count(a.id), coalesce(sum(a.correct), 0) "
        "from quiz_questions q left join quiz_answers a on a.question_id = q.id "
        "where q.event_id = ? group by q.number, q.network order by q.number, q.network",
        [event_id],
    ).fetchall()
    return [
        {
            "number": number,
            "network": network,
            "answers": answers,
            "correct": right,
            "share_correct": right_share(right, answers, digits=1),
        }
        for number, network, answers, right in rows
    ]


def save_results(
    db: sqlite_utils.Database,
    event_id: str,
    library_id: str,
    network: str,
    table: list[Standing],
    winners: int,
    at: datetime,
) -> None:
    """Store the final standings (the winners marked); repeating it replaces them.

    Every player is stored with their number of answers: reports count a finished
    quiz's participations from these rows rather than from every answer.
    """
    with db.atomic():
        db["quiz_results"].delete_where("event_id = ? and network = ?", [event_id, network])
        db["quiz_results"].insert_all(
            {
                "event_id": event_id,
                "library_id": library_id,
                "network": network,
                "place": s.place,
                "person": s.person,
                "name": s.name,
                "points": s.points,
                "correct": s.correct,
                "time_ms": s.time_ms,
                "answers": s.answers,
                "winner": int(s.place <= winners and s.points > 0),
                "decided_at": to_db(at),
            }
            for s in table
        )


def forget_names(db: sqlite_utils.Database, library_id: str, before: datetime) -> int:
    """Clear players' display names of a library's quizzes decided before ``before``."""
    stamp = to_db(before)
    with db.atomic():
        done = db.execute(
            "select distinct event_id from quiz_results where library_id = ? and decided_at < ?",
            [library_id, stamp],
        ).fetchall()
        events = [row[0] for row in done]
        cleared = 0
        for event_id in events:
            cleared += db.execute(
                "update quiz_answers set name = null where question_id in "
                "(select id from quiz_questions where event_id = ?) and name is not null",
                [event_id],
            ).rowcount
            db.execute("update quiz_results set name = null where event_id = ?", [event_id])
    return cleared


def _question(row: dict) -> OpenQuestion:
    return OpenQuestion(
        id=row["id"],
        event_id=row["event_id"],
        library_id=row["library_id"],
        network=row["network"],
        target=row["target"],
        number=row["number"],
        mode=row["mode"],
        remote_id=row["remote_id"],
        poll_id=row["poll_id"],
        spec=QuestionSpec.from_json(json.loads(row["spec"])),
        opened_at=from_db(row["opened_at"]),
        closes_at=from_db(row["closes_at"]),
        closed=row["closed_at"] is not None,
    )
