"""A local server that speaks the Autotask REST API (SPEC.md §3).

- `app.create_app(SandboxConfig)` builds the FastAPI app; `server.SandboxServer` runs it on a free
  loopback port in a background thread (tests, benchmarks, the demo); `cli.register` adds the
  `contractsync sandbox` command.
- The model: `periods` (contract billing periods by `contractPeriodType`), `ledger` (units, price
  and cost of a contract service over time), `service_units` (ContractServiceUnits rows),
  `adjustments` (create-only adjustments and their rejections), `posting` (approve-and-post and
  BillingItems), `records` (the plain entities), `store` (memory, optionally SQLite).
- The wire: `routes_entities` (/atservicesrest/v1.0/...), `query_filter`, `wire` (Decimal JSON),
  `limits` (request budget, thread limit), `faults` (injection); `routes_admin` (/sandbox/...).
"""

from contractsync.sandbox.app import create_app
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig

__all__ = ["SandboxConfig", "SandboxServer", "create_app"]
