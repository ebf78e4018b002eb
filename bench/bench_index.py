"""Indexing benchmark: newsearch rebuild vs naive Whoosh writers and tantivy on Reuters-21578, and entity extraction.

Each variant runs in its own process (so peak memory is its own), one after the
other in the same run; compare the ratios, not the absolute numbers, on a shared
machine.

    pip install -e '.[bench]'   # tantivy (bench/peer_tantivy.py)
    python bench/bench_index.py [--rounds 2] [--seed-articles 1500] [--only given] [--phases] [--tree before=DIR]

CPU is the variant process's user+system time including its children and
threads; a line under the table splits tantivy's into newsearch's Python
analyser (it feeds tantivy pre-tokenized text, so hit counts match) and
tantivy's own writer. ``--only TEXT`` runs the variants whose name contains it; ``--phases``
prints newsearch's CPU per rebuild phase (bench/phase_cpu.py); ``--tree LABEL=DIR`` also runs the
newsearch variants with the ``search`` package of another checkout (e.g. ``git archive main``
unpacked), for before/after figures in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REUTERS = sorted((ROOT.parent / "shared" / "corpora" / "reuters21578").glob("reut2-*.sgm.gz"))


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def load_reuters():
    from search.ingest.read import read_file

    return [a for path in REUTERS for a in read_file(path) if hasattr(a, "body")]


def naive_whoosh(workdir: Path, **writer_args) -> int:
    """What a new user writes: parse, one writer, stored body, four keyword fields, one commit."""
    from whoosh import fields, index

    articles = load_reuters()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True), title=fields.TEXT(stored=True), body=fields.TEXT(stored=True),
        date=fields.DATETIME(stored=True), topics=fields.KEYWORD(stored=True, commas=True),
        places=fields.KEYWORD(stored=True, commas=True), people=fields.KEYWORD(stored=True, commas=True),
        orgs=fields.KEYWORD(stored=True, commas=True))
    ix = index.create_in(str(workdir), schema)
    writer = ix.writer(**writer_args)
    for a in articles:
        writer.add_document(id=a.id, title=a.title, body=a.body, date=a.date, topics=",".join(a.topics),
                            places=",".join(a.places), people=",".join(a.people), orgs=",".join(a.orgs))
    writer.commit()
    return len(articles)


def tantivy_build(workdir: Path) -> tuple[int, dict]:
    sys.path.insert(0, str(ROOT / "bench"))
    import peer_tantivy

    report = peer_tantivy.build(workdir / "tantivy", load_reuters())
    return report["docs"], report


def cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def newsearch_rebuild(workdir: Path, sources: list[str], entities: bool) -> int:
    from search.build import BuildOptions, rebuild
    from search.index.generations import IndexHome

    report = rebuild(IndexHome(workdir), sources, BuildOptions(extract_entities=entities, force=True))
    return report.articles


def write_seed_corpus(target: Path, count: int) -> None:
    """Reuters bodies re-dressed in the seed text format (no given entities), generated at run time."""
    target.mkdir(parents=True, exist_ok=True)
    made = 0
    for article in load_reuters():
        if len(article.body) < 400:
            continue
        day = article.date.strftime("%Y-%m-%d")
        (target / f"{made:05d}.txt").write_text(f" date {day} {article.title}.\n\n{article.body}", encoding="utf-8")
        made += 1
        if made == count:
            return


VARIANTS = ("naive whoosh (1 writer)", "naive whoosh (procs=2, multisegment)",
            "newsearch rebuild (given entities)", "tantivy (pre-tokenized)")
SEED_VARIANTS = ("newsearch rebuild seed-format (cold entity cache)",
                 "newsearch rebuild seed-format (warm entity cache)")


def run_variant(name: str, workdir: Path, seed_dir: Path, phases: bool = False) -> dict:
    started, extra = time.perf_counter(), {}
    if phases and name.startswith("newsearch"):
        sys.path.insert(0, str(ROOT / "bench"))
        import phase_cpu

        extra["phases"] = phase_cpu.install()
    if name == "naive whoosh (1 writer)":
        docs = naive_whoosh(workdir)
    elif name == "naive whoosh (procs=2, multisegment)":
        docs = naive_whoosh(workdir, procs=2, multisegment=True)
    elif name == "newsearch rebuild (given entities)":
        docs = newsearch_rebuild(workdir, [str(p) for p in REUTERS], entities=False)
    elif name == "tantivy (pre-tokenized)":
        docs, extra = tantivy_build(workdir)
    elif name.startswith("newsearch rebuild seed-format"):
        docs = newsearch_rebuild(workdir, [str(seed_dir)], entities=True)
    else:
        raise SystemExit(f"unknown variant {name}")
    seconds = time.perf_counter() - started
    return {"docs": docs, "seconds": seconds, "peak_mb": peak_mb(), "cpu_s": cpu_s(), "size_mb": dir_mb(workdir),
            **extra}


def spawn(name: str, workdir: Path, seed_dir: Path, phases: bool = False, tree: str | None = None) -> dict:
    """One variant in its own process; ``tree``: a checkout whose ``search`` package it imports instead."""
    env = {**os.environ, "PYTHONPATH": tree or os.environ.get("PYTHONPATH", str(ROOT))}
    out = subprocess.run([sys.executable, __file__, "--variant", name, "--workdir", str(workdir),
                          "--seed-dir", str(seed_dir), *(["--phases"] if phases else [])],
                         capture_output=True, text=True, cwd=ROOT, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed-articles", type=int, default=1500)
    parser.add_argument("--variant")
    parser.add_argument("--workdir")
    parser.add_argument("--seed-dir")
    parser.add_argument("--only", action="append", help="run the variants whose name contains this")
    parser.add_argument("--phases", action="store_true", help="CPU per newsearch rebuild phase")
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR: newsearch from another checkout")
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, Path(args.workdir), Path(args.seed_dir), args.phases)))
        return
    trees = [(None, None)] + [tuple(t.split("=", 1)) for t in args.tree]
    wanted = [n for n in (*VARIANTS, *SEED_VARIANTS) if not args.only or any(o in n for o in args.only)]
    scratch = Path(tempfile.mkdtemp(prefix="bench-index-"))
    seed_dir = scratch / "seed-corpus"
    write_seed_corpus(seed_dir, args.seed_articles)
    rows: dict[str, list[dict]] = {}
    try:
        for _ in range(args.rounds):
            for name in wanted:
                for label, tree in trees if name.startswith("newsearch") else [(None, None)]:
                    work = scratch / (f"seed-ix-{label}" if name in SEED_VARIANTS else "ix")
                    if name not in SEED_VARIANTS[1:]:  # the warm run reuses the cold run's index (entity cache)
                        shutil.rmtree(work, ignore_errors=True)
                    work.mkdir(exist_ok=True)
                    row = f"{name} [{label}]" if label else name
                    rows.setdefault(row, []).append(spawn(name, work, seed_dir, args.phases, tree))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(rows, args)


def print_table(rows: dict[str, list[dict]], args) -> None:
    best = {name: min(runs, key=lambda r: r["seconds"]) for name, runs in rows.items()}
    naive = best.get("naive whoosh (1 writer)")
    cold = best.get("newsearch rebuild seed-format (cold entity cache)")
    ours = best.get("newsearch rebuild (given entities)") or next(iter(best.values()))
    print("| variant | docs | seconds | docs/s | vs naive | peak MB | CPU s | CPU / newsearch | index MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in best.items():
        rate = r["docs"] / r["seconds"]
        ratio = "-" if naive is None else f"{rate / (naive['docs'] / naive['seconds']):.2f}x"
        if "seed-format" in name:
            ratio = f"{cold['seconds'] / r['seconds']:.1f}x vs cold" if cold else "-"
        print(f"| {name} | {r['docs']} | {r['seconds']:.1f} | {rate:.0f} | {ratio} | {r['peak_mb']:.0f} | "
              f"{r['cpu_s']:.1f} | {r['cpu_s'] / ours['cpu_s']:.2f}x | {r['size_mb']:.0f} |")
    if "tantivy (pre-tokenized)" in best:
        t = best["tantivy (pre-tokenized)"]
        print(f"\ntantivy: {t['analyse_cpu_s']:.1f} CPU-s in newsearch's analyser (Python), {t['index_cpu_s']:.1f} "
              f"CPU-s / {t['index_s']:.1f} s wall in tantivy's writer and commit")
    phased = {name: r["phases"] for name, r in best.items() if "phases" in r}
    if phased:
        names = list(dict.fromkeys(p for phases in phased.values() for p in phases))
        print("\nCPU-s per phase (parent + reaped children):\n")
        print("| variant | " + " | ".join(names) + " | rest |")
        print("|---|" + "---:|" * (len(names) + 1))
        for name, phases in phased.items():
            spent = {p: v["parent"] + v["children"] for p, v in phases.items()}
            cells = [f"{spent[p]:.2f}" if p in spent else "-" for p in names]
            print(f"| {name} | " + " | ".join(cells) + f" | {best[name]['cpu_s'] - sum(spent.values()):.2f} |")
    flags = "".join([*(f" --only '{o}'" for o in args.only or []), " --phases" * args.phases,
                     *(f" --tree {t}" for t in args.tree)])
    print(f"\nbest of {args.rounds} round(s); command: python bench/bench_index.py --rounds {args.rounds} "
          f"--seed-articles {args.seed_articles}{flags}")


if __name__ == "__main__":
    main()
