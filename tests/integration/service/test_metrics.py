"""/metrics reports operations, deliveries, outbox depth and latency from the database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from contractsync.bootstrap import build_web_app
from contractsync.service.actor import ADMIN
from contractsync.settings import Settings
from tests.integration.service.conftest import World, map_s1


def scrape(world: World, tmp_path: Path) -> str:
    scraper = "metrics-scraper-token-0123456789"
    app = build_web_app(world.service, Settings(data_dir=tmp_path, metrics_token=scraper))
    with TestClient(app) as client:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"})
    assert answer.status_code == 200
    return answer.text


def test_metrics_follow_operations_and_deliveries(world: World, tmp_path: Path) -> None:
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    before = scrape(world, tmp_path)
    assert "contractsync_outbox_depth_now 1.0" in before
    assert (
        'contractsync_operation_records{status="pending",type="UpdateSubscriptionQuantityOnConnection"} 1.0'
        in before
    )
    world.deliver()
    after = scrape(world, tmp_path)
    assert "contractsync_outbox_depth_now 0.0" in after
    assert 'contractsync_adjustments{status="sent"} 1.0' in after
    assert 'contractsync_delivery_latency_recent_seconds{quantile="0.5"}' in after


def test_delivery_logs_are_json_lines_with_the_operation_id(world: World) -> None:
    import io
    import json
    import logging

    from contractsync.adapters.logging import configure_logging

    stream = io.StringIO()
    configure_logging(json=True, level="INFO", stream=stream)
    try:
        map_s1(world)
        [record] = world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
        world.deliver()
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    sent = [line for line in lines if line.get("event") == "adjustment sent"]
    assert [line["operation_id"] for line in sent] == [record["id"]]
    assert "do-not-leak" not in stream.getvalue()


def test_open_alerts_are_counted_by_kind(world: World, tmp_path: Path) -> None:
    assert "contractsync_alerts_open{" not in scrape(world, tmp_path)
    world.service.create_token("r1", expires_at=world.clock.now() + timedelta(days=2), name="expiring")
    world.service.refresh_alerts()  # what the worker does every minute
    assert 'contractsync_alerts_open{kind="token_expiring"} 1.0' in scrape(world, tmp_path)
