"""Writing the Whoosh index: parallel segments, spills to disk, hard-linked copies."""

from __future__ import annotations

from pathlib import Path

from search.index import writer
from search.ingest.normalise import normalise
from search.model import Article


def make_articles(count: int) -> list[Article]:
    words = ["harbour", "grain", "council", "bridge", "market", "election", "storm", "reactor", "budget", "orchestra"]
    return [normalise(Article(id=f"a{i}", title=f"Story {i}", body=" ".join(words[(i + j) % 10] for j in range(300))))
            for i in range(count)]


def test_parallel_workers_spilling_to_disk_lose_nothing(tmp_path: Path, monkeypatch):
    """Tiny buffers force every worker to spill sorted runs; each must keep its own."""
    monkeypatch.setattr(writer, "WRITER_LIMIT_MB", 1)
    articles = make_articles(2 * writer.MIN_DOCS_PER_WORKER + 10)
    writer.write_all(tmp_path, articles, procs=2)
    ix = writer.open_index(tmp_path)
    assert len(ix._segments()) == 2
    with ix.searcher() as searcher:
        assert searcher.doc_count() == len(articles)
        assert searcher.doc_frequency("body", "harbour") == len(articles)
        assert searcher.document(id="a4009")["title"] == "Story 4009"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") or "worker" in p.name]


def test_small_sets_use_one_writer(tmp_path: Path):
    writer.write_all(tmp_path, make_articles(20), procs=2)
    assert len(writer.open_index(tmp_path)._segments()) == 1
