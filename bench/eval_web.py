"""Side-by-side evaluation of newsearch's page reader and the bare libraries it wraps, on pages you collect.

    .venv/bin/python bench/eval_web.py PAGES_DIR [--truth FILE ...] [--verbose] [--json OUT]

PAGES_DIR holds saved pages; the ground truth sits beside them (``truth.json`` or ``truth.csv`` in the folder
unless --truth names files).  Truth formats, merged by file name:

* ``truth.json``: ``{"pages": [{"file", "url", "date": "YYYY-MM-DD" | null, "title", "article": true,
  "with": [...], "without": [...]}]}`` (every key but ``file`` optional; ``date`` is the publisher's day);
* ``truth.csv``: columns file,url,date,title,article,with,without (passages separated by `` | ``);
* this project's ``tests/data/web/expected.json`` (its single-record HTML fixtures);
* htmldate's evaluation files (``{url: {"file", "date"}}``) and trafilatura's (``{url: {"file", "with",
  "without"}}``) as they are published in those projects' test folders.

Systems, run in the same process on the same bytes and URL:
  newsearch      read_html (the ingest's page reader)
  trafilatura    trafilatura.bare_extraction(html, url=url, with_metadata=True), all defaults
  htmldate       find_date(html, url=url), defaults
  htmldate-orig  find_date(html, url=url, original_date=True)

Scores: date = exact publication day (a page whose truth is null counts as right when no date is given);
text = trafilatura's own measure (each ``with`` passage found is a true positive, missed a false negative;
each ``without`` passage found a false positive), pooled over pages; title = exact match after squashing
spaces; rejected = real articles (truth article, the default) that produced no text at all.
--verbose also lists every page where newsearch is worse than one of the libraries (date, or passages
found minus boilerplate kept), the pages to investigate.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura  # noqa: E402
from htmldate import find_date  # noqa: E402

from search.ingest.formats.html import read_html  # noqa: E402
from search.model import Article  # noqa: E402


# ------------------------------------------------------------------ truth
@dataclass
class Truth:
    file: str
    url: str = ""
    date: str | None = None
    has_date: bool = False  # does the truth say anything about the date (null = undated)?
    title: str = ""
    article: bool = True
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)


def _merge(pages: dict[str, Truth], file: str, **values) -> None:
    page = pages.setdefault(file, Truth(file))
    for key, value in values.items():
        if value not in (None, "", []) or key in ("date", "has_date"):
            setattr(page, key, value)


def _split(cell: str) -> list[str]:
    return [s.strip() for s in (cell or "").split(" | ") if s.strip()]


def _from_expected(name: str, records: list[dict]) -> dict:
    """One single-record fixture of tests/data/web/expected.json as a truth entry."""
    want = records[0]
    if want["kind"] == "rejected":
        return {"file": name, "article": False}
    return {"file": name, "title": want["title"], "date": want.get("day") or (want["date"] or "")[:10] or None,
            "with": want.get("must_contain", []), "without": want.get("must_not_contain", [])}


def load_truth(path: Path, pages: dict[str, Truth]) -> None:
    """Add one truth file's knowledge to ``pages``."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                dated = "date" in row
                _merge(pages, row["file"], url=row.get("url", ""), title=row.get("title", ""),
                       with_=_split(row.get("with", "")), without=_split(row.get("without", "")),
                       article=(row.get("article") or "true").lower() not in ("false", "0", "no"),
                       **({"date": row["date"] or None, "has_date": True} if dated else {}))
        return
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, dict) and "files" in doc:  # tests/data/web/expected.json: record lists per fixture
        doc = {"pages": [_from_expected(name, records) for name, records in doc["files"].items()
                         if len(records) == 1 and records[0].get("format", "html") == "html"]}
    entries = doc["pages"] if isinstance(doc, dict) and "pages" in doc else [
        {"url": url, **value} for url, value in doc.items() if isinstance(value, dict) and "file" in value]
    for entry in entries:
        extra = {"date": entry["date"], "has_date": True} if "date" in entry else {}
        _merge(pages, entry["file"], url=entry.get("url", ""), title=entry.get("title", ""),
               with_=list(entry.get("with", [])), without=list(entry.get("without", [])),
               article=entry.get("article", True), **extra)


# ---------------------------------------------------------------- systems
@dataclass
class Output:
    text: str = ""
    title: str = ""
    day: str | None = None
    rejected: str = ""  # why a page gave no article


def _day(when) -> str | None:
    """The calendar day a system reports (newsearch: the publisher's day when it keeps one)."""
    if when is None:
        return None
    if isinstance(when, datetime | date):
        return when.isoformat()[:10]
    return str(when)[:10] or None


def run_newsearch(name: str, data: bytes, url: str) -> Output:
    try:
        records = list(read_html(name, data, url=url))
    except TypeError:  # a page reader without the url hint
        records = list(read_html(name, data))
    record = records[0]
    if not isinstance(record, Article):
        return Output(rejected=record.reason)
    return Output(record.body, record.title, _day(getattr(record, "day", None) or record.date))


def run_trafilatura(name: str, data: bytes, url: str) -> Output:
    doc = trafilatura.bare_extraction(data, url=url or None, with_metadata=True)
    if doc is None:
        return Output(rejected="no extraction")
    return Output(doc.text or "", doc.title or "", _day(doc.date))


def run_htmldate(original: bool) -> Callable[[str, bytes, str], Output]:
    def run(name: str, data: bytes, url: str) -> Output:
        return Output(day=_day(find_date(data, url=url or None, original_date=original)))
    return run


SYSTEMS: dict[str, tuple[Callable[[str, bytes, str], Output], bool]] = {  # name: (runner, extracts text)
    "newsearch": (run_newsearch, True),
    "trafilatura": (run_trafilatura, True),
    "htmldate": (run_htmldate(False), False),
    "htmldate-orig": (run_htmldate(True), False),
}


# ------------------------------------------------------------------ scores
@dataclass
class Score:
    dated: int = 0
    day_right: int = 0
    day_wrong: int = 0
    day_missing: int = 0
    tp: int = 0
    fn: int = 0
    fp: int = 0
    titled: int = 0
    title_right: int = 0
    articles: int = 0
    rejected: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, truth: Truth, out: Output, text: bool) -> None:
        if truth.has_date:
            self.dated += 1
            if out.day == truth.date:
                self.day_right += 1
            else:
                self.day_wrong += out.day is not None
                self.day_missing += out.day is None
                self.misses.append(f"{truth.file}: date {out.day} != {truth.date}")
        if not text:
            return
        body = " ".join(out.text.split())
        found = [" ".join(s.split()) in body for s in truth.with_]
        self.tp += sum(found)
        self.fn += len(found) - sum(found)
        self.fp += sum(" ".join(s.split()) in body for s in truth.without)
        if truth.with_ and not all(found):
            self.misses.append(f"{truth.file}: missed {len(found) - sum(found)}/{len(found)} passages"
                               + (f" ({out.rejected})" if out.rejected else ""))
        if truth.title:
            self.titled += 1
            self.title_right += " ".join(out.title.split()) == " ".join(truth.title.split())
        if truth.article:
            self.articles += 1
            if not body:
                self.rejected.append(f"{truth.file}: {out.rejected or 'empty text'}")

    def row(self, name: str, text: bool) -> dict:
        prec = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        rec = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        row = {"system": name, "dated pages": self.dated,
               "exact day": f"{100 * self.day_right / self.dated:.1f}%" if self.dated else "-",
               "wrong day": self.day_wrong, "no date": self.day_missing}
        if text:
            row |= {"text P": f"{prec:.3f}", "text R": f"{rec:.3f}", "text F1": f"{f1:.3f}",
                    "title": f"{self.title_right}/{self.titled}" if self.titled else "-",
                    "no text": f"{len(self.rejected)}/{self.articles}"}
        return row


def _page_marks(truth: Truth, out: Output, text: bool) -> tuple[int, int]:
    """(date right, passages right) of one system on one page: the per-page comparison --verbose prints."""
    body = " ".join(out.text.split())
    passages = (sum(" ".join(s.split()) in body for s in truth.with_)
                - sum(" ".join(s.split()) in body for s in truth.without)) if text else 0
    return int(truth.has_date and out.day == truth.date), passages


def evaluate(folder: Path, truth: dict[str, Truth], worse: list[str] | None = None) -> dict[str, Score]:
    """Every system on every page; pages where newsearch does worse than a library go to ``worse``."""
    scores = {name: Score() for name in SYSTEMS}
    for page in sorted(truth.values(), key=lambda p: p.file):
        path = folder / page.file
        if not path.is_file():
            print(f"{path}: listed in the truth but missing; skipped", file=sys.stderr)
            continue
        data = path.read_bytes()
        marks = {}
        for name, (runner, text) in SYSTEMS.items():
            try:
                out = runner(page.file, data, page.url)
            except Exception as exc:  # noqa: BLE001 - a crash is a result, not the end of the run
                out = Output(rejected=f"crashed: {type(exc).__name__}: {exc}")
            scores[name].add(page, out, text)
            marks[name] = _page_marks(page, out, text)
        ours = marks.get("newsearch", (0, 0))
        for name, (day, passages) in marks.items():
            if name != "newsearch" and (day > ours[0] or (SYSTEMS[name][1] and passages > ours[1])):
                (worse if worse is not None else []).append(f"{page.file}: newsearch worse than {name}")
    return scores


def print_table(scores: dict[str, Score], pages: int, command: str) -> None:
    rows = [score.row(name, SYSTEMS[name][1]) for name, score in scores.items()]
    header = list(rows[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row.get(h, "-")) for h in header) + " |")
    print(f"\n{pages} pages; produced by: {command}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path, help="folder of saved pages")
    parser.add_argument("--truth", type=Path, action="append", help="truth file(s); default truth.json/csv there")
    parser.add_argument("--verbose", action="store_true", help="list every miss and every rejected article")
    parser.add_argument("--json", type=Path, help="also write the table rows here as JSON")
    args = parser.parse_args(argv)
    files = args.truth or [p for p in (args.pages / "truth.json", args.pages / "truth.csv") if p.exists()]
    if not files:
        parser.error(f"no truth file: put truth.json or truth.csv in {args.pages} or pass --truth")
    truth: dict[str, Truth] = {}
    for path in files:
        load_truth(path, truth)
    warnings.simplefilter("ignore")  # library chatter is not a result
    worse: list[str] = []
    scores = evaluate(args.pages, truth, worse)
    if args.verbose:
        for name, score in scores.items():
            for line in score.misses + [f"REJECTED {r}" for r in score.rejected]:
                print(f"[{name}] {line}", file=sys.stderr)
        for line in worse:
            print(f"[worse] {line}", file=sys.stderr)
    command = shlex.join([".venv/bin/python", "bench/eval_web.py", *(argv if argv is not None else sys.argv[1:])])
    print_table(scores, len(truth), command)
    if args.json:
        args.json.write_text(json.dumps([s.row(n, SYSTEMS[n][1]) for n, s in scores.items()], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
