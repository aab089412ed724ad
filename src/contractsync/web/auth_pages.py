"""Sign-in with an API token, sign-out, and the console's front door."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.service.errors import ServiceError, Unauthorized
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import (
    checked_form,
    console_of,
    local_path,
    redirect,
    render,
    session_of,
)

router = APIRouter(include_in_schema=False)


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None) -> Response:
    if session_of(request).signed_in:
        return redirect(request, local_path(next))
    return render(request, "signin.html", {"next": local_path(next), "error": None, "page": "signin"})


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await checked_form(request)
    console = console_of(request)
    next_path = local_path(str(form.get("next") or ""))
    if not await call(console.signin_limit.allow, console.transport.client_address(request)):
        return too_many_attempts(request, next_path)
    token = str(form.get("token") or "").strip()
    error: str | None = None
    if not token:
        error = "Enter your API token."
    else:
        try:
            session_id, actor = await call(console.service.start_console_session, token, console.policy)
        except Unauthorized:
            error = "That token is not valid. Check it and try again."
        except ServiceError as exc:
            error = refusal_text(exc)
        else:
            session = session_of(request)
            session.sign_in(session_id, actor)
            who = "the provider (all resellers)" if actor.is_admin else f"reseller {actor.reseller_id}"
            session.say("ok", f"Signed in as {who}.")
            return redirect(request, next_path)
    return render(request, "signin.html", {"next": next_path, "error": error, "page": "signin"}, status=401)


def too_many_attempts(request: Request, next_path: str) -> Response:
    limit = console_of(request).signin_limit
    wait = limit.retry_after_seconds
    error = (
        "Too many sign-in attempts. Nothing was checked; wait "
        + (f"{wait // 60} minute(s)" if wait >= 60 else f"{wait} seconds")
        + " and try again."
    )
    response = render(
        request, "signin.html", {"next": next_path, "error": error, "page": "signin"}, status=429
    )
    response.headers["Retry-After"] = str(wait)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await checked_form(request)
    session = session_of(request)
    if session.session_id is not None:
        await call(console_of(request).service.end_console_session, session.session_id)
    session.sign_out()
    session.say("ok", "Signed out.")
    return redirect(request, "/signin")
