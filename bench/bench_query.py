"""Query benchmark: newsearch's engine vs tantivy vs plain Whoosh groupedby faceting vs SQLite FTS5, on Reuters ×N.

    .venv/bin/pip install -e '.[bench]'   # tantivy (bench/peer_tantivy.py)
    .venv/bin/python bench/bench_query.py [--copies 10] [--dir /tmp/bench-query] [--reuse] [--warm-runs 5] [--clock cpu]
                                          [--skip whoosh fts5 tantivy research] [--reuters DIR]

Builds (or with --reuse, reuses) Reuters-21578 replicated N times with distinct
ids (``reuters-123-x4``), as a newsearch index home and as an SQLite FTS5
database, then runs one fixed set of realistic queries through each engine.
"Full answer" = top 10 + all facet counts (people, orgs, places, source,
topics, year) + date histogram + highlighted snippets.

Warm: the engine is open and has seen the query set once; each query then
runs ``--warm-runs`` times. Cold: a freshly opened engine per query (opening
is not timed, the first query pays for empty caches). The machine is shared
and noisy, so compare the engines' ratios within one run.

Issue 15's query work, ×1 and ×10 (215,780 articles), CPU ms (``--clock cpu``), each line pair from one
run (``--skip whoosh fts5 research``) on the shared 2-core machine at load average 9-11; "before" is the
code before that work, against the same index and the same tantivy index:

    | run            | newsearch warm p50 | warm p95 | tantivy warm p50 | warm p95 | cold p95 newsearch / tantivy |
    | ×1 before      |                1.8 |      2.8 |              1.3 |      2.2 |                   8.6 / 3.5  |
    | ×1 after       |                1.1 |      1.3 |              1.4 |      2.2 |                   7.2 / 3.3  |
    | ×10 before     |                4.1 |      8.1 |              2.6 |      4.8 |                  23.1 / 15.8 |
    | ×10 after      |                2.6 |      4.0 |              2.6 |      5.3 |                  12.6 / 5.9  |

Plain Whoosh groupedby and SQLite FTS5 are 2-3 orders of magnitude behind (an earlier ×10 run: warm
p95 22.6 s and 2.0 s). Hit counts agree across the engines for every query (Whoosh's own parser
reads ``opec -saudi`` differently).

Research views (``--skip whoosh fts5``; six entity pages, two 6-series timelines, 5 warm runs
each), ×10 with story clusters built as a rebuild builds them, on the shared machine at load
average 13-16 (2 cores), ms:

    | view                | warm p50 | warm p95 |
    | entity page (full)  |     17.8 |     55.8 |
    | timeline (6 series) |     25.3 |     34.8 |

The same run's search numbers (collapsed to one result per story): warm p50 14.1, p95 30.5.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search.index import clusters, columns, writer  # noqa: E402
from search.index.generations import IndexHome  # noqa: E402
from search.ingest.read import iter_source_files, read_files  # noqa: E402
from search.model import Article  # noqa: E402
from search.query import research  # noqa: E402
from search.query.engine import SearchEngine  # noqa: E402
from search.query.params import SearchParams  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import peer_tantivy  # noqa: E402

REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578"
FACETS = ("people", "orgs", "places", "source", "topics")

# (our query, FTS5 MATCH expression, filters)
QUERIES = [
    ("oil", "oil", {}),
    ("oil prices", "oil prices", {}),
    ("interest rates", "interest rates", {}),
    ('"interest rates"', '"interest rates"', {}),
    ("coffee brazil", "coffee brazil", {}),
    ("trade deficit japan", "trade deficit japan", {}),
    ("opec -saudi", "opec NOT saudi", {}),
    ('"stock exchange"', '"stock exchange"', {}),
    ("merger talks", "merger talks", {}),
    ("federal reserve", "federal reserve", {}),
    ("econom*", "econom*", {}),
    ("shares", "shares", {}),
    ("dividend", "dividend", {"from": "1987-03", "to": "1987-03"}),
    ("wheat", "wheat", {"places": ["usa"]}),
    ("bank", "bank", {"from": "1987-03-01", "to": "1987-04-15"}),
    ("gold", "gold", {"topics": ["gold"]}),
    ("profit", "profit", {"places": ["uk"], "from": "1987-04"}),
    ("acquisition", "acquisition", {"topics": ["acq"], "places": ["usa"]}),
    ("reagan", "reagan", {"people": ["reagan"]}),
    ("dollar yen", "dollar yen", {"places": ["japan", "usa"]}),
    ("grain exports ussr", "grain exports ussr", {}),
    ("tax", "tax", {"orgs": ["ec"]}),
    ('"money supply"', '"money supply"', {"from": "1987-04"}),
    ("crude output", "crude output", {"topics": ["crude"]}),
]


# Research views: full entity pages (facet, value, search params) and 6-series timelines (URL query strings).
ENTITIES = [
    ("places", "usa", {}),
    ("places", "iran", {}),
    ("topics", "crude", {}),
    ("people", "reagan", {}),
    ("orgs", "opec", {}),
    ("places", "japan", {"q": "trade", "from": "1987-03"}),
]
TIMELINES = [
    [("q", "oil"), ("q", "gold"), ("q", "coffee"), ("q", "wheat"), ("q", '"interest rates"'), ("q", "dollar")],
    [("interval", "day"), ("q", "oil"), ("places", "iran"), ("q", "oil"), ("places", "iraq"), ("q", "opec"),
     ("q", "crude"), ("topics", "crude"), ("q", "shares"), ("q", "bank")],
]


# -- corpus ------------------------------------------------------------------------------------
def load_articles(copies: int, folder: Path = REUTERS) -> list[Article]:
    records = read_files(list(iter_source_files([str(p) for p in sorted(folder.glob("*.sgm.gz"))])))
    base = [item for record in records for item in record.items if isinstance(item, Article)]
    return [a.replace(id=f"{a.id}-x{c}") for c in range(copies) for a in base]


def build_newsearch(home: IndexHome, articles: list[Article], chars: int | None = None) -> float:
    started = time.perf_counter()
    number, work = home.new_workdir()
    writer.write_batches(work, [articles], len(articles), chars=chars)  # write_all, segments cut by size
    columns.build(work)
    clusters.publish(work, articles)  # story clusters, as a rebuild makes them
    home.publish(number, work)
    return time.perf_counter() - started


def build_fts(path: Path, articles: list[Article]) -> float:
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript("""
        create virtual table fts using fts5(title, body, tokenize='porter unicode61');
        create table meta(doc integer primary key, id text, date integer, year integer, month text);
        create table facet(doc integer, name text, value text);
    """)
    for rowid, a in enumerate(articles, start=1):
        db.execute("insert into fts(rowid, title, body) values (?, ?, ?)", (rowid, a.title, a.body))
        stamp = int(a.date.timestamp()) if a.date else None
        db.execute("insert into meta values (?, ?, ?, ?, ?)", (rowid, a.id, stamp, a.date.year if a.date else None,
                                                               a.date.strftime("%Y-%m-01") if a.date else None))
        values = [(rowid, name, v) for name in ("people", "orgs", "places", "topics") for v in getattr(a, name)]
        values += [(rowid, "source", a.source)] if a.source else []
        db.executemany("insert into facet values (?, ?, ?)", values)
    db.executescript("create index facet_doc on facet(doc, name, value); create index facet_nv on facet(name, value);")
    db.commit()
    db.close()
    return time.perf_counter() - started


# -- engines -------------------------------------------------------------------------------------
class Ours:
    name = "newsearch (numpy columns)"

    def __init__(self, root: Path, name: str | None = None):
        self.root = root
        self.engine = None
        self.name = name or self.name

    def open(self):
        self.engine = SearchEngine(self.root, time_budget_s=30)
        self.engine.generation()

    def run(self, q, fts_q, filters):
        answer = self.engine.search(SearchParams.from_mapping({"q": q, "per_page": 10, **filters}))
        return answer["total"]


class WhooshGroupedBy:
    name = "Whoosh groupedby"

    def __init__(self, root: Path):
        self.root = root
        self.searcher = None

    def open(self):
        from whoosh.qparser import AndGroup, MultifieldParser

        if self.searcher is not None:
            self.searcher.close()
        ix = writer.open_index(IndexHome(self.root).live())
        self.searcher = ix.searcher()
        self.parser = MultifieldParser(["title", "body"], ix.schema, group=AndGroup)

    def run(self, q, fts_q, filters):
        from dateutil.relativedelta import relativedelta
        from whoosh import query as wq
        from whoosh import sorting

        start, end = SearchParams.from_mapping(filters).date_range()
        parts = []
        if start is not None or end is not None:
            parts.append(wq.DateRange("date", _dt(start), _dt(end)))
        for name in FACETS:
            if filters.get(name):
                parts.append(wq.Or([wq.Term(name, v.lower()) for v in filters[name]]))
        facets = {name: sorting.FieldFacet(name, allow_overlap=True) for name in FACETS}
        facets["year"] = sorting.DateRangeFacet("date", datetime(1980, 1, 1), datetime(1995, 1, 1),
                                                relativedelta(years=1))
        facets["month"] = sorting.DateRangeFacet("date", datetime(1987, 1, 1), datetime(1988, 1, 1),
                                                 relativedelta(months=1))
        results = self.searcher.search(self.parser.parse(q), limit=10, groupedby=facets,
                                       filter=wq.And(parts) if parts else None)
        for name in facets:
            counts = results.groups(name)
            sorted(counts.items(), key=lambda kv: -len(kv[1]))[:20]
        for hit in results:
            hit.highlights("body")
        return len(results)


def _dt(epoch):
    return None if epoch is None else datetime.utcfromtimestamp(epoch)


class Fts5:
    name = "SQLite FTS5"

    def __init__(self, path: Path):
        self.path = path
        self.db = None

    def open(self):
        if self.db is not None:
            self.db.close()
        self.db = sqlite3.connect(self.path)

    def run(self, q, fts_q, filters):
        """Hits into a temp table, filters applied by deleting (PK/index probes), then top 10 and GROUP BYs."""
        db = self.db
        db.execute("drop table if exists temp.hits")
        db.execute("create temp table hits(doc integer primary key)")
        db.execute("insert into hits select rowid from fts where fts match ?", (fts_q,))
        start, end = SearchParams.from_mapping(filters).date_range()
        restrict = " and rowid in (select doc from hits)" if filters else ""
        if start is not None or end is not None:
            db.execute("delete from hits where not exists (select 1 from meta where meta.doc = hits.doc "
                       "and date between ? and ?)",
                       (start if start is not None else -2**62, end if end is not None else 2**62))
        for name in FACETS:
            if filters.get(name):
                marks = ",".join("?" * len(filters[name]))
                db.execute(f"delete from hits where not exists (select 1 from facet where facet.doc = hits.doc "
                           f"and name = ? and value in ({marks}))", (name, *filters[name]))
        top = db.execute(
            "select rowid, title, snippet(fts, 1, '<mark>', '</mark>', '…', 24), bm25(fts, 2.5, 1.0) "
            f"from fts where fts match ?{restrict} order by bm25(fts, 2.5, 1.0) limit 10",
            (fts_q,)).fetchall()
        for name in FACETS:
            db.execute("select value, count(*) c from hits cross join facet on facet.doc = hits.doc and name = ? "
                       "group by value order by c desc limit 20", (name,)).fetchall()
        db.execute("select year, count(*) from hits cross join meta on meta.doc = hits.doc group by year").fetchall()
        db.execute("select month, count(*) from hits cross join meta on meta.doc = hits.doc group by month").fetchall()
        total = db.execute("select count(*) from hits").fetchone()[0]
        return total if top is not None else 0


def measure_research(root: Path, warm_runs: int) -> dict[str, list[float]]:
    """Warm timings of whole entity pages (research.entity) and 6-series timelines (research.attention)."""
    engine = SearchEngine(root, time_budget_s=30)
    calls = [(f"entity {f}={v} {p or ''}", lambda f=f, v=v, p=p: research.entity(
        engine, f, v, SearchParams.from_mapping(p))) for f, v, p in ENTITIES]
    for pairs in TIMELINES:
        interval = dict(pairs).get("interval")
        series = research.series_params([(k, v) for k, v in pairs if k != "interval"])
        calls.append((f"timeline {len(series)} series", lambda s=series, i=interval: research.attention(engine, s, i)))
    for _, call in calls:  # warm-up
        call()
    out: dict[str, list[float]] = {"entity page": [], "timeline (6 series)": []}
    for _ in range(warm_runs):
        for name, call in calls:
            started = time.perf_counter()
            call()
            out["entity page" if name.startswith("entity") else "timeline (6 series)"].append(
                time.perf_counter() - started)
    return out


# -- measuring -------------------------------------------------------------------------------------
def measure(engine, warm_runs: int, clock=time.perf_counter) -> dict:
    """Cold first (a fresh engine per query, opening not timed), which also warms up; then warm repetitions."""
    totals, cold = {}, []
    for q, fts_q, filters in QUERIES:
        engine.open()
        gc.collect()  # the replaced engine's garbage belongs to opening (untimed), not to the next cold query
        started = clock()
        totals[q] = engine.run(q, fts_q, filters)
        cold.append(clock() - started)
    engine.open()
    for q, fts_q, filters in QUERIES:  # warm-up of the engine that the warm runs use
        engine.run(q, fts_q, filters)
    warm = []
    for _ in range(warm_runs):
        for q, fts_q, filters in QUERIES:
            started = clock()
            engine.run(q, fts_q, filters)
            warm.append(clock() - started)
    return {"warm": warm, "cold": cold, "totals": totals}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--dir", default="/tmp/bench-query")
    parser.add_argument("--reuse", action="store_true", help="reuse the index and database built by a previous run")
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: this process's CPU time per query (steadier than wall time on a busy shared "
                             "machine; every engine here answers a query on one thread)")
    parser.add_argument("--whoosh-warm-runs", type=int, default=1, help="plain Whoosh is slow: fewer repetitions")
    parser.add_argument("--reuters", type=Path, default=REUTERS, help="folder of reut2-*.sgm.gz")
    parser.add_argument("--skip", nargs="*", default=[], choices=["whoosh", "fts5", "tantivy", "research"])
    parser.add_argument("--segment-mb", type=float, nargs="*", default=[],
                        help="also newsearch indexes cut into segments of at most N MB of text (what --memory-mb sets)")
    args = parser.parse_args(argv)
    base = Path(args.dir)
    home, fts_path, tantivy_path = IndexHome(base / "index"), base / "fts5.sqlite", base / "tantivy"
    cut = {n: IndexHome(base / f"index-{n}mb") for n in args.segment_mb}
    need_index = not args.reuse or home.live() is None or any(h.live() is None for h in cut.values())
    need_fts = "fts5" not in args.skip and (not args.reuse or not fts_path.exists())
    need_tantivy = "tantivy" not in args.skip and (not args.reuse or not (tantivy_path / "meta.json").exists())
    if need_index or need_fts or need_tantivy:
        if not args.reuse:
            shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        articles = load_articles(args.copies, args.reuters)
        print(f"read {len(articles)} articles in {time.perf_counter() - started:.1f} s", flush=True)
        if need_index:
            print(f"newsearch index built in {build_newsearch(home, articles):.1f} s", flush=True)
            for n, cut_home in cut.items():
                print(f"newsearch index in segments of ≤{n} MB of text built in "
                      f"{build_newsearch(cut_home, articles, int(n * 1e6)):.1f} s", flush=True)
        if need_fts:
            print(f"FTS5 database built in {build_fts(fts_path, articles):.1f} s", flush=True)
        if need_tantivy:
            print(f"tantivy index built: {peer_tantivy.build(tantivy_path, articles)}", flush=True)
        del articles
    engines = [(Ours(home.root), args.warm_runs)]
    engines += [(Ours(h.root, f"newsearch, {_segment_count(h)} segments of ≤{n} MB text"), args.warm_runs)
                for n, h in cut.items()]
    if "tantivy" not in args.skip:
        engines.append((peer_tantivy.TantivyPeer(tantivy_path), args.warm_runs))
    if "whoosh" not in args.skip:
        engines.append((WhooshGroupedBy(home.root), args.whoosh_warm_runs))
    if "fts5" not in args.skip:
        engines.append((Fts5(fts_path), args.warm_runs))
    results = {}
    for engine, runs in engines:
        print(f"measuring {engine.name} …", flush=True)
        results[engine.name] = measure(engine, runs, time.process_time if args.clock == "cpu" else time.perf_counter)
    print_table(results, args)
    if "research" not in args.skip:
        print("\nresearch views (newsearch, warm, ms):\n")
        print("| view | runs | p50 | p95 | max |")
        print("|---|---:|---:|---:|---:|")
        for name, times in measure_research(home.root, args.warm_runs).items():
            print(f"| {name} | {len(times)} | {pct(times, 50):.1f} | {pct(times, 95):.1f} | {max(times) * 1000:.1f} |")
    return 0


def _segment_count(home: IndexHome) -> int:
    return len(list(home.live().glob("*.seg")))


def print_table(results: dict, args) -> None:
    ours = results["newsearch (numpy columns)"]
    ours_p95 = pct(ours["warm"], 95)
    print(f"\n`.venv/bin/python bench/bench_query.py --copies {args.copies}{' --reuse' if args.reuse else ''}"
          f" --warm-runs {args.warm_runs} --clock {args.clock}` — {len(QUERIES)} queries, full answer (top 10"
          f" + 6 facets + histogram + snippets), {args.clock} times in ms\n")
    print("| engine | warm p50 | warm p95 | cold p50 | cold p95 | warm p95 / newsearch | cold p95 / newsearch |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {pct(r['warm'], 50):.1f} | {pct(r['warm'], 95):.1f} | {pct(r['cold'], 50):.1f} | "
              f"{pct(r['cold'], 95):.1f} | {pct(r['warm'], 95) / ours_p95:.2f}× | "
              f"{pct(r['cold'], 95) / pct(ours['cold'], 95):.2f}× |")
    print(f"\nhits per query ({' / '.join(results)}):")
    for q, _, filters in QUERIES:
        counts = [r["totals"][q] for r in results.values()]
        differ = [n for n, r in results.items() if n != "Whoosh groupedby" and r["totals"][q] != counts[0]]
        print(f"  {q!r} {filters or ''}: {' / '.join(map(str, counts))}{'  MISMATCH: ' if differ else ''}"
              f"{', '.join(differ)}")
    mean = statistics.mean(ours["warm"]) * 1000
    print(f"\nnewsearch warm mean {mean:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
