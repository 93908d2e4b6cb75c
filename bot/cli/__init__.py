"""The ``acordo`` command line: the root app in :mod:`bot.cli.app`, one module per topic."""

from bot.cli.app import main

__all__ = ["main"]
