"""VK's ``execute`` in the stand-in, through the real vk_api client: up to 25 API calls in one
request, written in the subset of VKScript that sandbox.vk.vkscript understands.

Inner calls run with the execute request's token; one that fails gives ``false`` and an entry
in ``execute_errors`` beside ``response``; code outside the subset is error 12, a 26th call
error 13, and the whole execute is one request for the rate limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import vk_api
from vk_api.exceptions import ApiError
from vk_api.requests_pool import VkRequestsPool, vk_many_methods, vk_one_method

from bot.platforms.vk_session import make_session
from sandbox import vk_spec
from sandbox.server import Sandbox
from sandbox.vk import vkscript
from tests.test_sandbox_vk import API_VERSION, Client, publish

START = 1_717_200_000.0  # 2024-06-01


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11) as running:
        running.vk.set_rate_limits(enabled=False)
        yield running


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()["vk"]


@pytest.fixture
def admin(info: dict[str, Any]) -> Client:
    return Client(info["api_url"], info["user_token"])


def session_of(info: dict[str, Any], token_key: str = "user_token") -> vk_api.VkApi:
    session = vk_api.VkApi(
        token=info[token_key], session=make_session(info["api_url"]), api_version=API_VERSION
    )
    session.RPS_DELAY = 0
    session.error_handlers.pop(6, None)
    return session


def execute(info: dict[str, Any], code: str, token_key: str = "user_token") -> dict[str, Any]:
    """The whole answer of an execute: "response" and, if a call failed, "execute_errors"."""
    return session_of(info, token_key).method("execute", {"code": code}, raw=True)


def refused(info: dict[str, Any], code: str, token_key: str = "user_token") -> ApiError:
    with pytest.raises(ApiError) as caught:
        execute(info, code, token_key)
    return caught.value


def inner_calls(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [call for call in sandbox.vk.state()["calls"] if call.get("via") == "execute"]


def refs(group_id: int, post_ids: list[int]) -> str:
    return ",".join(f"-{group_id}_{post_id}" for post_id in post_ids)


# -- many calls in one request ---------------------------------------------------------


def test_25_get_by_id_calls_of_100_posts_equal_the_separate_calls(sandbox, info):
    group_id = info["group_id"]
    post_ids = sandbox.vk.add_posts(2500, group_id)
    for index, post_id in enumerate(post_ids):
        sandbox.vk.add_views(post_id, index % 97)
    for post_id in post_ids[::250]:
        sandbox.vk.add_likes(post_id, 3)
        sandbox.vk.add_reposts(post_id, 1)
        sandbox.vk.add_comments(post_id, 2)
    batches = [post_ids[start : start + 100] for start in range(0, 2500, 100)]
    session = session_of(info)
    pool = [_Request("wall.getById", {"posts": refs(group_id, batch)}) for batch in batches]

    answer = vk_many_methods(session, pool)  # vk_api's own `return [API.m({...}), ...];`

    assert "execute_errors" not in answer
    separate = [session.method("wall.getById", {"posts": refs(group_id, b)}) for b in batches]
    assert answer["response"] == separate
    for batch, result in zip(batches, answer["response"], strict=True):
        assert [item["id"] for item in result["items"]] == batch
    # (one batch through the schema: checking all 2,500 posts would take seconds)
    vk_spec.validate_response("wall.getById", {"response": answer["response"][0]}, "response")
    assert answer["response"][0]["items"][0]["likes"]["count"] == 3
    assert len(inner_calls(sandbox)) == 25


def test_vars_form_returns_the_calls_results(sandbox, info, admin):
    group_id = info["group_id"]
    first = publish(admin, group_id)
    sandbox.vk.add_views(first, 40)
    code = (
        f"var posts = API.wall.getById({{posts: '-{group_id}_{first}', extended: true}});\n"
        f"var group = API.groups.getById({{'group_id': {group_id}, fields: ['members_count']}});\n"
        'var made = API.wall.post({owner_id: -%d, from_group: 1, message: "Итоги \\u2014 ok"});\n'
        "return [posts, group, made];" % group_id
    )

    posts, group, made = execute(info, code)["response"]

    assert posts == admin("wall.getById", posts=f"-{group_id}_{first}", extended=1)
    assert group == admin("groups.getById", group_id=group_id, fields="members_count")
    assert group["groups"][0]["members_count"] >= 1
    [created] = [p for p in sandbox.vk.posts(group_id) if p["id"] == made["post_id"]]
    assert created["text"] == "Итоги — ok"
    one = execute(info, f"var g = API.groups.getById({{group_id: {group_id}}}); return g;")
    assert one == {"response": admin("groups.getById", group_id=group_id)}


def test_results_come_in_code_order_and_vars_run_once(sandbox, info, admin):
    group_id = info["group_id"]
    code = (
        f'var a = API.wall.post({{owner_id: -{group_id}, from_group: 1, message: "один"}}), '
        f'b = API.wall.post({{owner_id: -{group_id}, from_group: 1, message: "два"}});\n'
        "return [b, a, a];"
    )
    b, a, again = execute(info, code)["response"]
    assert a == again and b["post_id"] > a["post_id"]
    assert [p["text"] for p in sandbox.vk.posts(group_id)] == ["один", "два"]


# -- inner failures --------------------------------------------------------------------


def test_a_failed_call_gives_false_and_an_execute_error(sandbox, info, admin):
    group_id = info["group_id"]
    post_id = publish(admin, group_id)
    code = (
        f"return [API.wall.getById({{posts: '-{group_id}_{post_id}'}}), API.wall.getById({{}}),"
        " API.wall.post({owner_id: 1, message: 'not my wall'}), API.wall.noSuchMethod(),"
        f" API.groups.getById({{group_id: {group_id}}})];"
    )

    answer = execute(info, code)

    found, missing, foreign, unknown, group = answer["response"]
    assert found["items"][0]["id"] == post_id
    assert missing is False and foreign is False and unknown is False
    assert group["groups"][0]["id"] == group_id
    assert answer["execute_errors"] == [
        {
            "method": "wall.getById",
            "error_code": 100,
            "error_msg": "One of the parameters specified was missing or invalid: "
            "posts is undefined",
        },
        {
            "method": "wall.post",
            "error_code": 214,
            "error_msg": "Access to adding post denied: access to the wall is denied",
        },
        {"method": "wall.noSuchMethod", "error_code": 3, "error_msg": "Unknown method passed"},
    ]
    # vk_api without raw gives the response alone, and its pool pairs each false with its error
    assert session_of(info).method("execute", {"code": code}) == answer["response"]
    with VkRequestsPool(session_of(info)) as pool:
        good = pool.method("groups.getById", {"group_id": group_id})
        bad = pool.method("wall.getById", {})
    assert good.ok and good.result["groups"][0]["id"] == group_id
    assert not bad.ok and bad.error["error_code"] == 100


def test_injected_failure_hits_only_its_inner_call(sandbox, info, admin):
    group_id = info["group_id"]
    post_id = publish(admin, group_id)
    sandbox.vk.fail_next("wall.getById", 10)
    call = f"API.wall.getById({{posts: '-{group_id}_{post_id}'}})"

    answer = execute(info, f"return [{call}, {call}];")

    assert answer["response"][0] is False and answer["response"][1]["items"][0]["id"] == post_id
    assert [e["error_code"] for e in answer["execute_errors"]] == [10]


def test_scope_applies_per_inner_call(info):
    code = (
        f"return [API.wall.post({{owner_id: -{info['group_id']}, message: 'x'}}),"
        f" API.groups.getById({{group_id: {info['group_id']}}})];"
    )
    answer = execute(info, code, "user_token_without_wall")
    assert answer["response"][0] is False and answer["response"][1]["groups"]
    assert answer["execute_errors"][0]["error_code"] == 15


# -- tokens -----------------------------------------------------------------------------


def test_community_token_inner_calls_follow_their_token_rules(sandbox, info, admin):
    group_id = info["group_id"]
    post_id = publish(admin, group_id)
    reader = info["reader_ids"][0]
    code = (
        f"var posts = API.wall.getById({{posts: '-{group_id}_{post_id}'}});"
        f" var group = API.groups.getById({{}});"
        f" var member = API.groups.isMember({{group_id: {group_id}, user_id: {reader}}});"
        f" var made = API.wall.post({{owner_id: -{group_id}, message: 'x'}});"
        " return [posts, group, member, made];"
    )

    answer = execute(info, code, "community_token")

    posts, group, member, made = answer["response"]
    assert posts is False and made is False
    assert group["groups"][0]["id"] == group_id and member in (0, 1)
    group_auth = "Group authorization failed: method is unavailable with group auth."
    assert answer["execute_errors"] == [
        {"method": "wall.getById", "error_code": 27, "error_msg": group_auth},
        {"method": "wall.post", "error_code": 27, "error_msg": group_auth},
    ]


def test_execute_is_refused_with_a_service_token(info):
    error = refused(info, "return API.users.get();", "service_token")
    assert error.code == 28


def test_code_is_required(info):
    with pytest.raises(ApiError) as caught:
        session_of(info).method("execute", {})
    assert caught.value.code == 100
    assert caught.value.error["error_msg"].endswith("code is undefined")


# -- limits -----------------------------------------------------------------------------


def test_26_calls_are_a_runtime_error(sandbox, info):
    calls = ", ".join(["API.users.get()"] * 26)
    error = refused(info, f"return [{calls}];")
    assert error.code == 13
    assert error.error["error_msg"] == (
        "Runtime error occurred during code invocation: too many API calls"
    )
    assert len(inner_calls(sandbox)) == 25  # as on VK, the calls before the 26th were made

    variables = " ".join(f"var v{i} = API.users.get();" for i in range(26))
    assert refused(info, f"{variables} return v0;").code == 13
    assert len(execute(info, f"return [{', '.join(['API.users.get()'] * 25)}];")["response"]) == 25


def test_one_execute_is_one_request_for_the_rate_limit():
    clock = [START]
    with Sandbox(seed=11, clock=lambda: clock[0]) as running:
        info = running.info()["vk"]
        calls = ", ".join(["API.users.get()"] * 25)
        for _ in range(3):  # 3 requests a second with a user token: 75 calls
            assert len(execute(info, f"return [{calls}];")["response"]) == 25
        assert refused(info, "return API.users.get();").code == 6
        clock[0] += 1.0
        assert len(execute(info, f"return [{calls}];")["response"]) == 25

        group_calls = ", ".join([f"API.groups.getById({{group_id: {info['group_id']}}})"] * 25)
        for _ in range(20):  # 20 a second with a community token
            execute(info, f"return [{group_calls}];", "community_token")
        assert refused(info, "return API.groups.getById();", "community_token").code == 6


# -- what is not VKScript's subset -------------------------------------------------------

UNSUPPORTED = [
    # vk_api's own pool code for many calls of one method: a while loop
    vk_one_method.code % {"method": "users.get", "values": json.dumps([{}, {}])},
    "var i = 0; return API.users.get();",
    "if (1) { return API.users.get(); }",
    "return API.users.get()[0];",
    "return API.users.get().items;",
    "return API.users.get({user_ids: 1 + 2});",
    "return API.users.get({user_ids: null});",
    "return API.users.get({fields: {photo: 1}});",
    "return API.users.get({user_ids: [[1]]});",
    "// read\nreturn API.users.get();",
    "return 1;",
    "return users;",
    "API.users.get();",
    "return API.users.get(); return API.users.get();",
    "return API.users.get({user_ids: '1'};",
    "return API.users({});",
]


@pytest.mark.parametrize("code", UNSUPPORTED)
def test_code_outside_the_subset_is_refused_before_any_call(sandbox, info, code):
    error = refused(info, code)
    assert error.code == 12
    assert error.error["error_msg"].startswith("Unable to compile code: ")
    assert len(error.error["error_msg"]) > len("Unable to compile code: ")
    assert inner_calls(sandbox) == []


def test_literals_become_vk_parameters():
    program = vkscript.compile_code(
        "return API.wall.getById({\"posts\": ['-1_2', \"-1_3\"], 'extended': true,"
        ' copy_history_depth: -2, lat: 1.5, text: "\\"\\u043a\\u043d\\u0438\\u0433\\u0430\\"\\n",'
        " no: false,});"
    )
    assert program == vkscript.Program(
        (),
        vkscript.ApiCall(
            "wall.getById",
            {
                "posts": "-1_2,-1_3",
                "extended": "1",
                "copy_history_depth": "-2",
                "lat": "1.5",
                "text": '"книга"\n',
                "no": "0",
            },
        ),
    )


class _Request:
    """What vk_many_methods reads from a pool entry."""

    def __init__(self, method: str, values: dict[str, Any]) -> None:
        self.method, self.values = method, values
