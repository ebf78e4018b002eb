"""One build worker's segment on Reuters-21578: CPU per stage, lean writer vs Whoosh's add_document.

    python bench/bench_segment_write.py [--rounds 2] [--workers 2]

Each variant writes the segment of worker 0 of ``--workers`` (the articles a rebuild gives it) in
a fresh forked process, one after the other in the same run:

- ``whoosh add_document``: Whoosh's own per-document path, then the columns part and the postings
  sidecar read back from the written segment (what ``update`` still does for its new segment);
- ``lean (doc_writer)``: ``writer._write_segment``, the rebuild's path.

Stages: ``documents`` (adding every article), ``postings`` (flushing the segment), ``columns``
(the segment's columns part), ``sidecar``. The whole rebuild before/after, by phase:
``python bench/bench_index.py --only given --phases --tree before=DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("documents", "postings", "columns", "sidecar")


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def run_in_child(fn, *args) -> dict:
    """``fn(*args)`` in a forked child (its own CPU and memory); returns what it returns (a dict)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            out = fn(*args)
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            out = {"error": repr(error)}
        with os.fdopen(write, "w") as pipe:
            json.dump(out, pipe)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        out = json.load(pipe)
    os.waitpid(pid, 0)
    if "error" in out:
        raise SystemExit(out["error"])
    return out


def whoosh_variant(articles, workers: int) -> dict:
    from search.index import postings_sidecar, segment_columns, whoosh_internals, writer

    directory = Path(tempfile.mkdtemp(prefix="bench-seg-"))
    writer.create(directory)
    split, mark = {}, cpu()
    w = whoosh_internals.worker_segment_writer(directory, 0, limitmb=writer.WRITER_LIMIT_MB, codec=writer.codec())
    for article in articles[0::workers]:
        w.add_document(**writer.to_document(article))
    split["documents"], mark = cpu() - mark, cpu()
    segment = whoosh_internals.finish_worker_segment(w)
    split["postings"], mark = cpu() - mark, cpu()
    reader = whoosh_internals.segment_reader(whoosh_internals.open_unmapped(directory), segment)
    segment_columns.save_part(segment_columns.compute_part(reader, segment.segment_id()), directory)
    split["columns"], mark = cpu() - mark, cpu()
    postings_sidecar.write_segment(directory, reader)
    split["sidecar"] = cpu() - mark
    return split


def lean_variant(articles, workers: int) -> dict:
    from search.index import doc_writer, segment_columns, whoosh_internals, writer

    directory = Path(tempfile.mkdtemp(prefix="bench-seg-"))
    writer.create(directory)
    split, mark = {}, cpu()
    filler = doc_writer.SegmentFiller(
        whoosh_internals.worker_segment_writer(directory, 0, limitmb=writer.WRITER_LIMIT_MB, codec=writer.codec()))
    for article in articles[0::workers]:
        filler.add(writer.to_document(article))
    filler.write_documents()
    split["documents"], mark = cpu() - mark, cpu()
    filler.finish()
    split["postings"], mark = cpu() - mark, cpu()
    segment_columns.save_part(filler.column_part(), directory)
    split["columns"], mark = cpu() - mark, cpu()
    filler.write_sidecar(directory)
    split["sidecar"] = cpu() - mark
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_index

    started = time.perf_counter()
    articles = bench_index.load_reuters()
    rows: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        rows.setdefault("whoosh add_document", []).append(run_in_child(whoosh_variant, articles, args.workers))
        rows.setdefault("lean (doc_writer)", []).append(run_in_child(lean_variant, articles, args.workers))
    docs = len(articles[0::args.workers])
    print(f"one worker's segment: {docs} of {len(articles)} Reuters articles, best of {args.rounds} round(s), CPU-s")
    print("| variant | " + " | ".join(STAGES) + " | total | documents µs/article |")
    print("|---|" + "---:|" * (len(STAGES) + 2))
    best = {name: min(runs, key=lambda r: sum(r.values())) for name, runs in rows.items()}
    for name, split in best.items():
        print(f"| {name} | " + " | ".join(f"{split[s]:.2f}" for s in STAGES) +
              f" | {sum(split.values()):.2f} | {split['documents'] / docs * 1e6:.0f} |")
    ref, lean = best["whoosh add_document"], best["lean (doc_writer)"]
    print(f"\ndocuments stage: {ref['documents'] / lean['documents']:.1f}x less CPU; documents + columns: "
          f"{(ref['documents'] + ref['columns']) / (lean['documents'] + lean['columns']):.1f}x")
    print(f"\ncommand: python bench/bench_segment_write.py --rounds {args.rounds} --workers {args.workers}"
          f"   ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
