"""Autotask connections in the console: create, change credentials (write-only), choose the
currency, and test the stored credentials with one Autotask call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.service.errors import ServiceError
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import actor_of, checked_form, console_of, redirect, render, session_of
from contractsync.web.money import currencies

router = APIRouter(include_in_schema=False)

CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "ZAR", "JPY"]


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


@router.get("/connections")
async def connections_page(request: Request) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    error = None
    connections: list[dict[str, Any]] = []
    resellers: list[dict[str, Any]] = []
    try:
        connections = await call(service.list_connections, actor)
        resellers = await call(service.list_resellers, actor)
    except ServiceError as exc:
        error = refusal_text(exc)
    return render(
        request,
        "connections.html",
        {
            "page": "connections",
            "connections": connections,
            "resellers": resellers,
            "currencies": CURRENCIES,
            "cur": await currencies(request, actor),
            "error": error,
        },
    )


def _checked(session: Any, what: str, answer: dict[str, Any]) -> None:
    check = answer.get("credentials_check") or {}
    if check.get("ok", True):
        session.say("ok", f"{what} {check.get('message', '')}".strip())
    else:
        session.say("error", f"{what} but Autotask did not accept the credentials: {check.get('message')}")


@router.post("/connections")
async def create_connection(request: Request) -> Response:
    form = await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    service = console_of(request).service
    body: dict[str, Any] = {
        name: _text(form, name)
        for name in ("id", "reseller_id", "username", "secret", "integration_code", "timezone")
    }
    body["kind"] = "autotask"
    if _text(form, "base_url"):
        body["base_url"] = _text(form, "base_url")
    settle = _text(form, "settle_seconds")
    if settle:
        if not settle.isascii() or not settle.isdigit():
            session.say("error", "The settle time must be a whole number of seconds (0 to 86,400).")
            return redirect(request, "/connections")
        body["settle_seconds"] = int(settle)
    missing = [name for name, value in body.items() if value == ""]
    if missing:
        session.say("error", "Fill in " + ", ".join(name.replace("_", " ") for name in missing) + ".")
        return redirect(request, "/connections")
    try:
        answer = await call(service.create_connection, actor, body)
        currency = _text(form, "currency")
        if currency:
            await call(
                service.set_reconciliation_schedule,
                actor,
                {"connection_id": body["id"], "currency": currency},
            )
    except ServiceError as exc:
        session.say("error", f"Connection {body['id']} was not created: {refusal_text(exc)}")
        return redirect(request, "/connections")
    _checked(session, f"Connection {body['id']} created;", answer)
    return redirect(request, "/connections")


@router.post("/connections/{connection_id}/credentials")
async def change_credentials(request: Request, connection_id: str) -> Response:
    form = await checked_form(request)
    session = session_of(request)
    body = {
        name: _text(form, name) for name in ("secret", "username", "integration_code") if _text(form, name)
    }
    if "secret" not in body:
        session.say("error", "Enter the new secret (it is never shown, so it must be typed again).")
        return redirect(request, "/connections")
    try:
        answer = await call(
            console_of(request).service.update_credentials, actor_of(request), connection_id, body
        )
    except ServiceError as exc:
        session.say("error", f"The credentials of {connection_id} were not changed: {refusal_text(exc)}")
        return redirect(request, "/connections")
    _checked(session, f"Credentials of {connection_id} saved;", answer)
    return redirect(request, "/connections")


@router.post("/connections/{connection_id}/currency")
async def change_currency(request: Request, connection_id: str) -> Response:
    form = await checked_form(request)
    session = session_of(request)
    currency = _text(form, "currency").upper()
    try:
        await call(
            console_of(request).service.set_reconciliation_schedule,
            actor_of(request),
            {"connection_id": connection_id, "currency": currency},
        )
    except ServiceError as exc:
        session.say("error", f"The currency of {connection_id} was not changed: {refusal_text(exc)}")
    else:
        session.say("ok", f"{connection_id}'s amounts are now shown in {currency}.")
    return redirect(request, "/connections")


@router.post("/connections/{connection_id}/test")
async def test_connection(request: Request, connection_id: str) -> Response:
    await checked_form(request)
    session = session_of(request)
    try:
        check = await call(console_of(request).service.test_connection, actor_of(request), connection_id)
    except ServiceError as exc:
        session.say("error", f"{connection_id} could not be tested: {refusal_text(exc)}")
    else:
        if check.get("ok"):
            session.say("ok", f"{connection_id}: {check.get('message')}.")
        else:
            session.say("error", f"{connection_id}: {check.get('message')}")
    return redirect(request, "/connections")
