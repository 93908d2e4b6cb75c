"""`acordo worker` and `acordo telegram ...`: the channels' long-running processes and link tokens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.container import run_with_container
from bot.cli.output import err, out
from bot.config import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Container

SWEEP_SECONDS = 30.0
telegram_app = typer.Typer(help="The Telegram channel.", no_args_is_help=True)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("rasa_sdk", "aiogram.event", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _print_status(settings: Settings) -> None:
    for channel, status in settings.channel_status().items():
        out.print(f"channel {channel}: {status}", markup=False, highlight=False)


def worker(
    concurrency: Annotated[int, typer.Option(help="sends in flight at most")] = 64,
    metrics_port: Annotated[int | None, typer.Option(
        help="serve this process' metrics (rate-limit waits, turns, Rasa errors) for Prometheus "
             "on ACORDO_HOST:PORT (bearer ACORDO_METRICS_TOKEN)",
        envvar="ACORDO_WORKER_METRICS_PORT")] = None,
) -> None:
    """Dispatch the outbox (all channels, rate limited) and resume stored inbound updates."""
    _configure_logging()
    settings = Settings()
    _print_status(settings)

    async def work(container: Container) -> None:
        runtime = container.channels
        stop = _stop_event()
        with contextlib.ExitStack() as cleanup:
            if metrics_port is not None:
                from bot.services.metrics import serve_process_metrics

                tokens = [t.get_secret_value() for t in (settings.metrics_token, settings.admin_token) if t]
                port, stop_metrics = serve_process_metrics(container.metrics, metrics_port, settings.host,
                                                           tokens)
                cleanup.callback(stop_metrics)
                out.print(f"worker metrics: http://{settings.host}:{port}/metrics"
                          + ("" if tokens else " (no ACORDO_METRICS_TOKEN: every scrape is refused)"),
                          markup=False)
            name = f"worker-{socket.gethostname()}-{id(stop) & 0xFFFF:x}"
            task = None
            if runtime.senders:
                dispatcher = runtime.new_dispatcher(name, concurrency=concurrency)
                task = asyncio.create_task(dispatcher.run(stop))
                out.print(f"{name}: dispatching {', '.join(runtime.senders)}"
                          f" (limits {'in Redis' if settings.redis_url else 'in process'})", markup=False)
            else:
                out.print(f"{name}: no outbound channel is on (web only)", markup=False)
            sweeps = _pix_sweeps(container, settings, stop)
            async with container.cadence.running():  # the régua: schedule, queue, follow up
                while not stop.is_set():
                    await runtime.inbound.resume()  # updates whose processing died with a process
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)
            if task is not None:
                await task
            if sweeps is not None:
                await sweeps

    run_with_container(work, settings)


def _pix_sweeps(container: Container, settings: Settings, stop: asyncio.Event
                ) -> asyncio.Task[None] | None:
    """The API Pix reconciliation sweep every ``ACORDO_PIX_RECONCILE_MINUTES`` (0: off)."""
    from datetime import timedelta

    from bot.services.pix_reconciliation import sweep_every

    provider = container.payments.pix_api()
    if provider is None or not settings.pix_reconcile_minutes:
        return None
    out.print(f"PIX reconciliation: every {settings.pix_reconcile_minutes:g} min, "
              f"looking back {settings.pix_reconcile_hours:g} h", markup=False)
    return asyncio.create_task(sweep_every(
        container.portfolio, provider, container.clock,
        timedelta(minutes=settings.pix_reconcile_minutes),
        timedelta(hours=settings.pix_reconcile_hours), stop))


@telegram_app.command("poll")
def telegram_poll() -> None:
    """Long-poll Telegram (local development: no public URL needed) and answer like the webhook."""
    _configure_logging()
    settings = Settings().model_copy(update={"telegram_mode": "polling"})
    if settings.telegram_token is None:
        err.print("ACORDO_TELEGRAM_TOKEN is not set", markup=False)
        raise typer.Exit(1)

    async def work(container: Container) -> None:
        from bot.inbound.telegram_poll import poll_updates

        runtime = container.channels
        assert runtime.telegram is not None, "the Telegram channel is off"
        stop = _stop_event()
        dispatcher = runtime.new_dispatcher("telegram-poll")
        task = asyncio.create_task(dispatcher.run(stop))
        out.print("polling Telegram; Ctrl-C stops", markup=False)
        await poll_updates(runtime.telegram.bot, runtime.inbound, stop)
        await task

    run_with_container(work, settings)


@telegram_app.command("link-token")
def telegram_link_token(
    debtor: Annotated[str, typer.Argument(help="the debtor's external id")],
    contact_name: Annotated[str, typer.Argument(help="the person the link is for")],
    creditor: Annotated[str | None, typer.Option(help="creditor id")] = None,
    locale: Annotated[str | None, typer.Option(help="pt-BR or en")] = None,
) -> None:
    """Issue a one-time deep link that links a Telegram chat to this debtor contact."""
    from bot.services.telegram_links import UnknownDebtor

    settings = Settings()

    async def work(container: Container) -> Any:
        return await container.channels.links.issue(debtor, contact_name, creditor_id=creditor,
                                                    locale=locale)

    try:
        issued = run_with_container(work, settings)
    except UnknownDebtor as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    out.print(f"token: {issued.token}", markup=False, highlight=False)
    out.print(f"expires: {issued.expires_at.isoformat()}", markup=False, highlight=False)
    link = issued.url(settings.telegram_bot_username)
    out.print(f"link: {link}" if link else
              "link: https://t.me/<bot username>?start=<token> (set ACORDO_TELEGRAM_BOT_USERNAME)",
              markup=False, highlight=False)
