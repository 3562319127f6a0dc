"""The VK stand-in misbehaving as VK does: rate limits (error 6), flood control (error 9), and
transport faults from sandbox.faults (HTTP 500, slow answers, dropped connections, calls
carried out whose answer never arrives), all seen through the real vk_api client.

The stand-in runs on a frozen clock here (moved by hand), except where vk_api's own pacing,
which sleeps in real time, is the point of the test.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import vk_api
from vk_api.exceptions import ApiError, ApiHttpError

from bot.platforms.vk_session import make_session
from sandbox.faults import FaultRule
from sandbox.server import Sandbox
from tests.clocks import FrozenClock
from tests.images import png
from tests.test_sandbox_vk import API_VERSION, Client, publish

START = 1_717_200_000.0  # 2024-06-01, a Saturday


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def sandbox(clock: FrozenClock) -> Iterator[Sandbox]:
    with Sandbox(seed=5, clock=clock) as running:
        yield running


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()["vk"]


@pytest.fixture
def admin(info: dict[str, Any]) -> Client:
    return Client(info["api_url"], info["user_token"])


def vk_session(info: dict[str, Any], token_key: str = "user_token", timeout: float = 5.0):
    """A bare vk_api session with its default pacing; error 6 raises instead of a retry."""
    session = vk_api.VkApi(
        token=info[token_key],
        session=make_session(info["api_url"], timeout=timeout),
        api_version=API_VERSION,
    )
    session.error_handlers.pop(6, None)
    return session


def burst(client: Client, method: str, count: int, **params: Any) -> list[int | None]:
    """Error codes (None for success) of ``count`` calls sent back to back."""
    codes: list[int | None] = []
    for _ in range(count):
        try:
            client(method, **params)
            codes.append(None)
        except ApiError as error:
            codes.append(error.code)
    return codes


# -- rate limits ------------------------------------------------------------------------


def test_rate_limits_are_on_by_default_at_vks_figures(sandbox):
    assert sandbox.vk.state()["rate_limits"] == {
        "enabled": True,
        "user_per_second": 3,
        "community_per_second": 20,
    }


def test_vk_api_default_pacing_never_meets_error_6():
    with Sandbox(seed=5) as running:  # the real clock: vk_api sleeps RPS_DELAY in real time
        info = running.info()["vk"]
        session = vk_session(info)
        assert session.RPS_DELAY == 0.34  # vk_api's default, about 3 a second
        for _ in range(6):
            session.method("users.get", {})  # raises ApiError if error 6 came back
        assert running.vk.state()["rate_limits"]["enabled"]

        running.vk.shift_clock(1.0)  # a fresh window, then four calls with no pause at all
        data = {"v": API_VERSION, "access_token": info["user_token"]}
        codes = [
            requests.post(info["api_url"] + "users.get", data=data, timeout=5)
            .json()
            .get("error", {})
            .get("error_code")
            for _ in range(4)
        ]
        assert codes == [None, None, None, 6]


def test_a_burst_meets_error_6_per_token_in_a_sliding_second(sandbox, info, clock, admin):
    assert burst(admin, "users.get", 4) == [None, None, None, 6]
    clock.now += 0.5
    assert burst(admin, "users.get", 1) == [6]  # the first three are still within the second
    clock.now += 0.5
    assert burst(admin, "users.get", 4) == [None, None, None, 6]

    community = Client(info["api_url"], info["community_token"])
    assert burst(community, "groups.getById", 21) == [None] * 20 + [6]
    service = Client(info["api_url"], info["service_token"])
    assert burst(service, "users.get", 4, user_ids=info["admin_id"]) == [None, None, None, 6]


def test_error_6_carries_vks_message(sandbox, info, admin):
    burst(admin, "users.get", 3)
    with pytest.raises(ApiError) as refused:
        admin("users.get")
    assert refused.value.error["error_msg"] == "Too many requests per second"


def test_rate_limits_are_configurable(sandbox, info, admin):
    settings = sandbox.vk.set_rate_limits(user_per_second=5, community_per_second=2)
    assert settings == {"enabled": True, "user_per_second": 5, "community_per_second": 2}
    assert burst(admin, "users.get", 6) == [None] * 5 + [6]
    community = Client(info["api_url"], info["community_token"])
    assert burst(community, "groups.getById", 3) == [None, None, 6]

    sandbox.vk.set_rate_limiting(False)  # the older name still works
    assert burst(admin, "users.get", 10) == [None] * 10
    with pytest.raises(ValueError):
        sandbox.vk.set_rate_limits(user_per_second=0)


def test_rate_limits_over_http(sandbox, info, admin):
    control = sandbox.info()["control_url"] + "/vk"
    answer = requests.post(f"{control}/rate_limits", json={"user_per_second": 2}, timeout=5)
    assert answer.json()["result"]["user_per_second"] == 2
    assert burst(admin, "users.get", 3) == [None, None, 6]
    requests.post(f"{control}/rate_limits", json={"enabled": False}, timeout=5)
    assert burst(admin, "users.get", 5) == [None] * 5
    bad = requests.post(f"{control}/rate_limits", json={"user_per_second": "x"}, timeout=5)
    assert bad.status_code == 400


# -- flood control --------------------------------------------------------------------------


def test_same_text_again_is_flood_control_unless_the_guid_is_the_same(sandbox, info, clock, admin):
    sandbox.vk.set_rate_limits(enabled=False)
    group_id = info["group_id"]
    first = publish(admin, group_id, message="Викторина!", guid="quiz-1")

    assert publish(admin, group_id, message="Викторина!", guid="quiz-1") == first
    for other in ({"guid": "quiz-2"}, {}):
        with pytest.raises(ApiError) as flood:
            publish(admin, group_id, message="Викторина!", **other)
        assert flood.value.code == 9
        assert flood.value.error["error_msg"].startswith("Flood control")
    assert publish(admin, group_id, message="Другой текст")  # other text is fine

    clock.now += 61
    assert publish(admin, group_id, message="Викторина!", guid="quiz-3") != first
    assert len(sandbox.vk.posts(group_id)) == 3


def test_flood_control_compares_attachments_too(sandbox, info, admin):
    group_id = info["group_id"]
    publish(admin, group_id, message="Фото дня", attachments="https://example.org/a")
    assert publish(admin, group_id, message="Фото дня", attachments="https://example.org/b")
    with pytest.raises(ApiError) as flood:
        publish(admin, group_id, message="Фото дня", attachments="https://example.org/a")
    assert flood.value.code == 9


# -- transport faults ----------------------------------------------------------------------


def fired(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in entry.items() if key != "at"}
        for entry in sandbox.vk.state()["faults"]["fired"]
    ]


def post_once(info: dict[str, Any], guid: str, timeout: float = 5.0) -> int:
    session = vk_session(info, timeout=timeout)
    params = {"owner_id": -info["group_id"], "from_group": 1, "message": "Итоги", "guid": guid}
    return session.method("wall.post", params)["post_id"]


def test_5xx_does_nothing_and_vk_api_raises_api_http_error(sandbox, info):
    sandbox.vk.set_faults("wall.post:5xx:1")
    with pytest.raises(ApiHttpError) as failed:
        post_once(info, "g1")
    assert failed.value.response.status_code == 500
    assert sandbox.vk.posts(info["group_id"]) == []
    assert fired(sandbox) == [{"method": "wall.post", "kind": "5xx"}]


def test_reset_does_nothing_and_drops_the_connection(sandbox, info):
    sandbox.vk.set_faults("wall.post:reset:1")
    with pytest.raises(requests.ConnectionError):
        post_once(info, "g1")
    assert sandbox.vk.posts(info["group_id"]) == []
    sandbox.vk.set_faults("")
    assert post_once(info, "g1")  # the connection pool recovers


def test_slow_answer_times_out_but_the_post_exists(sandbox, info):
    sandbox.vk.set_faults([FaultRule("wall.post", "slow", 1.0, delay=0.4)])
    with pytest.raises(requests.ReadTimeout):
        post_once(info, "slow-1", timeout=0.1)
    [post] = sandbox.vk.posts(info["group_id"])
    assert fired(sandbox) == [{"method": "wall.post", "kind": "slow", "post_id": post["id"]}]

    assert post_once(info, "slow-1", timeout=2.0) == post["id"]  # a patient client gets it


def test_ambiguous_post_exists_and_the_same_guid_finds_it(sandbox, info):
    sandbox.vk.set_faults("wall.post:ambiguous:1")
    with pytest.raises(requests.ConnectionError):
        post_once(info, "announce-42")
    [entry] = fired(sandbox)
    assert entry["kind"] == "ambiguous" and entry["method"] == "wall.post"

    sandbox.vk.set_faults("")
    again = post_once(info, "announce-42")
    assert again == entry["post_id"]
    assert [post["id"] for post in sandbox.vk.posts(info["group_id"])] == [again]


def test_ambiguous_refused_call_logs_the_error(sandbox, info):
    sandbox.vk.set_faults("*:ambiguous:1")
    reader = vk_session(info, "service_token")
    with pytest.raises(requests.ConnectionError):
        reader.method("wall.post", {"message": "x"})
    assert fired(sandbox) == [{"method": "wall.post", "kind": "ambiguous", "error_code": 28}]


def test_upload_url_faults_as_photos_upload(sandbox, info):
    sandbox.vk.set_rate_limits(enabled=False)
    sandbox.vk.set_faults("photos.upload:reset:1")
    upload = vk_api.VkUpload(vk_session(info))
    with pytest.raises(requests.ConnectionError):
        upload.photo_wall([io.BytesIO(png(20, 20))], group_id=info["group_id"])
    assert sandbox.vk.world.uploads == {}

    sandbox.vk.set_faults("photos.upload:ambiguous:1")
    with pytest.raises(requests.ConnectionError):
        upload.photo_wall([io.BytesIO(png(20, 20))], group_id=info["group_id"])
    assert len(sandbox.vk.world.uploads) == 1  # received, never saved
    assert [e["kind"] for e in fired(sandbox)] == ["reset", "ambiguous"]


def test_faults_follow_their_seed(sandbox, info, admin):
    sandbox.vk.set_rate_limits(enabled=False)

    def pattern() -> list[str]:
        outcomes = []
        for _ in range(12):
            try:
                admin("users.get")
                outcomes.append("ok")
            except ApiHttpError:
                outcomes.append("5xx")
        return outcomes

    sandbox.vk.set_faults("users.get:5xx:0.5", seed=7)
    first = pattern()
    sandbox.vk.set_faults("users.get:5xx:0.5", seed=7)
    assert pattern() == first
    assert "ok" in first and "5xx" in first
    assert sum(e["kind"] == "5xx" for e in fired(sandbox)) == 2 * first.count("5xx")


def test_faults_over_http_and_in_state(sandbox, info):
    control = sandbox.info()["control_url"] + "/vk"
    answer = requests.post(
        f"{control}/faults", json={"spec": "wall.post:ambiguous:0.2,*:slow:0.01:15"}, timeout=5
    )
    assert answer.json()["ok"]
    rules = requests.get(f"{control}/faults", timeout=5).json()["rules"]
    assert rules == [
        {"method": "wall.post", "kind": "ambiguous", "rate": 0.2, "delay": 15.0},
        {"method": "*", "kind": "slow", "rate": 0.01, "delay": 15.0},
    ]
    assert requests.get(f"{control}/state", timeout=5).json()["faults"]["rules"] == rules
    bad = requests.post(f"{control}/faults", json={"spec": "wall.post:explode:1"}, timeout=5)
    assert bad.status_code == 400 and "kind" in bad.json()["error"]
    requests.post(f"{control}/faults", json={"spec": ""}, timeout=5)
    assert sandbox.vk.faults_state()["rules"] == []


def test_reset_forgets_fired_faults_but_keeps_rules(sandbox, info):
    sandbox.vk.set_faults("wall.post:5xx:1")
    with pytest.raises(ApiHttpError):
        post_once(info, "g")
    sandbox.vk.reset()
    assert sandbox.vk.faults_state() == {
        "rules": [{"method": "wall.post", "kind": "5xx", "rate": 1.0, "delay": 15.0}],
        "fired": [],
    }


def test_injected_429_is_error_6_and_posts_nothing(sandbox: Sandbox, info: dict[str, Any]) -> None:
    sandbox.vk.set_faults("wall.post:429:1", seed=1)
    session = vk_session(info)
    with pytest.raises(ApiError) as caught:
        session.method(
            "wall.post", {"owner_id": -info["group_id"], "from_group": 1, "message": "нет"}
        )
    assert caught.value.code == 6
    assert sandbox.vk.posts(info["group_id"]) == []
