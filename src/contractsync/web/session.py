"""The console session: the CSRF token, a one-shot message for the next page, and — once signed
in — the secret of a server-side session (table `console_sessions`).

All of it travels in one signed cookie (HttpOnly, SameSite=Lax, Secure when served over https).
Who is signed in is looked up on the server from the session secret on each request, so signing
out, the idle timeout, the session's lifetime or revoking the token end the session everywhere:
a copied cookie is worth nothing afterwards. The API token itself is never put in the cookie.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from contractsync.service.actor import Actor
from contractsync.web.signing import Signer

COOKIE_NAME = "contractsync_console"


@dataclass
class Flash:
    kind: str  # "ok" | "error"
    text: str


@dataclass
class ConsoleSession:
    csrf_token: str
    session_id: str | None = None  # the server-side session's secret
    flash: Flash | None = None
    dirty: bool = field(default=False, compare=False)
    actor: Actor | None = field(default=None, compare=False)  # resolved on the server

    @classmethod
    def fresh(cls) -> ConsoleSession:
        return cls(csrf_token=secrets.token_urlsafe(32), dirty=True)

    @property
    def signed_in(self) -> bool:
        return self.actor is not None

    def sign_in(self, session_id: str, actor: Actor) -> None:
        # A new CSRF token on sign-in: a token planted before sign-in is worthless afterwards.
        self.csrf_token = secrets.token_urlsafe(32)
        self.session_id, self.actor, self.dirty = session_id, actor, True

    def sign_out(self) -> None:
        self.csrf_token = secrets.token_urlsafe(32)
        self.session_id, self.actor, self.dirty = None, None, True

    def say(self, kind: str, text: str) -> None:
        self.flash, self.dirty = Flash(kind, text), True

    def pop_flash(self) -> Flash | None:
        flash, self.flash = self.flash, None
        if flash is not None:
            self.dirty = True
        return flash

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"c": self.csrf_token, "i": self.session_id}
        if self.flash is not None:
            data["f"] = [self.flash.kind, self.flash.text[:500]]
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ConsoleSession | None:
        csrf, session_id = data.get("c"), data.get("i")
        if not isinstance(csrf, str):
            return None
        if session_id is not None and not isinstance(session_id, str):
            return None
        flash = data.get("f")
        return cls(
            csrf_token=csrf,
            session_id=session_id,
            flash=Flash(str(flash[0]), str(flash[1]))
            if isinstance(flash, list) and len(flash) == 2
            else None,
        )


class SessionCookies:
    def __init__(self, key: bytes, *, max_age_seconds: int) -> None:
        self._signer = Signer(key, "contractsync.console.session")
        self._max_age = max_age_seconds

    def load(self, request: Request) -> ConsoleSession:
        raw = request.cookies.get(COOKIE_NAME)
        data = self._signer.unsign(raw) if raw else None
        session = ConsoleSession.from_data(data) if data is not None else None
        return session or ConsoleSession.fresh()

    def store(self, response: Response, session: ConsoleSession, *, secure: bool) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self._signer.sign(session.to_data(), self._max_age),
            max_age=self._max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
