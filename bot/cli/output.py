"""Where the commands print: results on stdout, problems and progress on stderr."""

from rich.console import Console

out = Console()
err = Console(stderr=True)
