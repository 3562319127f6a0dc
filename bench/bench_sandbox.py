"""Stand-in throughput: simple Bot API requests per second from a loopback client.

The stand-ins run as `bibliobot sandbox` in their own process, as in a real
benchmark of the bot; the client is aiohttp with keep-alive connections. The
baseline is a bare aiohttp server answering the same request with a constant,
in the same run: the most this client can measure on this machine.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import aiohttp

from bench.result import Result

GOAL = 3000.0
BARE_SERVER = """
import sys
from aiohttp import web
body = b'{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b_bot"}}'
async def handle(request):
    await request.read()
    return web.Response(body=body, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=lambda *a: print("ready", flush=True))
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _hammer(url: str, seconds: float, workers: int = 32) -> float:
    """Requests per second that ``workers`` keep-alive clients get for ``seconds``."""
    count = 0
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(url) as warm:
            assert warm.status == 200, await warm.text()
        end = time.perf_counter() + seconds
        start = time.perf_counter()

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < end:
                async with session.post(url) as response:
                    await response.read()
                    if response.status == 200:
                        count += 1

        await asyncio.gather(*(worker() for _ in range(workers)))
        return count / (time.perf_counter() - start)


def _measure(command: list[str], url_of, seconds: float) -> float:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = url_of(line)
        return asyncio.run(_hammer(url, seconds))
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(quick: bool = False) -> list[Result]:
    """Measure the Telegram stand-in's getMe rate against a bare server."""
    seconds = 1.0 if quick else 4.0
    port = _free_port()
    bare = _measure(
        [sys.executable, "-c", BARE_SERVER, str(port)],
        lambda _: f"http://127.0.0.1:{port}/botX/getMe",
        seconds,
    )

    def sandbox_url(line: str) -> str:
        info = json.loads(line)["telegram"]
        return f"{info['api_url']}{info['token']}/getMe"

    rate = _measure([sys.executable, "-m", "bot", "sandbox"], sandbox_url, seconds)
    return [
        Result(
            "sandbox_requests_per_second",
            round(rate, 1),
            "req/s",
            round(bare, 1),
            f">= {GOAL:.0f} req/s",
            rate >= GOAL,
        )
    ]
