"""Configuration from the environment (and a `.env` file), as API.md names it."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: prometheus_client's variable: the directory of multiprocess mode (read when it is imported)
METRICS_PROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class Settings(BaseSettings):
    # Errors never echo a value: tokens, keys, a database URL's password, a webhook's address.
    model_config = SettingsConfigDict(
        env_prefix="CONTRACTSYNC_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite:///./contractsync.db"
    #: provider-level API token; generated and printed on first start when unset
    admin_token: str | None = None
    #: Fernet key for stored PSA credentials; generated into the data dir when unset
    secret_key: str | None = None
    #: where generated keys and the demo's sandbox data live
    data_dir: Path = Path(".contractsync")
    #: hosts besides *.autotask.net that Autotask requests may go to: "host[:port],…" (http allowed)
    psa_allowed_hosts: str = ""
    #: a PEM file of extra certificate authorities for Partner Center and sign-in calls
    partner_center_ca_file: str | None = None
    #: webhook signing certificate URLs trusted besides Microsoft's host, comma-separated
    partner_center_webhook_certificates: str = ""
    #: a PEM file of the roots a webhook signing certificate must chain to (unset: certifi's bundle)
    partner_center_webhook_trust_file: str | None = None
    #: the organisation (subject O) the webhook signing certificate must name
    partner_center_webhook_organization: str = "Microsoft Corporation"
    #: contractsync's own share of each Autotask database's hourly request budget (the tenant's
    #: threshold, read from ThresholdInformation, caps it further)
    autotask_hourly_budget: int = Field(default=5_000, ge=1)
    #: how often one process per connection reads GET /ThresholdInformation to correct the budget
    autotask_threshold_refresh_seconds: float = Field(default=300.0, gt=0)

    #: `contractsync worker --lease-seconds`: a dead worker's services are taken over this long
    #: after its last heartbeat
    lease_seconds: float = Field(default=30.0, ge=1.0)
    #: `contractsync worker --heartbeat-seconds`: how often a live worker renews its leases
    heartbeat_seconds: float = Field(default=10.0, ge=0.1)

    # --- sessions, tokens, metrics, docs (README "Sessions, tokens, metrics and docs") ---------
    #: the address users reach the console at; `https://…` makes the session cookie `Secure`
    public_url: str | None = None
    #: proxies (comma-separated IP addresses) whose X-Forwarded-Proto / X-Forwarded-For are believed
    trusted_proxies: str = ""
    #: a console session ends after this many idle minutes …
    session_idle_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    #: … and this many hours after sign-in, whatever happens
    session_max_hours: int = Field(12, ge=1, le=30 * 24)
    #: sign-in attempts allowed per client address, and in total (limits' notation, e.g. 10/minute)
    signin_rate_limit: str = "10/minute"
    signin_rate_limit_total: str = "100/minute"
    #: a bearer token for /metrics besides the admin token (at least 24 characters)
    metrics_token: str | None = None
    #: host:port serving only /metrics, without a token; /metrics then leaves the API's port
    metrics_bind: str | None = None
    #: where the processes of `serve --workers N` count their metrics (prometheus_client's own
    #: variable, which `serve` sets for the processes it starts: `count_metrics_in`)
    metrics_process_dir: Path | None = Field(default=None, validation_alias=METRICS_PROCESS_DIR)
    #: /docs and /openapi.json: on (open), auth (a token or a console session), off
    api_docs: Literal["on", "auth", "off"] = "auth"
    #: where every worker (and `serve`) POSTs each X5 alert once when raised and once when
    #: resolved (JSON: `text`, `event`, `alert`); unset: no push
    alert_webhook_url: SecretStr | None = None
    #: the console's currency for a connection that has none of its own (ISO 4217) …
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    #: … and how its numbers and amounts are written (a Babel locale, e.g. en_US, de_DE, en_GB)
    console_locale: str = "en_US"

    @field_validator("heartbeat_seconds")
    @classmethod
    def _beats_within_a_lease(cls, value: float, info: ValidationInfo) -> float:
        # serve's creations and the worker's services alike: a lease renewed less often than
        # twice in its life can run out under a live call (the worker's options say the same)
        lease = info.data.get("lease_seconds")
        if lease is not None and value * 2 > lease:
            raise ValueError(f"must be at most half of CONTRACTSYNC_LEASE_SECONDS ({lease:g})")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 24:
            raise ValueError("CONTRACTSYNC_METRICS_TOKEN must be at least 24 characters long")
        return value or None

    @field_validator("metrics_bind")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value:
            parse_bind(value)
        return value or None

    @field_validator("alert_webhook_url")
    @classmethod
    def _web_address(cls, value: SecretStr | None) -> SecretStr | None:
        # A secret (a chat webhook's address carries its key): never in an error (hide_input_in_errors).
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// address")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        parse_addresses(value)
        return value


def environment_value(name: str) -> str | None:
    """A variable the user names at run time (e.g. `partner-center add-source --secret-env`), from
    the environment or else `.env` like every setting; None when unset or empty."""
    import os

    from dotenv import dotenv_values

    env_file = Settings.model_config.get("env_file")
    value = os.environ.get(name) or (dotenv_values(str(env_file)).get(name) if env_file else None)
    return value or None


def count_metrics_in(directory: Path) -> None:
    """`serve --workers N`: the processes started from here on count their metrics in `directory`
    (prometheus_client's multiprocess mode, chosen when a process first imports it)."""
    import os

    os.environ[METRICS_PROCESS_DIR] = str(directory)


def parse_bind(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:9100` for IPv6) → (host, port); ValueError with a readable reason."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"CONTRACTSYNC_METRICS_BIND must be host:port, not {value!r}")
    return host, int(port)


def parse_addresses(text: str) -> frozenset[str]:
    """`10.0.0.1, ::1` → the normalised addresses; a malformed entry is a configuration error."""
    found = set()
    for part in text.split(","):
        part = part.strip()
        if part:
            try:
                found.add(str(ip_address(part)))
            except ValueError:
                raise ValueError(f"CONTRACTSYNC_TRUSTED_PROXIES: {part!r} is not an IP address") from None
    return frozenset(found)
