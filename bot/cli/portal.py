"""`acordo portal link`: a signed link to a debtor's chat page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.container import run_with_container
from bot.cli.output import err, out
from bot.config import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Container
    from bot.services.portal_links import IssuedPortalLink

portal_app = typer.Typer(help="The debtors' self-service portal.", no_args_is_help=True)


@portal_app.command("link")
def portal_link(debtor: Annotated[str, typer.Argument(help="the debtor's external id")],
                contact: Annotated[str | None, typer.Option(
                    help="the contact's address or name [the first web contact]")] = None,
                days: Annotated[float | None, typer.Option(
                    help="days the link works [ACORDO_PORTAL_LINK_DAYS, 7]", min=0.001, max=90)] = None,
                creditor: Annotated[str | None, typer.Option(
                    help="the creditor, when the debtor id is used by several")] = None) -> None:
    """Print a signed link to the debtor's chat page (…/p/TOKEN)."""
    from bot.api.portal_links import base_url
    from bot.api.web_identity import link_signer, portal_lifetime
    from bot.services.portal_links import PortalLinkError, issue_portal_link

    settings = Settings()

    async def work(container: Container) -> IssuedPortalLink:
        signer = link_signer(container)
        if signer is None:
            raise PortalLinkError("set ACORDO_LINK_SECRET (at least 16 characters) to issue links")
        return await issue_portal_link(container.uow, signer, debtor,
                                       portal_lifetime(container, days), creditor=creditor,
                                       contact=contact)

    try:
        issued = run_with_container(work, settings)
    except (PortalLinkError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out.print(issued.url(base_url(settings)), markup=False, highlight=False, soft_wrap=True)
    err.print(f"for {issued.contact_name} (web contact {issued.address}), valid until "
              f"{issued.expires_at.isoformat()}", markup=False, highlight=False, soft_wrap=True)
