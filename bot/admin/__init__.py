"""The admin chat: a library's admins run it from a private chat with the bot, on every
network the library has (Telegram, VK community messages, MAX).

``desk.AdminDesk`` decides who may ask and on which library, answers the commands
(``commands``), writes each action to ``admin_audit`` and turns uploaded files into a
previewed, then confirmed plan (``upload``, ``uploads``). The intakes hand it what admins
send (``model.Inbound``) with the network's way of answering (``chats``).
"""
