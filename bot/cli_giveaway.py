"""``bibliobot verify-draw``: recompute a giveaway's draw from its published proof alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.giveaway.draw import verify


@click.command("verify-draw")
@click.argument("proof_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--commitment",
    help="The code published in the announcement (default: the one in the proof).",
)
def verify_draw(proof_file: Path, commitment: str | None) -> None:
    """Check a draw: the seed against the commitment, the list, the winners; prints OK or what differs."""
    try:
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(f"{proof_file}: cannot be read as a proof: {exc}", err=True)
        sys.exit(2)
    if not isinstance(proof, dict):
        click.echo(f"{proof_file}: not a proof (a JSON object is expected)", err=True)
        sys.exit(2)
    problems = verify(proof, commitment)
    if problems:
        for problem in problems:
            click.echo(f"DIFFERS: {problem}")
        sys.exit(1)
    winners, reserves = proof.get("winners", []), proof.get("reserves", [])
    click.echo(
        f"OK: {proof.get('participants_count')} participants, winners {', '.join(winners) or '—'}"
        + (f", reserves {', '.join(reserves)}" if reserves else "")
        + f"; commitment {proof.get('commitment')}"
    )
