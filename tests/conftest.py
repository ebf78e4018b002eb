"""Shared fixtures: where ../shared lives, and small corpora written into tmp_path."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

# Tests write a file and read it at once; the settle wait (search/ingest/snapshot.py) is for writers racing a
# cron run, and the tests that race a writer set it themselves.  Child processes inherit this.
os.environ.setdefault("NEWSEARCH_SETTLE_SECONDS", "0")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_ARTICLE = SHARED / "seeds" / "000_2a19419ffac14254.txt"
REUTERS_DIR = SHARED / "corpora" / "reuters21578"


def reuters_files() -> list[Path]:
    return sorted(REUTERS_DIR.glob("reut2-*.sgm.gz"))


needs_shared = pytest.mark.skipif(not SEED_ARTICLE.exists(), reason="../shared is not beside the project")

# Debian's chromium, driven by the playwright package (its own browser download does not work here).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """One headless chromium per browser-test module."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@functools.cache
def model_unavailable() -> str | None:
    """Why the spaCy model cannot be used here, or None when it loads."""
    from search.ingest.entities.extract import MODEL_EXCLUDE, MODEL_NAME, model_tag

    if model_tag() is None:
        return f"spaCy model package {MODEL_NAME} is not installed (pip install -e .)"
    try:
        import spacy

        spacy.load(MODEL_NAME, exclude=MODEL_EXCLUDE)
    except Exception as exc:  # noqa: BLE001 - any failure means: skip, and say why
        return f"spaCy model {MODEL_NAME} cannot load: {type(exc).__name__}: {exc}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``model`` need the installed spaCy model; without it they are skipped, saying why."""
    if item.get_closest_marker("model") and (reason := model_unavailable()):
        pytest.skip(reason)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_seed(path: Path, date: str, paragraphs: list[str]) -> Path:
    """An article in the seed text format: ' date YYYY-MM-DD <first paragraph>' then blank-line paragraphs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f" date {date} " + "\n\n".join(paragraphs), encoding="utf-8")
    return path


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """Three JSONL articles and two seed-text articles, all good."""
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "wire.jsonl", [
        {"id": "w1", "title": "Harbour cranes return", "body": "The port of Kiel reopened its cranes.",
         "date": "2024-03-14T09:30:00+01:00", "source": "Wire", "people": ["Anna Berg"], "orgs": [],
         "places": ["Kiel"], "topics": ["shipping"]},
        {"id": "w2", "title": "Grain prices fall", "body": "Wheat futures fell for a third day.",
         "date": "2024-04-02", "source": "Wire", "people": [], "orgs": ["Grain Board"], "places": [],
         "topics": ["markets"]},
        {"id": "w3", "body": "An undated note about rainfall in the valley.", "source": "Wire",
         "people": [], "orgs": [], "places": [], "topics": []},
    ])
    write_seed(corpus / "text" / "a.txt", "2025-01-05", [
        "Town council approves the new bridge after a long debate.",
        "The vote was close, council members said.",
    ])
    write_seed(corpus / "text" / "b.txt", "2025-02-10", [
        "Library opens a reading room for children on Saturdays.",
        "Volunteers will staff it in turns.",
    ])
    return corpus


@pytest.fixture(scope="session")
def reuters_index(tmp_path_factory) -> Path:
    """The whole Reuters-21578 collection indexed once per test session (given entities, ~15 s)."""
    if not reuters_files():
        pytest.skip("../shared Reuters corpus not present")
    from search.build import BuildOptions, rebuild
    from search.index.generations import IndexHome

    root = tmp_path_factory.mktemp("reuters") / "index"
    report = rebuild(IndexHome(root), [str(p) for p in reuters_files()], BuildOptions(extract_entities=False))
    assert not report.rejected
    return root
