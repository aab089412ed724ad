"""E2E fixtures: Debian's Chromium through Playwright, and the demo stack served on a free port."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from contractsync.adapters.logging import configure_logging
from contractsync.delivery.config import WorkerConfig
from contractsync.demo import DemoStack
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.e2e.browser import CHROMIUM_ARGS, DESKTOP, SCREENSHOTS, chromium_path
from tests.e2e.serve import ThreadedServer
from tests.memory_service import Sample
from tests.sandbox_autotask import SandboxAutotask


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if not path.exists():
        pytest.skip(
            f"no Chromium at {path}: install Debian's `chromium` package or set CONTRACTSYNC_CHROMIUM"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class LiveConsole:
    url: str
    token: str
    stack: DemoStack


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    """The real thing: SQLite, the sandbox, sample data, the worker, API + console (settle 0 s)."""
    root: Path = tmp_path_factory.mktemp("console")
    settings = Settings(
        database_url=f"sqlite:///{root / 'contractsync.db'}",
        data_dir=root / "data",
        admin_token=None,
        secret_key=None,
        # Every test signs in again: the per-address limit is for people, not for this suite.
        signin_rate_limit="1000/minute",
        signin_rate_limit_total="1000/minute",
    )
    # A paused connection is probed again after 1 s instead of 5 minutes.
    config = WorkerConfig(pause_probe_first=1, pause_probe_cap=2)
    with (
        DemoStack(settings, settle_seconds=0, worker_config=config) as stack,
        ThreadedServer(stack.app) as server,
    ):
        yield LiveConsole(server.url, stack.token, stack)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[Sample]:
    """The console sample (`tests/memory_service.py`), built once per module through the façade."""
    with SandboxAutotask() as autotask:
        yield Sample.build(autotask, _sqlite_template, tmp_path_factory.mktemp("sample"))


@pytest.fixture
def sample_service(sample: Sample, tmp_path: Path) -> Iterator[ContractSync]:
    """The real façade on this test's own copy of the sample (the sandbox is the module's)."""
    service = sample.service(tmp_path)
    yield service
    service.context.sessions.kw["bind"].dispose()


@pytest.fixture
def quiet_crashes() -> None:
    """Log as `serve --log-format json` does, into nothing: an unhandled error's traceback is
    plain text, not the console renderer's (seconds for a deep stack with its locals)."""
    configure_logging(json=True, level="INFO", stream=io.StringIO())  # `_logging_restored` resets it


SIGNED_IN_URL = re.compile(r"^[^?]*/subscriptions$")  # not /signin?next=/subscriptions


def sign_in(
    browser: Browser, live: LiveConsole, viewport: dict[str, int] = DESKTOP, token: str | None = None
) -> Page:
    """A new browser context (own cookies) signed in with the admin token (or `token`); answers its page."""
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{live.url}/subscriptions")
    page.fill("#token", token or live.token)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(SIGNED_IN_URL)
    return page


def screenshot(page: Page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
