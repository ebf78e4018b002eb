"""At scale, does an updated index cluster every article as a rebuild of the same folder does?

    python bench/check_update_clusters.py --home HOME --sources DIR [--dir /tmp/check-update-clusters]

The tests' differential checks run on small folders; this runs the same comparison on a real home
(e.g. ``bench_update.py``'s Reuters ×50, whose 50 copies of each story fill LSH buckets past
``lsh.SMALL_BUCKET``, so they are joined as chains): a hard-linked copy of ``--home``
(``bench_update_profile.private_copy``) is updated twice (``bench_update.extra_articles`` 1, then 2:
100 added, then the same 100 changed), the folder plus that file is rebuilt into a fresh home, and
every article's cluster key is compared. Prints the command, the step times and the comparison.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_update import extra_articles, newsearch, run  # noqa: E402
from bench_update_profile import private_copy  # noqa: E402
from cluster_check import cluster_keys  # noqa: E402

from search.index.generations import IndexHome  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--sources", required=True)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/check-update-clusters"))
    args = parser.parse_args()
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    updated, fresh, extra = args.dir / "updated", args.dir / "fresh", args.dir / "extra"
    shutil.rmtree(fresh, ignore_errors=True)
    extra.mkdir(parents=True, exist_ok=True)
    private_copy(args.home, updated)
    rows = []
    try:
        for version in (1, 2):
            (extra / "extra.jsonl").write_text(extra_articles(version))
            rows.append((f"update {version}", run(newsearch("update", "--quiet", "--index", str(updated),
                                                           args.sources, str(extra)))))
        rows.append(("rebuild", run(newsearch("rebuild", "--quiet", "--force", "--index", str(fresh),
                                              args.sources, str(extra)))))
        got = cluster_keys(IndexHome(updated).require_live())
        expected = cluster_keys(IndexHome(fresh).require_live())
    finally:
        shutil.rmtree(updated, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(extra, ignore_errors=True)
    print("\n| step | wall s | CPU s |\n|---|---:|---:|")
    for name, result in rows:
        print(f"| {name} | {result['wall']:.1f} | {result['cpu']:.1f} |")
    differing = sorted(k for k in expected if got.get(k) != expected[k])
    print(f"\narticles: updated {len(got):,}, rebuilt {len(expected):,}; clusters: updated "
          f"{len(set(got.values())):,}, rebuilt {len(set(expected.values())):,}; "
          f"articles whose cluster key differs: {len(differing)} {differing[:5]}")
    if differing or got.keys() != expected.keys():
        raise SystemExit(1)


if __name__ == "__main__":
    main()
