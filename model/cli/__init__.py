"""The ``aar-risk`` command line."""

from model.cli.commands import cli, main

__all__ = ["cli", "main"]
