"""`acordo portal link`, registered on the CLI by :func:`register_portal_commands`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.config import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Container
    from bot.services.portal_links import IssuedPortalLink

out = Console()
err = Console(stderr=True)


def register_portal_commands(app: typer.Typer) -> None:
    portal_app = typer.Typer(help="The debtors' self-service portal.", no_args_is_help=True)
    app.add_typer(portal_app, name="portal")
    portal_app.command("link")(portal_link)


def base_url(settings: Settings) -> str:
    from bot.devtools.dev_settings import http_host

    return settings.public_url or f"http://{http_host(settings.host)}:{settings.port}"


def portal_link(debtor: Annotated[str, typer.Argument(help="the debtor's external id")],
                contact: Annotated[str | None, typer.Option(
                    help="the contact's address or name [the first web contact]")] = None,
                days: Annotated[float | None, typer.Option(
                    help="days the link works [ACORDO_PORTAL_LINK_DAYS, 7]", min=0.001, max=90)] = None,
                creditor: Annotated[str | None, typer.Option(
                    help="the creditor, when the debtor id is used by several")] = None) -> None:
    """Print a signed link to the debtor's chat page (…/p/TOKEN)."""
    from bot.api.web_identity import link_signer, portal_lifetime
    from bot.bootstrap import build_container
    from bot.services.portal_links import PortalLinkError, issue_portal_link

    settings = Settings()

    async def work(container: Container) -> IssuedPortalLink:
        signer = link_signer(container)
        if signer is None:
            raise PortalLinkError("set ACORDO_LINK_SECRET (at least 16 characters) to issue links")
        return await issue_portal_link(container.sessions, signer, debtor,
                                       portal_lifetime(container, days), creditor=creditor,
                                       contact=contact)

    async def run() -> IssuedPortalLink:
        async with build_container(settings) as container:
            return await work(container)

    try:
        issued = asyncio.run(run())
    except (PortalLinkError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out.print(issued.url(base_url(settings)), markup=False, highlight=False, soft_wrap=True)
    err.print(f"for {issued.contact_name} (web contact {issued.address}), valid until "
              f"{issued.expires_at.isoformat()}", markup=False, highlight=False, soft_wrap=True)
