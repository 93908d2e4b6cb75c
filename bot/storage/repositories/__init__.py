"""Repositories, one per aggregate, over an :class:`~sqlalchemy.ext.asyncio.AsyncSession`.

Repositories add, change and flush; the caller owns the transaction and commits (or
rolls back). Relationships are not lazy-loaded under asyncio: each method says what it
loads eagerly; for anything else use ``await obj.awaitable_attrs.name``.
"""
