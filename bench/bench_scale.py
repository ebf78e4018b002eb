"""Rebuild cost against archive size: Reuters ×N rebuilt by ``python -m search rebuild`` as its own process.

    python bench/bench_scale.py --copies 1 10 50 100 [--dir /tmp/bench-scale] [--memory-mb 1500]
                                [--tree OTHER_CHECKOUT] [--clean]

For each N the sources are N copies of Reuters-21578 with distinct NEWIDs (``bench_update.make_sources``,
written at run time from ../shared into DIR/copies, kept for the next run unless ``--clean``; each ×N
folder hard-links the first N), and the index home starts empty. While the rebuild runs, /proc is
sampled every 0.5 s: the memory of every process of its tree (the parent, readers, segment writers),
giving the peak RSS of the largest single process, of the parent alone (publish runs there) and the
peak of their summed PSS (shared pages counted once); the home's size on disk is sampled every 5 s
(generation, spilled batches). Wall and CPU (user + system, the tree's) come from ``wait4``.
``--tree`` runs another checkout's code instead (e.g. ``git archive`` of an older commit) for a
before/after in one run. Each ×N folder (sources' links and index home) is deleted after its row.

The machine is shared: compare rows of one run. Figures in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_update import make_sources

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_S = 0.5
DISK_SAMPLE_S = 5.0


def tree_memory_mb(root: int) -> tuple[float, float, float]:
    """(largest process RSS, sum of PSS, ``root``'s own RSS) over ``root`` and all its descendants, in MB.

    The sum is of PSS (``smaps_rollup``), not RSS: forked writers share the parent's pages, and a
    sum of RSS would count those once per process.
    """
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rindex(b")") + 2:].split()[1]), []).append(int(entry.name))
    largest, total, parent, todo = 0, 0, 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                fields = dict(line.split(b":", 1) for line in handle.read().splitlines()[1:])
        except (OSError, ValueError):
            continue
        largest = max(largest, int(fields[b"Rss"].split()[0]))
        parent = int(fields[b"Rss"].split()[0]) if pid == root else parent
        total += int(fields[b"Pss"].split()[0])
    return largest / 1024, total / 1024, parent / 1024


def disk_mb(path: Path) -> float:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total / 1e6


def rebuild(tree: Path, home: Path, sources: Path, memory_mb: int | None) -> dict:
    command = [sys.executable, "-m", "search", "rebuild", "--quiet", "--force", "--index", str(home)]
    if memory_mb is not None:
        command += ["--memory-mb", str(memory_mb)]
    command.append(str(sources))
    print("$", shlex.join(command), f"  (PYTHONPATH={tree})", flush=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    peaks = {"one": 0.0, "total": 0.0, "parent": 0.0, "disk": 0.0}
    done = threading.Event()

    log = home.parent / "rebuild.log"
    home.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT)

    def sample() -> None:
        last_disk = 0.0
        while not done.is_set():
            one, total, parent = tree_memory_mb(proc.pid)
            peaks["one"], peaks["total"] = max(peaks["one"], one), max(peaks["total"], total)
            peaks["parent"] = max(peaks["parent"], parent)
            if time.monotonic() - last_disk >= DISK_SAMPLE_S:
                peaks["disk"] = max(peaks["disk"], disk_mb(home))
                last_disk = time.monotonic()
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)  # the rebuild's own usage, with the children it waited for
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    output = log.read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"rebuild exited {os.waitstatus_to_exitcode(status)}:\n{output[-3000:]}")
    live = (home / "current").resolve()
    meta = json.loads((live / "meta.json").read_text())
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss": usage.ru_maxrss / 1024,
        "one": peaks["one"],
        "total": peaks["total"],
        "parent": peaks["parent"],
        "disk_peak": max(peaks["disk"], disk_mb(home)),
        "index": disk_mb(live),
        "articles": meta["articles"],
        "segments": len(list(live.glob("*.seg"))),
        "summary": output.strip().splitlines()[-1] if output.strip() else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-scale"))
    parser.add_argument("--memory-mb", type=int, default=None, help="passed to rebuild (default: its own)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose code runs (default: this one)")
    parser.add_argument("--clean", action="store_true", help="delete DIR/copies (the written sources) at the end")
    args = parser.parse_args()
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]), flush=True)

    rows = []
    pool = args.dir / "copies"
    make_sources(pool, max(args.copies))
    for copies in args.copies:
        base = args.dir / f"x{copies}"
        sources, home = base / "src", base / "home"
        shutil.rmtree(base, ignore_errors=True)
        sources.mkdir(parents=True)
        for copy in sorted(pool.iterdir())[:copies]:
            subprocess.run(["cp", "-al", str(copy), str(sources / copy.name)], check=True)
        try:
            result = rebuild(args.tree.resolve(), home, sources, args.memory_mb)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        rows.append((copies, result))
        print(f"  ×{copies}: {result['summary']}", flush=True)
        _table(rows, args)
        sys.stdout.flush()
    if args.clean:
        shutil.rmtree(pool, ignore_errors=True)


def _table(rows: list, args) -> None:
    memory = args.memory_mb if args.memory_mb is not None else "default"
    print(f"\ncode: {args.tree}; --memory-mb {memory}")
    print("| Reuters | articles | wall s | CPU s | peak RSS one process MB | peak RSS parent MB | peak PSS tree MB "
          "| index MB | peak disk MB | segments |")  # tree: summed PSS
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for copies, r in rows:
        one = max(r["one"], r["maxrss"])
        print(f"| ×{copies} | {r['articles']:,} | {r['wall']:,.0f} | {r['cpu']:,.0f} | {one:,.0f} | {r['parent']:,.0f} "
              f"| {r['total']:,.0f} | {r['index']:,.0f} | {r['disk_peak']:,.0f} | {r['segments']} |")


if __name__ == "__main__":
    main()
