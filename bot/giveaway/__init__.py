"""Giveaways: the library's own verifiable draw among readers who met the conditions."""
