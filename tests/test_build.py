"""Rebuild, update, generations, lock, shrink guard, rollback and kill -9, through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, reuters_files, write_jsonl

from search.cli import main
from search.index.generations import IndexHome
from search.index.writer import open_index

REUTERS_FIRST_SIX = 6000  # articles in reut2-000 … reut2-005 (1000 each)


def cli(*args: str) -> int:
    return main([*args])


def doc_count(index_dir: Path) -> int:
    with open_index(IndexHome(index_dir).require_live()).searcher() as searcher:
        return searcher.doc_count()


def stored_ids(index_dir: Path) -> list[str]:
    with open_index(IndexHome(index_dir).require_live()).searcher() as searcher:
        return sorted(f["id"] for f in searcher.reader().all_stored_fields())


def test_rebuild_indexes_everything_and_reports(small_corpus: Path, tmp_path: Path, capsys):
    index_dir = tmp_path / "ix"
    assert cli("rebuild", "--no-entities", "--index", str(index_dir), str(small_corpus)) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("5 articles, 3 files, 0 rejected, 0 duplicates,") and out.endswith("generation 1")
    assert doc_count(index_dir) == 5
    meta = IndexHome(index_dir).read_meta(IndexHome(index_dir).require_live())
    assert meta["undated"] == 1 and meta["articles"] == 5


def test_bad_input_is_listed_skipped_and_exit_1(small_corpus: Path, tmp_path: Path, capsys):
    (small_corpus / "broken.jsonl").write_text('{"body": "fine", "id": "ok1"}\n{"body": \n{"title": "x"}\n')
    (small_corpus / "junk.txt").write_bytes(os.urandom(300) + b"\x00")
    assert cli("rebuild", "--no-entities", "--index", str(tmp_path / "ix"), str(small_corpus)) == 1
    captured = capsys.readouterr()
    assert f"{small_corpus}/broken.jsonl:2: invalid JSON" in captured.err
    assert f"{small_corpus}/broken.jsonl:3: missing or empty 'body'" in captured.err
    assert f"{small_corpus}/junk.txt: binary file" in captured.err
    assert ", 3 rejected," in captured.out
    assert "ok1" in stored_ids(tmp_path / "ix")


def test_duplicates_across_files_are_indexed_once(small_corpus: Path, tmp_path: Path, capsys):
    (small_corpus / "copy").mkdir()
    (small_corpus / "copy" / "a-again.txt").write_bytes((small_corpus / "text" / "a.txt").read_bytes())
    write_jsonl(small_corpus / "again.jsonl", [{"id": "w1", "body": "The port of Kiel reopened its cranes."}])
    assert cli("rebuild", "--no-entities", "--index", str(tmp_path / "ix"), str(small_corpus)) == 0
    assert "5 articles, 5 files, 0 rejected, 2 duplicates" in capsys.readouterr().out
    assert doc_count(tmp_path / "ix") == 5


def test_update_adds_changed_and_is_idempotent(small_corpus: Path, tmp_path: Path, capsys):
    ix = str(tmp_path / "ix")
    assert cli("rebuild", "--no-entities", "--index", ix, str(small_corpus)) == 0
    write_jsonl(small_corpus / "new.jsonl", [{"id": "n1", "body": "Fresh story.", "people": []}])
    write_jsonl(small_corpus / "wire.jsonl", [{"id": "w1", "body": "Cranes at Kiel: revised text.", "people": []}])
    capsys.readouterr()
    assert cli("update", "--index", ix, str(small_corpus)) == 0
    assert capsys.readouterr().out.startswith("2 articles, 2 files, 0 rejected, 0 duplicates")
    ids = stored_ids(tmp_path / "ix")
    assert ids.count("w1") == 1 and "n1" in ids and "w2" not in ids  # w2 left wire.jsonl
    with open_index(IndexHome(ix).require_live()).searcher() as searcher:
        assert "revised" in searcher.document(id="w1")["body"]
    generation = IndexHome(ix).number_of(IndexHome(ix).require_live())
    assert cli("update", "--index", ix, str(small_corpus)) == 0
    assert capsys.readouterr().out.startswith("0 articles, 0 files, 0 rejected, 0 duplicates")
    assert IndexHome(ix).number_of(IndexHome(ix).require_live()) == generation  # nothing changed
    os.utime(small_corpus / "new.jsonl")  # touched, same bytes: still nothing to ingest
    assert cli("update", "--index", ix, str(small_corpus)) == 0
    assert capsys.readouterr().out.startswith("0 articles, 0 files")


def test_update_leaves_previous_generation_intact(small_corpus: Path, tmp_path: Path):
    ix = tmp_path / "ix"
    cli("rebuild", "--no-entities", "--index", str(ix), str(small_corpus))
    first = IndexHome(ix).require_live()
    write_jsonl(small_corpus / "new.jsonl", [{"id": "n1", "body": "Fresh story.", "people": []}])
    cli("update", "--index", str(ix), str(small_corpus))
    with open_index(first).searcher() as searcher:
        assert searcher.doc_count() == 5  # hard-linked copy: the old generation did not change
    assert doc_count(ix) == 6
    assert cli("rollback", "--index", str(ix)) == 0
    assert doc_count(ix) == 5


def test_lock_held_means_exit_75_and_nothing_changes(small_corpus: Path, tmp_path: Path):
    home = IndexHome(tmp_path / "ix")
    cli("rebuild", "--no-entities", "--index", str(home.root), str(small_corpus))
    live = home.require_live()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from search.index.generations import IndexHome\n"
        f"with IndexHome({str(home.root)!r}).lock():\n    print('locked', flush=True); time.sleep(30)\n")],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert cli("rebuild", "--no-entities", "--index", str(home.root), str(small_corpus)) == 75
        assert cli("update", "--index", str(home.root), str(small_corpus)) == 75
    finally:
        holder.kill()
        holder.wait()
    assert home.require_live() == live and home.numbers() == [1]


def test_shrink_guard_refuses_then_force_swaps(small_corpus: Path, tmp_path: Path, capsys):
    ix = str(tmp_path / "ix")
    cli("rebuild", "--no-entities", "--index", ix, str(small_corpus))
    smaller = tmp_path / "smaller"
    write_jsonl(smaller / "one.jsonl", [{"id": "only", "body": "One story."}])
    assert cli("rebuild", "--no-entities", "--index", ix, str(smaller)) == 3
    assert "refusing to swap" in capsys.readouterr().err
    assert doc_count(Path(ix)) == 5
    assert not [p for p in (Path(ix) / "generations").iterdir() if p.name.startswith(".tmp")]
    assert cli("rebuild", "--no-entities", "--force", "--index", ix, str(smaller)) == 0
    assert doc_count(Path(ix)) == 1


def test_generations_are_pruned_and_rollback_works(small_corpus: Path, tmp_path: Path):
    ix = tmp_path / "ix"
    for _ in range(5):
        assert cli("rebuild", "--no-entities", "--index", str(ix), str(small_corpus)) == 0
    home = IndexHome(ix)
    assert home.numbers() == [3, 4, 5]
    assert cli("rollback", "--index", str(ix)) == 0
    assert home.number_of(home.require_live()) == 4


def test_usage_errors_exit_2(tmp_path: Path):
    assert cli("rebuild", "--index", str(tmp_path / "ix"), str(tmp_path / "missing")) == 2
    assert cli("stats", "--index", str(tmp_path / "nothing")) == 2
    with pytest.raises(SystemExit) as exc:
        cli("rebuild")
    assert exc.value.code == 2


def test_stats_json(small_corpus: Path, tmp_path: Path, capsys):
    ix = str(tmp_path / "ix")
    cli("rebuild", "--no-entities", "--index", ix, str(small_corpus))
    capsys.readouterr()
    assert cli("stats", "--json", "--index", ix) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 5 and stats["undated"] == 1 and stats["generation"] == 1
    assert stats["sources"]["Wire"] == 3
    assert stats["rejected_last_run"] == 0


@pytest.mark.slow
@pytest.mark.skipif(not reuters_files(), reason="../shared Reuters corpus not present")
def test_kill_9_during_rebuild_never_harms_live_index(small_corpus: Path, tmp_path: Path):
    """Kill real rebuild processes at several moments; the live generation keeps serving."""
    ix = tmp_path / "ix"
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(small_corpus)) == 0
    command = [sys.executable, "-m", "search", "rebuild", "--no-entities", "--quiet", "--index", str(ix),
               *map(str, reuters_files()[:6])]
    outcomes = []
    for delay in (0.2, 0.8, 1.6, 2.5, 3.5):
        process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)  # the rebuild and its worker processes
        process.wait()
        # Whatever the moment, the live generation is complete: the old one, or a finished new one.
        count = doc_count(ix)
        assert count in (5, REUTERS_FIRST_SIX)
        outcomes.append(count)
    assert outcomes[0] == 5  # at least the early kills really interrupted a build
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert doc_count(ix) == REUTERS_FIRST_SIX
    leftovers = [p.name for p in (ix / "generations").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_folder_with_no_articles_yet_gives_an_empty_index_that_answers(tmp_path: Path, capsys):
    """Cron set up before the first files land: the empty generation answers 0 hits (not "corrupt"), on the
    CLI and the web page, and the next update fills it like a rebuild would."""
    from web import create_app

    src, index_dir = tmp_path / "src", tmp_path / "ix"
    (src / "notes.bin").parent.mkdir(parents=True)
    (src / "notes.bin").write_bytes(b"\x00\x01 not an article")
    assert cli("rebuild", "--no-entities", "--index", str(index_dir), str(src)) == 1
    capsys.readouterr()
    assert cli("search", "--index", str(index_dir), "--json", "") == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0
    client = create_app(index_dir).test_client()
    assert client.get("/api/search?q=wheat").get_json()["total"] == 0
    assert client.get("/?q=wheat").status_code == 200
    write_jsonl(src / "first.jsonl", [{"id": "a1", "title": "Wheat exports rise", "body": "Wheat exports rose.",
                                        "date": "2024-05-01", "people": [], "orgs": [], "places": []}])
    assert cli("update", "--index", str(index_dir), str(src)) == 0
    capsys.readouterr()
    assert cli("search", "--index", str(index_dir), "--json", "wheat") == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["results"]] == ["a1"]


def test_update_prune_of_every_file_leaves_an_empty_index_that_fills_again(tmp_path: Path, capsys):
    src, ix = tmp_path / "src", str(tmp_path / "ix")
    story = {"title": "Oil", "body": "Oil prices rose.", "people": [], "orgs": [], "places": []}
    write_jsonl(src / "a.jsonl", [{"id": "a1", **story}])
    assert cli("rebuild", "--index", ix, str(src)) == 0
    (src / "a.jsonl").unlink()
    assert cli("update", "--prune", "--index", ix, str(src)) == 0
    assert doc_count(tmp_path / "ix") == 0
    capsys.readouterr()
    assert cli("search", "--index", ix, "--json", "oil") == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0
    write_jsonl(src / "b.jsonl", [{"id": "b1", **story}])
    assert cli("update", "--index", ix, str(src)) == 0
    capsys.readouterr()
    assert cli("search", "--index", ix, "--json", "oil") == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["results"]] == ["b1"]


def test_an_internal_error_exits_2_not_1_and_leaves_the_live_index(small_corpus: Path, tmp_path: Path,
                                                                     monkeypatch, capsys):
    """Exit 1 means "done, some inputs rejected" to a cron script; a bug must not look like that."""
    from search.index import clusters

    ix = str(tmp_path / "ix")
    assert cli("rebuild", "--no-entities", "--index", ix, str(small_corpus)) == 0
    live, count = IndexHome(ix).require_live(), doc_count(tmp_path / "ix")
    write_jsonl(small_corpus / "new.jsonl", [{"id": "n1", "body": "Fresh story.", "people": []}])

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(clusters, "publish", broken)
    capsys.readouterr()
    assert cli("update", "--index", ix, str(small_corpus)) == 2
    assert "internal error (RuntimeError: simulated bug)" in capsys.readouterr().err
    assert IndexHome(ix).require_live() == live and doc_count(tmp_path / "ix") == count
