"""`contractsync serve --workers N`: N processes on one port, one view of their metrics, a dead
one replaced, all stopped together by SIGTERM; refused on SQLite. (Operations sent through two processes at once, with
workers killed and Autotask failing, are checked on every date by the short chaos run:
`tests/integration/delivery/test_goal_chaos.py`.)"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.integration.delivery.chaos_stack import ROOT, free_port

ADMIN_TOKEN = "serve-workers-admin-token-0123456789"
HEALTHZ_SERIES = 'contractsync_http_requests_total{method="GET",route="/healthz",status="200"}'


def _environment(database_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "CONTRACTSYNC_DATABASE_URL": database_url,
        "CONTRACTSYNC_DATA_DIR": str(tmp_path / "data"),
        "CONTRACTSYNC_ADMIN_TOKEN": ADMIN_TOKEN,
        "PYTHONPATH": str(ROOT / "src"),
        "TMPDIR": str(tmp_path),  # where `serve` makes its metrics directory
        **more,
    }


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "contractsync", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _healthz_count(text: str) -> float:
    match = re.search(re.escape(HEALTHZ_SERIES) + r" (\S+)", text)
    assert match is not None, text
    return float(match.group(1))


def _serving_processes(parent: int) -> set[int]:
    """The processes `serve` started to answer the port (not multiprocessing's resource tracker)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in command:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_above_one_are_refused_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "contractsync.db"
    env = _environment(f"sqlite:///{database}", tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "contractsync", "serve", "--workers", "2", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--workers above 1 needs PostgreSQL" in lines[0]
    assert not database.exists()  # refused before anything was created


def _started(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    serve = _serve(env, "--port", str(port), "--workers", "2")
    deadline = time.monotonic() + 60
    while True:
        assert serve.poll() is None, serve.stdout.read() if serve.stdout else b""
        assert time.monotonic() < deadline, "serve did not start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return serve
        except httpx.HTTPError:
            time.sleep(0.1)


def _get(url: str, **headers: str) -> httpx.Response:
    # A new connection each time: the kernel hands each to whichever process accepts first.
    return httpx.get(url, headers={"Connection": "close", **headers}, timeout=10)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("serve --workers needs PostgreSQL")
    return database_url


def test_processes_share_the_port_the_metrics_and_stop_together(postgres_url: str, tmp_path: Path) -> None:
    port = free_port()
    serve = _started(_environment(postgres_url, tmp_path), port)
    base = f"http://127.0.0.1:{port}"
    try:
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(lambda _: _get(f"{base}/healthz").status_code, range(199))) == {200}
        sent = 200.0  # with the one that saw it up

        # Both processes answered: each counts into a file of its own in one directory …
        (directory,) = tmp_path.glob("contractsync-metrics-*")
        counting = {int(path.stem.split("_")[-1]) for path in directory.glob("counter_*.db")}
        assert len(counting) == 2 and serve.pid not in counting
        # … and whichever process a scrape reaches shows their sum.
        for _ in range(6):
            answer = _get(f"{base}/metrics", Authorization=f"Bearer {ADMIN_TOKEN}")
            assert answer.status_code == 200 and _healthz_count(answer.text) == sent

        # A process that dies is replaced; the port answers meanwhile.
        assert _serving_processes(serve.pid) == counting
        killed = counting.pop()
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(_serving_processes(serve.pid) - {killed}) < 2:
            assert _get(f"{base}/healthz").status_code == 200
            assert time.monotonic() < deadline, "the killed process was not replaced"
            time.sleep(0.2)
        serving = _serving_processes(serve.pid)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=15) == 0
        assert not any(_alive(pid) for pid in serving)  # the processes it started ended with it
        assert not directory.exists()  # a new directory each start: no stale counts
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def test_the_metrics_address_shows_every_process(postgres_url: str, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = _environment(postgres_url, tmp_path, CONTRACTSYNC_METRICS_BIND=f"127.0.0.1:{metrics_port}")
    serve = _started(env, port)
    try:
        with ThreadPoolExecutor(8) as pool:
            assert set(
                pool.map(lambda _: _get(f"http://127.0.0.1:{port}/healthz").status_code, range(49))
            ) == {200}
        assert (
            _get(f"http://127.0.0.1:{port}/metrics", Authorization=f"Bearer {ADMIN_TOKEN}").status_code == 404
        )
        scraped = _get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert _healthz_count(scraped) == 50.0
        assert "contractsync_outbox_depth_now 0.0" in scraped  # the database's gauges too
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=15)


def test_a_port_already_taken_is_refused_before_any_process_starts(postgres_url: str, tmp_path: Path) -> None:
    # Taken with SO_REUSEPORT, as another `serve --workers` would hold it: joining it would split
    # the connections between two servers.
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "contractsync", "serve", "--workers", "2", "--port", str(port)],
            cwd=ROOT,
            env=_environment(postgres_url, tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if f"cannot listen on 127.0.0.1:{port}" in line]
    assert not list(tmp_path.glob("contractsync-metrics-*"))  # nothing left behind


def test_when_serve_is_killed_outright_its_processes_end_too(postgres_url: str, tmp_path: Path) -> None:
    port = free_port()
    serve = _started(_environment(postgres_url, tmp_path), port)
    serving = _serving_processes(serve.pid)
    (directory,) = tmp_path.glob("contractsync-metrics-*")
    assert len(serving) == 2

    os.kill(serve.pid, signal.SIGKILL)  # no SIGTERM for its processes from it
    serve.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in serving):
        assert time.monotonic() < deadline, "a process kept serving after serve was killed"
        time.sleep(0.1)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    assert not directory.exists()  # the last of them cleared the counts


def _app_that_fails() -> None:
    raise RuntimeError("the database is unreachable")


async def _tiny_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


def _app_stopped_while_built() -> Any:
    """SIGTERM (the supervisor's, or the kernel's when the supervisor died) before uvicorn listens."""
    os.kill(os.getpid(), signal.SIGTERM)
    return _tiny_app


def test_a_stop_before_the_server_listens_for_it_is_not_lost(tmp_path: Path) -> None:
    """The process stops, cleanly (exit code 0, not killed by the signal), instead of serving on."""
    from contractsync.cli.serve_processes import serve_one

    process = multiprocessing.get_context("spawn").Process(
        target=serve_one, args=("127.0.0.1", free_port(), _app_stopped_while_built, os.getpid())
    )
    process.start()
    process.join(60)
    if process.is_alive():
        process.kill()
    assert process.exitcode == 0


def test_processes_dying_at_start_stop_the_server(tmp_path: Path) -> None:
    from contractsync.cli.serve_processes import EARLY_EXITS, Supervisor

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    supervisor = Supervisor("127.0.0.1", free_port(), 2, _app_that_fails)
    try:
        supervisor.run()  # returns instead of restarting them forever
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert supervisor.failure is not None
    assert f"{EARLY_EXITS} processes in a row exited" in supervisor.failure
