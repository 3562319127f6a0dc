"""The MAX stand-in's files sent by people (the admin chat's uploads): the message and its
update carry the schema's FileAttachment (specs/max), and the attachment's link serves the
bytes without the bot's token; scripted from Python and over the control API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import max_spec
from sandbox.server import Sandbox

DATA = b"PK\x03\x04 a workbook, or so"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=13) as sandbox:
        sandbox.max.set_rate_limit(enabled=False)
        yield sandbox


@pytest.fixture
def mx(sb: Sandbox) -> dict[str, Any]:
    return sb.info()["max"]


def updates(mx: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.Client(base_url=mx["api_url"], headers={"Authorization": mx["token"]}) as api:
        answer = api.get("/updates", params={"timeout": 0, "limit": 1000})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    max_spec.assert_object("UpdateList", body, strict=True)
    return body["updates"]


def test_a_file_in_the_dialog_is_a_file_attachment_served_by_its_link(
    sb: Sandbox, mx: dict[str, Any]
) -> None:
    updates(mx)  # what came before
    user = sb.max.add_user(first_name="Мария")["user_id"]
    sb.max.start_bot(user)
    sent = sb.max.write_file(user, None, "план.xlsx", DATA, mx["api_url"], "вот план")
    [started, created] = updates(mx)
    assert (started["update_type"], created["update_type"]) == ("bot_started", "message_created")
    max_spec.assert_object("Update", created, strict=True)
    message = created["message"]
    assert message == sent
    assert message["recipient"]["chat_type"] == "dialog"
    assert message["body"]["text"] == "вот план"
    [attachment] = message["body"]["attachments"]
    assert (attachment["type"], attachment["filename"], attachment["size"]) == (
        "file",
        "план.xlsx",
        len(DATA),
    )
    link = attachment["payload"]["url"]
    assert link.startswith(mx["api_url"])
    got = httpx.get(link)  # no Authorization: the link itself is the key
    assert got.status_code == 200 and got.content == DATA
    assert httpx.get(link + "x").status_code == 404
    # In a group chat the same (a reader's file among the messages).
    sb.max.join(user, mx["chat_id"])
    in_group = sb.max.write_file(user, mx["chat_id"], "a.toml", b"x = 1", mx["api_url"])
    assert in_group["recipient"]["chat_type"] == "chat"
    assert in_group["body"]["attachments"][0]["size"] == 5


def test_files_over_the_control_api_and_bad_input(sb: Sandbox, mx: dict[str, Any]) -> None:
    control = sb.info()["control_url"] + "/max"
    with httpx.Client(base_url=control, timeout=10) as client:
        user = client.post("/users", json={"first_name": "Олег"}).json()["result"]["user_id"]
        assert client.post("/start", json={"user_id": user}).json()["ok"]
        body = {
            "user_id": user,
            "filename": "event.toml",
            "data_base64": base64.b64encode(DATA).decode(),
            "base_url": mx["api_url"],
        }
        said = client.post("/write_file", json=body).json()
        assert said["ok"], said
        link = said["result"]["body"]["attachments"][0]["payload"]["url"]
        assert httpx.get(link).content == DATA
        for broken in ({"data_base64": "%%%"}, {"data_base64": ""}, {"user_id": 1}):
            refused = client.post("/write_file", json={**body, **broken}).json()
            assert refused["ok"] is False, broken
    with pytest.raises(ValueError):
        sb.max.write_file(user, None, "empty.xlsx", b"", mx["api_url"])
