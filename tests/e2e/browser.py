"""Launching Debian's Chromium through Playwright (a browser is never downloaded here)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CHROMIUM_ENV = "CONTRACTSYNC_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots go to a temporary folder (CONTRACTSYNC_SCREENSHOTS chooses another); `make screenshots`
#: copies them into docs/screenshots/.
SCREENSHOTS = Path(
    os.environ.get("CONTRACTSYNC_SCREENSHOTS") or Path(tempfile.gettempdir()) / "contractsync-screenshots"
)
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "console.png"
DESKTOP = {"width": 1280, "height": 900}
LAPTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> Path:
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)
