"""python -m bot: the bibliobot command line."""

from bot.cli import main

main()
