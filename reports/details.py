"""Quiz and poll details of the events in a report: winners, questions, votes per option.

Reads the temporary tables ``reports.figures`` fills (``_pubrow``: the posts of each row,
``_quizrow``: the quiz of each row), so only the period's events are touched.
Names (only with --with-names) are shown plain: VK's mention markup ``[id1|Name]``,
which standings use as a link, becomes ``Name``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from reports.model import EventRow, PollOption, QuestionFigures, Winner

Lookup = Callable[[int], EventRow]
_MENTION = re.compile(r"\[(?:id|club|public)\d+\|([^\]]*)\]")


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
        details = _spec(spec)
        if answers:
            figures = (players, answers, 100.0 * (right or 0) / answers, "answers")
        elif votes:  # an anonymous quiz poll: only totals per option
            totals = {int(k): v for k, v in json.loads(votes).items()}
            cast = sum(totals.values())
            right_votes = sum(totals.get(i, 0) for i in details.get("correct", []))
            share = 100.0 * right_votes / cast if cast else None
            figures = (None, cast, share, "poll")
        else:
            figures = (0, 0, None, "answers")
        questions.append(
            QuestionFigures(
                event.title,
                event.at,
                event.event_id,
                network,
                number,
                str(details.get("text", "")),
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


def plain_name(name: str | None) -> str:
    """A player's name without VK's mention markup: ``[id5|Ольга Петрова]`` → ``Ольга Петрова``."""
    return _MENTION.sub(lambda found: found.group(1), name or "").strip()


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
