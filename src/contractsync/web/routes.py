"""Mounting the web console on the API's FastAPI app.

register_console(app, service) adds the pages at `/` (kept out of the OpenAPI document), the
static files under `/assets/`, and the answers for "sign in first" and "CSRF token missing".
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from contractsync.service.console_session_policy import SessionPolicy
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from contractsync.web import (
    audit_pages,
    auth_pages,
    connection_pages,
    customer_pages,
    dashboard_pages,
    error_pages,
    exports,
    mapping_pages,
    overview_pages,
    partner_center_pages,
    subscription_pages,
)
from contractsync.web.context import (
    Console,
    CsrfRefused,
    SignInRequired,
    render,
    session_of,
    sign_in_redirect,
)
from contractsync.web.formatting import MoneyFormat
from contractsync.web.signin_limit import SignInLimit
from contractsync.web.transport import Transport

STATIC_DIR = Path(__file__).parent / "static"


def register_console(
    app: FastAPI,
    service: ContractSync,
    *,
    secure_cookies: bool = False,
    session_key: bytes | None = None,
    settings: Settings | None = None,
) -> None:
    """`session_key` signs the session cookie; without one, a random key is used and every
    restart signs everybody out (fine for tests, pass a stored key in production). `settings`:
    session lifetimes, sign-in limits, the public URL and trusted proxies (defaults without)."""
    config = settings or Settings(_env_file=None)
    app.state.console = Console.build(
        service,
        session_key or secrets.token_bytes(32),
        secure_cookies=secure_cookies,
        policy=SessionPolicy(config.session_idle_minutes * 60, config.session_max_hours * 3600),
        transport=Transport.configure(config.public_url, config.trusted_proxies),
        signin_limit=SignInLimit(service, config.signin_rate_limit, config.signin_rate_limit_total),
        money=MoneyFormat(config.console_locale, config.currency),
    )
    error_pages.install(app)
    app.state.console_viewer = lambda request: session_of(request).signed_in  # for /docs (api/docs.py)
    app.mount("/assets", StaticFiles(directory=STATIC_DIR), name="console-assets")
    for module in (
        auth_pages,
        dashboard_pages,
        exports,
        customer_pages,
        connection_pages,
        partner_center_pages,
        subscription_pages,
        audit_pages,
        mapping_pages,
        overview_pages,
    ):
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(request: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(request, exc.next_path)

    @app.exception_handler(CsrfRefused)
    async def _csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return render(
            request,
            "refused.html",
            {
                "page": "",
                "title": "Form refused",
                "message": "This form was not accepted because its security token is missing or out of date "
                "(the page may be old, or you signed in again elsewhere). Nothing was changed. "
                "Reload the page and try again.",
            },
            status=403,
        )
