"""The VK API methods the stand-in implements, one small function each, keyed by method name.

``registry`` holds ``HANDLERS`` and the helpers several handlers share; ``wall`` (wall.* and
photos.*), ``community`` (polls, likes, stats, groups, users), ``messages`` and ``execute``
register their handlers there when imported; ``permissions`` holds what a token may do and
what a community has switched on; ``message_files`` photos and documents for messages.
"""

from sandbox.vk.methods import community, execute, message_files, messages, permissions, wall
from sandbox.vk.methods.registry import HANDLERS

__all__ = [
    "HANDLERS",
    "community",
    "execute",
    "message_files",
    "messages",
    "permissions",
    "wall",
]
