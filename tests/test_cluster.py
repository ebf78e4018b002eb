"""``--scheduler``: reading and entity extraction as Dask tasks give the index a single machine builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import reuters_files, write_jsonl
from test_update_incremental import by_article

from search.cli import main
from search.index.generations import IndexHome
from search.index.writer import open_index
from search.ingest import cluster
from search.ingest.entities import extract

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    """One in-process cluster (threads, no worker processes) for the module: seconds, not tens of seconds."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0", silence_logs=40) as local:
        yield local.scheduler_address


def stored(root: Path) -> dict:
    with open_index(IndexHome(root).require_live()).searcher() as searcher:
        return {fields["id"]: fields for fields in searcher.reader().all_stored_fields()}


def corpus(tmp_path: Path, small_corpus: Path) -> Path:
    for path in reuters_files()[:1]:
        shutil.copy(path, small_corpus / path.name)
    return small_corpus


def test_rebuild_and_update_on_a_cluster_equal_a_single_machine_build(tmp_path, small_corpus, scheduler):
    source = corpus(tmp_path, small_corpus)
    alone, spread = tmp_path / "alone", tmp_path / "spread"
    assert main(["rebuild", "--quiet", "--no-entities", "--index", str(alone), str(source)]) == 0
    assert main(["rebuild", "--quiet", "--no-entities", "--scheduler", scheduler, "--index", str(spread),
                 str(source)]) == 0
    assert stored(alone) == stored(spread)
    assert by_article(alone) == by_article(spread)

    write_jsonl(source / "later.jsonl", [{"id": "late1", "body": "Harbour cranes were repaired.", "people": [],
                                          "orgs": [], "places": ["Kiel"], "topics": []}])
    assert main(["update", "--quiet", "--index", str(alone), str(source)]) == 0
    assert main(["update", "--quiet", "--scheduler", scheduler, "--index", str(spread), str(source)]) == 0
    assert stored(alone) == stored(spread)
    assert by_article(alone) == by_article(spread)


SENT_BATCHES: list[int] = []  # module level: tasks pickle ``fake_model`` by reference, so it appends here


def fake_model(texts, processes=1):
    SENT_BATCHES.append(len(texts))
    return [[(text.split()[0], "PERSON")] for text in texts]


def test_the_model_runs_on_the_cluster_and_the_coordinator_keeps_the_cache(tmp_path, scheduler, monkeypatch):
    """Texts the cache lacks go to the workers in batches; their spans are cached here, once."""
    sent = SENT_BATCHES
    sent.clear()
    monkeypatch.setattr(extract, "model_spans", fake_model)
    monkeypatch.setattr(extract, "model_tag", lambda: "test-model")
    monkeypatch.setattr(extract, "CLUSTER_BATCH", 3)
    texts = [(f"h{i}", f"Name{i} said hello") for i in range(7)]
    with cluster.connect(scheduler) as pool, extract.EntityExtractor(tmp_path / "cache.sqlite", pool=pool) as ex:
        first = list(ex.extract_many(texts))
        assert sorted(sent) == [1, 3, 3]
        again = list(ex.extract_many(texts))
    assert sorted(sent) == [1, 3, 3]  # all cached by the coordinator: nothing sent the second time
    assert first == again and first[4]["people"] == ["Name4"]


def test_an_unreachable_scheduler_is_fatal_and_leaves_the_index_alone(tmp_path, small_corpus, capsys):
    index = tmp_path / "ix"
    assert main(["rebuild", "--quiet", "--no-entities", "--index", str(index), str(small_corpus)]) == 0
    live = IndexHome(index).require_live()
    cluster_timeout = cluster.CONNECT_TIMEOUT_S
    try:
        cluster.CONNECT_TIMEOUT_S = 2
        code = main(["update", "--quiet", "--scheduler", "tcp://127.0.0.1:9", "--index", str(index),
                     str(small_corpus)])
    finally:
        cluster.CONNECT_TIMEOUT_S = cluster_timeout
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert IndexHome(index).require_live() == live


def test_local_starts_a_cluster_for_the_run(tmp_path, small_corpus):
    index = tmp_path / "ix"
    assert main(["rebuild", "--quiet", "--no-entities", "--scheduler", "local", "--index", str(index),
                 str(small_corpus)]) == 0
    assert len(stored(index)) == 5
