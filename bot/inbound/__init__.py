"""Inbound adapters: what turns a provider's update into a call to the service layer.

The aiogram routers (``telegram_routes``) hand Telegram messages and button presses to the
conversation pipeline and redeem link tokens; ``telegram_poll`` fetches updates by long
polling for local development. They call services, so they sit above them, next to the
HTTP webhooks in ``bot/api/channels_*.py``; the channel adapters below (``bot/channels``)
only parse and send.
"""
