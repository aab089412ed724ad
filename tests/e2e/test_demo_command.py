"""`contractsync demo` as a user starts it: a subprocess with its own database and port."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
import pytest

STARTUP_SECONDS = 30.0
DELIVERY_SECONDS = 30.0  # settle is 5 s; the rest is generous slack for a loaded CI machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


class DemoProcess:
    def __init__(self, cwd: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACTSYNC_")}
        env["CONTRACTSYNC_DATABASE_URL"] = f"sqlite:///{cwd / 'demo.db'}"
        self.port = port
        self.cwd = cwd
        self.process = subprocess.Popen(
            [sys.executable, "-m", "contractsync", "demo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=_pump, args=(self.process.stdout, self.lines), daemon=True).start()

    def wait_for_line(self, pattern: str, seconds: float) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.output.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r}; output so far:\n{''.join(self.output)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("contractsync demo did not stop on Ctrl-C") from None
        return self.process.returncode


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path, free_port())
    try:
        yield process
    finally:
        process.stop()


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "/healthz did not answer 200 within 30 s"
        time.sleep(0.2)


def test_demo_serves_api_console_and_delivers_to_the_sandbox(demo: DemoProcess) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    token = demo.wait_for_line(r"admin token:\s+(\S+)", STARTUP_SECONDS).group(1)
    sandbox = demo.wait_for_line(r"sandbox:\s+(http://\S+)", 5).group(1)
    wait_healthy(base)

    console = httpx.get(f"{base}/", follow_redirects=True, timeout=5)
    assert console.status_code == 200
    assert "Sign in" in console.text and 'name="csrf_token"' in console.text

    auth = {"Authorization": f"Bearer {token}"}
    subscription = httpx.get(f"{base}/v1/subscriptions/contoso-m365-standard", headers=auth, timeout=5).json()
    contract_service_id = subscription["mapping"]["contract_service_id"]
    new_quantity = subscription["quantity"] + 3
    answer = httpx.post(
        f"{base}/v1/subscriptions/contoso-m365-standard/operations",
        json={"type": "update_quantity", "quantity": new_quantity},
        headers=auth,
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text

    autotask = {
        "ApiIntegrationCode": "SANDBOX",
        "UserName": "sandbox@example.com",
        "Secret": "sandbox-secret",
    }
    query = {"filter": [{"op": "eq", "field": "contractServiceID", "value": contract_service_id}]}
    today = datetime.now(UTC).date().isoformat()  # the demo connection bills in UTC
    # The samples were mapped yesterday, so the first change of the day lands today (README).
    assert subscription["mapping"]["mapped_on"] < today
    [record] = answer.json()
    assert [a["effective_date"] for a in record["adjustments"]] == [today], record

    def units_today(sandbox: str = sandbox) -> int | None:
        rows = httpx.post(
            f"{sandbox}/atservicesrest/v1.0/ContractServiceUnits/query",
            json=query,
            headers=autotask,
            timeout=5,
        ).json()["items"]
        for row in rows:
            if row["startDate"][:10] <= today <= row["endDate"][:10]:
                return int(row["units"])
        return None

    deadline = time.monotonic() + DELIVERY_SECONDS
    while units_today() != new_quantity:
        assert time.monotonic() < deadline, (
            f"Autotask never showed {new_quantity} units; it has {units_today()}"
        )
        time.sleep(0.5)

    assert demo.stop() == 0

    # A restart keeps everything: the same token, the sample data once, Autotask's state.
    again = DemoProcess(demo.cwd, free_port())
    try:
        assert again.wait_for_line(r"admin token:\s+(\S+)", STARTUP_SECONDS).group(1) == token
        new_sandbox = again.wait_for_line(r"sandbox:\s+(http://\S+)", 5).group(1)
        base = f"http://127.0.0.1:{again.port}"
        wait_healthy(base)
        listing = httpx.get(f"{base}/v1/subscriptions", headers=auth, timeout=5).json()
        assert listing["total"] == 6
        restarted = httpx.get(
            f"{base}/v1/subscriptions/contoso-m365-standard", headers=auth, timeout=5
        ).json()
        assert restarted["quantity"] == new_quantity
        assert units_today(new_sandbox) == new_quantity
    finally:
        assert again.stop() == 0
