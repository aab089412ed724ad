"""Shared database fixtures: every database test runs on SQLite and on PostgreSQL.

Migrations run once per session into a template (a SQLite file, a PostgreSQL template database);
each test gets a fresh copy, which is much faster than migrating per test. The postgres
parameter is skipped unless CONTRACTSYNC_TEST_POSTGRES_URL is set, e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db import migrate
from contractsync.adapters.db.session import make_engine
from contractsync.adapters.db.session import session_factory as make_session_factory

POSTGRES_ENV = "CONTRACTSYNC_TEST_POSTGRES_URL"


def _postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _libpq_dsn(sqlalchemy_url: str, database: str | None = None) -> str:
    url = make_url(sqlalchemy_url)
    if database is not None:
        url = url.set(database=database)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database(base_url: str, template: str | None = None) -> str:
    """Create a uniquely named database and answer its SQLAlchemy URL."""
    name = f"cs_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_dsn(base_url), autocommit=True) as admin:
        clause = f" TEMPLATE {template}" if template else ""
        admin.execute(f"CREATE DATABASE {name}{clause}")
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq_dsn(base_url), autocommit=True) as admin:
        # FORCE terminates leftover connections (e.g. a killed worker's) first.
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    base = _postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = create_postgres_database(base)
    migrate.upgrade(url)
    yield str(make_url(url).database)
    drop_postgres_database(base, url)


def _fresh_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, *, migrated: bool
) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "contractsync.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    base = _postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    template = request.getfixturevalue("_postgres_template") if migrated else None
    url = create_postgres_database(base, template)
    try:
        yield url
    finally:
        drop_postgres_database(base, url)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database (SQLite file or PostgreSQL database) for one test."""
    yield from _fresh_url(request.param, tmp_path, request, migrated=True)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables (for migration tests)."""
    yield from _fresh_url(request.param, tmp_path, request, migrated=False)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak tests (@pytest.mark.slow) run only when asked: `-m slow` or CONTRACTSYNC_SOAK=1."""
    if os.environ.get("CONTRACTSYNC_SOAK") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run with -m slow or CONTRACTSYNC_SOAK=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Tests that call `configure_logging` must not change logging for the tests after them."""
    import logging

    import structlog

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).disabled = False
