"""Reading VK counters at the least API cost: ``execute`` packs 25 calls in one request.

One request can thus read 2,500 posts (25 × wall.getById of 100, owners mixed),
or reach of 750 (stats.getPostReach takes 30 ids of one community), or members
of up to 500 communities at a time. ``plan_calls`` lays out the calls;
``minimum_requests`` says how few requests any reader could make for the same
figures, which tests and the benchmark hold us to.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass

POSTS_PER_CALL = 100
REACH_PER_CALL = 30
GROUPS_PER_CALL = 500
CALLS_PER_EXECUTE = 25


@dataclass(frozen=True)
class Call:
    """One inner API call of an execute."""

    method: str
    params: dict

    def script(self) -> str:
        """The VKScript of this call."""
        return f"API.{self.method}({json.dumps(self.params, ensure_ascii=False)})"


def plan_calls(
    posts: list[tuple[int, int]],
    reach: bool,
    groups: list[int],
    polls: list[tuple[int, int]] = (),  # type: ignore[assignment]
) -> list[Call]:
    """The inner calls that read ``posts`` ((owner_id, post_id)), their reach, members, polls."""
    calls = [Call("polls.getById", {"owner_id": owner, "poll_id": poll}) for owner, poll in polls]
    for start in range(0, len(posts), POSTS_PER_CALL):
        chunk = posts[start : start + POSTS_PER_CALL]
        calls.append(Call("wall.getById", {"posts": ",".join(f"{o}_{p}" for o, p in chunk)}))
    if reach:
        by_owner: dict[int, list[int]] = defaultdict(list)
        for owner, post in posts:
            by_owner[owner].append(post)
        for owner, ids in sorted(by_owner.items()):
            for start in range(0, len(ids), REACH_PER_CALL):
                chunk = ids[start : start + REACH_PER_CALL]
                params = {"owner_id": owner, "post_ids": ",".join(map(str, chunk))}
                calls.append(Call("stats.getPostReach", params))
    for start in range(0, len(groups), GROUPS_PER_CALL):
        chunk = groups[start : start + GROUPS_PER_CALL]
        params = {"group_ids": ",".join(map(str, chunk)), "fields": "members_count"}
        calls.append(Call("groups.getById", params))
    return calls


def executes(calls: list[Call]) -> list[list[Call]]:
    """The calls cut into execute requests of at most 25."""
    return [calls[i : i + CALLS_PER_EXECUTE] for i in range(0, len(calls), CALLS_PER_EXECUTE)]


def script(batch: list[Call]) -> str:
    """The execute code returning every call's result, in order."""
    return "return [" + ", ".join(call.script() for call in batch) + "];"


def minimum_requests(posts: list[tuple[int, int]], reach: bool, groups: int, polls: int = 0) -> int:
    """The fewest requests that can read these figures (VK's own batching limits)."""
    owners: dict[int, int] = defaultdict(int)
    for owner, _ in posts:
        owners[owner] += 1
    # polls.getById reads one poll a call
    inner = math.ceil(len(posts) / POSTS_PER_CALL) + math.ceil(groups / GROUPS_PER_CALL) + polls
    if reach:
        inner += sum(math.ceil(n / REACH_PER_CALL) for n in owners.values())
    return math.ceil(inner / CALLS_PER_EXECUTE)
