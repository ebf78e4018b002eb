"""Story clusters' CPU: signing Reuters-21578, clustering ×N copies of it, an update of 100 articles.

    python bench/bench_clusters.py [--copies 1 3 10] [--tree before=DIR ...]

Reuters ×N is N copies of every article under new ids (as ``bench_scale``'s corpora): each
story has N exact copies, so LSH buckets fill and every band finds the same pairs again, the
worst case for candidate verification. Per N: ``state_of`` (all edges of all signatures),
``save`` (the generation's clusters.npz and doc column) and ``update_state`` with 100 changed
articles against the saved state. ``--tree LABEL=DIR`` runs the same measurements with the
``search`` package of another checkout (e.g. ``git archive`` of an older commit), in its own
process, for before/after figures in one run. CPU seconds are process time (user+system).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REUTERS = sorted((ROOT.parent / "shared" / "corpora" / "reuters21578").glob("reut2-*.sgm.gz"))


def measure(copies: list[int]) -> dict:
    from search.index import clusters

    try:  # an older checkout kept the edges in clusters.py
        from search.index.lsh import find_edges
    except ImportError:
        find_edges = clusters.find_edges
    from search.ingest.boilerplate import RepeatedParagraphs
    from search.ingest.formats.reuters import read_reuters
    from search.ingest.prepare import prepare
    from search.model import Article

    raw = [a for p in REUTERS for a in read_reuters(str(p), gzip.decompress(p.read_bytes())) if isinstance(a, Article)]
    articles = prepare(raw, RepeatedParagraphs(), [])
    ids, texts = [a.id for a in articles], [(a.title, a.body) for a in articles]
    started = time.process_time()
    sigs, figs = clusters.signatures(texts)
    out = {"articles": len(articles), "sign_s": time.process_time() - started, "copies": {}}
    changed = [f"{i}-new" for i in ids[:100]]
    new_sigs, new_figs = clusters.signatures(texts[:100])
    for n in copies:
        all_ids = np.array([f"{i}-{k}" for k in range(n) for i in ids], dtype=str)
        order = np.argsort(all_ids, kind="stable")
        state = clusters.State(all_ids[order], np.tile(sigs, (n, 1))[order], np.tile(figs, (n, 1))[order],
                               np.zeros((0, 2), dtype=np.int64), clusters.Settings())
        row, started = {}, time.process_time()
        state.edges = find_edges(state.sigs, state.figs, state.settings)
        row["state_s"], row["edges"] = time.process_time() - started, len(state.edges)
        with tempfile.TemporaryDirectory() as folder:
            started = time.process_time()
            clusters.save(state, state.ids, Path(folder))
            row["save_s"] = time.process_time() - started
            saved = clusters.load_state(Path(folder))
        started = time.process_time()
        updated = clusters.update_state(saved, state.ids, *_added(clusters, changed, new_sigs, new_figs))
        row["update_s"], row["clusters"] = time.process_time() - started, int(updated.components().max()) + 1
        out["copies"][n] = row
    return out


def _added(clusters, ids, sigs, figs) -> tuple:
    """``update_state``'s added articles, in the shape this checkout takes them."""
    if hasattr(clusters, "Signed"):
        return (clusters.Signed(np.array(ids, dtype=str), sigs, figs),)
    raise SystemExit("this checkout's update_state signs texts itself; not comparable")


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
    print("| tree | Reuters ×N | articles | sign ×1 CPU-s | edges | state_of CPU-s | save CPU-s "
          "| update 100 CPU-s | clusters |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, run in runs.items():
        for n, row in run["copies"].items():
            print(f"| {label} | {n} | {run['articles'] * int(n)} | {run['sign_s']:.2f} | {row['edges']} | "
                  f"{row['state_s']:.2f} | {row['save_s']:.2f} | {row['update_s']:.2f} | {row['clusters']} |")
    flags = "".join(f" --tree {shlex.quote(t)}" for t in args.tree)
    print(f"\ncommand: python bench/bench_clusters.py --copies {' '.join(map(str, args.copies))}{flags}")


if __name__ == "__main__":
    main()
