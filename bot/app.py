"""The ASGI application: channels, admin API, health, the Rasa action webhook and the chat page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.api import (
    actions,
    agent_console,
    channels_telegram,
    channels_twilio,
    channels_web,
    channels_web_poll,
    chat_page,
    debts,
    health,
    portal_links,
    portfolio,
    results,
    staff_auth,
    telegram_links,
    template_admin,
)
from bot.api.request_guard import RequestGuard, validation_failed
from bot.api.staff_deps import staff_error_pages
from bot.bootstrap import build_container
from bot.clock import Clock
from bot.config import Settings
from bot.dialogue.engine import DialogueEngine


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               dialogue: DialogueEngine | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build_container(settings, clock=clock, dialogue=dialogue) as container:
            app.state.container = container
            async with container.channels.running(), \
                    container.cadence.running(settings.cadence_in_app):
                yield

    app = FastAPI(title="Acordo", version="0.1.0", lifespan=lifespan,
                  description="Conversational negotiation bot for B2B credit recovery.")
    for module in (channels_web, portfolio, debts, health, actions, chat_page):
        app.include_router(module.router)
    for staff_module in (channels_web_poll, staff_auth, agent_console, template_admin):
        app.include_router(staff_module.router)
    app.add_exception_handler(StarletteHTTPException, staff_error_pages)
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_middleware(RequestGuard)  # body size limits, strict JSON (before any route)
    for channel_module in (channels_telegram, channels_twilio, telegram_links, portal_links):
        app.include_router(channel_module.router)
    app.include_router(results.router)  # results dashboard, audit view (admins)
    app.include_router(results.public)  # /metrics, payment webhook, PIX QR images
    return app
