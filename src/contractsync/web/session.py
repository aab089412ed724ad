"""The console session: who signed in, the CSRF token, and a one-shot message for the next page.

It lives entirely in one signed cookie (HttpOnly, SameSite=Lax). The API token itself is never
put in the cookie: a stolen cookie expires with the session and does not reveal the token.
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
SESSION_SECONDS = 12 * 3600  # a working day; then sign in again


@dataclass
class Flash:
    kind: str  # "ok" | "error"
    text: str


@dataclass
class ConsoleSession:
    csrf_token: str
    signed_in: bool = False
    reseller_id: str | None = None
    flash: Flash | None = None
    dirty: bool = field(default=False, compare=False)

    @classmethod
    def fresh(cls) -> ConsoleSession:
        return cls(csrf_token=secrets.token_urlsafe(32), dirty=True)

    @property
    def actor(self) -> Actor | None:
        return Actor(self.reseller_id) if self.signed_in else None

    def sign_in(self, actor: Actor) -> None:
        # A new CSRF token on sign-in: a token planted before sign-in is worthless afterwards.
        self.csrf_token = secrets.token_urlsafe(32)
        self.signed_in, self.reseller_id, self.dirty = True, actor.reseller_id, True

    def sign_out(self) -> None:
        self.csrf_token = secrets.token_urlsafe(32)
        self.signed_in, self.reseller_id, self.dirty = False, None, True

    def say(self, kind: str, text: str) -> None:
        self.flash, self.dirty = Flash(kind, text), True

    def pop_flash(self) -> Flash | None:
        flash, self.flash = self.flash, None
        if flash is not None:
            self.dirty = True
        return flash

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"c": self.csrf_token, "s": self.signed_in, "r": self.reseller_id}
        if self.flash is not None:
            data["f"] = [self.flash.kind, self.flash.text[:500]]
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ConsoleSession | None:
        csrf, signed_in, reseller_id = data.get("c"), data.get("s"), data.get("r")
        if not isinstance(csrf, str) or not isinstance(signed_in, bool):
            return None
        if reseller_id is not None and not isinstance(reseller_id, str):
            return None
        flash = data.get("f")
        return cls(
            csrf_token=csrf,
            signed_in=signed_in,
            reseller_id=reseller_id,
            flash=Flash(str(flash[0]), str(flash[1]))
            if isinstance(flash, list) and len(flash) == 2
            else None,
        )


class SessionCookies:
    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._signer = Signer(key, "contractsync.console.session")
        self._secure = secure

    def load(self, request: Request) -> ConsoleSession:
        raw = request.cookies.get(COOKIE_NAME)
        data = self._signer.unsign(raw) if raw else None
        session = ConsoleSession.from_data(data) if data is not None else None
        return session or ConsoleSession.fresh()

    def store(self, response: Response, session: ConsoleSession) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self._signer.sign(session.to_data(), SESSION_SECONDS),
            max_age=SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
