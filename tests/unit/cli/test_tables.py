"""Command tables at 80 columns: every value whole on its line (issue 13: tables fit 80 columns)."""

from __future__ import annotations

import io

from rich.console import Console

from contractsync.cli.common import print_rows
from contractsync.cli.reconcile import print_differences

SUBSCRIPTION = "a1b2c3d4-0000-1111-2222-333344445555"
DIFFERENCE = {
    "kind": "units", "connection_id": "autotask-main", "subscription_id": SUBSCRIPTION,
    "contract_service_id": 400012, "date": "2026-03-01", "expected_units": 12, "autotask_units": 10,
    "expected_price": "15.6250", "autotask_price": "15.6250", "money_impact": "31.25",
}  # fmt: skip


def printed(width: int, draw: object) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    draw(console)  # type: ignore[operator]
    return out.getvalue().splitlines()


def test_a_wide_table_becomes_one_block_per_row_at_80_columns() -> None:
    lines = printed(80, lambda console: print_differences(console, {"differences": [DIFFERENCE] * 2}))
    assert all(len(line) <= 80 for line in lines)
    assert lines[0] == "2 difference(s)"
    subscription_lines = [line for line in lines if SUBSCRIPTION in line]
    assert len(subscription_lines) == 2  # whole, never folded into slivers
    assert any(line.split() == ["units", "(expected/autotask)", "12/10"] for line in lines)


def test_a_table_that_fits_stays_a_table() -> None:
    lines = printed(200, lambda console: print_differences(console, {"differences": [DIFFERENCE]}))
    header = next(line for line in lines if "subscription" in line)
    assert "money impact" in header and "contract service" in header
    assert any(SUBSCRIPTION in line and "12/10" in line for line in lines)


def test_values_are_printed_as_they_are() -> None:
    lines = printed(80, lambda console: print_rows(console, "[t]", ("a",), [("[bold]x[/]",)]))
    assert lines[0].strip() == "[t]" and "[bold]x[/]" in "\n".join(lines)
