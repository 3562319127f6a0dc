"""A local stand-in of the VK API (5.199) that the real ``vk_api`` client talks to.

Modules: ``world`` (the records), ``render`` (records as VK objects), ``spec`` (the committed
index of the official description, ``spec_index.json``), ``api`` (the /method endpoint:
tokens, errors, parameters), ``methods`` (one handler per VK method: ``wall``, ``community``,
``messages``), ``audience`` (readers' actions and the events they cause), ``chats`` (group
chats the community's bot is in), ``conversations`` (VkStandIn's messaging handles), ``events`` (Bots
Long Poll, a log per community), ``uploads`` (the photo upload server), ``limits`` (rate limits, error 6, and
flood control, error 9), ``faulting`` (transport faults from ``sandbox.faults``), ``control``
(JSON control routes), ``snapshot`` (records as state dicts), ``standin`` (VkStandIn, tying
it up). The stand-in needs neither the schema nor jsonschema.
"""

from sandbox.vk.standin import VkStandIn

__all__ = ["VkStandIn"]
