"""The one place that wires Acordo together from settings. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from rasa_sdk.executor import ActionExecutor
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.dialogue.actions import build_actions
from bot.dialogue.engine import DialogueEngine, RasaDialogueEngine
from bot.policies import PolicyBook, load_policies
from bot.rendering.renderer import TemplateRenderer
from bot.services.clock import Clock, SystemClock
from bot.services.conversation import ConversationService
from bot.services.negotiation import NegotiationService
from bot.services.portfolio import PortfolioService
from bot.storage.db import create_engine, migrate, session_factory


@dataclass
class Container:
    settings: Settings
    policies: PolicyBook
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    renderer: TemplateRenderer
    dialogue: DialogueEngine
    negotiation: NegotiationService
    conversations: ConversationService
    portfolio: PortfolioService
    action_executor: ActionExecutor
    clock: Clock


@asynccontextmanager
async def build_container(settings: Settings, *, clock: Clock | None = None,
                          dialogue: DialogueEngine | None = None) -> AsyncIterator[Container]:
    """Load policies (fail fast), migrate the database and build every service."""
    policies = load_policies(settings.policies_dir)
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    clock = clock or SystemClock()
    renderer = TemplateRenderer(settings.templates_dir, default_locale=settings.default_locale)
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=32)) as client:
        if dialogue is None:
            token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
            dialogue = RasaDialogueEngine(client, settings.rasa_url, token,
                                          settings.rasa_timeout_seconds)
        negotiation = NegotiationService(sessions, policies, clock)
        executor = ActionExecutor()
        for action in build_actions(negotiation):
            executor.register_action(action)
        container = Container(
            settings=settings, policies=policies, engine=engine, sessions=sessions,
            renderer=renderer, dialogue=dialogue, negotiation=negotiation,
            conversations=ConversationService(sessions, dialogue, renderer,
                                              settings.default_locale),
            portfolio=PortfolioService(sessions, policies, clock),
            action_executor=executor, clock=clock,
        )
        await container.portfolio.ensure_creditors()
        try:
            yield container
        finally:
            await engine.dispose()
