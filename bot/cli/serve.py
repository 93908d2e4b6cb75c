"""`acordo serve`: the ASGI app under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.output import err, out
from bot.config import Settings
from bot.policies import PolicyError, load_policies


def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None) -> None:
    """Serve the ASGI app (channels, admin API, action webhook, chat page)."""
    import uvicorn

    from bot.app import create_app

    settings = Settings()
    try:
        load_policies(settings.policies_dir)
    except PolicyError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    for channel, status in settings.channel_status().items():
        out.print(f"channel {channel}: {status}", markup=False, highlight=False)
    # proxy_headers=False: uvicorn would believe X-Forwarded-For from its own allow-list;
    # the app reads it only from ACORDO_TRUSTED_PROXIES (bot/staff/deps.client_address).
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level="warning", access_log=False, proxy_headers=False)
