"""Where one ``update`` of 100 articles spends its time, under cProfile: story clusters, columns, the rest.

    python bench/bench_update_profile.py --home HOME --sources DIR [DIR ...] [--tree LABEL=DIR ...] [--updates 2]
        [--home-for LABEL=HOME ...] [--sources-for LABEL=DIR ...]

Each ``--tree LABEL=DIR`` (the ``search`` package of a checkout, e.g. ``git archive`` of an older
commit; default: this tree) updates its own hard-linked copy of ``--home`` (``private_copy``):
update 1 adds ``bench_update.extra_articles(1)`` (a JSONL file in this script's scratch folder, so the
sources are never written), update 2 changes those 100 articles, and so on. Each update runs as
``python -m cProfile -o … -m search update --quiet --index TRIAL SOURCES… EXTRA`` in its own
process; wall and CPU (user + system) come from ``wait4``, the per-function times from the profile
(cumulative, so under cProfile's overhead). ``--home-for LABEL=HOME`` gives one tree another home
(e.g. one built by that tree's code), ``--sources-for LABEL=DIR`` that home's sources; ``--plain``
runs without the profiler (wall and CPU only).
The machine is shared: compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import pstats
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_update import extra_articles, trial_copy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = {  # column -> (file suffix, function name)
    "clusters.publish": ("search/index/clusters.py", "publish"),
    "columns.build": ("search/index/columns.py", "build"),
    "apply_changes": ("search/index/writer.py", "apply_changes"),
}


def private_copy(home: Path, trial: Path) -> None:
    """``trial_copy``, and a lock file of its own: the lock is written in place (the pid), so a hard-linked
    one would write into ``home``."""
    trial_copy(home, trial)
    lock = trial / ".lock"
    if lock.exists():
        lock.unlink()
        lock.touch()


def cumulative(profile: Path) -> dict[str, float]:
    stats = pstats.Stats(str(profile)).stats
    out = {name: 0.0 for name in FUNCTIONS}
    for (filename, _, function), (_, _, _, cum, _) in stats.items():
        for name, (suffix, wanted) in FUNCTIONS.items():
            if filename.endswith(suffix) and function == wanted:
                out[name] = max(out[name], cum)
    return out


def run(tree: str, command: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=tree, env={**os.environ, "PYTHONPATH": tree},  # -m: cwd first on the path
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{shlex.join(command)} failed:\n{err[-2000:]}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--sources", nargs="+", required=True)
    parser.add_argument("--sources-for", action="append", default=[], help="LABEL=DIR: that home's sources")
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR: the search package of a checkout")
    parser.add_argument("--home-for", action="append", default=[], help="LABEL=HOME: that tree's own home")
    parser.add_argument("--updates", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="no profiler: wall and CPU only")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-update-profile"))
    args = parser.parse_args()
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    trees = [t.split("=", 1) for t in args.tree] or [["this tree", str(ROOT)]]
    homes = dict(h.split("=", 1) for h in args.home_for)
    sources = {label: [folder] for label, folder in (s.split("=", 1) for s in args.sources_for)}
    args.dir.mkdir(parents=True, exist_ok=True)
    extra = args.dir / "extra.jsonl"
    rows = []
    for label, tree in trees:
        trial = args.dir / "trial"
        private_copy(Path(homes.get(label, args.home)), trial)
        try:
            for number in range(1, args.updates + 1):
                extra.write_text(extra_articles(number))
                profile = args.dir / f"{label}-update-{number}.prof"
                profiler = [] if args.plain else ["-m", "cProfile", "-o", str(profile)]
                command = [sys.executable, *profiler, "-m", "search", "update", "--quiet",
                           "--index", str(trial), *sources.get(label, args.sources), str(extra)]
                wall, cpu = run(tree, command)
                rows.append((label, number, wall, cpu, {} if args.plain else cumulative(profile)))
        finally:
            shutil.rmtree(trial, ignore_errors=True)
            extra.unlink(missing_ok=True)
    print("\n| tree | update | wall s | CPU s | " + " | ".join(f"{name} s" for name in FUNCTIONS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(FUNCTIONS))
    for label, number, wall, cpu, times in rows:
        print(f"| {label} | {number} | {wall:.1f} | {cpu:.1f} | "
              + " | ".join(f"{times[name]:.2f}" if times else "" for name in FUNCTIONS) + " |")


if __name__ == "__main__":
    main()
