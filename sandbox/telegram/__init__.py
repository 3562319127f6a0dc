"""A local stand-in of the Telegram Bot API, spoken over real HTTP on 127.0.0.1.

Modules: ``standin`` (HTTP apps and the control surface), ``world`` (all state),
``messages``/``chats``/``polls``/``callbacks`` (Bot API methods), ``audience`` (what readers
and the librarian do), ``formatting`` (HTML parse mode), ``media`` (files and photo sizes),
``params`` (reading requests), ``errors`` (the real error envelope).
"""

from sandbox.telegram.standin import TelegramStandIn

__all__ = ["TelegramStandIn"]
