"""`acordo portal link|links|revoke`: issue a debtor's portal link, list them, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.container import run_with_container
from bot.cli.output import err, out
from bot.config import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Container
    from bot.services.portal_links import IssuedPortalLink, PortalLinkSummary

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
                                       contact=contact, issued_by="cli")

    try:
        issued = run_with_container(work, settings)
    except (PortalLinkError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    out.print(issued.url(base_url(settings)), markup=False, highlight=False, soft_wrap=True)
    err.print(f"link {issued.id} for {issued.contact_name} (web contact {issued.address}), valid "
              f"until {issued.expires_at.isoformat()}", markup=False, highlight=False, soft_wrap=True)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment else "-"


@portal_app.command("links")
def portal_links(debtor: Annotated[str, typer.Argument(help="the debtor's external id")],
                 creditor: Annotated[str | None, typer.Option(
                     help="the creditor, when the debtor id is used by several")] = None) -> None:
    """List the debtor's portal links: id, contact, who issued it, when, expiry, revocation, uses."""
    from bot.services.portal_links import PortalLinkError, debtor_portal_links

    async def work(container: Container) -> list[PortalLinkSummary]:
        return await debtor_portal_links(container.uow, debtor, creditor)

    try:
        links = run_with_container(work, Settings())
    except PortalLinkError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    if not links:
        err.print(f"debtor {debtor!r} has no portal link", markup=False, highlight=False)
        return
    # Tab-separated, for people and for cut/awk alike.
    typer.echo("id\tcontact\tissued_by\tissued_at\texpires_at\trevoked_at\tuses\tlast_used_at")
    for link in links:
        revoked = f"{_when(link.revoked_at)} by {link.revoked_by}" if link.revoked_at else "-"
        typer.echo(f"{link.id}\t{link.contact_name} <{link.address}>\t{link.issued_by}\t"
                   f"{_when(link.issued_at)}\t{_when(link.expires_at)}\t{revoked}\t"
                   f"{link.use_count}\t{_when(link.last_used_at)}")


@portal_app.command("revoke")
def portal_revoke(link_id: Annotated[int, typer.Argument(help="the link's id (acordo portal links)",
                                                         min=1)]) -> None:
    """Revoke a portal link: it stops opening at once."""
    from bot.services.portal_links import revoke_portal_link

    async def work(container: Container) -> bool:
        return await revoke_portal_link(container.uow, link_id, "cli", container.clock.now())

    if not run_with_container(work, Settings()):
        err.print(f"error: no portal link {link_id}", markup=False, highlight=False)
        raise typer.Exit(1)
    err.print(f"link {link_id} revoked", markup=False, highlight=False)


@portal_app.command("demo-links", hidden=True)
def portal_demo_links() -> None:
    """Issue a portal link for each debtor of the demo portfolio; print ``name<TAB>url``
    (`acordo dev` shows them in its banner)."""
    from bot.api.web_identity import link_signer, portal_lifetime
    from bot.demo import demo_portfolio
    from bot.services.portal_links import PortalLinkError, issue_portal_link

    settings = Settings()

    async def work(container: Container) -> list[tuple[str, str]]:
        signer = link_signer(container)
        if signer is None:
            raise PortalLinkError("set ACORDO_LINK_SECRET (at least 16 characters) to issue links")
        portfolio = demo_portfolio(container.clock.now().date())
        links = []
        for debtor in portfolio.debtors:
            issued = await issue_portal_link(container.uow, signer, debtor.external_id,
                                             portal_lifetime(container), creditor=portfolio.creditor,
                                             issued_by="cli")
            links.append((debtor.name, issued.url(settings.own_url())))
        return links

    try:
        links = run_with_container(work, settings)
    except PortalLinkError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    for name, url in links:
        typer.echo(f"{name}\t{url}")
