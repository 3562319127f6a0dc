"""``bibliobot verify-draw``: recompute a giveaway's draw from its published proof alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli_words import LocalCommand, option, words
from bot.giveaway.draw import verify
from core import messages


@click.command("verify-draw", cls=LocalCommand, help=words("verify_help"))
@click.argument("proof_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--commitment", help=words("verify_commitment"))
def verify_draw(proof_file: Path, commitment: str | None) -> None:
    """Check a draw from its proof alone."""
    try:
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(messages.text("cli.verify_unreadable", path=proof_file, reason=exc), err=True)
        sys.exit(2)
    if not isinstance(proof, dict):
        click.echo(messages.text("cli.verify_not_proof", path=proof_file), err=True)
        sys.exit(2)
    problems = verify(proof, commitment)
    if problems:
        for problem in problems:
            click.echo(messages.text("cli.verify_differs", problem=problem))
        sys.exit(1)
    winners, reserves = proof.get("winners", []), proof.get("reserves", [])
    spare = messages.text("cli.verify_reserves", reserves=", ".join(reserves)) if reserves else ""
    click.echo(
        messages.text(
            "cli.verify_ok",
            count=proof.get("participants_count"),
            winners=", ".join(winners) or "—",
            reserves=spare,
            commitment=proof.get("commitment"),
        )
    )
