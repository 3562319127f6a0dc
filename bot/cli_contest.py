"""``bibliobot contest LIBRARY/EVENT list|approve N|reject N``: moderation from a terminal.

The same decision as the Approve / Reject buttons the admins get in Telegram; a running
bot sees it at once (the gallery reads the entries from the database when it fires).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.errors import BibliobotError


@click.command("contest")
@click.argument("event_id")
@click.argument("action", type=click.Choice(["list", "approve", "reject"]))
@click.argument("number", type=int, required=False)
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Configuration file (default: $BIBLIOBOT_CONFIG or config.toml).",
)
def contest_command(
    event_id: str, action: str, number: int | None, config_path: Path | None
) -> None:
    """List a contest's entries (LIBRARY/EVENT), or approve / reject entry N."""
    import os

    from bot.cli import DEFAULT_CONFIG, _open_plan
    from bot.contest import moderation, store
    from core.clock import SystemClock

    path = config_path or Path(os.environ.get("BIBLIOBOT_CONFIG", DEFAULT_CONFIG))
    library_id = event_id.split("/")[0] if "/" in event_id else None
    db = _open_plan(path, library_id)
    found = store.contest(db, event_id)
    if found is None:
        known = [c.event_id for c in store.contests(db, [library_id or ""], "telegram")]
        known += [c.event_id for c in store.contests(db, [library_id or ""], "vk")]
        click.echo(
            f"no contest {event_id!r} in the plan; known: {', '.join(sorted(set(known))) or 'none'}",
            err=True,
        )
        sys.exit(1)
    if action == "list":
        _list(db, found)
        return
    if number is None:
        click.echo(f"{action} needs the entry's number, e.g. `{action} 3`", err=True)
        sys.exit(2)
    try:
        entry = moderation.decide(
            db, event_id, number, action == "approve", "cli", SystemClock().now()
        )
    except BibliobotError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{event_id}: entry No. {number} {entry['state']}")


def _list(db, found) -> None:
    from bot.contest import store
    from core.storage import from_db

    rows = store.entries(db, found.event_id)
    zone = found.entries_until.tzinfo
    click.echo(f"{found.title}: {len(rows)} entries (until {found.entries_until:%Y-%m-%d %H:%M})")
    for row in rows:
        when = from_db(row["received_at"]).astimezone(zone)
        votes = "" if row["votes"] is None else f" votes {row['votes']}"
        place = f" place {row['place']}" if row["place"] else ""
        text = " ".join((row["text"] or "").split())[:60]
        name = row["name"] or "—"
        click.echo(
            f"{row['number']:>3}  {row['network']:<8} {row['type']:<5} {row['state']:<8} "
            f"{when:%Y-%m-%d %H:%M}  {name}{votes}{place}  {text}"
        )
