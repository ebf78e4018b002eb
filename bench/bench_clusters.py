"""Story clusters' CPU: signing Reuters-21578, clustering ×N copies of it, an update of 100 articles.

    python bench/bench_clusters.py [--copies 1 3 10] [--tree before=DIR ...]

Reuters ×N is N copies of every article under new ids (as ``bench_scale``'s corpora): each
story has N exact copies, so LSH buckets fill and every band finds the same pairs again, the
worst case for candidate verification. Per N: ``state_of`` (all edges of all signatures, as a
rebuild finds them), ``band index`` (what a rebuild adds to write every segment's sorted band
keys, ``cluster_segments.band_index``, in segments of 40,000 rows as a ×50 build cuts them),
``probe 100``: an update's 100 new articles probed against those segments' band indexes
(``cluster_publish.probe_edges``), and ``components``: the generation's clusters from all edges.
``--tree LABEL=DIR`` runs the same measurements with the ``search`` package of another checkout
with per-segment cluster files, in its own process. CPU seconds are process time (user+system).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEGMENT_ROWS = 40_000  # rows per segment: about what a ×50 rebuild writes per segment
REUTERS = sorted((ROOT.parent / "shared" / "corpora" / "reuters21578").glob("reut2-*.sgm.gz"))


def measure(copies: list[int]) -> dict:
    from search.index import cluster_publish, cluster_segments, clusters, lsh
    from search.ingest.boilerplate import RepeatedParagraphs
    from search.ingest.formats.reuters import read_reuters
    from search.ingest.prepare import prepare
    from search.model import Article

    raw = [a for p in REUTERS for a in read_reuters(str(p), gzip.decompress(p.read_bytes())) if isinstance(a, Article)]
    articles = prepare(raw, RepeatedParagraphs(), [])
    texts = [(a.title, a.body) for a in articles]
    started = time.process_time()
    sigs, figs = clusters.signatures(texts)
    out = {"articles": len(articles), "sign_s": time.process_time() - started, "copies": {}}
    settings = clusters.Settings()
    for n in copies:
        all_sigs, all_figs = np.tile(sigs, (n, 1)), np.tile(figs, (n, 1))
        row, started = {}, time.process_time()
        edges = lsh.find_edges(all_sigs, all_figs, settings)
        row["state_s"], row["edges"] = time.process_time() - started, len(edges)
        sizes = [min(SEGMENT_ROWS, len(all_sigs) - lo) for lo in range(0, len(all_sigs), SEGMENT_ROWS)] + [100]
        all_sigs, all_figs = np.vstack([all_sigs, sigs[:100]]), np.vstack([all_figs, figs[:100]])
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        views, started = [], time.process_time()
        for lo, hi in zip(offsets[:-1], offsets[1:], strict=True):
            keys, docs = cluster_segments.band_index(all_sigs[lo:hi], settings)
            views.append(cluster_segments.SegmentFiles("", hi - lo, all_sigs[lo:hi], all_figs[lo:hi],
                                                       np.zeros(0, "S1"), keys, docs, cluster_segments.Edges.empty()))
        row["index_s"] = time.process_time() - started
        layout = cluster_publish.Layout(None, [], [str(i) for i in range(len(sizes))], offsets,
                                        np.ones(len(all_sigs), dtype=bool))
        started = time.process_time()
        probed = cluster_publish.probe_edges(layout, views, np.arange(offsets[-2], offsets[-1]), settings)
        row["update_s"] = time.process_time() - started
        started = time.process_time()
        labels = lsh.components(len(all_sigs), np.vstack([edges, probed]))
        row["components_s"], row["clusters"] = time.process_time() - started, int(labels.max()) + 1
        out["copies"][n] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR: the search package of a checkout")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.copies)))
        return
    runs = {}
    for label, tree in [("this tree", os.environ.get("PYTHONPATH", str(ROOT)))] + [t.split("=", 1) for t in args.tree]:
        out = subprocess.run([sys.executable, __file__, "--json", "--copies", *map(str, args.copies)], check=True,
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": tree})
        runs[label] = json.loads(out.stdout.strip().splitlines()[-1])
    print("| tree | Reuters ×N | articles | sign ×1 CPU-s | edges | state_of CPU-s | band index CPU-s "
          "| probe 100 CPU-s | components CPU-s | clusters |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, run in runs.items():
        for n, row in run["copies"].items():
            print(f"| {label} | {n} | {run['articles'] * int(n)} | {run['sign_s']:.2f} | {row['edges']} | "
                  f"{row['state_s']:.2f} | {row['index_s']:.2f} | {row['update_s']:.3f} | "
                  f"{row['components_s']:.2f} | {row['clusters']} |")
    flags = "".join(f" --tree {shlex.quote(t)}" for t in args.tree)
    print(f"\ncommand: python bench/bench_clusters.py --copies {' '.join(map(str, args.copies))}{flags}")


if __name__ == "__main__":
    main()
