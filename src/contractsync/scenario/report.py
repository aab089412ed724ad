"""The `plan` answer as JSON, exactly as API.md shows it (`cli/plan.py` prints it as tables)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contractsync.domain.books import Record
from contractsync.domain.money import format_money
from contractsync.domain.schedule import Timeline
from contractsync.scenario.runner import ScenarioOutcome


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reason(record: Record) -> str | None:
    parts = [part for part in [record.reason, *record.notes] if part]
    return "; ".join(parts) if parts else None


def as_json(outcome: ScenarioOutcome) -> dict[str, Any]:
    state = outcome.state
    operations = [
        {
            "type": record.type.value,
            "subscription_id": record.subscription_id,
            "status": record.status.value,
            "reason": _reason(record),
            "adjustments": [
                {
                    "contract_id": sent.contract_id,
                    "contract_service_id": sent.contract_service_id,
                    "effective_date": sent.effective_date.isoformat(),
                    "unit_change": sent.unit_change,
                    "adjusted_unit_price": sent.unit_price,
                    "adjusted_unit_cost": sent.unit_cost,
                    "sent_at": _utc(sent.sent_at),
                }
                for sent in record.sent
            ],
        }
        for record in sorted(state.records.values(), key=lambda r: r.id)
    ]
    services: dict[str, list[dict[str, Any]]] = {}
    for service_id, book in sorted(state.books.items()):
        timeline = Timeline.of_held(book.held)
        points = []
        for day in timeline.change_dates():
            point = timeline.at(day)
            assert point is not None and point.unit_price is not None and point.unit_cost is not None
            points.append(
                {
                    "from": day.isoformat(),
                    "units": point.units,
                    "unit_price": format_money(point.unit_price),
                    "unit_cost": format_money(point.unit_cost),
                }
            )
        services[str(service_id)] = points
    answer: dict[str, Any] = {
        "operations": operations,
        "manual_actions": [
            {
                "subscription_id": action.subscription_id,
                "contract_service_id": action.contract_service_id,
                "effective_date": action.effective_date.isoformat(),
                "unit_change": action.unit_change,
                "instruction": action.instruction,
            }
            for action in state.manual_actions
        ],
        "alerts": [{"kind": alert.kind, "message": alert.message} for alert in state.alerts],
        "contract_services": services,
    }
    if outcome.refused:
        answer["refused"] = [{"at": r.at, "event": r.event, "reason": r.reason} for r in outcome.refused]
    return answer
