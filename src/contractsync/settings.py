"""Configuration from the environment (and a `.env` file), as API.md names it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTSYNC_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./contractsync.db"
    #: provider-level API token; generated and printed on first start when unset
    admin_token: str | None = None
    #: Fernet key for stored PSA credentials; generated into the data dir when unset
    secret_key: str | None = None
    #: where generated keys and the demo's sandbox data live
    data_dir: Path = Path(".contractsync")
    #: hosts besides *.autotask.net that Autotask requests may go to: "host[:port],…" (http allowed)
    psa_allowed_hosts: str = ""
    #: contractsync's own share of each Autotask database's hourly request budget (the tenant's
    #: threshold, read from ThresholdInformation, caps it further)
    autotask_hourly_budget: int = Field(default=5_000, ge=1)
    #: how often one process per connection reads GET /ThresholdInformation to correct the budget
    autotask_threshold_refresh_seconds: float = Field(default=300.0, gt=0)
