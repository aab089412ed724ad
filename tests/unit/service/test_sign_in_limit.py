"""The console's sign-in limit as a use case on the in-memory unit of work: moving windows per
client address and in total, on the injected clock; a refused attempt counts nothing."""

from __future__ import annotations

from contractsync.service.admit_sign_in import AttemptLimit
from tests.unit.service.conftest import Service

PER_ADDRESS, TOTAL = AttemptLimit(10, 60), AttemptLimit(100, 60)


def _admitted(service: Service, address: str, times: int = 1, total: AttemptLimit = TOTAL) -> list[bool]:
    return [service.facade.admit_sign_in(address, PER_ADDRESS, total) for _ in range(times)]


def test_the_eleventh_attempt_from_one_address_is_refused_another_address_is_not(service: Service) -> None:
    assert _admitted(service, "198.51.100.1", 11) == [True] * 10 + [False]
    assert _admitted(service, "198.51.100.2") == [True]


def test_an_attempt_counts_for_the_window_after_it_was_made(service: Service) -> None:
    assert _admitted(service, "a", 5) == [True] * 5
    service.clock.advance(30)
    assert _admitted(service, "a", 6) == [True] * 5 + [False]
    service.clock.advance(29.999)
    assert _admitted(service, "a") == [False]
    service.clock.advance(0.001)  # the first five are 60 s old: they count no more
    assert _admitted(service, "a", 6) == [True] * 5 + [False]
    service.clock.advance(30)
    assert _admitted(service, "a", 6) == [True] * 5 + [False]


def test_a_refused_attempt_counts_nothing(service: Service) -> None:
    assert _admitted(service, "a", 10) == [True] * 10
    service.clock.advance(30)
    assert _admitted(service, "a", 20) == [False] * 20
    service.clock.advance(30)
    assert _admitted(service, "a", 11) == [True] * 10 + [False]


def test_the_total_holds_across_addresses_and_refuses_without_counting(service: Service) -> None:
    total = AttemptLimit(3, 60)
    assert [_admitted(service, f"192.0.2.{n}", total=total)[0] for n in range(5)] == [True] * 3 + [False] * 2
    service.clock.advance(60)
    # 192.0.2.3 was refused by the total: it still has all of its own ten attempts
    assert _admitted(service, "192.0.2.3", 3, total=AttemptLimit(100, 60)) == [True] * 3


def test_the_total_is_not_an_address(service: Service) -> None:
    one = AttemptLimit(1, 60)
    assert service.facade.admit_sign_in("a", one, TOTAL)
    assert service.facade.admit_sign_in("total", one, TOTAL)
    assert service.facade.admit_sign_in("*", one, TOTAL)
    assert service.facade.admit_sign_in("address:a", one, TOTAL)


def test_attempts_older_than_the_longest_window_are_removed(service: Service) -> None:
    _admitted(service, "a", 3)
    assert len(service.data.sign_in_attempts) == 6  # the total's and the address's
    service.clock.advance(61)
    _admitted(service, "b")
    assert sorted(key for key, _ in service.data.sign_in_attempts) == ["address:b", "total"]
