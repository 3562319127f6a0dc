"""VK players' names: what users.get gave, made safe for a mention; else the id."""

from bot.intake.vk_names import MAX_IDS, VkNames


def _comment(user: int) -> dict:
    return {"type": "wall_reply_new", "object": {"from_id": user, "post_id": 1}}


def test_names_come_from_users_get_and_are_asked_once() -> None:
    names = VkNames()
    updates = [
        _comment(5),
        _comment(-7),  # the community itself
        {"type": "message_new", "object": {"message": {"from_id": 6}}},
        {"type": "message_event", "object": {"user_id": 5}},
        {"type": "poll_vote_new", "object": {"user_id": "8"}},
        {"type": "like_add", "object": {"liker_id": 9}},  # not an answer
        {"type": "wall_reply_new", "object": "garbage"},
    ]
    assert names.unknown(updates) == [5, 6, 8]
    people = [
        {"id": 5, "first_name": "Анна", "last_name": "[Петрова|x]"},
        {"id": 6, "first_name": "Иван"},
        "not a person",
    ]
    names.learn([5, 6, 8], people)
    assert names.mention(5) == "[id5|Анна (Петрова/x)]"
    assert names.mention(6) == "[id6|Иван]"
    assert names.mention(8) == "[id8|id8]"  # not given: named by id, and not asked again
    assert names.unknown(updates) == []


def test_a_failed_call_leaves_ids_and_one_call_asks_at_most_a_thousand() -> None:
    names = VkNames()
    names.learn([3], None)
    assert names.mention(3) == "[id3|id3]"
    assert len(names.unknown([_comment(u) for u in range(1, 3000)])) == MAX_IDS
