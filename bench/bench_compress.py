"""Bytes on the wire with and without compression, and what compressing costs per response.

    python bench/bench_compress.py [--index DIR] [--repeat N]

Without --index it indexes seeds/ into a temporary folder. Each page is fetched through the
Flask test client once without Accept-Encoding and once with ``gzip`` and with ``br``; the
table gives the sizes and the median time per request of each (in-process, no network).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ("/search?q=nato", "/search", "/api/search?q=nato", "/facets/places", "/search.csv?q=nato",
         "/static/style.css")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="an index home (default: seeds/ indexed into a temporary folder)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        root = args.index or _seeds_index(Path(tmp))
        app = create_app(root)
        client = app.test_client()
        pages = [p for p in PAGES if client.get(p).status_code == 200]
        print(f"{'page':28} {'plain B':>9} {'gzip B':>8} {'br B':>8} {'plain ms':>9} {'gzip ms':>8} {'br ms':>7}")
        for page in pages:
            row = [page]
            timings = []
            for encoding in ("identity", "gzip", "br"):
                sizes, took = [], []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(page, headers={"Accept-Encoding": encoding})
                    body = response.get_data()
                    took.append((time.perf_counter() - started) * 1000)
                    sizes.append(len(body))
                row.append(sizes[-1])
                timings.append(statistics.median(took))
            print(f"{row[0]:28} {row[1]:>9,} {row[2]:>8,} {row[3]:>8,} "
                  f"{timings[0]:>9.1f} {timings[1]:>8.1f} {timings[2]:>7.1f}")
    return 0


def _seeds_index(tmp: Path) -> str:
    from search.build import BuildOptions, rebuild
    from search.index.generations import IndexHome

    home = IndexHome(tmp / "index")
    rebuild(home, [str(ROOT / "seeds")], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    return str(home.root)


if __name__ == "__main__":
    raise SystemExit(main())
