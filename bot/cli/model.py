"""`acordo model ensure`: train the Rasa model when dialogs/ changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.output import out

model_app = typer.Typer(help="The Rasa model.", no_args_is_help=True)


@model_app.command("ensure")
def model_ensure(force: Annotated[bool, typer.Option(help="train even if current")] = False) -> None:
    """Train the Rasa model if dialogs/ changed since the last training."""
    from bot.devtools.model import ensure_model

    root = Path.cwd()
    trained = ensure_model(root / "dialogs", root / ".venv-rasa" / "bin" / "rasa", force=force)
    out.print("model trained" if trained else "model is current", markup=False)
