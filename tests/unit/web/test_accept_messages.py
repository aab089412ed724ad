"""The one message the console shows after suggestions are accepted in bulk (`say_results`)."""

from __future__ import annotations

from typing import Any

from contractsync.web.customer_pages import say_results

DONE = "subscription{s} mapped to contract services."


class Flash:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def say(self, kind: str, text: str) -> None:
        self.said.append((kind, text))


def _said(results: list[dict[str, Any]]) -> tuple[str, str]:
    flash = Flash()
    say_results(flash, results, "subscription_id", DONE)
    [said] = flash.said
    return said


def _result(subscription_id: str, status: str, error: str | None = None) -> dict[str, Any]:
    return {"subscription_id": subscription_id, "status": status, "error": error}


def test_a_subscription_whose_service_is_still_being_created_is_not_counted_as_mapped() -> None:
    said = _said([_result("s1", "mapped"), _result("s2", "pending")])
    assert said == (
        "ok",
        "1 subscription mapped to contract services. 1 waits for Autotask to create its contract "
        "service (mapped once created): s2.",
    )
    kind, text = _said([_result(f"p{i}", "pending") for i in range(7)])
    assert (kind, text) == (
        "ok",
        "0 subscriptions mapped to contract services. 7 wait for Autotask to create their contract "
        "services (mapped once created): p0, p1, p2, p3, p4 ….",
    )


def test_refusals_are_named_with_their_reason() -> None:
    said = _said([_result("s1", "mapped"), _result("s2", "refused", "already mapped")])
    assert said == ("error", "1 subscription mapped to contract services. 1 refused: s2: already mapped")
