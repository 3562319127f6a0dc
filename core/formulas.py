"""The figures' formulas, each written once: engagement, the rates in per cent and the
share of right answers.

Where SQL needs a formula (a post's engagement, kept in ``post_figures``), its text is
generated here from the same definition, so the database and Python cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

# A post's engagement: what readers did under it, over the counters the network shows.
ENGAGED = ("likes", "reactions", "reposts", "comments")


def engagement(figures: Mapping[str, float | None]) -> float | None:
    """likes + reactions + reposts + comments of one post; None when none is shown."""
    shown = [figures.get(name) for name in ENGAGED]
    shown = [value for value in shown if value is not None]
    return sum(shown) if shown else None


def engagement_sql() -> str:
    """``engagement`` as an SQL expression over columns named as the counters."""
    return (
        f"case when coalesce({', '.join(ENGAGED)}) is null then null "
        f"else {' + '.join(f'coalesce({m}, 0)' for m in ENGAGED)} end"
    )


def percent(part: float | None, whole: float | None) -> float | None:
    """part ÷ whole × 100, or None when either is unknown or the whole is 0."""
    if part is None or not whole:
        return None
    return 100.0 * part / whole


def er_view(engagement: float | None, views: float | None) -> float | None:
    """ERview (and a channel's ER): engagement ÷ views × 100 %."""
    return percent(engagement, views)


def er_follower(figure: float | None, followers: float | None) -> float | None:
    """A rate per follower (ERpost, ERday, ERR): engagement or views ÷ followers × 100 %."""
    return percent(figure, followers)


def right_share(right: float, asked: float, digits: int | None = None) -> float | None:
    """The share of right answers (or votes) in per cent; None when nobody answered.

    ``digits``: rounded so, as players are told it (reports keep it unrounded).
    """
    share = percent(right, asked)
    return share if share is None or digits is None else round(share, digits)
