"""The `contractsync` command line: one module per command group, assembled in `app.py`."""

from contractsync.cli.app import app, main

__all__ = ["app", "main"]
