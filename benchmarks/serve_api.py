"""The API as `contractsync serve` runs it, on a given database, for `bench_operations.py`.

    python benchmarks/serve_api.py DATABASE_URL DATA_DIR PORT TOKEN

Registers TOKEN as an admin token, then serves until killed (uvicorn, one process, INFO request
log lines to stderr as in production).
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from contractsync.adapters.logging import configure_logging
from contractsync.bootstrap import build_app_service, build_web_app
from contractsync.settings import Settings


def main() -> None:
    url, data_dir, port, token = sys.argv[1:5]
    configure_logging(json=True)
    settings = Settings(database_url=url, data_dir=Path(data_dir))
    service = build_app_service(settings, upgrade=False)
    service.create_token_value(None, token)
    app = build_web_app(service, settings)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_config=None, access_log=False)


if __name__ == "__main__":
    main()
