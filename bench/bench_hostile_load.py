"""Load with hostile requests mixed in: is any ordinary request slowed beyond the 2 s budget?

Starts ``newsearch serve`` on loopback, then runs two phases of the same length: ordinary
queries alone, and ordinary queries while other clients send hostile ones (a 16-star wildcard,
400 nested parentheses, queries whose hits are ~5 MB articles, deep NOT chains) and a crowd of
slow clients trickles request heads. Prints its command and a latency table per phase.

    .venv/bin/python bench/bench_hostile_load.py                 # builds Reuters + 3 huge articles (~1 min)
    .venv/bin/python bench/bench_hostile_load.py --index DIR     # an existing index
    options: --seconds 15 (per phase) --clients 2 --hostile-clients 2 --slow 32

Bounded: fixed phase length, loopback only, every socket has a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578"
BUDGET_S = 2.0
ORDINARY = ["oil", "trade deficit", "wheat prices", "bank rate", "coffee", '"interest rates"', "gold OR silver",
            "opec -saudi", "title:dollar", "japan tariffs", "shipping strike", "sugar exports"]
HOSTILE = ["co" + "*" * 16 + "z", "(" * 400 + "oil", "th*e*e*e*e*e*e*e*e*e*e", "NOT " * 100 + "oil",
           "huge", "huge dump", "a?" + "?*" * 30, "title:huge"]
SYLLABLES = ["ka", "to", "mi", "ra", "ne", "lo", "su", "vi", "de", "po", "co", "ba", "zu", "fi", "ge"]


def build_index(workdir: Path) -> Path:
    """Reuters-21578 plus three ~4.9 MB articles of distinct made-up words (the worst case for snippets)."""
    rng = random.Random(7)
    corpus = workdir / "corpus"
    corpus.mkdir(parents=True)
    with open(corpus / "huge.jsonl", "w") as out:
        for i in range(3):
            words, size = [], 0
            while size < 4_900_000:
                word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5)))
                words.append(word)
                size += len(word) + 1
            out.write(json.dumps({"id": f"huge{i}", "title": f"Huge dump {i}", "body": " ".join(words) + " oil",
                                  "date": "1987-03-01", "source": "Dump"}) + "\n")
    sources = [str(p) for p in sorted(REUTERS.glob("reut2-*.sgm.gz"))] + [str(corpus)]
    index = workdir / "index"
    command = [sys.executable, "-m", "search", "rebuild", "--index", str(index), "--no-entities", "--quiet", *sources]
    subprocess.run(command, check=True, cwd=ROOT)
    return index


def start_server(index: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-m", "search", "serve", "--index", str(index), "--host",
                                "127.0.0.1", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    match = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", process.stdout.readline())
    if not match:
        process.terminate()
        raise SystemExit("the server did not start")
    return process, int(match.group(1))


def fetch(port: int, query: str) -> tuple[float, int]:
    url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": query})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return time.perf_counter() - started, status


def clients(port: int, queries: list[str], count: int, until: float, seed: int) -> list[tuple[float, int]]:
    results: list[tuple[float, int]] = []

    def run(n: int) -> None:
        rng = random.Random(seed + n)
        while time.monotonic() < until:
            results.append(fetch(port, rng.choice(queries)))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def slowloris(port: int, count: int, until: float) -> None:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
        socks.append(sock)
    while time.monotonic() < until:
        for sock in list(socks):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:  # closed by the server after its head timeout: reconnect, as an attacker would
                socks.remove(sock)
                fresh = socket.create_connection(("127.0.0.1", port), timeout=5)
                fresh.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
                socks.append(fresh)
        time.sleep(1)
    for sock in socks:
        sock.close()


def row(name: str, results: list[tuple[float, int]]) -> str:
    times = sorted(t for t, _ in results)
    if not times:
        return f"| {name} | 0 | | | | | |"
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    errors = sum(1 for _, status in results if status not in (200, 400))
    over = sum(1 for t in times if t > BUDGET_S)
    return (f"| {name} | {len(times)} | {statistics.median(times) * 1000:.0f} | {p95 * 1000:.0f} | "
            f"{times[-1] * 1000:.0f} | {over} | {errors} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, help="existing index (default: build Reuters + huge articles)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase (default 15)")
    parser.add_argument("--clients", type=int, default=2, help="ordinary clients (default 2)")
    parser.add_argument("--hostile-clients", type=int, default=2, help="clients sending hostile queries (default 2)")
    parser.add_argument("--slow", type=int, default=32, help="slow clients trickling headers (default 32)")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="newsearch-hostile-") as tmp:
        index = args.index or build_index(Path(tmp))
        process, port = start_server(index)
        try:
            for query in ORDINARY + HOSTILE:  # warm every worker's caches once
                fetch(port, query)
            calm = clients(port, ORDINARY, args.clients, time.monotonic() + args.seconds, seed=1)
            until = time.monotonic() + args.seconds
            hostile: list[tuple[float, int]] = []
            side = [threading.Thread(target=slowloris, args=(port, args.slow, until)),
                    threading.Thread(target=lambda: hostile.extend(
                        clients(port, HOSTILE, args.hostile_clients, until, seed=2)))]
            for thread in side:
                thread.start()
            stormy = clients(port, ORDINARY, args.clients, until, seed=1)
            for thread in side:
                thread.join()
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"\nnewsearch serve (defaults: {os.cpu_count()} workers × 4 threads), {args.seconds:.0f} s per phase, "
          f"budget {BUDGET_S} s; {args.clients} ordinary clients, {args.hostile_clients} hostile clients, "
          f"{args.slow} slow clients\n")
    print("| phase | requests | p50 ms | p95 ms | max ms | over budget | errors |")
    print("|---|---|---|---|---|---|---|")
    print(row("ordinary, alone", calm))
    print(row("ordinary, with hostile + slow clients", stormy))
    print(row("hostile queries themselves", hostile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
