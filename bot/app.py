"""The ASGI application: channels, admin API, health, the Rasa action webhook and the chat page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.api import (
    actions,
    channels_telegram,
    channels_twilio,
    channels_web,
    channels_web_poll,
    chat_page,
    debts,
    email_opt_out,
    health,
    metrics,
    payment_webhook,
    pix_images,
    portal_links,
    portal_page,
    portal_requests,
    portfolio,
    telegram_links,
)
from bot.api.request_guard import RequestGuard, validation_failed
from bot.bootstrap import build_container
from bot.clock import Clock
from bot.config import Settings
from bot.dialogue.engine import DialogueEngine
from bot.staff import (
    agent_console,
    audit,
    claims_desk,
    login,
    portal_links_desk,
    results_dashboard,
    template_admin,
    write_off,
)
from bot.staff.deps import staff_error_pages


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
    for module in (channels_web, portfolio, debts, health, actions, chat_page, portal_page,
                   portal_requests, email_opt_out):
        app.include_router(module.router)
    for staff_module in (channels_web_poll, login, claims_desk, agent_console, portal_links_desk,
                         template_admin):
        app.include_router(staff_module.router)
    app.add_exception_handler(StarletteHTTPException, staff_error_pages)
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_middleware(RequestGuard)  # body size limits, strict JSON (before any route)
    for channel_module in (channels_telegram, channels_twilio, telegram_links, portal_links):
        app.include_router(channel_module.router)
    for admin_module in (results_dashboard, audit, write_off):  # admins only
        app.include_router(admin_module.router)
    for payments_module in (metrics, payment_webhook, pix_images):  # /metrics, webhook, PIX QR images
        app.include_router(payments_module.router)
    return app
