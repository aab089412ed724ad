"""The API as `contractsync serve` runs it, on a given database, for `bench_operations.py`.

    python benchmarks/serve_api.py DATABASE_URL DATA_DIR PORT TOKEN

Registers TOKEN as an admin token, then serves until killed (uvicorn, one process, INFO request
log lines to stderr as in production). `GET /bench/group-commit` (this script's own, no token)
answers how many group-commit transactions ran, how many operations they held, how many
requests the fast path answered, and how many SQL statements the process ran (SQLAlchemy's `before_cursor_execute`).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import uvicorn
from sqlalchemy import event

from contractsync import bootstrap
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
    group_commit = getattr(service, "_operations", None)  # a baseline's façade may have none
    statements = itertools.count()
    event.listen(service.context.sessions.kw["bind"], "before_cursor_execute", lambda *_: next(statements))

    def group_commit_counts() -> dict[str, int]:
        return {
            "groups": getattr(group_commit, "groups", 0),
            "operations": getattr(group_commit, "operations", 0),
            "statements": next(statements),  # (counts itself: one more per call)
            "fast_path": getattr(getattr(app, "fast_path", None), "answered", 0),
        }

    app.add_api_route("/bench/group-commit", group_commit_counts, methods=["GET"])
    # a baseline's may have the older name, or none
    freeze = getattr(bootstrap, "tune_garbage_collector", None) or getattr(
        bootstrap, "freeze_startup_objects", None
    )
    if freeze is not None:
        freeze()
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_config=None, access_log=False)


if __name__ == "__main__":
    main()
