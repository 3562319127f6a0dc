"""The set-based queries behind ``reports.figures``: rows, posts' figures and acts.

Everything heavy happens in SQLite over covering indexes (migration m006) and the posts'
latest figures (``post_figures``, kept by ``core.samples``): Python only receives one line
per event row and one per library and network, never a line per sample or per answer.
The temporary tables (``_span``, ``_pubrow``, ``_quizrow``, …) live for one report;
``reports.details`` reads ``_pubrow`` and ``_quizrow`` too. Which networks number their
chats apart, and whose reaction totals are anonymous, comes from ``core.networks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.networks import registry
from core.storage import from_db, to_db
from reports.model import COUNTERS, EventRow, Library, Tally

TEMP_TABLES = ("_span", "_chat", "_cand", "_first", "_post", "_row", "_pubrow", "_quizrow")
TEMP_TABLES += ("_pairs", "_rowpost", "_rowacts")

# Whether a place (``network``, ``target`` columns) is a chat or group rather than a
# channel or a community wall: a target the network numbers as a chat (its registry
# entry's ``chat_targets_from``), or where a quiz asks in a group or chat (its question
# actions say so). Messages there are publications, but followers do not see them: they
# stay out of the rates, and the members of such a place are not followers.
# The action kinds of the posts that hold an event: a plain post (``publish``) and a
# giveaway's announcement (``giveaway``: a post whose commitment is filled in as it goes).
HELD = "('publish', 'giveaway')"


def is_chat_sql(network: str, target: str) -> str:
    """The SQL test of ``is a chat`` for these columns (needs ``temp._chat``)."""
    # A test on the columns, not a stored mark: it reads no other table, as fast as before.
    by_number = " or ".join(
        f"{network} = '{one.name}' and cast({target} as integer) >= {one.chat_targets_from}"
        for one in registry().values()
        if one.chat_targets_from is not None
    )
    return (
        f"(({by_number or '0'}) or exists ("
        f"select 1 from temp._chat c where c.network = {network} and c.target = {target}))"
    )


def _anonymous_sql() -> str:
    """The acts a post's counters show whose authors the network does not name: votes
    beyond the named ones (votes recorded from the update streams, quiz answers given by
    voting in the poll the post carries), and the reaction totals of the networks with
    ``anonymous_reactions``, which count only those (named ones come as "reaction" acts)."""
    quoted = ", ".join(
        f"'{name}'" for name, one in registry().items() if one.capabilities.anonymous_reactions
    )
    return _ANONYMOUS.format(anonymous_reactions=quoted)


_ANONYMOUS = (
    "case when f.poll_votes > 0 then max(0, f.poll_votes"
    " - (select count(*) from interactions i where i.publication_id = b.publication_id"
    "    and i.kind = 'vote')"
    " - (select coalesce(sum(coalesce(q.answers, (select count(*) from quiz_answers x"
    "    where x.question_id = q.id))), 0) from publications p join quiz_questions q"
    "    on q.network = p.network and q.target = p.target and q.remote_id = p.remote_id"
    "    where p.id = b.publication_id)) else 0 end"
    " + case when b.network in ({anonymous_reactions}) then coalesce(f.reactions, 0) else 0 end"
)


def prepare(conn, spans: dict[str, tuple[datetime, datetime]]) -> None:
    """Fill the temporary tables: spans, held rows (numbered in report order), their posts.

    Columns are typed: a join between an untyped column and a typed one cannot use an
    index on the untyped side, and the report would turn quadratic.
    """
    drop(conn)
    # Temporary tables and sorts in memory (tens of MB for a network's year): on disk they
    # are written out and read back, which cost seconds. SQLite refuses the change inside
    # a transaction; it then stays as it was. It stays set for the connection afterwards.
    if not conn.in_transaction:
        conn.execute("pragma temp_store = memory")
    conn.execute("create temp table _span (library_id text primary key, s text, e text)")
    conn.executemany(
        "insert into temp._span values (?, ?, ?)",
        [(lib, to_db(start), to_db(end)) for lib, (start, end) in spans.items()],
    )
    conn.execute(
        "create temp table _chat (network text, target text, primary key (network, target))"
    )
    conn.execute(
        "insert or ignore into temp._chat select a.network, a.target from actions a "
        "join temp._span s on s.library_id = a.library_id where a.kind = 'question' "
        "and json_extract(a.payload, '$.spec.where') in ('group', 'chat')"
    )
    # Candidates: events with a publish post planned, or a question opened, in the span.
    conn.execute("create temp table _cand (event_id text primary key)")
    conn.execute(
        "insert or ignore into temp._cand select a.event_id from actions a "
        "join temp._span s on s.library_id = a.library_id "
        f"where a.state = 'sent' and a.kind in {HELD} and a.due_at >= s.s and a.due_at < s.e"
    )
    conn.execute(
        "insert or ignore into temp._cand select q.event_id from quiz_questions q "
        "join temp._span s on s.library_id = q.library_id "
        "where q.opened_at >= s.s and q.opened_at < s.e"
    )
    # The first occurrence of each event: its earliest publish post, else its first question.
    conn.execute(
        "create temp table _first as select c.event_id, coalesce("
        " (select min(a.due_at) from actions a where a.event_id = c.event_id"
        f"  and a.kind in {HELD} and a.state = 'sent'),"
        " (select min(q.opened_at) from quiz_questions q where q.event_id = c.event_id)) as occ "
        "from temp._cand c"
    )
    # Each post with its occurrence: a reminder belongs to the first publish at or after
    # it; a quiz's or poll's own posts (questions, standings, results) to the last publish
    # at or before them, else (a comments quiz has no intro) to the event's first one.
    conn.execute(
        "create temp table _post as select a.event_id, a.network, a.target, a.kind, "
        "p.id as pid, coalesce(p.url, '') as url, "
        f"{is_chat_sql('a.network', 'a.target')} as chat, "
        f"case when a.kind in {HELD} then a.due_at "
        " when a.kind = 'reminder' then (select min(o.due_at) from actions o "
        f" where o.event_id = a.event_id and o.kind in {HELD} and o.state = 'sent' "
        " and o.due_at >= a.due_at) "
        " else coalesce((select max(o.due_at) from actions o where o.event_id = a.event_id "
        f" and o.kind in {HELD} and o.state = 'sent' and o.due_at <= a.due_at), f.occ) "
        "end as occ "
        "from temp._first f join actions a on a.event_id = f.event_id "
        "join publications p on p.action_id = a.id "
        "where a.state = 'sent' and a.kind not in ('snapshot', 'community')"
    )
    # Rows: (event, occurrence, network) held in the library's span, numbered in the order
    # the report lists them (library, time, title, network).
    conn.execute(
        "create temp table _row (n integer primary key, event_id text, library_id text, "
        "network text, occ text, kind text, title text)"
    )
    conn.execute(
        "insert into temp._row (event_id, library_id, network, occ, kind, title) "
        "select r.event_id, e.library_id, r.network, r.occ, e.kind, e.title from ("
        "  select event_id, occ, network from temp._post where occ is not null"
        "  union select q.event_id, f.occ, q.network from temp._first f"
        "  join quiz_questions q on q.event_id = f.event_id"
        ") r join events e on e.id = r.event_id join temp._span s on s.library_id = e.library_id "
        "where r.occ >= s.s and r.occ < s.e "
        "order by e.library_id, r.occ, e.title, r.network, r.event_id"
    )
    conn.execute("create index temp._row_key on _row (event_id, occ, network)")
    conn.execute(
        "create temp table _pubrow (publication_id integer primary key, n integer, kind text, "
        "target text, url text, chat integer, network text)"
    )
    conn.execute(
        "insert into temp._pubrow select p.pid, r.n, p.kind, p.target, p.url, p.chat, "
        "p.network from temp._post p "
        "join temp._row r on r.event_id = p.event_id and r.occ = p.occ and r.network = p.network"
    )
    conn.execute("create index temp._pubrow_n on _pubrow (n, kind, target)")
    # Quiz answers go to the event's first held occurrence on that network (the lowest n).
    conn.execute("create temp table _quizrow (n integer primary key, event_id text, network text)")
    conn.execute(
        "insert into temp._quizrow select min(r.n), r.event_id, r.network from temp._row r "
        "where exists (select 1 from quiz_questions q "
        " where q.event_id = r.event_id and q.network = r.network) "
        "group by r.event_id, r.network"
    )


def rows(conn) -> list[tuple]:
    """The query's lines, one per row, in report order: what it is, its posts' sums, its
    acts. Only ``event_rows`` reads them, here beside the query that lays them out; they
    stay plain tuples because forked children send them back (``reports.figures``), and
    pickling a year's objects took longer than making them again from the tuples.

    The link is a web link of a post (in a channel or on a wall before a chat message; the
    announcement's first, else a question's, else any): a chat message may have none. A
    chat message is never "deleted" (it is not read).
    """
    sums = ", ".join(f"sum(f.{m})" for m in COUNTERS)
    # Per-row sums go to keyed tables first: joined as subqueries, SQLite would rescan them
    # for every row.
    conn.execute(
        f"create temp table _rowpost (n integer primary key, posts, reminders, "
        f"{', '.join(COUNTERS)}, engagement, deleted, anonymous, chat, rated, "
        "rated_engagement)"
    )
    conn.execute(
        f"insert into temp._rowpost select b.n, count(*), sum(b.kind = 'reminder'), {sums}, "
        "sum(f.engagement), max(b.chat = 0 and coalesce(f.deleted, 0) <> 0), "
        f"cast(sum({_anonymous_sql()}) as integer), min(b.chat), "
        "count(case when b.chat = 0 then f.engagement end), "
        "sum(case when b.chat = 0 then f.engagement end) "
        "from temp._pubrow b left join post_figures f on f.publication_id = b.publication_id group by b.n"
    )
    conn.execute("create temp table _rowacts (n integer primary key, acts, people, answers)")
    conn.execute(
        "insert into temp._rowacts select n, sum(acts), count(*), sum(answers) "
        "from temp._pairs group by n"
    )
    return conn.execute(
        "select r.n, r.event_id, r.library_id, r.network, r.occ, r.kind, r.title, "
        " coalesce((select u.url from temp._pubrow u where u.n = r.n"
        f"  and u.url like 'http%' order by u.chat, u.kind not in {HELD}, u.kind <> 'question', "
        "  u.target, u.publication_id limit 1), ''), "
        " p.posts, p.reminders, " + ", ".join(f"p.{m}" for m in COUNTERS) + ", p.engagement, "
        " coalesce(p.deleted, 0), coalesce(a.acts, 0) + coalesce(p.anonymous, 0), "
        " coalesce(a.people, 0), coalesce(a.answers, 0), coalesce(p.anonymous, 0), "
        " coalesce(p.chat, 0), coalesce(p.rated, 0), p.rated_engagement "
        "from temp._row r left join temp._rowpost p on p.n = r.n "
        "left join temp._rowacts a on a.n = r.n order by r.n"
    ).fetchall()


def event_rows(lines: list[tuple], libraries: list[Library]) -> dict[int, EventRow]:
    """The period's rows by number, figures and acts filled, from the lines of ``rows``."""
    names = {lib.id: lib.name for lib in libraries}
    zones = {lib.id: ZoneInfo(lib.timezone) for lib in libraries}
    found: dict[int, EventRow] = {}
    width = len(COUNTERS)
    for line in lines:
        # In the order of the select of ``rows``.
        n, event_id, library, network, occurrence, kind, title, url, posts, reminders = line[:10]
        sums = line[10 : 10 + width]
        engagement, deleted, participations, people, answers = line[10 + width : 15 + width]
        anonymous, chat, rated, rated_engagement = line[15 + width :]
        found[n] = EventRow(
            library,
            names[library],
            event_id,
            kind,
            title,
            network,
            from_db(occurrence).astimezone(zones[library]),
            url=url,
            posts=posts or 0,
            reminders=reminders or 0,
            # A row without posts (a quiz asked without an announcement) shows no counters.
            figures=dict(zip(COUNTERS, sums, strict=True)) if posts else {},
            participations=participations,
            people=people,
            answers=int(answers),
            deleted=bool(deleted),
            occurrence=occurrence,
            engagement=engagement,
            anonymous=int(anonymous),
            chat=bool(chat),
            rated=rated,
            rated_engagement=rated_engagement,
        )
    return found


def tallies(conn) -> dict[tuple[str, str], Tally]:
    """The posts' counters per library and network, summed over their latest figures."""
    columns = ", ".join(f"sum(f.{m}), count(f.{m})" for m in COUNTERS)
    found: dict[tuple[str, str], Tally] = {}
    for line in conn.execute(
        f"select r.library_id, r.network, count(*), {columns}, "
        "sum(f.engagement), count(f.engagement), "
        "sum(case when f.views is not null then f.engagement end), "
        "sum(case when f.engagement is not null then f.views end), "
        "count(case when f.engagement is not null then f.views end), "
        "count(case when b.chat = 0 then f.engagement end), "
        "sum(case when b.chat = 0 then f.engagement end), "
        "count(case when b.chat = 0 then f.views end), "
        "sum(case when b.chat = 0 then f.views end) "
        "from temp._pubrow b join temp._row r on r.n = b.n "
        "left join post_figures f on f.publication_id = b.publication_id group by r.library_id, r.network"
    ):
        library, network, posts, *rest = line
        tally = Tally(posts=posts)
        for i, name in enumerate(COUNTERS):
            total, known = rest[2 * i], rest[2 * i + 1]
            if known:
                tally.sums[name] = total
                tally.known[name] = known
        engagement, engaged, viewed_engagement, viewed_views, viewed = rest[
            2 * len(COUNTERS) : 2 * len(COUNTERS) + 5
        ]
        tally.engagement, tally.engaged = engagement or 0.0, engaged
        tally.viewed_engagement, tally.viewed_views = viewed_engagement or 0.0, viewed_views or 0.0
        tally.viewed = viewed
        rated, rated_engagement, seen, seen_views = rest[2 * len(COUNTERS) + 5 :]
        tally.rated, tally.rated_engagement = rated, rated_engagement or 0.0
        tally.seen, tally.seen_views = seen, seen_views or 0.0
        found[(library, network)] = tally
    return found


def pairs(conn) -> None:
    """(row, person) with acts and answers: the readers' acts on its posts and quiz answers."""
    conn.execute(
        "create temp table _pairs as select n, person, sum(acts) as acts, "
        "sum(answers) as answers from ("
        "  select b.n, i.person, count(*) as acts, sum(i.kind = 'answer') as answers "
        "  from temp._pubrow b join interactions i on i.publication_id = b.publication_id "
        "  where i.kind not in ('join', 'leave') group by b.n, i.person"
        # A finished quiz's players with their answers (the results list every player).
        "  union all select r.n, x.person, x.answers, x.answers from temp._quizrow r "
        "  join quiz_results x on x.event_id = r.event_id and x.network = r.network "
        "  where x.answers is not null"
        # Else the answers, by the row's questions: CROSS JOIN keeps the rows outermost,
        # so that a finished quiz is passed over before its answers are read.
        "  union all select r.n, q.person, count(*), count(*) from temp._quizrow r "
        "  cross join quiz_questions qq on qq.event_id = r.event_id and qq.network = r.network "
        "  join quiz_answers q on q.question_id = qq.id "
        "  where not exists (select 1 from quiz_results x where x.event_id = r.event_id "
        "  and x.network = r.network and x.answers is not null) "
        "  group by r.n, q.person"
        ") group by n, person"
    )


@dataclass(frozen=True, slots=True)
class Acts:
    """The readers' acts of one library on one network over the period."""

    participations: int  # the anonymous acts included
    people: int
    answers: int
    outside: int  # acts not tied to a post (chat messages, …)
    anonymous: int  # acts a post's counters show whose authors the network does not name


def acts(conn) -> dict[str, dict[str, Acts]]:
    """The acts per library and network (after ``rows``)."""
    sql = (
        "select library_id, network, sum(acts), count(distinct person), sum(answers), "
        "sum(outside) from ("
        "  select r.library_id, r.network, p.person, p.acts, p.answers, 0 as outside "
        "  from temp._pairs p join temp._row r on r.n = p.n "
        "  union all select i.library_id, i.network, i.person, 1, i.kind = 'answer', 1 "
        "  from interactions i join temp._span s on s.library_id = i.library_id "
        "  where i.publication_id is null and i.kind not in ('join', 'leave') "
        "  and i.at >= s.s and i.at < s.e"
        ") group by library_id, network"
    )
    anonymous: dict[tuple[str, str], int] = {}
    for library, network, count in conn.execute(
        "select r.library_id, r.network, sum(p.anonymous) from temp._rowpost p "
        "join temp._row r on r.n = p.n group by r.library_id, r.network"
    ):
        if count:
            anonymous[(library, network)] = int(count)
    found: dict[str, dict[str, Acts]] = {}
    for library, network, count, people, answers, outside in conn.execute(sql):
        extra = anonymous.pop((library, network), 0)
        found.setdefault(library, {})[network] = Acts(
            count + extra, people, int(answers or 0), int(outside or 0), extra
        )
    for (library, network), extra in anonymous.items():  # no named act at all
        found.setdefault(library, {})[network] = Acts(extra, 0, 0, 0, extra)
    return found


def drop(conn) -> None:
    """Remove the temporary tables of a report."""
    for name in TEMP_TABLES:
        conn.execute(f"drop table if exists temp.{name}")
