"""The Partner Center sandbox as a FastAPI app: the documented REST shapes under `/v1/`, the
sign-in endpoints MSAL uses under `/{tenant}/`, webhook registration under `/webhooks/v1/`,
and admin endpoints under `/sandbox/` (seed, faults, renewals, request counts, deliveries).

Built from Microsoft's documentation only (README.md cites each shape); it never imports
contractsync's domain, service or Partner Center client.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from contractsync.partner_center_sandbox.keys import SandboxAuthority, make_sandbox_authority
from contractsync.partner_center_sandbox.state import Fault, SandboxConfig, SandboxFault, SandboxState
from contractsync.partner_center_sandbox.webhooks import WebhookSender

JSON = dict[str, Any]
#: where the signing certificate's issuer (the test intermediate) is published
INTERMEDIATE_PATH = "/sandbox/webhook-intermediate.cer"
MAX_PAGE = 500  # Partner Center pages customers by `size`; the sandbox caps it like a service would


def create_app(config: SandboxConfig | None = None, public_url: str = "https://127.0.0.1") -> FastAPI:
    """`public_url`: where the sandbox is reached (set by the server once its port is known)."""
    config = config or SandboxConfig()
    state = SandboxState(config)
    _seed(state, config.seed)
    authority = make_sandbox_authority()
    app = FastAPI(title="contractsync Partner Center sandbox")
    app.state.pc = state
    app.state.authority = authority
    app.state.public_url = public_url
    app.state.webhooks = WebhookSender(state, authority.issue(f"{public_url}{INTERMEDIATE_PATH}"), "", "")

    def webhooks() -> WebhookSender:
        sender: WebhookSender = app.state.webhooks
        sender.certificate_url = f"{app.state.public_url}/sandbox/webhook-certificate.cer"
        sender.api_root = app.state.public_url
        return sender

    @app.middleware("http")
    async def count_and_fault(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path.startswith("/v1/") or path.startswith("/webhooks/"):
            state.requests[f"{request.method} {_route_name(path)}"] += 1
            fault = state.take_fault(path)
            if fault is not None:
                return _fault_response(fault)
        answer: Response = await call_next(request)
        return answer

    @app.exception_handler(SandboxFault)
    async def sandbox_fault(request: Request, exc: SandboxFault) -> Response:
        return JSONResponse(_error(exc.status, exc.message), status_code=exc.status, headers=exc.headers)

    app.include_router(_identity(state))
    app.include_router(_api(state, webhooks))
    app.include_router(_admin(state, authority, webhooks))
    return app


def _seed(state: SandboxState, seed: str | None) -> None:
    if seed is None or seed == "demo":
        return  # the demo posts its own customers through /sandbox/customers
    customers, _, per_customer = seed.partition("x")
    if not (customers.isdigit() and per_customer.isdigit()):
        raise ValueError(f"unknown seed {seed!r} (demo, or CUSTOMERSxSUBSCRIPTIONS such as 200x5)")
    state.seed_generated(int(customers), int(per_customer))


def _fault_response(fault: Fault) -> Response:
    if fault.status == 429:
        # The documented throttling answer (API throttling guidance).
        body = {
            "statusCode": 429,
            "message": f"Rate limit is exceeded. Try again in {fault.retry_after} seconds.",
        }
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(fault.retry_after)})
    return JSONResponse(_error(fault.status, "injected fault"), status_code=fault.status)


def _error(status: int, description: str) -> JSON:
    """The error body of Partner Center's samples ("Change the quantity of a subscription")."""
    return {"code": status, "description": description, "data": [], "source": "PartnerFD"}


def _route_name(path: str) -> str:
    """`/v1/customers/{id}/subscriptions/{id}` style names for the request counts."""
    parts = path.strip("/").split("/")
    named = [
        "{id}" if i and parts[i - 1] in ("customers", "subscriptions", "orders") else p
        for i, p in enumerate(parts)
    ]
    return "/" + "/".join(named)


# --- sign-in (the endpoints MSAL calls for an authority) ----------------------------------------


def _identity(state: SandboxState) -> APIRouter:
    router = APIRouter()

    @router.get("/{tenant}/v2.0/.well-known/openid-configuration")
    def openid_configuration(tenant: str, request: Request) -> JSON:
        base = str(request.base_url).rstrip("/")
        return {
            "issuer": f"{base}/{tenant}/v2.0",
            "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        }

    @router.post("/{tenant}/oauth2/v2.0/token")
    def token(
        tenant: str,
        grant_type: str = Form(...),
        client_id: str = Form(...),
        client_secret: str | None = Form(None),
        refresh_token: str | None = Form(None),
    ) -> Response:
        if tenant != state.config.partner_tenant:
            return _oauth_error(
                400, "invalid_request", f"tenant {tenant} is not this sandbox's partner tenant"
            )
        if grant_type != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type", "the sandbox supports the refresh_token grant")
        try:
            return JSONResponse(state.issue_tokens(client_id, client_secret or "", refresh_token))
        except SandboxFault as fault:
            return _oauth_error(fault.status, fault.message, f"AADSTS: {fault.message}")

    return router


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


# --- the REST API -------------------------------------------------------------------------------


def _api(state: SandboxState, webhooks: Any) -> APIRouter:
    def bearer(authorization: str | None = Header(None)) -> None:
        state.check_bearer(authorization)

    router = APIRouter(dependencies=[Depends(bearer)])

    @router.get("/v1/customers")
    def customers(
        size: int = 100,
        seek_operation: str | None = Query(None, alias="seekOperation"),
        ms_continuationtoken: str | None = Header(None, alias="MS-ContinuationToken"),
    ) -> JSON:
        size = max(1, min(size, MAX_PAGE))
        start = 0
        if ms_continuationtoken:
            start = _decode_token(ms_continuationtoken)
        with state.lock:
            everyone = list(state.customers.values())
        page = everyone[start : start + size]
        answer: JSON = {
            "totalCount": len(page),
            "items": page,
            "links": {"self": {"uri": f"/customers?size={size}", "method": "GET", "headers": []}},
            "attributes": {"objectType": "Collection"},
        }
        if start + size < len(everyone):
            answer["links"]["next"] = {
                "uri": f"/customers?size={size}&seekOperation=Next",
                "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": _encode_token(start + size)}],
            }
        return answer

    @router.get("/v1/customers/{customer_id}")
    def customer(customer_id: str) -> JSON:
        with state.lock:
            found = state.customers.get(customer_id)
        if found is None:
            raise SandboxFault(404, f"customer {customer_id} not found")
        return found

    @router.get("/v1/customers/{customer_id}/subscriptions")
    def subscriptions(customer_id: str) -> JSON:
        with state.lock:
            if customer_id not in state.customers:
                raise SandboxFault(404, f"customer {customer_id} not found")
            items = [json.loads(json.dumps(s)) for s in state.subscriptions[customer_id].values()]
        return {
            "totalCount": len(items),
            "items": items,
            "links": {},
            "attributes": {"objectType": "Collection"},
        }

    @router.get("/v1/customers/{customer_id}/subscriptions/{subscription_id}")
    def subscription(customer_id: str, subscription_id: str) -> JSON:
        return state.subscription(customer_id, subscription_id)

    @router.patch("/v1/customers/{customer_id}/subscriptions/{subscription_id}")
    async def patch(customer_id: str, subscription_id: str, request: Request) -> JSON:
        changed = state.patch_subscription(customer_id, subscription_id, await _body(request))
        webhooks().subscription_updated(customer_id, subscription_id)
        return changed

    @router.get("/v1/customers/{customer_id}/orders/{order_id}")
    def order(customer_id: str, order_id: str) -> JSON:
        return state.order(customer_id, order_id)

    @router.get("/v1/customers/{customer_id}/subscriptions/{subscription_id}/transitions")
    def transitions(customer_id: str, subscription_id: str) -> JSON:
        state.subscription(customer_id, subscription_id)
        with state.lock:
            items = list(state.transitions.get(subscription_id, []))
        return {"transition": items, "attributes": {"objectType": "Collection"}}

    @router.post("/v1/customers/{customer_id}/subscriptions/{subscription_id}/transitions")
    async def transition(customer_id: str, subscription_id: str, request: Request) -> JSON:
        record = state.transition(customer_id, subscription_id, await _body(request))
        webhooks().subscription_updated(customer_id, subscription_id)
        webhooks().subscription_updated(customer_id, record["toSubscriptionId"])
        return record

    @router.get("/webhooks/v1/registration/events")
    def events() -> list[str]:
        return ["subscription-updated", "test-created"]

    @router.get("/webhooks/v1/registration")
    def get_registration() -> JSON:
        if state.registration is None:
            raise SandboxFault(404, "no registration")
        return {k: v for k, v in state.registration.items() if k != "SubscriberId"}

    @router.post("/webhooks/v1/registration")
    @router.put("/webhooks/v1/registration")
    async def register(request: Request) -> JSON:
        body = {key.lower(): value for key, value in (await _body(request)).items()}
        url, wanted = body.get("webhookurl"), body.get("webhookevents")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SandboxFault(400, "WebhookUrl must be an absolute http(s) URL")
        if not isinstance(wanted, list) or not all(
            e in ("subscription-updated", "test-created") for e in wanted
        ):
            raise SandboxFault(400, "WebhookEvents must list supported events")
        with state.lock:
            subscriber = (state.registration or {}).get("SubscriberId") or str(uuid.uuid4())
            state.registration = {"SubscriberId": subscriber, "WebhookUrl": url, "WebhookEvents": wanted}
            return dict(state.registration)

    return router


async def _body(request: Request) -> JSON:
    try:
        body = await request.json()
    except ValueError:
        raise SandboxFault(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise SandboxFault(400, "the body must be a JSON object")
    return body


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "offset" or not value.isdigit():
            raise ValueError(token)
        return int(value)
    except ValueError:
        raise SandboxFault(400, "MS-ContinuationToken is not valid") from None


# --- admin ------------------------------------------------------------------------------------


def _admin(state: SandboxState, authority: SandboxAuthority, webhooks: Any) -> APIRouter:
    router = APIRouter(prefix="/sandbox")

    @router.get("/webhook-certificate.cer")
    def certificate() -> Response:
        """The signing certificate alone (DER), as Partner Center publishes its own."""
        return Response(webhooks().signer.certificate_der, media_type="application/pkix-cert")

    @router.get("/webhook-intermediate.cer")
    def intermediate() -> Response:
        """The signing certificate's issuer, where its Authority Information Access points."""
        return Response(authority.intermediate.certificate_der, media_type="application/pkix-cert")

    @router.post("/customers")
    async def add_customers(request: Request) -> JSON:
        """`{"customers": [{"tenantId", "companyName", "subscriptions": [{id, offerId, offerName,
        quantity, startDate, termDuration?, billingCycle?, autoRenewEnabled?, status?}]}]}`."""
        body = await _body(request)
        added = 0
        for customer in body.get("customers", []):
            state.add_customer(customer["tenantId"], customer["companyName"])
            for s in customer.get("subscriptions", []):
                state.add_subscription(
                    customer["tenantId"],
                    subscription_id=s["id"],
                    offer_id=s["offerId"],
                    offer_name=s["offerName"],
                    quantity=int(s["quantity"]),
                    start=date.fromisoformat(s["startDate"]),
                    term=s.get("termDuration", "P1Y"),
                    billing_cycle=s.get("billingCycle", "monthly"),
                    auto_renew=bool(s.get("autoRenewEnabled", True)),
                    status=s.get("status", "active"),
                )
                added += 1
        return {"subscriptions": added}

    @router.post("/customers/{customer_id}/subscriptions/{subscription_id}/renew")
    def renew(customer_id: str, subscription_id: str) -> JSON:
        renewed = state.renew(customer_id, subscription_id)
        webhooks().subscription_updated(customer_id, subscription_id)
        return renewed

    @router.post("/faults")
    async def add_fault(request: Request) -> JSON:
        """`{"status": 429 | 500 | 503, "count": N, "retry_after": S, "path_contains": "…"}`."""
        body = await _body(request)
        status = int(body.get("status", 0))
        if status != 429 and not 500 <= status <= 599:
            raise SandboxFault(400, "status must be 429 or a 5xx")
        fault = Fault(
            status,
            int(body.get("count", 1)),
            int(body.get("retry_after", 1)),
            str(body.get("path_contains", "")),
        )
        with state.lock:
            state.faults.append(fault)
        return {"faults": len(state.faults)}

    @router.delete("/faults")
    def clear_faults() -> JSON:
        with state.lock:
            state.faults.clear()
        return {"faults": 0}

    @router.post("/tokens/revoke")
    def revoke() -> JSON:
        state.revoke_access_tokens()
        return {"revoked": True}

    @router.get("/stats")
    def stats() -> JSON:
        with state.lock:
            return {"requests": dict(state.requests), "total": sum(state.requests.values())}

    @router.get("/deliveries")
    def deliveries() -> list[JSON]:
        with state.lock:
            return [dict(d) for d in state.deliveries]

    @router.get("/", response_class=HTMLResponse)
    def page() -> str:
        rows = []
        with state.lock:
            for customer_id, subs in state.subscriptions.items():
                name = state.customers[customer_id]["companyProfile"]["companyName"]
                for s in subs.values():
                    rows.append(
                        f"<tr><td>{_esc(name)}</td><td>{_esc(s['offerName'])}</td><td>{s['status']}</td>"
                        f"<td><form method=post action='/sandbox/seats/{customer_id}/{s['id']}'>"
                        f"<input name=quantity type=number min=1 value={s['quantity']}>"
                        "<button>Set seats</button></form></td></tr>"
                    )
        return (
            "<!doctype html><title>Partner Center sandbox</title><h1>Partner Center sandbox</h1>"
            "<table border=1><tr><th>Customer</th><th>Offer</th><th>Status</th><th>Seats</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    @router.post("/seats/{customer_id}/{subscription_id}", response_class=HTMLResponse)
    def set_seats(customer_id: str, subscription_id: str, quantity: int = Form(...)) -> str:
        state.patch_subscription(customer_id, subscription_id, {"quantity": quantity})
        webhooks().subscription_updated(customer_id, subscription_id)
        return "<!doctype html><p>Seats changed. <a href='/sandbox/'>Back</a></p>"

    return router


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
