"""Parent memory of a rebuild's story clustering: signatures held in memory and joined vs spilled to disk.

    python bench/bench_publish_memory.py [--copies 10 20 100]

Reuters-21578 is signed once; ×N is N copies of every signature under new ids (as ``bench_scale``'s
corpora), cut into the rebuild's batches of 2,000 articles. Per N, two ways from the batches to the
sorted ``clusters.State`` (ids, signatures, edges): "joined" keeps every batch's ``Signed`` in a list
(what the rebuild held while its segments were written) then ``Signed.join`` and ``state_of``;
"spilled" appends each batch to a ``SignatureSpill`` in a scratch folder and runs ``state_of`` on it.
Memory is numpy's allocations as ``tracemalloc`` sees them (the arrays; not the interpreter), above
what was allocated before the batches: "held" when the last batch is in, "peak" over batches and
clustering. The two states are checked equal. Both ways find edges with the same ``lsh.find_edges``.
"""

from __future__ import annotations

import argparse
import gzip
import shlex
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REUTERS = sorted((ROOT.parent / "shared" / "corpora" / "reuters21578").glob("reut2-*.sgm.gz"))
BATCH = 2000


def batches(base, copies: int):
    from search.index import clusters

    for copy in range(copies):
        ids = np.char.add(base.ids, f"-{copy}")
        for lo in range(0, len(ids), BATCH):
            yield clusters.Signed(ids[lo:lo + BATCH], base.sigs[lo:lo + BATCH].copy(), base.figs[lo:lo + BATCH].copy())


def measure(base, copies: int, spilled: bool) -> tuple[dict, object]:
    from search.index import clusters
    from search.index.signature_spill import SignatureSpill

    with tempfile.TemporaryDirectory(prefix="bench-publish-") as scratch:
        tracemalloc.start()
        floor = tracemalloc.get_traced_memory()[0]
        held = SignatureSpill(Path(scratch) / "signatures") if spilled else []
        for batch in batches(base, copies):
            held.add(batch) if spilled else held.append(batch)
        holding = tracemalloc.get_traced_memory()[0] - floor
        if spilled:
            state = clusters.state_of(held)
        else:
            joined = clusters.Signed.join(held)
            held.clear()  # as the rebuild's _joined let the parts go
            state = clusters.state_of(joined)
            del joined
        peak = tracemalloc.get_traced_memory()[1] - floor
        tracemalloc.stop()
    return {"held": holding / 1e6, "peak": peak / 1e6, "edges": len(state.edges)}, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[10, 20])
    args = parser.parse_args()
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]), flush=True)
    from search.index import clusters
    from search.ingest.boilerplate import RepeatedParagraphs
    from search.ingest.formats.reuters import read_reuters
    from search.ingest.prepare import prepare
    from search.model import Article

    raw = [a for p in REUTERS for a in read_reuters(str(p), gzip.decompress(p.read_bytes())) if isinstance(a, Article)]
    base = clusters.sign(prepare(raw, RepeatedParagraphs(), []))
    print("\n| Reuters | articles | edges | joined: held MB | joined: peak MB | spilled: held MB | spilled: peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for copies in args.copies:
        joined, before = measure(base, copies, spilled=False)
        spilled, after = measure(base, copies, spilled=True)
        for name in ("ids", "sigs", "figs", "edges"):
            assert np.array_equal(getattr(before, name), getattr(after, name)), name
        print(f"| ×{copies} | {copies * len(base.ids):,} | {joined['edges']:,} | {joined['held']:,.0f} "
              f"| {joined['peak']:,.0f} | {spilled['held']:,.0f} | {spilled['peak']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
