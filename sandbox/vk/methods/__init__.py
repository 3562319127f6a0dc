"""The VK API methods the stand-in implements, one small function each, keyed by method name.

``registry`` holds ``HANDLERS`` and the helpers several handlers share; ``wall`` (wall.* and
photos.*), ``community`` (polls, likes, stats, groups, users), ``messages`` and ``execute``
register their handlers there when imported.
"""

from sandbox.vk.methods import community, execute, messages, wall
from sandbox.vk.methods.registry import HANDLERS

__all__ = ["HANDLERS", "community", "execute", "messages", "wall"]
