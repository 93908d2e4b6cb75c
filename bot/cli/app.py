"""The ``acordo`` command line: the root app, with every command and group registered in order."""

from __future__ import annotations

import typer

from bot.cli.cadence import cadence_app
from bot.cli.channels import telegram_app, worker
from bot.cli.debts import debts_app
from bot.cli.demo import demo_app
from bot.cli.dev import dev
from bot.cli.followup import followup_app
from bot.cli.model import model_app
from bot.cli.payments import payments_app
from bot.cli.policies import policies_app
from bot.cli.portal import portal_app
from bot.cli.portfolio import import_portfolio
from bot.cli.serve import serve
from bot.cli.users import users_app

app = typer.Typer(help="Acordo: conversational negotiation for B2B credit recovery.",
                  no_args_is_help=True)
app.command()(serve)
app.command("import")(import_portfolio)
app.command()(dev)
app.command("worker")(worker)
app.add_typer(policies_app, name="policies")
app.add_typer(payments_app, name="payments")
app.add_typer(demo_app, name="demo")
app.add_typer(model_app, name="model")
app.add_typer(users_app, name="users")
app.add_typer(followup_app, name="followup")
app.add_typer(debts_app, name="debts")
app.add_typer(telegram_app, name="telegram")
app.add_typer(cadence_app, name="cadence")
app.add_typer(portal_app, name="portal")


def main() -> None:
    app()
