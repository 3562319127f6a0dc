"""The VK API methods the stand-in implements, one small function each, keyed by method name.

``registry`` holds ``HANDLERS`` and the helpers several handlers share; ``wall`` (wall.* and
photos.*), ``community`` (polls, likes, stats, groups, users) and ``messages`` register their
handlers there when imported.
"""

from sandbox.vk.methods import community, messages, wall
from sandbox.vk.methods.registry import HANDLERS

__all__ = ["HANDLERS", "community", "messages", "wall"]
