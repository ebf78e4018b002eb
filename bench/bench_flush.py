"""Segment flush on Reuters-21578: Whoosh's own posting writer vs ``w3_encode``, same postings, same run.

    python bench/bench_flush.py [--rounds 3] [--workers 2] [--baseline DIR ...]

Builds the segment of build worker 0 of ``--workers`` (the articles a rebuild gives it), reads every
indexed field's postings back (``FieldPostings.read``), then writes them into fresh posting and term
files, each round both ways:

- ``whoosh``: ``W3FieldWriter.add_postings`` fed the sorted ``(field, term, doc, weight, value)``
  postings, with each posting's value already encoded and its document length looked up from a dict
  (what ``SegmentWriter``'s flush does after its pool has sorted them; the pool is not counted);
- ``w3_encode``: ``whoosh_blocks``' field writer, from the arrays.

Both include closing the field writer (the term table's hash tables: ``close_field_writer``
for ``w3_encode``). The files are checked
byte-identical. CPU is this process's user+system time, best of ``--rounds``.

With ``--baseline DIR`` (a checkout of another commit, e.g. ``git archive main | tar -x -C DIR``,
with ``../shared`` beside it), a second table gives bench/bench_index.py's full rebuild with given
entities (CPU of the process and its workers) for each such tree and this one, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REBUILD = "newsearch rebuild (given entities)"  # bench/bench_index.py's variant
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def worker_segment(directory: Path, workers: int):
    """Worker 0's segment of Reuters, written by the build's own writer into ``directory``."""
    from bench_index import load_reuters

    from search.index import writer

    articles = load_reuters()
    writer.create(directory)
    writer._SHARED["job"] = (directory, articles)
    try:
        segment = writer._write_segment(0, workers)
    finally:
        writer._SHARED.clear()
    return segment


class _Lengths:
    def __init__(self, by_field: dict[str, dict[int, int]]):
        self._by_field = by_field

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        return self._by_field.get(fieldname, {}).get(docnum, default)


def whoosh_items(fields: dict, schema) -> tuple[list[tuple], _Lengths]:
    """The sorted postings Whoosh's pool would give, values encoded by the field's format."""
    items, lengths = [], {}
    for name in sorted(fields):
        f, fmt = fields[name], schema[name].format
        docs, weights, ptr = f.docs.tolist(), f.weights.tolist(), f.term_ptr.tolist()
        if f.lengths is not None:
            lengths[name] = dict(zip(docs, f.lengths.tolist(), strict=True))
        if f.positions is not None:
            flat, pos_ptr = f.positions.tolist(), f.pos_ptr.tolist()
            values = [fmt.encode(flat[a:b]) for a, b in zip(pos_ptr, pos_ptr[1:], strict=False)]
        else:
            values = [b""] * len(docs)
        for term, low, high in zip(f.terms, ptr, ptr[1:], strict=False):
            items.extend((name, term, docs[i], weights[i], values[i]) for i in range(low, high))
    return items, _Lengths(lengths)


def write(kind: str, storage, codec, schema, fields: dict, items, lengths) -> tuple[float, dict[str, bytes]]:
    from search.index import whoosh_blocks

    segment = codec.new_segment(storage, "MAIN")
    started = cpu()
    fieldwriter = codec.field_writer(storage, segment)
    if kind == "whoosh":
        fieldwriter.add_postings(schema, lengths, iter(items))
    else:
        for name in sorted(fields):
            whoosh_blocks._write_field(fieldwriter, name, schema[name], fields[name], codec._blocklimit)
    if kind == "whoosh":
        fieldwriter.close()
    else:
        whoosh_blocks.close_field_writer(fieldwriter)
    spent = cpu() - started
    files = {ext: storage.open_file(segment.make_filename(ext)).read() for ext in (".pst", ".trm")}
    return spent, files


def rebuild(tree: Path) -> dict:
    """bench/bench_index.py's rebuild variant run from ``tree`` (its own code) in a child process."""
    with tempfile.TemporaryDirectory(prefix="bench-flush-rebuild-") as scratch:
        out = subprocess.run([sys.executable, str(tree / "bench" / "bench_index.py"), "--variant", REBUILD,
                              "--workdir", scratch, "--seed-dir", scratch], capture_output=True, text=True,
                             cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", action="append", default=[], type=Path)
    args = parser.parse_args()

    from whoosh.filedb.filestore import FileStorage

    from search.index import whoosh_internals, writer
    from search.index.w3_encode import FieldPostings

    with tempfile.TemporaryDirectory(prefix="bench-flush-") as scratch:
        built = Path(scratch) / "built"
        built.mkdir()
        segment = worker_segment(built, args.workers)
        leaf = whoosh_internals.segment_reader(whoosh_internals.open_unmapped(built), segment)
        fields = {name: FieldPostings.read(leaf, name) for name in leaf.indexed_field_names()}
        schema = leaf.schema
        leaf.close()
        items, lengths = whoosh_items(fields, schema)
        storage, codec = FileStorage(scratch), writer.codec()
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            outputs = {}
            for kind in ("whoosh", "w3_encode"):
                spent, outputs[kind] = write(kind, storage, codec, schema, fields, items, lengths)
                best[kind] = min(best.get(kind, spent), spent)
            if outputs["whoosh"] != outputs["w3_encode"]:
                raise SystemExit("the two writers' files differ")
    postings = sum(len(f.docs) for f in fields.values())
    terms = sum(len(f.terms) for f in fields.values())
    print(f"segment of worker 0 of {args.workers}: {segment.doc_count_all()} documents, {len(fields)} fields, "
          f"{terms} terms, {postings} postings; .pst and .trm byte-identical both ways")
    print("| writer | CPU s | µs / posting | vs whoosh |")
    print("|---|---:|---:|---:|")
    for kind, spent in best.items():
        print(f"| {kind} | {spent:.2f} | {spent / postings * 1e6:.2f} | {best['whoosh'] / spent:.1f}x |")
    if args.baseline:
        print(f"\n| tree ({REBUILD}) | docs | CPU s | vs this tree |")
        print("|---|---:|---:|---:|")
        runs = {str(tree): rebuild(tree.resolve()) for tree in [*args.baseline, ROOT]}
        for tree, run in runs.items():
            print(f"| {tree} | {run['docs']} | {run['cpu_s']:.1f} | {run['cpu_s'] / runs[str(ROOT)]['cpu_s']:.2f}x |")
    baselines = "".join(f" --baseline {tree}" for tree in args.baseline)
    print(f"\nbest of {args.rounds} round(s); command: python bench/bench_flush.py --rounds {args.rounds} "
          f"--workers {args.workers}{baselines}")


if __name__ == "__main__":
    main()
