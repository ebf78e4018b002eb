"""Queries right after a generation swap: does an ``update`` make the next queries cold? And serve memory (RSS).

    .venv/bin/python bench/bench_query.py --copies 10 --dir /tmp/bench-query --skip whoosh   # builds the index
    .venv/bin/python bench/bench_swap.py --dir /tmp/bench-query [--articles 100] [--rounds 3]

Works on a hard-linked copy of the index that ``bench_query.py`` built (that
index is left as it is, so its peers still agree). One long-lived engine runs
the query set warm; then, ``--rounds`` times, an update publishes a new
generation (the live segments hard-linked, ``--articles`` Reuters articles
added under new ids as a new segment, as ``newsearch update`` does; added, not
``update_document``-ed, since the ids are new and that path costs minutes at
×10) and the same engine runs the query set again. "after swap" is that first
pass; opening the new generation is timed apart. "cold" is a fresh engine per query
(opening not timed), as in bench_query.py. RSS is this process's resident set
after the runs and its peak (VmHWM), i.e. one serving worker.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_query import QUERIES, REUTERS, pct  # noqa: E402

from search.build import read_files  # noqa: E402
from search.index import columns, writer  # noqa: E402
from search.index.generations import IndexHome  # noqa: E402
from search.ingest.read import iter_source_files  # noqa: E402
from search.model import Article  # noqa: E402
from search.query.engine import SearchEngine, SearchParams  # noqa: E402


def new_articles(count: int, round_: int) -> list[Article]:
    """``count`` Reuters articles under fresh ids: what one cron update might bring."""
    first = sorted(REUTERS.glob("*.sgm.gz"))[:1]
    records = read_files(list(iter_source_files([str(p) for p in first])))
    base = [item for record in records for item in record.items if isinstance(item, Article)][:count]
    return [a.replace(id=f"{a.id}-u{round_}", path=f"/bench/update-{round_}.sgm") for a in base]


def copy_home(source: IndexHome, target: IndexHome) -> None:
    shutil.rmtree(target.root, ignore_errors=True)
    number, work = target.new_workdir()
    writer.link_copy(source.require_live(), work)
    target.publish(number, work)


def publish_update(home: IndexHome, articles: list[Article]) -> float:
    started = time.perf_counter()
    number, work = home.new_workdir()
    writer.link_copy(home.require_live(), work)
    ix = writer.open_index(work)
    with ix.writer(limitmb=writer.WRITER_LIMIT_MB, codec=writer.codec()) as out:
        for article in articles:
            out.add_document(**writer.to_document(article))
    columns.build(work)
    home.publish(number, work)
    return time.perf_counter() - started


CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}


def run(engine: SearchEngine, q: str, filters: dict, clock=time.perf_counter) -> float:
    started = clock()
    engine.search(SearchParams.from_mapping({"q": q, "per_page": 10, **filters}))
    return clock() - started


def rss_mb() -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="/tmp/bench-query")
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCK), default="wall", help="cpu: steadier on a busy machine")
    args = parser.parse_args(argv)
    clock = CLOCK[args.clock]
    source = IndexHome(Path(args.dir) / "index")
    if source.live() is None:
        raise SystemExit(f"no index at {source.root}: run bench/bench_query.py --dir {args.dir} first")
    home = IndexHome(Path(args.dir) / "swap-index")
    copy_home(source, home)
    cold = []
    for q, _, filters in QUERIES:
        fresh = SearchEngine(home.root, time_budget_s=30)
        fresh.generation()
        cold.append(run(fresh, q, filters, clock))
    engine = SearchEngine(home.root, time_budget_s=30)
    started = time.perf_counter()
    engine.generation()
    first_open = time.perf_counter() - started
    for q, _, filters in QUERIES:
        run(engine, q, filters)
    warm = [run(engine, q, f, clock) for _ in range(args.warm_runs) for q, _, f in QUERIES]
    serving_rss, _ = rss_mb()
    after, opens, updates = [], [], []
    for round_ in range(args.rounds):
        updates.append(publish_update(home, new_articles(args.articles, round_)))
        started = time.perf_counter()
        engine.generation()
        opens.append(time.perf_counter() - started)
        after += [run(engine, q, f, clock) for q, _, f in QUERIES]
    rss, peak = rss_mb()
    documents = engine.health()["documents"]
    shutil.rmtree(home.root, ignore_errors=True)
    print(f"\n`.venv/bin/python bench/bench_swap.py --dir {args.dir} --articles {args.articles} --rounds {args.rounds}"
          f" --warm-runs {args.warm_runs} --clock {args.clock}` — {len(QUERIES)} queries, {documents} documents,"
          f" {args.clock} ms\n")
    print("| pass | p50 | p95 | max |")
    print("|---|---:|---:|---:|")
    for name, times in (("warm", warm), ("after swap (first pass on the new generation)", after), ("cold", cold)):
        print(f"| {name} | {pct(times, 50):.1f} | {pct(times, 95):.1f} | {pct(times, 100):.1f} |")
    print(f"\nopening: first generation {first_open * 1000:.0f} ms; after each update "
          f"{', '.join(f'{s * 1000:.0f}' for s in opens)} ms (not in the pass times above)")
    print(f"update publish (link + {args.articles} articles + columns): {', '.join(f'{s:.1f}' for s in updates)} s")
    print(f"after swap p95 / warm p95: {pct(after, 95) / pct(warm, 95):.2f}×, cold p95 / warm p95: "
          f"{pct(cold, 95) / pct(warm, 95):.2f}×")
    print(f"RSS: {serving_rss:.0f} MB serving warm, {rss:.0f} MB after the swaps; peak {peak:.0f} MB (includes the"
          f" updates this process also wrote)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
