"""How well do the feed and HTML readers get title, date and main text right?

Runs both readers over the fixtures in tests/data/web (format chosen by
content, as the ingest does) and scores every record against
tests/data/web/expected.json:

    .venv/bin/python bench/eval_web_extraction.py [--data DIR] [--verbose]

Columns: title / date / authors / url are exact matches (date in UTC, null for
undated); "text" means every must_contain passage is in the body and no
must_not_contain boilerplate is; "verdict" means a record expected to be
rejected was rejected with the expected reason (and line).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.ingest.formats.feed import looks_like_feed, read_feed  # noqa: E402
from search.ingest.formats.html import looks_like_html, read_html  # noqa: E402
from search.model import Article, Rejected  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "web"
CHECKS = ("title", "date", "authors", "url", "text", "verdict")


def read_any(path: Path) -> list[Article | Rejected]:
    """Records of one fixture, with the reader picked by content like the real ingest."""
    data = path.read_bytes()
    head = data[:8192]
    if looks_like_feed(head):
        return list(read_feed(str(path), data))
    if looks_like_html(head):
        return list(read_html(str(path), data))
    return [Rejected(str(path), 0, "not recognised as feed or HTML")]


def iso(article: Article) -> str | None:
    return article.date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if article.date else None


def text_ok(article: Article, want: dict) -> bool:
    body = article.body
    return all(s in body for s in want.get("must_contain", ())) and not any(
        s in body for s in want.get("must_not_contain", ())
    )


def score_record(got: Article | Rejected | None, want: dict) -> dict[str, bool]:
    """Which checks one record passes; checks that do not apply are left out."""
    if want["kind"] == "rejected":
        ok = isinstance(got, Rejected) and want["reason"] in got.reason and got.line == want.get("line", got.line)
        return {"verdict": ok}
    if not isinstance(got, Article):
        return {"verdict": False, "title": False, "date": False, "authors": False, "url": False, "text": False}
    return {
        "verdict": True,
        "title": got.title == want["title"],
        "date": iso(got) == want["date"],
        "authors": got.authors == want.get("authors", got.authors),
        "url": got.url == want.get("url", got.url),
        "text": text_ok(got, want),
    }


def evaluate(data_dir: Path) -> tuple[list[tuple[str, dict[str, list[bool]]]], float]:
    expected = json.loads((data_dir / "expected.json").read_text(encoding="utf-8"))["files"]
    rows = []
    started = time.perf_counter()
    for name, wanted in sorted(expected.items()):
        got = read_any(data_dir / name)
        results: dict[str, list[bool]] = {check: [] for check in CHECKS}
        for index, want in enumerate(wanted):
            record = got[index] if index < len(got) else None
            for check, ok in score_record(record, want).items():
                results[check].append(ok)
        results["verdict"].extend([False] * max(0, len(got) - len(wanted)))  # unexpected extra records
        rows.append((name, results))
    return rows, time.perf_counter() - started


def cell(oks: list[bool]) -> str:
    return f"{sum(oks)}/{len(oks)}" if oks else "-"


def print_table(rows, seconds: float, command: str) -> int:
    header = ["file", *CHECKS]
    lines = [header, ["---"] * len(header)]
    totals: dict[str, list[bool]] = {check: [] for check in CHECKS}
    for name, results in rows:
        lines.append([name, *(cell(results[c]) for c in CHECKS)])
        for check in CHECKS:
            totals[check].extend(results[check])
    lines.append(["**total**", *(cell(totals[c]) for c in CHECKS)])
    lines.append(["**rate**", *(f"{100 * sum(totals[c]) / len(totals[c]):.0f}%" if totals[c] else "-"
                                for c in CHECKS)])
    for line in lines:
        print("| " + " | ".join(line) + " |")
    print(f"\n{len(rows)} files in {seconds:.2f} s; produced by: {command}")
    return 0 if all(all(v) for v in totals.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fixture folder with expected.json")
    parser.add_argument("--verbose", action="store_true", help="show each failing record")
    args = parser.parse_args(argv)
    rows, seconds = evaluate(args.data)
    if args.verbose:
        for name, results in rows:
            failed = [c for c in CHECKS if not all(results[c])]
            if failed:
                print(f"{name}: failed {', '.join(failed)}", file=sys.stderr)
    command = shlex.join([".venv/bin/python", "bench/eval_web_extraction.py", *(argv or sys.argv[1:])])
    return print_table(rows, seconds, command)


if __name__ == "__main__":
    sys.exit(main())
