"""Metric samples and each post's latest figures, written together.

``metric_samples`` keeps every reading (the history, what reports recompute from);
``post_figures`` keeps each post's latest value of each counter, one row a post, so a
year report reads 100,000 rows instead of a million samples. Both change in the same
transaction, and the latest figures are recomputed from the samples themselves, so they
can never disagree, whatever order readings arrive in.
"""

from __future__ import annotations

import json

import sqlite_utils

from core.formulas import engagement_sql

# The counters a report shows per post, and the "deleted" mark (1 once a post is gone).
FIGURES = ("views", "likes", "reactions", "reposts", "comments", "poll_votes", "deleted")
_PIVOT = ", ".join(f"max(case when metric = '{m}' then value end) as {m}" for m in FIGURES)
_METRICS = ", ".join(f"'{m}'" for m in FIGURES)
# SQLite returns the bare column ``value`` from the row holding max(collected_at).
_LATEST = (
    f"insert or replace into post_figures (publication_id, {', '.join(FIGURES)}, engagement) "
    f"select *, {engagement_sql()} from (select pid, {_PIVOT} from ("
    " select publication_id as pid, metric, value, max(collected_at) from metric_samples"
    f" where metric in ({_METRICS}) and publication_id {{where}}"
    " group by publication_id, metric"
    ") group by pid)"
)


def store_samples(db: sqlite_utils.Database, samples: list[dict]) -> None:
    """Write samples and bring their posts' latest figures up to date (one transaction)."""
    if not samples:
        return
    with db.atomic():
        db["metric_samples"].insert_all(samples)
        posts = sorted({s["publication_id"] for s in samples if s["publication_id"] is not None})
        if posts:
            refresh(db.conn, posts)


def refresh(conn, publication_ids: list[int] | None = None) -> None:
    """Recompute the latest figures of these posts (None: of every post) from the samples."""
    if publication_ids is None:
        conn.execute(_LATEST.format(where="is not null"))
    else:
        conn.execute(
            _LATEST.format(where="in (select value from json_each(?))"),
            (json.dumps(publication_ids),),
        )
