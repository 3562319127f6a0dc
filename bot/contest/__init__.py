"""Creative contests (``kind = "contest"``): entries, moderation, a gallery, votes, results.

``entries.ContestBook`` takes entries from the update intakes and the librarian's
Approve / Reject buttons; ``moderation`` decides (buttons and ``bibliobot contest``);
``voting`` counts votes and ranks; ``engine.ContestEngine`` runs the planned actions and
sends the messages the contest owes (receipts, moderation, winners) from the database.
"""
