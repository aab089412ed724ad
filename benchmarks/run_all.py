"""`make bench`: every benchmark script in turn, each printing its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("bench_sandbox.py", []),
    ("bench_connector.py", []),
    ("bench_auth.py", []),
    ("bench_delivery.py", []),
    ("bench_ledger_rebuild.py", []),
    ("bench_posted_periods.py", []),
    ("bench_operations.py", []),
    ("bench_serve_alternating.py", []),
    ("bench_sweep.py", ["--subscriptions", "100000"]),
    ("bench_partner_center_poll.py", ["--customers", "1000", "--subscriptions", "10"]),
]

if __name__ == "__main__":
    failed = 0
    for script, args in SCRIPTS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent).returncode
    sys.exit(1 if failed else 0)
