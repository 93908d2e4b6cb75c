"""The ASGI application: channels, admin API, health, the Rasa action webhook and the chat page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.api import actions, channels_web, chat_page, health, portfolio
from bot.bootstrap import build_container
from bot.config import Settings
from bot.dialogue.engine import DialogueEngine
from bot.services.clock import Clock


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               dialogue: DialogueEngine | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build_container(settings, clock=clock, dialogue=dialogue) as container:
            app.state.container = container
            yield

    app = FastAPI(title="Acordo", version="0.1.0", lifespan=lifespan,
                  description="Conversational negotiation bot for B2B credit recovery.")
    for module in (channels_web, portfolio, health, actions, chat_page):
        app.include_router(module.router)
    return app
