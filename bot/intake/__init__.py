"""Update intake: what readers do, read from the bots' own update streams into the database."""
