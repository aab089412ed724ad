"""Where the Partner Center reference files are: `shared/` beside the clone (CI lays it as `../shared`)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLES = (REPO / "../shared/reference/partner-center").resolve()

needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the Partner Center reference files are not at {SAMPLES} (../shared missing)",
)


def sample(name: str) -> Path:
    return SAMPLES / name


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []
