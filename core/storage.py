"""The database: the single source of truth for what is planned and what happened.

SQLite in WAL mode through sqlite-utils; the schema is built by migrations.
Every timestamp is stored as UTC ISO text (``to_db``) so that text order is
time order.

The database holds each library's secret key (pseudonyms, button signatures) and
players' names, so a new one is created for its owner only (0600), before SQLite
opens it: SQLite gives its ``-wal`` and ``-shm`` files the main file's permission
bits. A database that cannot be written (a read-only file, folder or disk) is reported
in one line (``ReadOnlyDatabase``) rather than as a traceback at the first write.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from core.errors import BibliobotError

migrations = Migrations("bibliobot")

# Action states: pending → sending → sent / failed / uncertain / missed;
# pending → cancelled when the librarian cancels the event or deletes its file.
PENDING, SENDING, SENT, FAILED, UNCERTAIN, MISSED, CANCELLED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "uncertain",
    "missed",
    "cancelled",
)
FINAL_STATES = (SENT, FAILED, UNCERTAIN, MISSED, CANCELLED)


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Libraries, events, planned actions, publications and metric samples."""
    db["libraries"].create(
        {"id": str, "name": str, "timezone": str, "paused": int, "updated_at": str},
        pk="id",
    )
    db["events"].create(
        {
            "id": str,
            "library_id": str,
            "kind": str,
            "title": str,
            "source": str,
            "digest": str,
            "starts_at": str,
            "data": str,
            "status": str,
            "loaded_at": str,
        },
        pk="id",
        foreign_keys=[("library_id", "libraries", "id")],
    )
    db["actions"].create(
        {
            "id": int,
            "key": str,
            "event_id": str,
            "library_id": str,
            "kind": str,
            "network": str,
            "target": str,
            "due_at": str,
            "state": str,
            "attempts": int,
            "retry_at": str,
            "payload": str,
            "claimed_at": str,
            "finished_at": str,
            "error": str,
            "created_at": str,
        },
        pk="id",
        not_null={"key", "kind", "due_at", "state"},
        defaults={"attempts": 0, "payload": "{}"},
        foreign_keys=[("event_id", "events", "id"), ("library_id", "libraries", "id")],
    )
    db["actions"].create_index(["key"], unique=True)
    db["actions"].create_index(["state", "due_at"])
    db["publications"].create(
        {
            "id": int,
            "action_id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "target": str,
            "remote_id": str,
            "url": str,
            "published_at": str,
        },
        pk="id",
        foreign_keys=[("action_id", "actions", "id"), ("event_id", "events", "id")],
    )
    db["publications"].create_index(["action_id"], unique=True)
    db["publications"].create_index(["event_id"])
    db["metric_samples"].create(
        {
            "id": int,
            "publication_id": int,
            "library_id": str,
            "network": str,
            "target": str,
            "metric": str,
            "value": float,
            "available": int,
            "collected_at": str,
            "source": str,
        },
        pk="id",
        foreign_keys=[("publication_id", "publications", "id")],
    )
    db["metric_samples"].create_index(["publication_id", "metric", "collected_at"])
    db["metric_samples"].create_index(["library_id", "target", "metric", "collected_at"])


@migrations()
def m002_dispatched_at(db: sqlite_utils.Database) -> None:
    """When a post actually left for the network (after local rate limiting)."""
    db["actions"].add_column("dispatched_at", str)


@migrations()
def m003_audience(db: sqlite_utils.Database) -> None:
    """What readers did (from the bots' own updates) and Telegram reaction totals."""
    db["libraries"].add_column("secret", str)  # key of the library's pseudonymous ids
    db["interactions"].create(
        {
            "id": int,
            "library_id": str,
            "network": str,
            "target": str,
            "remote_id": str,  # the post or message the reader acted on
            "publication_id": int,
            "kind": str,  # comment, reply, reaction, vote, like, join, message, answer, entry
            "person": str,  # pseudonymous id, never the platform's user id
            "detail": str,
            "at": str,
            "dedup": str,  # the platform's id of the act, so a replayed update counts once
        },
        pk="id",
    )
    db["interactions"].create_index(["dedup"], unique=True)
    db["interactions"].create_index(["library_id", "at"])
    db["interactions"].create_index(["publication_id", "kind"])
    db["reaction_totals"].create(
        {
            "id": int,
            "chat_id": str,
            "message_id": str,
            "totals": str,  # JSON {"👍": 3, ...}: the full set at that moment
            "observed_at": str,
        },
        pk="id",
    )
    db["reaction_totals"].create_index(["chat_id", "message_id", "observed_at"])
    db["update_offsets"].create({"source": str, "offset": int, "updated_at": str}, pk="source")


@migrations()
def m004_polls(db: sqlite_utils.Database) -> None:
    """Polls: the platform's poll id of a publication, and Telegram's poll totals."""
    db["publications"].add_column("poll_id", str)
    db["poll_totals"].create(
        {"id": int, "poll_id": str, "totals": str, "observed_at": str},  # totals: {"0": 3, ...}
        pk="id",
    )
    db["poll_totals"].create_index(["poll_id", "observed_at"])


@migrations()
def m005_quizzes(db: sqlite_utils.Database) -> None:
    """Quizzes: each question as posted, each player's first answer, final standings."""
    db["quiz_questions"].create(
        {
            "id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "target": str,  # chat / community / peer where the question was asked
            "number": int,  # 1-based, as in the event file
            "mode": str,  # live, daily, channel, comments
            "remote_id": str,  # the message or post carrying the question
            "poll_id": str,  # the platform's poll id when asked as a native poll
            "spec": str,  # JSON: options, correct, accepted, points
            "opened_at": str,
            "closes_at": str,
            "closed_at": str,  # set once the question is closed; later answers are ignored
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id")],
    )
    db["quiz_questions"].create_index(["event_id", "network", "target", "number"], unique=True)
    db["quiz_questions"].create_index(["network", "target", "remote_id"])
    db["quiz_questions"].create_index(["poll_id"])
    db["quiz_answers"].create(
        {
            "id": int,
            "question_id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "number": int,
            "person": str,  # pseudonymous id (core.interactions.pseudonym)
            "name": str,  # display name for standings; cleared after the retention period
            "answer": str,  # the option numbers or the text, as given
            "correct": int,
            "points": float,
            "elapsed_ms": int,  # from the question opening to the answer: breaks ties
            "answered_at": str,
            "via": str,  # poll, button, message, comment
        },
        pk="id",
        foreign_keys=[("question_id", "quiz_questions", "id")],
    )
    # One answer per player per question: the first; any later one is ignored.
    db["quiz_answers"].create_index(["question_id", "person"], unique=True)
    db["quiz_answers"].create_index(["event_id", "network"])
    db["quiz_answers"].create_index(["library_id", "answered_at"])
    db["quiz_results"].create(
        {
            "id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "place": int,
            "person": str,
            "name": str,  # cleared after the retention period, like quiz_answers.name
            "points": float,
            "correct": int,
            "time_ms": int,
            "winner": int,
            "decided_at": str,
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id")],
    )
    db["quiz_results"].create_index(["event_id", "network", "place"], unique=True)


@migrations()
def m006_report_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the period report reads by: posts, players, questions, latest samples."""
    # An event's sent posts by kind and time: a reminder finds its occurrence in one seek.
    db["actions"].create_index(["event_id", "kind", "state", "due_at"], if_not_exists=True)
    db["quiz_answers"].create_index(["event_id", "network", "person"], if_not_exists=True)
    # That index serves what these two did; every index is paid on each of a quiz's
    # thousands of inserts.
    db.execute("drop index if exists idx_quiz_answers_event_id_network")
    db.execute("drop index if exists idx_quiz_answers_library_id_answered_at")
    # Per-question figures (answers, right answers) from the index alone: without it they
    # are a million row lookups in a network's year.
    db["quiz_answers"].create_index(["question_id", "correct"], if_not_exists=True)
    # The latest sample of each post and metric, with its value, from the index alone; it
    # serves every lookup the narrower m001 index did, so that one goes.
    db["metric_samples"].create_index(
        ["publication_id", "metric", "collected_at", "value"], if_not_exists=True
    )
    db.execute("drop index if exists idx_metric_samples_publication_id_metric_collected_at")


@migrations()
def m007_post_figures(db: sqlite_utils.Database) -> None:
    """Each post's latest figures in one row (kept by ``core.samples``), filled from history."""
    from core.samples import FIGURES, refresh

    db["post_figures"].create(
        {"publication_id": int, **{name: float for name in FIGURES}, "engagement": float},
        pk="publication_id",
        foreign_keys=[("publication_id", "publications", "id")],
    )
    refresh(db.conn)


@migrations()
def m008_quiz_counts(db: sqlite_utils.Database) -> None:
    """Counts kept once they cannot change: a closed question's answers, players' totals."""
    db["quiz_questions"].add_column("answers", int)
    db["quiz_questions"].add_column("correct", int)
    db["quiz_results"].add_column("answers", int)
    db.execute(
        "update quiz_questions set "
        "answers = (select count(*) from quiz_answers a where a.question_id = quiz_questions.id), "
        "correct = (select coalesce(sum(a.correct), 0) from quiz_answers a "
        " where a.question_id = quiz_questions.id) where closed_at is not null"
    )
    # Results list every player, so each one's answers can be counted for them.
    db.execute(
        "update quiz_results set answers = (select count(*) from quiz_answers a "
        " where a.event_id = quiz_results.event_id and a.network = quiz_results.network "
        " and a.person = quiz_results.person)"
    )


@migrations()
def m009_giveaways(db: sqlite_utils.Database) -> None:
    """Giveaways: each draw's seed, commitment and proof, entries seen, and winners."""
    db["giveaways"].create(
        {
            "id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "target": str,
            "seed": str,  # hex; secret until the draw publishes it
            "commitment": str,  # SHA-256 of the seed, published with the announcement
            "announced_at": str,
            "drawn_at": str,
            "participants": int,
            "proof": str,  # JSON, as published (bot.giveaway.draw.make_proof)
            "proof_path": str,
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id")],
    )
    db["giveaways"].create_index(["event_id", "network", "target"], unique=True)
    db["giveaway_entries"].create(
        {
            "id": int,
            "event_id": str,
            "network": str,
            "person": str,  # pseudonymous id
            "user_id": str,  # the platform's id, needed to check membership; erased at the draw
            "name": str,  # display name; erased at the draw unless the person won
            "text": str,  # the comment; erased at the draw
            "chat": str,  # where the comment is (Telegram: the discussion group), to reply
            "message_id": str,
            "at": str,
            "dedup": str,
        },
        pk="id",
    )
    db["giveaway_entries"].create_index(["dedup"], unique=True)
    db["giveaway_entries"].create_index(["event_id", "network"])
    db["giveaway_winners"].create(
        {
            "id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "place": int,
            "person": str,
            "name": str,  # cleared after keep_names, like quiz winners' names
            "reserve": int,
            "drawn_at": str,
        },
        pk="id",
    )
    db["giveaway_winners"].create_index(["library_id", "network", "drawn_at"])


@migrations()
def m010_contests(db: sqlite_utils.Database) -> None:
    """Contest entries (pseudonymous, names and reply addresses erased later) and the
    messages the contest still has to send (receipts, moderation, winners)."""
    db["contest_entries"].create(
        {
            "id": int,
            "event_id": str,
            "library_id": str,
            "network": str,
            "number": int,  # 1, 2, ... per contest, in the order of arrival
            "person": str,  # pseudonymous id (per-library HMAC)
            "name": str,  # display name; erased keep_names after the results
            "reply": str,  # JSON: where to answer; erased keep_names after the results
            "via": str,  # "comment" or "message"
            "type": str,  # "photo", "video", "text"
            "text": str,  # the entry's text or caption; erased keep_entries after the results
            "media": str,  # the platform's file reference; erased with the text
            "received_at": str,
            "state": str,  # pending, approved, rejected
            "decided_at": str,
            "decided_by": str,
            "votes": int,  # counted at voting_until, over the entry's posts
            "place": int,
            "erased_at": str,
            "dedup": str,
        },
        pk="id",
    )
    db["contest_entries"].create_index(["dedup"], unique=True)
    db["contest_entries"].create_index(["event_id", "number"], unique=True)
    db["contest_notices"].create(
        {
            "id": int,
            "library_id": str,
            "network": str,
            "kind": str,  # "reply", "moderate", "winner"
            "payload": str,  # JSON
            "created_at": str,
            "sent_at": str,
            "attempts": int,
            "error": str,
            "dedup": str,
        },
        pk="id",
    )
    db["contest_notices"].create_index(["dedup"], unique=True)
    db["contest_notices"].create_index(["sent_at"])


@migrations()
def m011_giveaway_contacts(db: sqlite_utils.Database) -> None:
    """How to reach a giveaway's winners, kept from the draw until they are told (a restart
    in between must not leave them untold), then erased."""
    db["giveaways"].add_column("winners_contact", str)


@migrations()
def m012_telegram_copies(db: sqlite_utils.Database) -> None:
    """Which channel post each copy in a discussion group is (Telegram's automatic
    forwards): comments in its thread belong to that post, also after a restart."""
    db["telegram_copies"].create(
        {"chat_id": int, "message_id": int, "post_chat": int, "post_id": int},
        pk=("chat_id", "message_id"),
    )


@migrations()
def m013_admin_audit(db: sqlite_utils.Database) -> None:
    """Every admin action from the admin chat: who (network and user id), on which library,
    what and with what outcome, so a library can say who cancelled or paused what."""
    db["admin_audit"].create(
        {
            "id": int,
            "at": str,
            "network": str,
            "user_id": int,
            "library_id": str,
            "command": str,
            "arguments": str,
            "outcome": str,
        },
        pk="id",
    )
    db["admin_audit"].create_index(["library_id", "at"])


@migrations()
def m014_alerts(db: sqlite_utils.Database) -> None:
    """Alerts told to the admins (one per kind, library, network and subject while its
    trouble lasts: a restart does not tell it again), and VK posts handed to the admins to
    publish by hand (linked to the wall post when it appears)."""
    db["alerts_told"].create(
        {"library_id": str, "network": str, "kind": str, "subject": str, "told_at": str},
        pk=("library_id", "network", "kind", "subject"),
    )
    db["handovers"].create(
        {
            "guid": str,
            "library_id": str,
            "group_id": int,
            "text": str,  # normalised, to match the wall post by
            "handed_at": str,
            "post_id": int,  # the wall post once linked
        },
        pk="guid",
    )
    db["handovers"].create_index(["library_id", "post_id"])


@migrations()
def m015_lighter_answers(db: sqlite_utils.Database) -> None:
    """Quiz answers keep only indexes led by the question: the one by event, network and
    player cost half of each answer's insert (a live quiz takes thousands a minute), and
    what read by it (standings, an unfinished quiz's players in reports) now goes through
    the event's questions and the (question_id, person) index."""
    db.execute("drop index if exists idx_quiz_answers_event_id_network_person")


class ReadOnlyDatabase(BibliobotError):
    """The database cannot be written: its file, its folder or the disk is read-only."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        super().__init__(f"cannot write to the database {path}: {why}; check its permissions")


def open_db(path: str | Path, *, check_writable: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``, migrated and in WAL mode.

    ``check_writable``: make sure at once that it can be written (commands that write
    call it so); ReadOnlyDatabase if not. Reading a read-only database stays possible.
    """
    path = Path(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(path)
        db = sqlite_utils.Database(path)
        db.enable_wal()
        # In WAL mode NORMAL loses nothing when the process dies (only on power loss the
        # last commits may go), and spares an fsync per commit: quiz answers come by thousands.
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 5000")
        migrations.apply(db)
        if check_writable:
            _try_a_write(db)
    except (sqlite3.OperationalError, PermissionError) as exc:
        problem = read_only(path, exc)
        if problem is None:
            raise
        raise problem from exc
    return db


def _create_private(path: Path) -> None:
    """Create the database file for its owner only, unless it exists (its mode is kept)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _try_a_write(db: sqlite_utils.Database) -> None:
    """Write to the database and take it back: SQLite opens a read-only file without a word."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        version = db.conn.execute("PRAGMA user_version").fetchone()[0]
        db.conn.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")


def read_only(path: Path, exc: Exception) -> ReadOnlyDatabase | None:
    """``exc`` as ReadOnlyDatabase if it says the database at ``path`` cannot be written."""
    text = str(exc).lower()
    refused = isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), path.parent)
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return ReadOnlyDatabase(path, "read-only file system")
    if path.exists() and not os.access(path, os.W_OK):
        return ReadOnlyDatabase(path, "read-only file")
    if not os.access(folder, os.W_OK | os.X_OK):
        return ReadOnlyDatabase(path, "read-only folder")
    if refused:
        return ReadOnlyDatabase(path, "read-only")
    return None


def to_db(moment: datetime) -> str:
    """An aware datetime as sortable UTC text."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_db(text: str) -> datetime:
    """Text written by ``to_db`` back to an aware UTC datetime."""
    return datetime.fromisoformat(text)


def planned_event_ids(storage: Path) -> set[str]:
    """The events the plan at ``storage`` has, read without changing it; none if no plan yet."""
    if not storage.is_file():
        return set()
    try:
        with contextlib.closing(sqlite3.connect(f"{storage.as_uri()}?mode=ro", uri=True)) as db:
            return {row[0] for row in db.execute("select id from events")}
    except sqlite3.Error:
        return set()
