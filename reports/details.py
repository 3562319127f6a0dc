"""Quiz, poll, contest and giveaway details of the events in a report: winners,
questions, votes per option, a contest's entries and a giveaway's draw.

Reads the temporary tables ``reports.figures`` fills (``_pubrow``: the posts of each row,
``_quizrow``: the quiz of each row), so only the period's events are touched.
Names (only with --with-names) are shown plain: a network's mention markup, which
standings use as a link (the registry's ``mention``), becomes the name it shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from core.formulas import right_share
from core.networks import registry
from core.quiz_model import QuestionSpec
from core.storage import from_db
from reports.contest_figures import contest_figures
from reports.model import (
    ContestRow,
    EventRow,
    GiveawayRow,
    Place,
    PollOption,
    QuestionFigures,
    Winner,
)

Lookup = Callable[[int], EventRow]
# Every network's mention markup at once: one of its groups holds the name shown.
_MENTION = re.compile("|".join(f"(?:{one.mention})" for one in registry().values() if one.mention))


def quizzes(conn, row: Lookup, with_names: bool) -> tuple[list[Winner], list[QuestionFigures]]:
    """Winners (names only ``with_names``) and per-question figures of the period's quizzes."""
    winners = []
    for n, network, place, person, name, points, correct, time_ms in conn.execute(
        "select r.n, q.network, q.place, q.person, q.name, q.points, q.correct, q.time_ms "
        "from quiz_results q join temp._quizrow r "
        "on r.event_id = q.event_id and r.network = q.network "
        "where q.winner = 1 order by r.n, q.place"
    ):
        event = row(n)
        winners.append(
            Winner(
                event.title,
                event.at,
                event.event_id,
                network,
                place,
                (person or "")[:8],  # already a pseudonym; eight characters tell players apart
                (plain_name(name) or None) if with_names else None,
                float(points or 0),
                int(correct or 0),
                time_ms,
            )
        )
    questions = []
    for n, network, number, mode, spec, answers, players, right, votes in conn.execute(
        # A closed question's counts were kept when it closed; an open one's are counted.
        "select r.n, q.network, q.number, q.mode, q.spec, coalesce(q.answers, a.answers), "
        "coalesce(q.answers, a.players), coalesce(q.correct, a.correct), "
        "(select totals from poll_totals t where t.poll_id = q.poll_id "
        " order by t.observed_at desc, t.id desc limit 1) "
        "from quiz_questions q join temp._quizrow r "
        "on r.event_id = q.event_id and r.network = q.network "
        # One answer per player and question (a unique index), so players = answers, and
        # both come from the (question_id, correct) index without touching the rows.
        "left join (select question_id, count(*) as answers, count(*) as players, "
        "  sum(correct) as correct from quiz_answers "
        "  where question_id in (select q2.id from quiz_questions q2 join temp._quizrow r2 "
        "  on r2.event_id = q2.event_id and r2.network = q2.network where q2.answers is null) "
        "  group by question_id) a "
        "on a.question_id = q.id order by r.n, q.network, q.number"
    ):
        event = row(n)
        details = QuestionSpec.from_json(_spec(spec))
        if answers:
            figures = (players, answers, right_share(right or 0, answers), "answers")
        elif votes:  # an anonymous quiz poll: only totals per option
            totals = {int(k): v for k, v in json.loads(votes).items()}
            cast = sum(totals.values())
            right_votes = sum(totals.get(i, 0) for i in details.correct)
            figures = (None, cast, right_share(right_votes, cast), "poll")
        else:
            figures = (0, 0, None, "answers")
        questions.append(
            QuestionFigures(
                event.title,
                event.at,
                event.event_id,
                network,
                number,
                details.text,
                mode or "",
                *figures,
            )
        )
    return winners, questions


def polls(conn, row: Lookup) -> list[PollOption]:
    """Votes per option of the period's poll posts (latest samples), with the option texts."""
    votes: dict[tuple[int, int], float | None] = {}
    texts: dict[int, list[str]] = {}
    for n, payload, metric, value in conn.execute(
        "select r.n, a.payload, m.metric, m.value from temp._pubrow r "
        "join publications p on p.id = r.publication_id "
        "join actions a on a.id = p.action_id and a.kind = 'publish' "
        "join events e on e.id = p.event_id and e.kind = 'poll' "
        "left join (select publication_id, metric, value, max(collected_at) from metric_samples "
        "  where publication_id in (select r2.publication_id from temp._pubrow r2 "
        "  join publications p2 on p2.id = r2.publication_id where p2.poll_id is not null) "
        "  and metric like 'poll:%' group by publication_id, metric) m "
        "on m.publication_id = p.id"
    ):
        texts.setdefault(n, poll_options(payload))
        if metric is None:
            continue
        number = int(metric.split(":", 1)[1])
        votes[(n, number)] = (
            value if votes.get((n, number)) is None else votes[(n, number)] + (value or 0)
        )
    options = []
    for n, names in sorted(texts.items()):
        event = row(n)
        for number, text in enumerate(names):
            options.append(
                PollOption(
                    event.title,
                    event.at,
                    event.event_id,
                    event.network,
                    number + 1,
                    text,
                    votes.get((n, number)),
                )
            )
    return options


def _first_rows(conn, kind: str) -> list[tuple[int, str, str]]:
    """(row number, event, network) of the period's events of ``kind``, each event and
    network once (its first occurrence in the period)."""
    return conn.execute(
        "select min(n), event_id, network from temp._row where kind = ? "
        "group by event_id, network order by min(n)",
        [kind],
    ).fetchall()


def contests(conn, row: Lookup, with_names: bool) -> list[ContestRow]:
    """Each contest of the period on each network: ``reports.contest_figures`` and the places."""
    held = _first_rows(conn, "contest")
    events = sorted({event for _, event, _ in held})
    figures = {}
    for start in range(0, len(events), 500):  # (SQLite's limit on bound values)
        for one in contest_figures(conn, events[start : start + 500]):
            figures[(one.event_id, one.network)] = one
    places: dict[tuple[str, str], list] = {}
    for event, network, place, number, person, name in conn.execute(
        "select c.event_id, c.network, c.place, c.number, c.person, c.name "
        "from contest_entries c where c.place is not null and c.event_id in "
        "(select event_id from temp._row where kind = 'contest') "
        "order by c.event_id, c.network, c.place, c.number"
    ):
        shown = (plain_name(name) or None) if with_names else None
        places.setdefault((event, network), []).append(
            Place(int(place), int(number), (person or "")[:8], shown)
        )
    found = []
    for n, event, network in held:
        one = figures.get((event, network))
        base = row(n)
        found.append(
            ContestRow(
                base.title,
                base.at,
                event,
                network,
                one.entries if one else 0,
                one.approved if one else 0,
                one.votes if one else None,
                one.entrants if one else 0,
                tuple(places.get((event, network), ())),
            )
        )
    return found


def giveaways(conn, row: Lookup) -> list[GiveawayRow]:
    """Each giveaway of the period on each network: its draw, as stored (none yet: n/a)."""
    held = _first_rows(conn, "giveaway")
    draws: dict[tuple[str, str], list] = {}
    for event, network, drawn_at, participants, commitment, proof_path in conn.execute(
        "select g.event_id, g.network, g.drawn_at, g.participants, g.commitment, g.proof_path "
        "from giveaways g where g.event_id in "
        "(select event_id from temp._row where kind = 'giveaway') order by g.target, g.id"
    ):
        draws.setdefault((event, network), []).append(
            (drawn_at, participants, commitment, proof_path)
        )
    picked: dict[tuple[str, str], tuple[int, int]] = {}
    for event, network, winners, reserves in conn.execute(
        "select w.event_id, w.network, sum(coalesce(w.reserve, 0) = 0), sum(w.reserve = 1) "
        "from giveaway_winners w where w.event_id in "
        "(select event_id from temp._row where kind = 'giveaway') group by w.event_id, w.network"
    ):
        picked[(event, network)] = (int(winners or 0), int(reserves or 0))
    found = []
    for n, event, network in held:
        base = row(n)
        mine = draws.get((event, network), [])
        drawn = [d for d in mine if d[0]]
        last = max((from_db(d[0]) for d in drawn), default=None)
        counted = [d[1] for d in drawn if d[1] is not None]
        winners, reserves = picked.get((event, network), (0, 0))
        found.append(
            GiveawayRow(
                base.title,
                base.at,
                event,
                network,
                last.astimezone(base.at.tzinfo) if last else None,
                sum(counted) if counted else None,
                winners,
                reserves,
                tuple(d[2] for d in mine if d[2]),
                tuple(_file_name(d[3]) for d in mine if d[3]),
            )
        )
    return found


def _file_name(path: str) -> str:
    """The last part of a stored path, whichever system wrote it."""
    return re.split(r"[\\/]", path)[-1]


def plain_name(name: str | None) -> str:
    """A player's name without mention markup: ``[id5|Ольга Петрова]`` → ``Ольга Петрова``."""
    if not _MENTION.pattern:  # no network marks mentions up
        return (name or "").strip()
    return _MENTION.sub(_shown, name or "").strip()


def _shown(found: re.Match) -> str:
    """The name a mention shows: the group its network's pattern matched."""
    return next(group for group in found.groups() if group is not None)


def poll_options(payload: str | None) -> list[str]:
    """The option texts of a poll post, from its action payload."""
    try:
        return [str(o) for o in json.loads(payload or "{}").get("poll", {}).get("options", [])]
    except (ValueError, AttributeError):
        return []


def _spec(text: str | None) -> dict:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
