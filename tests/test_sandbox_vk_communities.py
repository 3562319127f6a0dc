"""Several VK communities in one stand-in, as bibliobot serves several libraries from one process.

All communities share the admin (so one user token posts to every wall) and each has its own
community token, wall, post ids, daily cap, guid memory, flood control, members, long poll and
rate-limit window. Driven through the real vk_api client; every answer is checked against the
official schema (``Client`` validates with ``sandbox.vk_spec.validate_response``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import vk_api
from vk_api.bot_longpoll import VkBotLongPoll
from vk_api.exceptions import ApiError

from sandbox import vk_spec
from sandbox.server import Sandbox
from sandbox.vk import VkStandIn
from tests.clocks import FrozenClock
from tests.images import png
from tests.test_sandbox_vk import Client, publish

START = 1_717_200_000.0  # 2024-06-01


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def sandbox(clock: FrozenClock) -> Iterator[Sandbox]:
    with Sandbox(seed=3, clock=clock) as running:
        running.vk.set_rate_limits(enabled=False)  # switched back on where they are the point
        running.vk.add_community("Детская библиотека «Радуга»", "raduga_kids")
        running.vk.add_community("Библиотека № 5", members=40)
        yield running


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()["vk"]


@pytest.fixture
def groups(info: dict[str, Any]) -> list[dict[str, Any]]:
    return info["communities"]


@pytest.fixture
def admin(info: dict[str, Any]) -> Client:
    return Client(info["api_url"], info["user_token"])


def own(info: dict[str, Any], group: dict[str, Any]) -> Client:
    """A client with the community's own token."""
    return Client(info["api_url"], group["community_token"])


def wall_ids(sandbox: Sandbox, group: dict[str, Any]) -> list[int]:
    return [post["id"] for post in sandbox.vk.posts(group["group_id"])]


# -- creating communities ------------------------------------------------------------


def test_communities_are_listed_with_their_own_tokens(sandbox, info, groups):
    first, raduga, fifth = groups
    assert (first["group_id"], first["community_token"]) == (
        info["group_id"],
        info["community_token"],
    )
    assert first["screen_name"] == info["group_screen_name"]
    assert raduga["screen_name"] == "raduga_kids"
    assert fifth["screen_name"] == f"club{fifth['group_id']}"
    assert len({g["group_id"] for g in groups}) == len({g["community_token"] for g in groups}) == 3
    assert [c["id"] for c in sandbox.vk.state()["communities"]] == [g["group_id"] for g in groups]
    assert sandbox.vk.state()["community"]["id"] == info["group_id"]
    assert [c["members_count"] for c in sandbox.vk.state()["communities"]][1:] == [1, 40]


def test_communities_are_seeded_and_leave_the_first_one_alone(info, groups):
    plain = VkStandIn(seed=3).info("http://x")
    three = VkStandIn(seed=3, communities=3).info("http://x")
    assert {k: v for k, v in three.items() if k != "communities"} == {
        k: v for k, v in plain.items() if k != "communities"
    }
    assert plain["group_id"] == info["group_id"] and plain["user_token"] == info["user_token"]
    # The n-th community of a seed is the same whether made at start or added later.
    assert [(g["group_id"], g["community_token"]) for g in three["communities"]] == [
        (g["group_id"], g["community_token"]) for g in groups
    ]
    assert len({g["screen_name"] for g in three["communities"]}) == 3
    with pytest.raises(ValueError):
        VkStandIn(seed=3).add_community("Копия", info["group_screen_name"])
    with pytest.raises(ValueError):
        VkStandIn(communities=0)


def test_control_route_adds_a_community(sandbox, admin):
    control = sandbox.info()["control_url"] + "/vk"
    made = requests.post(f"{control}/communities", json={"name": "Филиал № 2"}, timeout=5).json()
    assert made["ok"] and made["result"]["name"] == "Филиал № 2"
    group_id = made["result"]["group_id"]
    listed = requests.get(f"{control}/communities", timeout=5).json()
    assert listed[-1] == made["result"] and len(listed) == 4

    post_id = publish(admin, group_id, message="Первый пост филиала")
    assert [
        p["id"] for p in requests.get(f"{control}/posts?group_id={group_id}", timeout=5).json()
    ] == [post_id]
    bad = requests.post(
        f"{control}/communities", json={"name": "x", "screen_name": "raduga_kids"}, timeout=5
    )
    assert bad.status_code == 400 and "taken" in bad.json()["error"]


# -- walls ------------------------------------------------------------------------------


def test_one_user_token_posts_to_every_wall_with_ids_per_wall(sandbox, admin, groups):
    first, raduga, fifth = groups
    a1 = publish(admin, first["group_id"], message="Центральная: анонс")
    r1 = publish(admin, raduga["group_id"], message="Радуга: анонс")
    a2 = publish(admin, first["group_id"], message="Центральная: итоги")
    f1 = publish(admin, fifth["group_id"], message="Пятая: анонс")
    r2 = publish(admin, raduga["group_id"], message="Радуга: итоги")

    assert a2 == a1 + 1 and r2 == r1 + 1  # each wall counts on its own
    assert wall_ids(sandbox, first) == [a1, a2]
    assert wall_ids(sandbox, raduga) == [r1, r2]
    assert wall_ids(sandbox, fifth) == [f1]

    refs = f"-{first['group_id']}_{a1},-{raduga['group_id']}_{r2},-{fifth['group_id']}_{f1}"
    items = admin("wall.getById", posts=refs)["items"]
    assert [(i["owner_id"], i["id"]) for i in items] == [
        (-first["group_id"], a1),
        (-raduga["group_id"], r2),
        (-fifth["group_id"], f1),
    ]
    assert [i["text"] for i in items] == ["Центральная: анонс", "Радуга: итоги", "Пятая: анонс"]
    assert all(i["can_edit"] == 1 for i in items)

    extended = admin("wall.getById", "extendedResponse", posts=refs, extended=1)
    assert sorted(g["id"] for g in extended["groups"]) == sorted(g["group_id"] for g in groups)


def test_daily_cap_and_scheduled_slots_are_per_community(sandbox, clock, admin, groups):
    first, raduga, _ = groups
    for number in range(50):
        publish(admin, first["group_id"], message=f"Пост {number}")
    with pytest.raises(ApiError) as capped:
        publish(admin, first["group_id"], message="Пост 51")
    assert capped.value.code == 214 and "per day" in capped.value.error["error_msg"]
    assert publish(admin, raduga["group_id"], message="Радуга не упёрлась в лимит")

    slot = int(clock.now) + 3600
    publish(admin, raduga["group_id"], message="Отложенный", publish_date=slot)
    assert publish(admin, groups[2]["group_id"], message="Отложенный", publish_date=slot)
    with pytest.raises(ApiError) as taken:
        publish(admin, raduga["group_id"], message="Ещё один", publish_date=slot)
    assert taken.value.code == 214 and "scheduled" in taken.value.error["error_msg"]

    clock.now += 86_401
    assert publish(admin, first["group_id"], message="Новый день")


def test_guid_and_flood_control_are_per_wall(sandbox, admin, groups):
    first, raduga, _ = groups
    in_first = publish(admin, first["group_id"], guid="quiz-1", message="Вопрос дня")
    in_raduga = publish(admin, raduga["group_id"], guid="quiz-1", message="Вопрос дня")
    again = publish(admin, raduga["group_id"], guid="quiz-1", message="Вопрос дня")

    assert again == in_raduga
    assert wall_ids(sandbox, first) == [in_first] and wall_ids(sandbox, raduga) == [in_raduga]
    with pytest.raises(ApiError) as flood:
        publish(admin, first["group_id"], message="Вопрос дня")  # no guid: a repeat
    assert flood.value.code == 9
    assert publish(admin, groups[2]["group_id"], message="Вопрос дня")


def test_photos_and_reach_per_community(sandbox, admin, groups):
    raduga = groups[1]
    photos = vk_api.VkUpload(admin.session).photo_wall(
        [io.BytesIO(png(64, 48))], group_id=raduga["group_id"]
    )
    vk_spec.validate_response("photos.saveWallPhoto", {"response": photos})
    [photo] = photos
    assert photo["owner_id"] == -raduga["group_id"]
    post_id = publish(
        admin, raduga["group_id"], attachments=f"photo{photo['owner_id']}_{photo['id']}"
    )
    sandbox.vk.add_views(f"-{raduga['group_id']}_{post_id}", 30)
    [reach] = admin("stats.getPostReach", owner_id=-raduga["group_id"], post_ids=post_id)
    assert reach["reach_total"] == 30


# -- community tokens ---------------------------------------------------------------------


def test_community_tokens_act_only_for_their_own_community(sandbox, info, groups):
    first, raduga, fifth = groups
    token_of_raduga = own(info, raduga)
    [me] = token_of_raduga("groups.getById")["groups"]
    assert me["id"] == raduga["group_id"] and me["screen_name"] == "raduga_kids"

    with pytest.raises(ApiError) as refused:
        token_of_raduga("groups.getLongPollServer", group_id=first["group_id"])
    assert refused.value.code == 15

    user = Client(info["api_url"], info["user_token"])
    in_first = publish(user, first["group_id"])
    in_raduga = publish(user, raduga["group_id"])
    with pytest.raises(ApiError) as foreign_wall:
        token_of_raduga(
            "wall.createComment", owner_id=-first["group_id"], post_id=in_first, message="Привет!"
        )
    assert foreign_wall.value.code == 15
    comment = token_of_raduga("wall.createComment", post_id=in_raduga, message="Спасибо!")
    [item] = sandbox.vk.posts(raduga["group_id"])[0]["comments"]
    assert item["id"] == comment["comment_id"] and item["from_id"] == -raduga["group_id"]


def test_messages_go_from_the_token_s_community(sandbox, info, groups):
    first, raduga, _ = groups
    reader = info["reader_ids"][0]
    sandbox.vk.write(reader, "Здравствуйте, Радуга!", group_id=raduga["group_id"])

    sent = own(info, raduga)(
        "messages.send", "deprecatedResponse", peer_id=reader, random_id=1, message="Ждём вас"
    )
    with pytest.raises(ApiError) as refused:  # the reader wrote to Радуга, not to the first
        own(info, first)("messages.send", peer_id=reader, random_id=1, message="Привет")
    assert refused.value.code == 901

    dialog = sandbox.vk.messages(reader, group_id=raduga["group_id"])
    assert [(m["out"], m["from_id"]) for m in dialog] == [
        (False, reader),
        (True, -raduga["group_id"]),
    ]
    assert dialog[1]["id"] == sent and sandbox.vk.messages(reader) == []

    event_id = sandbox.vk.press_button(reader, {"go": 1}, group_id=raduga["group_id"])
    answer = {"event_id": event_id, "user_id": reader, "peer_id": reader}
    with pytest.raises(ApiError) as foreign:
        own(info, first)("messages.sendMessageEventAnswer", **answer)
    assert foreign.value.code == 100
    assert own(info, raduga)("messages.sendMessageEventAnswer", **answer) == 1


def test_get_by_id_takes_several_communities_and_members_are_per_community(
    sandbox, info, admin, groups
):
    first, raduga, fifth = groups
    sandbox.vk.set_members(raduga["group_id"], 1500)
    wanted = f"{first['group_id']},raduga_kids,club{fifth['group_id']}"
    answer = admin("groups.getById", group_ids=wanted, fields="members_count")["groups"]

    assert [g["id"] for g in answer] == [g["group_id"] for g in groups]
    assert [g["members_count"] for g in answer] == [5, 1500, 40]
    assert all(g["is_admin"] == 1 for g in answer)
    with pytest.raises(ApiError) as unknown:
        admin("groups.getById", group_ids=f"{first['group_id']},nosuchclub")
    assert unknown.value.code == 100

    newcomer = sandbox.vk.add_reader("Zoya", "Ivanova")
    sandbox.vk.join(newcomer, group_id=fifth["group_id"])
    token_of_fifth = own(info, fifth)
    assert token_of_fifth("groups.isMember", group_id=fifth["group_id"], user_id=newcomer) == 1
    assert token_of_fifth("groups.isMember", group_id=first["group_id"], user_id=newcomer) == 0
    members = token_of_fifth("groups.getMembers", group_id=fifth["group_id"])
    assert members["count"] == 41 and newcomer in members["items"]


# -- long poll -------------------------------------------------------------------------


def test_long_poll_of_each_community_sees_only_its_own_events(sandbox, info, admin, groups):
    first, raduga, fifth = groups
    servers = [own(info, g)("groups.getLongPollServer", group_id=g["group_id"]) for g in groups]
    assert len({s["server"] for s in servers}) == len({s["key"] for s in servers}) == 3
    polls = [VkBotLongPoll(own(info, g).session, g["group_id"], wait=0) for g in groups]
    reader = info["reader_ids"][0]

    post_id = publish(admin, first["group_id"], message="Только в центральной")
    sandbox.vk.like(reader, f"-{first['group_id']}_{post_id}")
    sandbox.vk.write(reader, "Привет, Радуга", group_id=raduga["group_id"])
    sandbox.vk.join(sandbox.vk.add_reader("Пётр", "Сидоров"), group_id=fifth["group_id"])

    seen = [[(e.raw["type"], e.raw["group_id"]) for e in poll.check()] for poll in polls]
    assert seen == [
        [("wall_post_new", first["group_id"]), ("like_add", first["group_id"])],
        [("message_new", raduga["group_id"])],
        [("group_join", fifth["group_id"])],
    ]
    assert [len(sandbox.vk.events_log(g["group_id"])) for g in groups] == [2, 1, 1]
    assert len(sandbox.vk.events_log()) == 4

    sandbox.vk.expire_longpoll_key(group_id=raduga["group_id"])
    stale = requests.get(
        servers[1]["server"],
        params={"act": "a_check", "key": servers[1]["key"], "ts": servers[1]["ts"], "wait": 0},
        timeout=5,
    ).json()
    fresh = requests.get(
        servers[2]["server"],
        params={"act": "a_check", "key": servers[2]["key"], "ts": servers[2]["ts"], "wait": 0},
        timeout=5,
    ).json()
    assert stale == {"failed": 2}
    assert [u["type"] for u in fresh["updates"]] == ["group_join"]
    # A server address with another community's key is refused, not crossed over.
    crossed = requests.get(
        servers[0]["server"],
        params={"act": "a_check", "key": servers[2]["key"], "ts": servers[2]["ts"], "wait": 0},
        timeout=5,
    ).json()
    assert crossed == {"failed": 2}


# -- rate limits -----------------------------------------------------------------------


def test_each_community_token_has_its_own_window(sandbox, info, groups):
    sandbox.vk.set_rate_limits(enabled=True)
    clients = [own(info, g) for g in groups]

    def burst(client: Client, count: int) -> list[int | None]:
        codes: list[int | None] = []
        for _ in range(count):
            try:
                client("groups.getById")
                codes.append(None)
            except ApiError as error:
                codes.append(error.code)
        return codes

    assert burst(clients[0], 21) == [None] * 20 + [6]
    assert burst(clients[1], 21) == [None] * 20 + [6]
    assert burst(clients[2], 20) == [None] * 20
