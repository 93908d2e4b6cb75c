"""`acordo demo load`: the demo creditor's portfolio."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.container import run_with_container
from bot.cli.portfolio import print_report
from bot.schemas import ImportReport

if TYPE_CHECKING:
    from bot.bootstrap import Container

demo_app = typer.Typer(help="The demo creditor and portfolio.", no_args_is_help=True)


@demo_app.command("load")
def demo_load() -> None:
    """Load (or refresh) the demo portfolio for creditor `demo`."""
    from bot.demo import demo_portfolio

    async def work(container: Container) -> ImportReport:
        return await container.portfolio.import_portfolio(
            demo_portfolio(container.clock.now().date()))

    print_report(run_with_container(work))
