"""The one place that wires Acordo together from settings. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from rasa_sdk.executor import ActionExecutor
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.bootstrap.channels import ChannelRuntime, build_channel_runtime, picture_channels
from bot.cadence.followup.service import FollowUpService
from bot.cadence.service import CadenceService
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dialogue.actions import build_actions
from bot.dialogue.engine import DialogueEngine, RasaDialogueEngine
from bot.policies import PolicyBook, load_policies
from bot.rendering.renderer import TemplateRenderer
from bot.services.agent_desk.claims import ClaimDesk
from bot.services.agent_desk.desk import AgentDesk, ConversationResumer
from bot.services.conversation import ConversationService
from bot.services.metrics import MeasuredConversations, MeasuredDialogue, OperationsMetrics
from bot.services.negotiation.service import NegotiationService
from bot.services.outgoing import OutgoingMessages
from bot.services.payments import PaymentDesk, build_payment_desk
from bot.services.portal_links import PortalLinkIssuer
from bot.services.portfolio import PortfolioService
from bot.services.results.service import ResultsService
from bot.services.staff_accounts import LoginLimits, StaffAccounts
from bot.services.template_admin import TemplateAdmin
from bot.storage.db import create_engine, migrate, session_factory
from bot.storage.uow import UnitOfWorkFactory, unit_of_work


@dataclass
class Container:
    settings: Settings
    policies: PolicyBook
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    uow: UnitOfWorkFactory  # one unit of work per command (bot/storage/uow.py)
    renderer: TemplateRenderer
    dialogue: DialogueEngine
    negotiation: NegotiationService
    conversations: ConversationService
    portfolio: PortfolioService
    action_executor: ActionExecutor
    clock: Clock
    staff: StaffAccounts
    agent_desk: AgentDesk
    claims: ClaimDesk  # payment claims to confirm or reject
    template_admin: TemplateAdmin
    channels: ChannelRuntime
    payments: PaymentDesk
    followup: FollowUpService
    results: ResultsService
    metrics: OperationsMetrics
    cadence: CadenceService
    portal_links: PortalLinkIssuer  # portal links issued by the bot, the régua and agents


@asynccontextmanager
async def build_container(settings: Settings, *, clock: Clock | None = None,
                          dialogue: DialogueEngine | None = None) -> AsyncIterator[Container]:
    """Load policies (fail fast), migrate the database and build every service."""
    policies = load_policies(settings.policies_dir)
    await migrate(settings.database_url)
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url, clock=clock)
    sessions = session_factory(engine)
    renderer = TemplateRenderer(settings.templates_dir, default_locale=settings.default_locale)
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=32)) as client:
        if dialogue is None:
            token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
            dialogue = RasaDialogueEngine(client, settings.rasa_url, token,
                                          settings.rasa_timeout_seconds)
        channel_stack = contextlib.AsyncExitStack()
        container = await _assemble(settings, policies, engine, sessions, renderer, clock, dialogue,
                                    channel_stack)
        await container.portfolio.ensure_creditors()
        await container.template_admin.load_into_renderer()
        refresh = asyncio.create_task(container.template_admin.refresh_loop())
        try:
            yield container
        finally:
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh
            await channel_stack.aclose()
            await engine.dispose()


async def _assemble(settings: Settings, policies: PolicyBook, engine: AsyncEngine,
                    sessions: async_sessionmaker[AsyncSession], renderer: TemplateRenderer, clock: Clock,
                    dialogue: DialogueEngine, channel_stack: contextlib.AsyncExitStack) -> Container:
    """Every service, in dependency order; the channel runtime enters ``channel_stack``."""
    uow = unit_of_work(sessions)
    metrics = OperationsMetrics(uow, clock)
    payments = build_payment_desk(settings, policies, clock)
    if (pix_api := payments.pix_api()) is not None:
        channel_stack.push_async_callback(pix_api.aclose)  # its HTTPS client, at shutdown
    negotiation = NegotiationService(uow, policies, clock, payments)
    executor = ActionExecutor()
    for action in build_actions(negotiation):
        executor.register_action(action)
    portal_links = PortalLinkIssuer.from_settings(settings, clock)  # links issued by the bot
    conversations = MeasuredConversations(uow, MeasuredDialogue(dialogue, metrics), renderer,
                                          settings.default_locale, picture_channels(settings),
                                          metrics=metrics, portal_links=portal_links)
    followup = FollowUpService(uow, policies, renderer, clock, payments, picture_channels(settings))
    channels = await channel_stack.enter_async_context(
        build_channel_runtime(settings, uow, conversations, renderer, clock,
                              on_rate_limit_wait=metrics.rate_limit_wait, policies=policies))
    portfolio = PortfolioService(uow, policies, clock, payments)
    return Container(
        settings=settings, policies=policies, engine=engine, sessions=sessions, uow=uow,
        renderer=renderer, dialogue=dialogue, negotiation=negotiation,
        conversations=conversations,
        portfolio=portfolio,
        action_executor=executor, clock=clock,
        staff=StaffAccounts(uow, clock, LoginLimits(
            free_failures=settings.login_free_failures,
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
            window=timedelta(seconds=settings.login_window_seconds))),
        agent_desk=AgentDesk(uow, policies, clock, negotiation, renderer, OutgoingMessages(renderer),
                             dialogue if isinstance(dialogue, ConversationResumer) else None),
        claims=ClaimDesk(uow, policies, clock, portfolio, OutgoingMessages(renderer)),
        template_admin=TemplateAdmin(uow, renderer, policies, clock, settings.policies_dir,
                                     sms_max_segments=settings.sms_max_segments),
        channels=channels,
        payments=payments,
        followup=followup,
        results=ResultsService(uow, policies, settings.message_costs,
                               settings.agent_cost_per_hour, settings.agent_minutes_per_message,
                               clock),
        metrics=metrics,
        cadence=CadenceService(
            uow, policies, renderer, clock, channels.channels,
            schedule_every=timedelta(minutes=settings.cadence_schedule_minutes),
            tick_seconds=settings.cadence_tick_seconds, on_queued=channels.wake_outbox,
            followup=followup,  # the day's follow-up runs in the régua loop
            portal_links=portal_links),
        portal_links=portal_links,
    )
