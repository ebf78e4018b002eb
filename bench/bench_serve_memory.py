"""Serve memory: the resident size of each gunicorn worker after answering the query benchmark's queries.

    .venv/bin/python bench/bench_query.py --copies 10 --dir /tmp/bench-query --skip whoosh fts5   # builds ×10
    .venv/bin/python bench/bench_serve_memory.py --index /tmp/bench-query/index [--workers 1] [--rounds 5]

Starts ``newsearch serve`` on the index home (a free local port), asks ``/api/search`` every query of
``bench_query.QUERIES`` ``--rounds`` times (the same parameters the query benchmark uses), then reads
each worker's ``/proc/<pid>/status`` (VmRSS: resident now, VmHWM: its peak) and ``smaps_rollup``
(Pss: resident with pages shared between processes, such as the page cache of memory-mapped
postings, split among them; Anonymous: the process's own heap). Stops the server it started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_query import QUERIES  # noqa: E402

STATUS_FIELDS = ("VmRSS", "VmHWM")
ROLLUP_FIELDS = ("Pss", "Anonymous")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (gunicorn's workers), from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return sorted(out)


def memory_mb(pid: int) -> dict[str, float]:
    """The kB fields of /proc/<pid>/status and smaps_rollup we report, in MB."""
    found = {}
    for name, fields in (("status", STATUS_FIELDS), ("smaps_rollup", ROLLUP_FIELDS)):
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                found[key] = int(value.split()[0]) / 1024
    return found


def ask(port: int, q: str, filters: dict) -> int:
    pairs = [("q", q), ("per_page", "10")]
    for key, value in filters.items():
        pairs += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    url = f"http://127.0.0.1:{port}/api/search?{urllib.parse.urlencode(pairs)}"
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)["total"]


def wait_ready(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not answer /healthz in time")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="an index home (e.g. the query benchmark's DIR/index)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", args.index, "--port", str(port),
         "--workers", str(args.workers), "--threads", str(args.threads)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, server)
        workers = children(server.pid)
        before = {pid: memory_mb(pid) for pid in workers}
        started = time.perf_counter()
        for _ in range(args.rounds):
            for q, _, filters in QUERIES:
                ask(port, q, filters)
        took = time.perf_counter() - started
        after = {pid: memory_mb(pid) for pid in workers}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"`.venv/bin/python bench/bench_serve_memory.py --index {args.index} --workers {args.workers} "
          f"--threads {args.threads} --rounds {args.rounds}` — {args.rounds} × {len(QUERIES)} /api/search "
          f"requests in {took:.1f} s, MB per worker\n")
    print("| worker | RSS idle | RSS after | peak RSS (VmHWM) | PSS after | anonymous after |")
    print("|---|---:|---:|---:|---:|---:|")
    for pid in workers:
        b, a = before[pid], after[pid]
        print(f"| {pid} | {b['VmRSS']:.0f} | {a['VmRSS']:.0f} | {a['VmHWM']:.0f} | {a['Pss']:.0f} | "
              f"{a['Anonymous']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
