"""A requests session that sends vk_api's calls to a configurable API URL.

vk_api always posts to ``https://api.vk.ru/method/<name>`` and has no host
setting, but it accepts a ``requests.Session``. Mounting this adapter on that
prefix rewrites the URL, so the real client reaches a stand-in or a proxy.

The environment's proxy and CA-bundle settings are read once, when the first session is
made, not on every request as requests does: requests walks every environment variable
twice a request to find them, and a bot of 1,000 libraries has thousands of token
variables (9 ms a request, holding the interpreter lock that the event loop waits for).
"""

from __future__ import annotations

import functools
import os
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

VK_METHOD_PREFIXES = ("https://api.vk.ru/method/", "https://api.vk.com/method/")
DEFAULT_API_URL = "https://api.vk.ru/method/"


def redirected(url: str, api_url: str) -> str:
    """``url`` with VK's fixed method prefix replaced by ``api_url`` (ending in "/")."""
    for prefix in VK_METHOD_PREFIXES:
        if url.startswith(prefix):
            return api_url + url[len(prefix) :]
    return url


class RedirectingAdapter(HTTPAdapter):
    """Rewrites the fixed VK method URL prefix to ``api_url`` before sending."""

    def __init__(self, api_url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.timeout = timeout

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        request.url = redirected(request.url, self.api_url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, *args, **kwargs)


@dataclass(frozen=True)
class _NetworkSettings:
    """What the environment says about reaching the network: proxies and a CA bundle."""

    proxies: dict[str, str]  # scheme → proxy URL, and "no" → the hosts that bypass them
    ca_bundle: str | None


@functools.cache
def network_settings() -> _NetworkSettings:
    """The environment's proxies and CA bundle, read once a process."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return _NetworkSettings(urllib.request.getproxies(), bundle or None)


class _SettledSession(requests.Session):
    """A session that takes proxies and the CA bundle from ``network_settings`` (read
    once) instead of the environment at every request; otherwise as requests does."""

    def __init__(self, api_url: str) -> None:
        super().__init__()
        self.trust_env = False  # requests' own reading of the environment, per request
        self.api_url = api_url

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        settings = network_settings()
        # Whether to bypass the proxy is decided for the host the request really goes to.
        host = urlsplit(redirected(url, self.api_url)).hostname or ""
        wanted = dict(proxies or {})
        if not urllib.request.proxy_bypass_environment(host, settings.proxies):
            for scheme, proxy in settings.proxies.items():
                if scheme != "no":
                    wanted.setdefault(scheme, proxy)
        if verify in (True, None) and settings.ca_bundle:
            verify = settings.ca_bundle
        return super().merge_environment_settings(url, wanted, stream, verify, cert)


def make_session(api_url: str = DEFAULT_API_URL, timeout: float = 10.0) -> requests.Session:
    """A session for ``vk_api.VkApi(session=...)`` that reaches ``api_url``."""
    adapter = RedirectingAdapter(api_url, timeout=timeout)
    session = _SettledSession(adapter.api_url)
    # One adapter for every URL: it rewrites only the VK method prefix, and
    # gives upload and long-poll URLs (which come from API answers) the timeout.
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
