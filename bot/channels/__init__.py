"""Messaging channels: one :class:`~bot.channels.base.Channel` protocol, one adapter per provider."""
