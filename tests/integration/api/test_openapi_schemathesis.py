"""The OpenAPI document, and schemathesis against it in-process: no 5xx for any generated
input, and every answer (success or error envelope) matches the documented schema.

The service is the real façade; every connection, whatever it was created with, reaches the
Autotask sandbox (started on first use). Partner Center's routes are left out: a generated source
would sign in at Microsoft (tests/integration/partner_center covers them against its sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from contractsync.api.app import create_api
from contractsync.service.actor import ADMIN as ADMIN_ACTOR
from contractsync.service.facade import ContractSync
from tests.integration.api.conftest import SUBSCRIPTION, TestClient
from tests.integration.api.schemathesis_checks import validate_with_every_check
from tests.memory_service import ADMIN_TOKEN, RESELLER_TOKEN, memory_service, reseller_service
from tests.sandbox_autotask import SandboxAutotask


class _Autotask:
    """The Autotask sandbox, started when a generated request first reaches it."""

    sandbox: SandboxAutotask | None = None

    def __call__(self, connection: object) -> Any:
        if self.sandbox is None:
            self.sandbox = SandboxAutotask(validate=False).start()
        return self.sandbox.connector


_AUTOTASK = _Autotask()


@pytest.fixture(scope="module", autouse=True)
def _autotask_stopped() -> Iterator[None]:
    yield
    if _AUTOTASK.sandbox is not None:
        _AUTOTASK.sandbox.stop()
        _AUTOTASK.sandbox = None


def _seeded_service() -> ContractSync:
    """Enough data that generated reads sometimes find something and answer 200: the façade over
    the in-memory unit of work."""
    service = reseller_service(connectors=_AUTOTASK, partner_center=False)
    service.create_connection(
        ADMIN_ACTOR,
        {
            "id": "at1",
            "reseller_id": "r1",
            "kind": "autotask",
            "username": "u",
            "secret": "s",
            "integration_code": "IC",
            "timezone": "UTC",
        },
    )
    service.create_customer(ADMIN_ACTOR, {"id": "c1", "reseller_id": "r1", "name": "Contoso"})
    service.create_subscription(ADMIN_ACTOR, SUBSCRIPTION)
    return service


app = create_api(_seeded_service(), api_docs="on")


def _schema(token: str) -> Any:
    # Auth through schemathesis' own config, so it knows which requests carry the token when it
    # generates negative cases (a header added behind its back would look like accepted bad data).
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"HTTPBearer": {"bearer": token}}}})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config).exclude(
        path_regex="^/v1/partner-center"
    )


as_admin, as_reseller = _schema(ADMIN_TOKEN), _schema(RESELLER_TOKEN)
EXAMPLES = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


@as_admin.parametrize()
@EXAMPLES
def test_api_conforms_to_its_schema_as_admin(case: schemathesis.Case) -> None:
    validate_with_every_check(case)


@as_reseller.parametrize()
@EXAMPLES
def test_api_conforms_to_its_schema_as_a_reseller(case: schemathesis.Case) -> None:
    validate_with_every_check(case)


def test_openapi_and_docs_are_served() -> None:
    with TestClient(create_api(memory_service(), api_docs="on")) as client:
        document = client.get("/openapi.json")
        docs = client.get("/docs")
    assert document.status_code == 200
    paths = document.json()["paths"]
    for path, method in [
        ("/v1/resellers", "post"),
        ("/v1/resellers", "get"),
        ("/v1/resellers/{reseller_id}/billing-approvals", "post"),
        ("/v1/connections", "post"),
        ("/v1/connections", "get"),
        ("/v1/customers", "post"),
        ("/v1/customers", "get"),
        ("/v1/customers/{customer_id}/provider-margins/{provider}", "put"),
        ("/v1/subscriptions", "post"),
        ("/v1/subscriptions", "get"),
        ("/v1/subscriptions/{subscription_id}", "get"),
        ("/v1/subscriptions/{subscription_id}/operations", "post"),
        ("/v1/mappings/customers", "post"),
        ("/v1/mappings/subscriptions", "post"),
        ("/v1/mappings/subscriptions/{subscription_id}", "delete"),
        ("/v1/operations", "get"),
        ("/v1/operations/{operation_id}", "get"),
        ("/v1/operations/{operation_id}/retry", "post"),
        ("/v1/contracts", "get"),
        ("/v1/contract-services", "get"),
        ("/v1/services", "get"),
        ("/v1/sweeps", "post"),
        ("/v1/deliveries/run", "post"),
        ("/v1/reconciliation", "get"),
        ("/v1/reconciliation", "post"),
        ("/v1/manual-actions", "get"),
        ("/v1/alerts", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    ]:
        assert method in paths.get(path, {}), (method, path)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    # The secret is accepted but documented as write-only, and answers never declare it.
    schemas = document.json()["components"]["schemas"]
    assert schemas["NewConnection"]["properties"]["secret"]["writeOnly"] is True
    assert "secret" not in schemas["Connection"]["properties"]
