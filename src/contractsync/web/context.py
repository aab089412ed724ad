"""What every console page needs: the façade, the session, rendering, sign-in and CSRF guards."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from contractsync.service.actor import Actor
from contractsync.service.console_session_policy import SessionPolicy
from contractsync.service.facade import ContractSync
from contractsync.web import formatting
from contractsync.web.session import ConsoleSession, SessionCookies
from contractsync.web.signin_limit import SignInLimit
from contractsync.web.transport import Transport

TEMPLATES_DIR = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: No framing (a Retry or Unmap button must not be clickable through someone else's page), only
#: our own script and styles (htmx's injected indicator style is switched off in base.html).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SignInRequired(Exception):
    """Raised by `actor_of` on pages that need a signed-in user; answered with a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form POST without the session's CSRF token; answered 403 before anything changes."""


@dataclass
class Console:
    service: ContractSync
    cookies: SessionCookies
    templates: Environment
    policy: SessionPolicy
    transport: Transport
    signin_limit: SignInLimit
    always_secure: bool = False
    money: formatting.MoneyFormat = field(default_factory=formatting.MoneyFormat)

    @classmethod
    def build(
        cls,
        service: ContractSync,
        session_key: bytes,
        *,
        secure_cookies: bool,
        policy: SessionPolicy | None = None,
        transport: Transport | None = None,
        signin_limit: SignInLimit | None = None,
        money: formatting.MoneyFormat | None = None,
    ) -> Console:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        money = money or formatting.MoneyFormat()
        formatting.install(env, money)
        policy = policy or SessionPolicy()
        return cls(
            service,
            SessionCookies(session_key, max_age_seconds=policy.max_seconds),
            env,
            policy,
            transport or Transport(),
            signin_limit or SignInLimit(service),
            secure_cookies,
            money,
        )

    def secure(self, request: Request) -> bool:
        return self.always_secure or self.transport.is_https(request)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def session_of(request: Request) -> ConsoleSession:
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    if session is None:
        console = console_of(request)
        session = console.cookies.load(request)
        if session.session_id is not None:
            # One primary-key read: who is signed in lives on the server, not in the cookie.
            session.actor = console.service.console_actor(session.session_id)
            if session.actor is None:  # signed out elsewhere, idle too long, or revoked
                session.sign_out()
        request.state.console_session = session
    return session


def actor_of(request: Request) -> Actor:
    actor = session_of(request).actor
    if actor is None:
        raise SignInRequired(
            local_path(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        )
    return actor


def local_path(candidate: str | None, default: str = "/subscriptions") -> str:
    """Only same-site paths: a `next=` pointing elsewhere would make sign-in an open redirect."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return default
    return candidate


async def checked_form(request: Request) -> FormData:
    """The submitted form, after checking its CSRF token against the session's (constant time)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session_of(request).csrf_token
    if not isinstance(sent, str) or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()
    return form


def _finish(request: Request, response: Response) -> Response:
    session = session_of(request)
    if session.dirty:
        console = console_of(request)
        console.cookies.store(response, session, secure=console.secure(request))
    # Pages show billing data: never keep them in shared caches or the back-forward cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(SECURITY_HEADERS)
    return response


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    session = session_of(request)
    console = console_of(request)
    page = console.templates.get_template(template)
    context.setdefault("cur", formatting.Currencies(console.money.currency))
    html = page.render(
        request=request,
        csrf_token=session.csrf_token,
        signed_in=session.signed_in,
        actor=session.actor,
        flash=session.pop_flash(),
        **context,
    )
    return _finish(request, HTMLResponse(html, status_code=status))


def redirect(request: Request, url: str) -> Response:
    # 303: the browser follows a POST's answer with a GET, so reloading never re-submits.
    return _finish(request, RedirectResponse(url, status_code=303))


def sign_in_redirect(request: Request, next_path: str) -> Response:
    return redirect(request, f"/signin?next={quote(next_path, safe='/')}")
