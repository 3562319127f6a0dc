"""The stand-ins in a process of their own, counting the API requests that reach them.

`bibliobot sandbox` keeps only the last 1,000 calls (inner ``execute`` calls included), too
few to count the requests of 1,000 communities. This prints the stand-ins' info as one
JSON line, as `bibliobot sandbox` does, then answers each line read on standard input
with the requests received so far: ``{"vk": n, "telegram": n, "throttled": n}`` (an
``execute`` counts once, as it does against the rate limit). It stops at end of input.

Usage: python -m bench.standins [SEED]
"""

from __future__ import annotations

import json
import sys

from sandbox.server import Sandbox


def main() -> None:
    box = Sandbox(seed=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(json.dumps(box.start(), ensure_ascii=False), flush=True)
    box.recording = True
    try:
        for _ in sys.stdin:
            arrivals = list(box.arrivals)  # appended to by the stand-ins' thread
            counts = {"vk": 0, "telegram": 0, "throttled": 0}
            for arrival in arrivals:
                counts[arrival.network] += 1
                counts["throttled"] += arrival.throttled
            print(json.dumps(counts), flush=True)
    finally:
        box.stop()


if __name__ == "__main__":
    main()
