"""A local stand-in of the Telegram Bot API, spoken over real HTTP on 127.0.0.1.

Modules: ``standin`` (HTTP apps, flood limits and injected faults around the methods),
``actions`` (the Python control surface), ``control`` (the same over HTTP), ``world`` (all
state), ``messages``/``chats``/``polls``/``callbacks`` (Bot API methods), ``audience``,
``reactions``, ``members`` (what readers and the librarian do), ``limits`` (flood control),
``formatting`` (HTML parse mode), ``media`` (files and photo sizes), ``params`` (reading
requests), ``errors`` (the real error envelope), ``registry`` (the method table).
"""

from sandbox.telegram.standin import TelegramStandIn

__all__ = ["TelegramStandIn"]
