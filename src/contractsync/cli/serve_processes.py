"""`contractsync serve --workers N`: N processes answering one port, and the process that keeps
them running.

Each process binds a socket of its own to the port with SO_REUSEPORT, so the kernel spreads new
connections evenly over the N (by a hash of each connection's addresses). With one socket shared
by all, as uvicorn's `--workers` does, whichever process woke first accepted every connection
waiting: 32 keep-alive clients were seen split 27 / 5, and the process with 27 did most of the
work alone (measured: `benchmarks/bench_operations.py --serve-workers 2` swung between ~1,100 and
~1,700 operations/s with how the split fell).

The supervisor starts the N (multiprocessing's spawn: fresh interpreters, which inherit the
environment, the metrics directory among it), starts another when one dies, and on SIGTERM or
SIGINT asks each to stop (uvicorn's graceful shutdown: requests in flight are answered) and waits.
If the supervisor itself is killed outright, the kernel sends each process SIGTERM (Linux), so no
process is left answering the port with nobody to stop it.
A process that dies within `EARLY_EXIT_SECONDS` of its start `EARLY_EXITS` times in a row (the
port is taken, the database is unreachable…) stops the whole server with an error.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

log = structlog.get_logger("contractsync.serve")

EARLY_EXIT_SECONDS = 10.0
EARLY_EXITS = 3
#: how long a process is given to finish its requests after SIGTERM before it is killed
STOP_SECONDS = 15.0
#: prctl(2): the signal the kernel sends a process when its parent dies
PR_SET_PDEATHSIG = 1


def reuse_port_socket(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT (every process of the server binds one).
    Without it (`reuse_port=False`), binding fails while anything listens there, a server of
    ours included."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_one(host: str, port: int, build_app: Callable[[], Any], parent: int) -> None:
    """One process of the server: its app, its own socket on the shared port, until SIGTERM —
    sent by the supervisor, or by the kernel when the supervisor dies without a word (SIGKILL,
    OOM): the process then also removes the metrics directory the supervisor can no longer."""
    import uvicorn

    stop = _StopRequests()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    _end_with(parent)
    app = build_app()
    sock = reuse_port_socket(host, port)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    stop.serve(uvicorn.Server(config), sock)
    if os.getppid() != parent:  # orphaned: nobody else will clear the counts
        from contractsync.settings import Settings

        directory = Settings().metrics_process_dir
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


class _StopRequests:
    """SIGTERM and SIGINT for the whole life of a process. uvicorn listens for them only while it
    serves: one that comes before (while the app is built, or in the instant before uvicorn takes
    its handlers) asks the server to stop as soon as it has started — the default handler would
    end the process without its clean-up, a handler doing nothing would lose the request and
    leave the process serving with nobody to stop it — and the one uvicorn raises again once it
    has shut down ends `serve` normally (the clean-up after it runs)."""

    def __init__(self) -> None:
        self.asked = False
        self._server: Any = None

    def __call__(self, *_: object) -> None:
        self.asked = True
        if self._server is not None:
            self._server.should_exit = True

    def serve(self, server: Any, sock: socket.socket) -> None:
        self._server = server
        server.should_exit = self.asked
        server.run(sockets=[sock])


def _end_with(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux's PR_SET_PDEATHSIG;
    elsewhere nothing); a parent gone already ends it now."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        raise SystemExit(0)


class Supervisor:
    """Keeps `workers` processes of `serve_one` running until told to stop."""

    def __init__(self, host: str, port: int, workers: int, build_app: Callable[[], Any]) -> None:
        self.host, self.port, self.workers, self.build_app = host, port, workers, build_app
        self._spawn = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self.failure: str | None = None

    def _start(self) -> tuple[BaseProcess, float]:
        process = self._spawn.Process(
            target=serve_one,
            args=(self.host, self.port, self.build_app, os.getpid()),
            name="contractsync-serve",
        )
        process.start()
        return process, time.monotonic()

    def stop(self, *_: object) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until SIGTERM / SIGINT, or until processes keep dying at start (`failure` says)."""
        # Nothing listens there yet (or fail now): not even another `serve`, whose processes
        # ours would otherwise join, each server then answering half of the connections.
        reuse_port_socket(self.host, self.port, reuse_port=False).close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)
        running = [self._start() for _ in range(self.workers)]
        early_exits = 0
        while not self._stop.wait(0.5):
            for index, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                lived = time.monotonic() - started
                early_exits = early_exits + 1 if lived < EARLY_EXIT_SECONDS else 0
                log.warning(
                    "serve_process_died", pid=process.pid, exit_code=process.exitcode, lived_s=round(lived, 1)
                )
                if early_exits >= EARLY_EXITS:
                    self.failure = f"{early_exits} processes in a row exited within {EARLY_EXIT_SECONDS:.0f} s of starting (see the log above)"
                    self._stop.set()
                    break
                running[index] = self._start()
        self._end([process for process, _ in running])

    @staticmethod
    def _end(processes: list[BaseProcess]) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn answers what is in flight, then exits
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
