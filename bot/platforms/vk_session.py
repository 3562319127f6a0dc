"""A requests session that sends vk_api's calls to a configurable API URL.

vk_api always posts to ``https://api.vk.ru/method/<name>`` and has no host
setting, but it accepts a ``requests.Session``. Mounting this adapter on that
prefix rewrites the URL, so the real client reaches a stand-in or a proxy.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

VK_METHOD_PREFIXES = ("https://api.vk.ru/method/", "https://api.vk.com/method/")
DEFAULT_API_URL = "https://api.vk.ru/method/"


class RedirectingAdapter(HTTPAdapter):
    """Rewrites the fixed VK method URL prefix to ``api_url`` before sending."""

    def __init__(self, api_url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.timeout = timeout

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        for prefix in VK_METHOD_PREFIXES:
            if request.url.startswith(prefix):
                request.url = self.api_url + request.url[len(prefix) :]
                break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, *args, **kwargs)


def make_session(api_url: str = DEFAULT_API_URL, timeout: float = 10.0) -> requests.Session:
    """A session for ``vk_api.VkApi(session=...)`` that reaches ``api_url``."""
    session = requests.Session()
    # One adapter for every URL: it rewrites only the VK method prefix, and
    # gives upload and long-poll URLs (which come from API answers) the timeout.
    adapter = RedirectingAdapter(api_url, timeout=timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
