"""Update cost against index size: rebuild Reuters ×N once, then time ``update`` adding and changing 100 articles.

    python bench/bench_update.py [--copies 10] [--dir /tmp/bench-update] [--reuse] [--rounds 2]

The source folder holds N copies of Reuters-21578 with distinct NEWIDs (copy c
gets ids c·100000 + n), written at run time from ../shared. Every measured
command runs as its own process (``python -m search …``); wall time, CPU
(user + system) and peak RSS come from ``wait4`` on that process, so they are
the command's own. Each update round works on a hard-linked copy of the
rebuilt home (generations are immutable; the entity cache is copied), so rounds
start from the same state:

* ``add 100``: a new JSONL file of 100 articles (entities given, no model);
* ``change 100``: the same file with every body changed (100 replaced articles);
* ``no change``: the same command again (the manifest says nothing changed).

The machine is shared; compare rows within one run. One run each on the 2-core dev machine
(load average 11–16 from other jobs during the ×10 one):

    Reuters ×1: 21,578 articles, 22 files (--rounds 2)
    | step       | wall s | CPU s | peak RSS MB | index MB |
    | rebuild    |   47.6 |  25.0 |         330 |      129 |
    | add 100    |    1.1 |   0.7 |          96 |          |
    | change 100 |    1.0 |   0.6 |          97 |          |
    | no change  |    0.7 |   0.3 |          52 |          |

    Reuters ×10: 215,780 articles, 220 files (--rounds 1)
    | rebuild    | 1021.4 | 346.7 |       1,137 |      980 |
    | add 100    |    1.4 |   0.8 |         131 |          |
    | change 100 |    1.7 |   0.8 |         131 |          |
    | no change  |    0.7 |   0.3 |          52 |          |

Before per-segment columns and the batched delete, ``add 100`` took 12.9 s wall / 8.2 CPU-s at ×1.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578"
_NEWID_RE = re.compile(rb'NEWID="(\d+)"')


def make_sources(target: Path, copies: int) -> None:
    """Reuters ×copies, each copy with its own NEWIDs (so no copy deduplicates another)."""
    for copy in range(copies):
        folder = target / f"copy{copy:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(REUTERS.glob("reut2-*.sgm.gz")):
            out = folder / path.name
            if out.exists():
                continue
            data = gzip.decompress(path.read_bytes())
            data = _NEWID_RE.sub(lambda m, c=copy: b'NEWID="%d"' % (c * 100000 + int(m.group(1))), data)
            out.write_bytes(gzip.compress(data, compresslevel=1))


def extra_articles(version: int, count: int = 100) -> str:
    lines = []
    for n in range(count):
        lines.append(json.dumps({
            "id": f"bench-extra-{n}", "title": f"Extra story {n} version {version}",
            "body": f"Version {version} of a benchmark story number {n} about wheat exports, oil prices "
                    f"and the interest rates of central banks. " * 4,
            "date": f"1987-04-{1 + n % 28:02d}", "source": "bench",
            "people": [f"person {n % 7}"], "orgs": ["opec"], "places": ["usa"], "topics": ["grain"],
        }))
    return "\n".join(lines) + "\n"


def run(command: list[str]) -> dict:
    """Run one command as a child process; its own wall time, CPU and peak RSS."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{shlex.join(command)} exited {code}:\n{err[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def newsearch(*args: str) -> list[str]:
    return [sys.executable, "-m", "search", *args]


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def trial_copy(home: Path, trial: Path) -> None:
    """Hard-link the immutable generations; copy what a run writes in place (the entity cache, the lock)."""
    shutil.rmtree(trial, ignore_errors=True)
    subprocess.run(["cp", "-al", str(home), str(trial)], check=True)
    (trial / ".lock").unlink(missing_ok=True)  # a linked lock would be the home's: its own, made by the run
    for cache in trial.glob("entity-cache.sqlite*"):
        cache.unlink()
        shutil.copy2(home / cache.name, cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-update"))
    parser.add_argument("--reuse", action="store_true", help="keep an existing sources folder and rebuilt home")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))

    base = args.dir / f"x{args.copies}"
    sources, home, trial = base / "src", base / "home", base / "trial"
    make_sources(sources / "reuters", args.copies)
    rows = []
    if not (args.reuse and (home / "current").exists()):
        shutil.rmtree(home, ignore_errors=True)
        result = run(newsearch("rebuild", "--quiet", "--force", "--index", str(home), str(sources)))
        rows.append(("rebuild", result, disk_mb(home)))
    meta = json.loads((home / "current" / "meta.json").read_text())
    extra = sources / "extra.jsonl"
    timings: dict[str, list[dict]] = {"add 100": [], "change 100": [], "no change": []}
    try:
        for _ in range(args.rounds):
            trial_copy(home, trial)
            update = newsearch("update", "--quiet", "--index", str(trial), str(sources))
            extra.write_text(extra_articles(1))
            timings["add 100"].append(run(update))
            extra.write_text(extra_articles(2))
            timings["change 100"].append(run(update))
            timings["no change"].append(run(update))
            extra.unlink()
    finally:
        extra.unlink(missing_ok=True)
        shutil.rmtree(trial, ignore_errors=True)
    for name, results in timings.items():
        merged = {key: statistics.median(r[key] for r in results) for key in ("wall", "cpu", "rss_mb")}
        rows.append((name, merged, None))

    print(f"\nReuters ×{args.copies}: {meta['articles']:,} articles, {meta['files']} files; "
          f"median of {args.rounds} rounds for updates")
    print("| step       | wall s | CPU s | peak RSS MB | index MB |")
    print("|------------|-------:|------:|------------:|---------:|")
    for name, r, disk in rows:
        disk_text = f"{disk:,.0f}" if disk is not None else ""
        print(f"| {name:<10} | {r['wall']:6.1f} | {r['cpu']:5.1f} | {r['rss_mb']:11,.0f} | {disk_text:>8} |")


if __name__ == "__main__":
    main()
