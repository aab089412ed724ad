"""The web console: server-rendered pages (Jinja2 + htmx) on the API's FastAPI app."""

from contractsync.web.routes import register_console

__all__ = ["register_console"]
