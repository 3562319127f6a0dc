"""A draw anyone can check: a commitment before, the seed and the list after.

When the giveaway is announced the bot publishes ``commitment = SHA-256(seed)`` of a
secret 32-byte seed. At the draw it publishes the seed, the sorted list of eligible
participants (pseudonymous ids) and this algorithm:

    remaining = sorted(participants); counter = 0
    repeat until winners + reserves are picked or nobody remains:
        n = len(remaining)
        take x = int(HMAC-SHA256(key=seed, msg=str(counter)), big-endian); counter += 1
        while x >= 2**256 - (2**256 mod n): take the next x   # no modulo bias
        pick remaining.pop(x mod n)
    the first ``winners`` picked win; the rest are reserves, in order.

``verify`` recomputes all of it from a proof alone (``bibliobot verify-draw``).
Pure functions, no I/O beyond what a caller passes in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any

PROOF_VERSION = 1
SPACE = 2**256
ALGORITHM = (
    "remaining = sorted(participants); counter = 0; until winners + reserves are picked or "
    "nobody remains: n = len(remaining); x = int.from_bytes(HMAC-SHA256(key=seed, "
    "msg=str(counter).encode()), 'big'); counter += 1; if x >= 2**256 - 2**256 % n take the "
    "next x (rejection sampling, no modulo bias); else pick remaining.pop(x % n). The first "
    "`winners` picked win, the rest are reserves in order. commitment = SHA-256(seed)."
)


def new_seed() -> bytes:
    """A secret random seed (32 bytes from ``secrets``)."""
    return secrets.token_bytes(32)


def commitment(seed: bytes) -> str:
    """What the announcement publishes: the SHA-256 of the seed, in hex."""
    return hashlib.sha256(seed).hexdigest()


def list_digest(participants: Sequence[str]) -> str:
    """SHA-256 of the canonical list: the sorted ids, one per line, UTF-8."""
    return hashlib.sha256("\n".join(participants).encode()).hexdigest()


def canonical(participants: Sequence[str]) -> list[str]:
    """The list as the draw uses it: each id once, sorted."""
    return sorted(set(participants))


def draw(seed: bytes, participants: Sequence[str], count: int) -> list[str]:
    """Up to ``count`` ids picked from the canonical list, in order."""
    remaining = canonical(participants)
    picked: list[str] = []
    counter = 0
    while len(picked) < count and remaining:
        n = len(remaining)
        limit = SPACE - SPACE % n
        while True:
            digest = hmac.new(seed, str(counter).encode(), hashlib.sha256).digest()
            counter += 1
            x = int.from_bytes(digest, "big")
            if x < limit:
                break
        picked.append(remaining.pop(x % n))
    return picked


def make_proof(
    seed: bytes,
    participants: Sequence[str],
    winners: int,
    reserves: int,
    **about: Any,
) -> dict[str, Any]:
    """The published record of a draw: everything ``verify`` needs, and what it gave."""
    people = canonical(participants)
    picked = draw(seed, people, winners + reserves)
    return {
        "version": PROOF_VERSION,
        **about,
        "commitment": commitment(seed),
        "seed": seed.hex(),
        "winners_count": winners,
        "reserves_count": reserves,
        "participants_count": len(people),
        "participants_sha256": list_digest(people),
        "participants": people,
        "winners": picked[:winners],
        "reserves": picked[winners:],
        "algorithm": ALGORITHM,
    }


def verify(proof: dict[str, Any], published_commitment: str | None = None) -> list[str]:
    """What differs between a proof and its recomputation; empty when the draw checks out."""
    problems: list[str] = []
    try:
        seed = bytes.fromhex(str(proof["seed"]))
        people = [str(p) for p in proof["participants"]]
        winners, reserves = int(proof["winners_count"]), int(proof["reserves_count"])
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the proof cannot be read: {type(exc).__name__} {exc}"]
    expected = published_commitment or proof.get("commitment")
    if commitment(seed) != str(expected).lower():
        problems.append(
            f"the seed does not match the commitment: SHA-256(seed) = {commitment(seed)}, "
            f"published {expected}"
        )
    if people != canonical(people):
        problems.append("the participants are not the sorted list of distinct ids")
    if proof.get("participants_count") != len(people):
        problems.append(
            f"participants_count says {proof.get('participants_count')}, the list has {len(people)}"
        )
    if proof.get("participants_sha256") != list_digest(canonical(people)):
        problems.append(
            f"the list's SHA-256 is {list_digest(canonical(people))}, "
            f"the proof says {proof.get('participants_sha256')}"
        )
    picked = draw(seed, people, winners + reserves)
    for key, got in (("winners", picked[:winners]), ("reserves", picked[winners:])):
        if list(proof.get(key, [])) != got:
            problems.append(f"{key}: the proof says {proof.get(key)}, recomputed {got}")
    return problems
