"""HTTP API: one router per resource, combined in bot.app."""
