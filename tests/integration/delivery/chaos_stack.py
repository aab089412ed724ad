"""The whole product as an operator runs it, for chaos tests and `benchmarks/bench_chaos.py`.

Real processes only: the Autotask sandbox (`contractsync sandbox`), the API (`contractsync serve`),
`contractsync worker` processes, all on one database; changes go in through the public REST API.
`run_chaos` sends quantity changes (increasing dates per subscription) while SIGKILLing and
restarting workers, with sandbox faults on adjustment requests, then measures how long full
delivery took after the last accepted change and compares Autotask with the plan on every date.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from contractsync.adapters.db import ledger_check
from contractsync.adapters.db.checks_table import service_checks
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES
from contractsync.adapters.db.session import make_engine, session_factory
from contractsync.adapters.db.tables import adjustments

ROOT = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "cs_chaos_admin_token_0123456789abcdef"
SANDBOX_AUTH = {"username": "sandbox@example.com", "secret": "sandbox-secret", "integration_code": "SANDBOX"}
CONTRACT_ID, SERVICE_ID, FIRST_CS = 200001, 300001, 400001
ADJUSTMENTS = "ContractServiceAdjustments"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "contractsync", *args]


def _wait_for(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


@dataclass
class Stack:
    """Process handles and addresses; `env` is what every contractsync process gets."""

    database_url: str
    data_dir: Path
    sandbox_url: str
    api_url: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
        )

    def sandbox(self) -> httpx.Client:
        return httpx.Client(base_url=self.sandbox_url, timeout=60)

    def worker(self, lease: float, heartbeat: float, *extra: str) -> subprocess.Popen[bytes]:
        command = _command(
            "worker", "--lease-seconds", str(lease), "--heartbeat-seconds", str(heartbeat), *extra
        )
        log = open(self.data_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 (kept by the process)
        proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc


@contextmanager
def stack(
    database_url: str,
    data_dir: Path,
    *,
    budget: int = 10_000,
    thread_limit: int = 3,
    serve_workers: int = 1,
) -> Iterator[Stack]:
    """Sandbox and API as processes on free ports (`serve --workers serve_workers`); every process
    is ended when the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CONTRACTSYNC_DATABASE_URL": database_url,
        "CONTRACTSYNC_DATA_DIR": str(data_dir),
        "CONTRACTSYNC_ADMIN_TOKEN": ADMIN_TOKEN,
        "PYTHONPATH": str(ROOT / "src"),
        # contractsync's own share of the tenant's hourly budget follows the sandbox's: the goal
        # load (~12,000 calls in ~15 minutes) is above Autotask's 10,000 an hour, which contractsync
        # would otherwise honour by pacing its calls (what stalled a first goal run at ~4,000 calls).
        "CONTRACTSYNC_AUTOTASK_HOURLY_BUDGET": str(budget),
        # `serve --workers`' metrics directory, which the SIGKILL at the end leaves behind
        "TMPDIR": str(data_dir),
    }
    sandbox_port, api_port = free_port(), free_port()
    env["CONTRACTSYNC_PSA_ALLOWED_HOSTS"] = f"127.0.0.1:{sandbox_port}"  # as the demo allows its sandbox
    sandbox_log = open(data_dir / "sandbox.log", "wb")  # noqa: SIM115
    api_log = open(data_dir / "serve.log", "wb")  # noqa: SIM115
    sandbox = subprocess.Popen(
        _command("sandbox", "--port", str(sandbox_port), "--budget", str(budget), "--thread-limit", str(thread_limit)),
        cwd=ROOT, env=env, stdout=sandbox_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    serve = subprocess.Popen(
        _command("serve", "--port", str(api_port), "--workers", str(serve_workers)),
        cwd=ROOT,
        env=env,
        stdout=api_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its processes are a group of their own, ended together below
    )
    running = Stack(
        database_url, data_dir, f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{api_port}", env
    )
    running.procs += [sandbox, serve]
    try:
        _wait_for(f"{running.sandbox_url}/sandbox/stats", sandbox, "the sandbox")
        _wait_for(f"{running.api_url}/healthz", serve, "contractsync serve")
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)  # `serve --workers N`: its N processes too
        for proc in running.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        sandbox_log.close()
        api_log.close()


@dataclass(frozen=True)
class Subscription:
    id: str
    contract_service_id: int
    quantity: int


def _ok(answer: httpx.Response) -> httpx.Response:
    if answer.status_code >= 400:
        raise AssertionError(
            f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text}"
        )
    return answer


def setup(running: Stack, subscriptions: int, today: date, quantity: int = 10) -> list[Subscription]:
    """One reseller, customer, connection (settle 0) and `subscriptions` NCE subscriptions, each
    mapped to its own contract service of one monthly contract in the sandbox."""
    sandbox = running.sandbox()
    _ok(sandbox.post(
        "/sandbox/seed",
        json={
            "companies": [{"id": 100001, "companyName": "Chaos Ltd", "companyType": 1, "phone": "+1 555 0100",
                           "ownerResourceID": 29682885}],
            "services": [{"id": SERVICE_ID, "name": "Microsoft 365 E3", "unitCost": "20.0000",
                          "unitPrice": "24.0000", "periodType": 1}],
            "contracts": [{"id": CONTRACT_ID, "companyID": 100001, "contractName": "Chaos CSP", "contractType": 7,
                           "contractPeriodType": 1, "status": 1, "startDate": f"{today.year - 1}-01-01T00:00:00",
                           "endDate": f"{today.year + 3}-12-31T00:00:00"}],
            "contractServices": [{"id": FIRST_CS + i, "contractID": CONTRACT_ID, "serviceID": SERVICE_ID,
                                  "unitPrice": "24.0000", "unitCost": "20.0000"} for i in range(subscriptions)],
        },
    ))  # fmt: skip
    api = running.api()
    for path, body in [
        ("/v1/resellers", {"id": "r1", "name": "Chaos Reseller", "promotion_setting": "pass_through"}),
        ("/v1/connections", {"id": "at1", "reseller_id": "r1", "kind": "autotask", **SANDBOX_AUTH,
                             "base_url": running.sandbox_url, "timezone": "UTC", "settle_seconds": 0}),
        ("/v1/customers", {"id": "c1", "reseller_id": "r1", "name": "Chaos Ltd",
                           "provider_margins": {"microsoft": "20"}}),
    ]:  # fmt: skip
        _ok(api.post(path, json=body))
    made = []
    for i in range(subscriptions):
        sub = Subscription(f"s{i + 1:03d}", FIRST_CS + i, quantity)
        _ok(api.post("/v1/subscriptions", json={
            "id": sub.id, "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E3",
            "kind": "nce", "quantity": quantity, "term": "P1Y", "billing_cycle": "monthly",
            "start_date": (today - timedelta(days=1)).isoformat(),
            "end_date": (today + timedelta(days=363)).isoformat(), "auto_renew": False, "list_price": "20.00",
        }))  # fmt: skip
        _ok(api.post("/v1/mappings/subscriptions", json={
            "subscription_id": sub.id, "connection_id": "at1", "contract_id": CONTRACT_ID,
            "service_id": SERVICE_ID, "contract_service_id": sub.contract_service_id,
        }))  # fmt: skip
        made.append(sub)
    return made


def open_rows(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return int(
                session.execute(
                    select(func.count()).where(adjustments.c.status.in_(OPEN_STATUSES))
                ).scalar_one()
            )
    finally:
        engine.dispose()


def wait_until_delivered(database_url: str, timeout: float) -> float:
    """Seconds until no outbox row is pending or being sent (polled every 0.2 s)."""
    start = time.monotonic()
    while open_rows(database_url):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"still {open_rows(database_url)} rows open after {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - start


# --- the chaos run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChaosConfig:
    operations: int = 400
    subscriptions: int = 40
    workers: int = 2
    kills: int = 3
    clients: int = 4
    #: share of adjustment requests that fail (500, 429, applied-then-500, timeout, reset)
    fault_rate: float = 0.10
    lease_seconds: float = 6.0
    heartbeat_seconds: float = 2.0
    seed: int = 1
    #: the sandbox's limits: thread limit per endpoint (Autotask: 3), requests per hour
    thread_limit: int = 3
    budget: int = 1_000_000
    #: kills not reached by the time the last change was accepted are made after it
    kill_after_last: bool = False
    #: changes sent per second by all clients together (None: each as fast as it is answered)
    rate: float | None = None


@dataclass
class ChaosResult:
    accepted: int = 0
    last_accept_at: float = 0.0  # time.monotonic() of the last accepted change
    refused_4xx: int = 0
    answered_5xx: int = 0
    transport_errors: int = 0
    kills: int = 0
    send_seconds: float = 0.0
    delivered_after_last_accept: float = 0.0
    #: outbox rows still open (pending or being sent) when the senders were done: the backlog the
    #: workers drain in `delivered_after_last_accept`
    open_at_last_accept: int = 0
    adjustment_requests: int = 0
    read_requests: int = 0
    duplicate_rejections: int = 0
    #: the sandbox's refusals by reason (thread_threshold: more than its limit in flight at once)
    rejections: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    services_checked: int = 0
    dates_checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    #: contract services whose ledger disagrees with their last verification (the self-check)
    ledger_drift: int = -1
    verified_services: int = 0

    @property
    def calls_per_change(self) -> float:
        return (self.adjustment_requests + self.read_requests) / max(self.accepted, 1)


def plan_changes(
    subs: list[Subscription], operations: int, start: date, seed: int
) -> dict[str, list[tuple[date, int]]]:
    """Per subscription: (date, quantity) changes on increasing dates, never the same quantity twice in a row."""
    rng = random.Random(seed)
    plan: dict[str, list[tuple[date, int]]] = {s.id: [] for s in subs}
    last = {s.id: s.quantity for s in subs}
    for n in range(operations):
        sub = subs[n % len(subs)]
        day = start + timedelta(days=len(plan[sub.id]))
        quantity = rng.choice([q for q in range(1, 80) if q != last[sub.id]])
        plan[sub.id].append((day, quantity))
        last[sub.id] = quantity
    return plan


def _install_faults(running: Stack, rate: float) -> None:
    kinds = ["http_500", "http_429", "applied_then_500", "timeout", "connection_reset"]
    each = 1 - (1 - rate) ** (1 / len(kinds))  # the first firing fault wins: together ≈ rate
    sandbox = running.sandbox()
    for kind in kinds:
        body: dict[str, Any] = {"endpoint": ADJUSTMENTS, "kind": kind, "rate": round(each, 5)}
        if kind == "timeout":
            body["delay_seconds"] = 2
        sandbox.post("/sandbox/faults", json=body).raise_for_status()


def _send(
    running: Stack,
    changes: list[tuple[str, date, int]],
    result: ChaosResult,
    lock: threading.Lock,
    every: float = 0.0,
) -> None:
    """Send `changes` one at a time, at most one each `every` seconds (0: as fast as answered)."""
    start = time.monotonic()
    with running.api() as api:
        for n, (subscription_id, day, quantity) in enumerate(changes):
            if every:
                time.sleep(max(0.0, start + n * every - time.monotonic()))
            body = {"type": "update_quantity", "quantity": quantity, "effective_date": day.isoformat()}
            try:
                answer = api.post(f"/v1/subscriptions/{subscription_id}/operations", json=body)
            except httpx.HTTPError:
                with lock:
                    result.transport_errors += 1
                continue
            with lock:
                if answer.status_code >= 500:
                    result.answered_5xx += 1
                elif answer.status_code >= 400:
                    result.refused_4xx += 1
                else:
                    result.accepted += 1
                    result.last_accept_at = time.monotonic()


def kill_points(config: ChaosConfig) -> list[int]:
    """After how many accepted changes each SIGKILL falls: spread evenly over the changes (each
    moved at random by up to a third of the gap), the last well before the last change, so that
    delivery after the last change never waits for a dead worker's leases unless the scenario
    asks for it (`kill_after_last`)."""
    rng = random.Random(config.seed)
    gap = config.operations / (config.kills + 1)
    return sorted(
        max(1, min(config.operations - 1, round(gap * (k + 1 + rng.uniform(-1 / 3, 1 / 3)))))
        for k in range(config.kills)
    )


def _kill_during_sending(
    running: Stack,
    config: ChaosConfig,
    workers: list[subprocess.Popen[bytes]],
    senders: list[threading.Thread],
    result: ChaosResult,
    lock: threading.Lock,
    log: Any,
) -> None:
    """SIGKILL a random worker (restarted at once) at each of `kill_points`, judged by the changes
    accepted so far: a loaded machine that sends slowly gets its kills just as spread. Kills not
    reached when the senders finish (changes refused) are not made afterwards, unless
    `kill_after_last`."""
    rng = random.Random(config.seed + 1)
    for point in kill_points(config):
        while True:
            with lock:
                reached = result.accepted >= point
            if reached or not any(thread.is_alive() for thread in senders):
                break
            time.sleep(0.02)
        if not reached and not config.kill_after_last:
            break
        victim = rng.randrange(config.workers)
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait()
        workers[victim] = running.worker(config.lease_seconds, config.heartbeat_seconds)
        result.kills += 1
        log(f"  kill {result.kills}/{config.kills}: {result.accepted} accepted so far")


def run_chaos(running: Stack, config: ChaosConfig, log: Any = print) -> ChaosResult:
    today = datetime.now(UTC).date()
    subs = setup(running, config.subscriptions, today)
    workers = [running.worker(config.lease_seconds, config.heartbeat_seconds) for _ in range(config.workers)]
    wait_until_delivered(running.database_url, 120)  # the mappings' first adjustments
    before = running.sandbox().get("/sandbox/stats").json()
    _install_faults(running, config.fault_rate)
    plan = plan_changes(subs, config.operations, today + timedelta(days=1), config.seed)
    # Each client owns some subscriptions and sends their changes in date order, one at a time.
    queues: list[list[tuple[str, date, int]]] = [[] for _ in range(config.clients)]
    for n, sub in enumerate(subs):
        queues[n % config.clients] += [(sub.id, day, q) for day, q in plan[sub.id]]
    for queue in queues:  # interleave subscriptions within a client, keeping each one's order
        queue.sort(key=lambda change: (change[1], change[0]))
    result = ChaosResult()
    lock = threading.Lock()
    every = config.clients / config.rate if config.rate else 0.0
    threads = [threading.Thread(target=_send, args=(running, q, result, lock, every)) for q in queues]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    _kill_during_sending(running, config, workers, threads, result, lock, log)
    for thread in threads:
        thread.join()
    result.send_seconds = result.last_accept_at - started
    result.open_at_last_accept = open_rows(running.database_url)
    wait_until_delivered(running.database_url, 600)
    result.delivered_after_last_accept = time.monotonic() - result.last_accept_at
    after = running.sandbox().get("/sandbox/stats").json()
    result.adjustment_requests = _delta(before, after, ADJUSTMENTS)
    result.read_requests = sum(
        _delta(before, after, endpoint) for endpoint in after["requests"] if endpoint != ADJUSTMENTS
    )
    result.rejections = {
        reason: _delta(before, after, reason, "rejections") for reason in after["rejections"]
    }
    result.duplicate_rejections = sum(
        n for reason, n in result.rejections.items() if "duplicate" in reason or "same_date" in reason
    )
    result.faults = dict(after["faults_injected"])
    compare_every_date(running, subs, plan, today, result)
    engine = make_engine(running.database_url)
    try:
        with session_factory(engine)() as session:
            result.ledger_drift = len(ledger_check.drift(session))
            result.verified_services = int(
                session.execute(select(func.count()).select_from(service_checks)).scalar_one()
            )
    finally:
        engine.dispose()
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
    for proc in workers:
        proc.wait(timeout=30)
    return result


def _delta(before: dict[str, Any], after: dict[str, Any], key: str, counts: str = "requests") -> int:
    """How much the sandbox's count `counts[key]` grew between two `/sandbox/stats` answers."""
    return int(after[counts].get(key, 0)) - int(before[counts].get(key, 0))


def compare_every_date(
    running: Stack,
    subs: list[Subscription],
    plan: dict[str, list[tuple[date, int]]],
    today: date,
    result: ChaosResult,
) -> None:
    """Autotask's units and price on every date from the mapping to past the last change == the plan."""
    api, sandbox = running.api(), running.sandbox()
    for sub in subs:
        price = Decimal(api.get(f"/v1/subscriptions/{sub.id}").json()["unit_price"])
        timeline = sandbox.get(f"/sandbox/contract-services/{sub.contract_service_id}/timeline").json()
        points = [(date.fromisoformat(p["date"][:10]), int(p["units"]), Decimal(str(p["price"])))
                  for p in timeline["changes"]]  # fmt: skip
        expected = [(today, sub.quantity), *plan[sub.id]]
        last_day = expected[-1][0] + timedelta(days=1)
        day = today
        while day <= last_day:
            want = next(q for d, q in reversed(expected) if d <= day)
            held = [(u, p) for d, u, p in points if d <= day]
            units, held_price = held[-1] if held else (0, Decimal(0))
            if units != want or held_price != price:
                result.mismatches.append(
                    f"{sub.id} (cs {sub.contract_service_id}) on {day}: Autotask {units} × {held_price}, "
                    f"plan {want} × {price}"
                )
            result.dates_checked += 1
            day += timedelta(days=1)
        result.services_checked += 1
