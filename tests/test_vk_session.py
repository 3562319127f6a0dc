"""The VK session reads the environment's proxies once, not at every request.

requests walks every environment variable twice a request to find proxies; with the
thousands of token variables of a large network that cost 9 ms a VK request. The session
keeps requests' behaviour (proxies, NO_PROXY, CA bundle) from one reading.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot.platforms import vk_session
from bot.platforms.vk_session import make_session, network_settings


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with ``{"response": 1}`` and notes the path it was sent."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"response": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    """A local HTTP server that records the paths it was asked for."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    network_settings.cache_clear()
    yield
    network_settings.cache_clear()


def _url(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/method/"


def test_a_proxy_named_in_the_environment_carries_the_requests(server, monkeypatch):
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server.server_address[1]}")
    session = make_session("http://vk.invalid/method/", timeout=5)
    answer = session.post("https://api.vk.ru/method/users.get", data={"v": "5.199"})
    assert answer.json() == {"response": 1}
    # A proxy is sent the whole URL: the request went through it, to the configured API.
    assert server.paths == ["http://vk.invalid/method/users.get"]


def test_a_host_in_no_proxy_is_reached_directly(server, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    session = make_session(_url(server), timeout=5)
    assert session.post("https://api.vk.ru/method/users.get").json() == {"response": 1}
    assert server.paths == ["/method/users.get"]


def test_the_environment_is_read_once_not_at_every_request(server, monkeypatch):
    session = make_session(_url(server), timeout=5)
    session.post("https://api.vk.ru/method/users.get")

    def no_reading(*args, **kwargs):
        raise AssertionError("the environment was read again for a request")

    # requests' own per-request reading, and urllib's, both fail from here on.
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", no_reading)
    monkeypatch.setattr(vk_session.urllib.request, "getproxies", no_reading)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # would break the request
    again = make_session(_url(server), timeout=5)
    assert again.post("https://api.vk.ru/method/wall.get").json() == {"response": 1}
    assert session.post("https://api.vk.ru/method/wall.post").json() == {"response": 1}
    assert server.paths == ["/method/users.get", "/method/wall.get", "/method/wall.post"]


def test_a_ca_bundle_named_in_the_environment_is_used(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = make_session("https://vk.invalid/method/")
    settings = session.merge_environment_settings("https://vk.invalid/x", {}, None, None, None)
    assert settings["verify"] == str(bundle)
    settings = session.merge_environment_settings("https://vk.invalid/x", {}, None, False, None)
    assert settings["verify"] is False  # a caller's explicit choice stands
