"""Issue 10 reproductions, one test per defect: an update never breaks search or loses articles,
one bad record costs only itself, nothing can hang a run.  Fault injection that works as root is in faults.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, write_jsonl
from faults import FaultyFiles, read_only
from hostile import gzip_bomb, write_hostile_corpus

from search.cli import main
from search.index.generations import IndexHome
from search.index.writer import open_index

AS_ROOT = os.geteuid() == 0


def cli(*args: str) -> int:
    return main([*args])


def run(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """The real command in a child process (for hangs, tracebacks and kills)."""
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def rec(record_id: str, body: str, date: str | None = "2024-03-01", people: list[str] | None = None) -> dict:
    """A JSONL record that gives its entity fields (no extraction needed)."""
    record = {"id": record_id, "title": f"Story {record_id}", "body": body, "source": "Wire",
              "people": people or [], "orgs": [], "places": []}
    if date:
        record["date"] = date
    return record


def rewrite(path: Path, records: list[dict]) -> None:
    """Write new content and move the mtime forward, as a later edit would."""
    write_jsonl(path, records)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def stored(index_dir: Path) -> dict[str, dict]:
    with open_index(IndexHome(index_dir).require_live()).searcher() as searcher:
        return {f["id"]: f for f in searcher.reader().all_stored_fields()}


def search_json(capsys, index_dir: Path, *query: str) -> dict:
    capsys.readouterr()
    assert cli("search", "--json", "--per-page", "100", "--index", str(index_dir), *query) == 0
    return json.loads(capsys.readouterr().out)


def facet(answer: dict, name: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in answer["facets"][name]}


# -- 1 ----------------------------------------------------------------------------------------------------------------
def test_d1_text_queries_work_after_update_of_changed_file(tmp_path: Path, capsys):
    """Defect 1: an update that replaces a file's articles leaves deleted docs; text queries must skip them."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", [rec("a", "alpha bravo charlie", people=["Ann Lee"]),
                                  rec("b", "delta echo alpha", date="2023-01-05", people=["Bo Kim"])])
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    rewrite(src / "f.jsonl", [rec("a", "alpha bravo changed", people=["Cy Ng"]),
                              rec("b", "delta echo alpha", date="2023-01-05", people=["Bo Kim"])])
    assert cli("update", "--index", str(ix), str(src)) == 0
    answer = search_json(capsys, ix, "alpha")
    assert answer["total"] == 2 and {r["id"] for r in answer["results"]} == {"a", "b"}
    assert facet(answer, "people") == {"Cy Ng": 1, "Bo Kim": 1}  # the deleted copy of "a" counts nowhere
    assert sum(b["count"] for b in answer["histogram"]["buckets"]) == 2
    assert search_json(capsys, ix, "charlie")["total"] == 0
    assert search_json(capsys, ix, "changed")["total"] == 1
    assert search_json(capsys, ix, '"alpha bravo"')["total"] == 1
    assert search_json(capsys, ix, "alph*")["total"] == 2
    assert search_json(capsys, ix)["total"] == 2

    from web import create_app

    client = create_app(ix).test_client()
    assert client.get("/search?q=alpha").status_code == 200
    assert client.get("/api/search?q=alpha").get_json()["total"] == 2


# -- 3 ----------------------------------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _lock_free(index_dir: Path) -> bool:
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_d3_kill_9_of_the_main_process_alone_frees_the_lock(tmp_path: Path):
    """Defect 3: what the OOM killer does. The workers must die with the run and the lock be free."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    for n in range(8):  # enough work that the readers are still busy when the main process dies
        write_jsonl(src / f"part{n}.jsonl", [rec(f"{n}-{i}", f"record {i} of part {n} " * 30) for i in range(6000)])
    IndexHome(ix).root.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "search", "rebuild", "--no-entities", "--quiet",
                                "--index", str(ix), str(src)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not workers and time.monotonic() < deadline and process.poll() is None:
            workers = _children(process.pid)
            time.sleep(0.05)
        assert workers, "the rebuild never started worker processes"
        time.sleep(0.5)
        assert process.poll() is None, "the rebuild finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)  # the main process only
        process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (any(map(_alive, workers)) or not _lock_free(ix)):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "worker processes outlived the run"
        assert _lock_free(ix)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert cli("update", "--quiet", "--index", str(ix), str(src / "part0.jsonl")) in (0, 1)


# -- 4 ----------------------------------------------------------------------------------------------------------------
def test_d4_fifo_and_symlink_to_dev_zero_are_skipped_not_read(tmp_path: Path):
    """Defect 4: non-regular files are named and skipped; nothing blocks (a hang fails on the timeout)."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "good.jsonl", [rec("g1", "a good story")])
    os.mkfifo(src / "pipe.jsonl")
    (src / "zero.jsonl").symlink_to("/dev/zero")
    for command in ("rebuild", "update"):
        done = run(command, "--index", str(ix), str(src), timeout=30)
        assert done.returncode == 1, done.stderr
        assert f"{src / 'pipe.jsonl'}: not a regular file" in done.stderr
        assert f"{src / 'zero.jsonl'}: not a regular file" in done.stderr
        assert "Traceback" not in done.stderr
    assert set(stored(ix)) == {"g1"}
    done = run("update", "--index", str(ix), str(src / "pipe.jsonl"), timeout=30)  # named explicitly
    assert done.returncode == 1 and f"{src / 'pipe.jsonl'}: not a regular file" in done.stderr


# -- 5 ----------------------------------------------------------------------------------------------------------------
def _three(version: str) -> list[dict]:
    return [rec(f"s{i}", f"story {i} version {version}") for i in range(3)]


def test_d5_changed_file_that_cannot_be_read_keeps_its_articles(tmp_path: Path, monkeypatch, capsys):
    """Defect 5: an unreadable changed file leaves its indexed articles as they were, and says so (exit 1)."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    write_jsonl(src / "other.jsonl", [rec("o1", "another story")])
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    rewrite(src / "f.jsonl", _three("two"))
    write_jsonl(src / "never.jsonl", [rec("n1", "never readable")])
    faults = FaultyFiles(monkeypatch)
    faults.block(src / "f.jsonl")
    faults.block(src / "never.jsonl")
    capsys.readouterr()
    assert cli("update", "--index", str(ix), str(src)) == 1
    err = capsys.readouterr().err
    assert f"{src / 'f.jsonl'}: " in err and "ermission denied" in err
    assert f"{src / 'never.jsonl'}: " in err
    kept = stored(ix)
    assert set(kept) == {"s0", "s1", "s2", "o1"} and all("version one" in kept[f"s{i}"]["body"] for i in range(3))
    faults.reset()
    assert cli("update", "--index", str(ix), str(src)) == 0  # readable again: the change arrives
    kept = stored(ix)
    assert set(kept) == {"s0", "s1", "s2", "o1", "n1"} and "version two" in kept["s0"]["body"]


@pytest.mark.skipif(AS_ROOT, reason="chmod 000 does not stop root from reading; the in-process variant above runs")
def test_d5_chmod_000_changed_file_keeps_its_articles(tmp_path: Path):
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    rewrite(src / "f.jsonl", _three("two"))
    (src / "f.jsonl").chmod(0)
    try:
        assert cli("update", "--index", str(ix), str(src)) == 1
    finally:
        (src / "f.jsonl").chmod(0o644)
    assert all("version one" in f["body"] for f in stored(ix).values())


def test_d5_file_rewritten_while_being_read_keeps_its_articles(tmp_path: Path, monkeypatch, capsys):
    """Defect 5: the bytes that were read are not the file's bytes any more: keep the old articles, report it."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", [rec(f"r{i}", f"story {i} version one") for i in range(30)])
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    rewrite(src / "f.jsonl", [rec(f"r{i}", f"story {i} version two") for i in range(30)])
    final = "".join(json.dumps(rec(f"r{i}", f"story {i} version three")) + "\n" for i in range(8)).encode()
    faults = FaultyFiles(monkeypatch)
    faults.rewrite_during_read(src / "f.jsonl", final)
    capsys.readouterr()
    assert cli("update", "--index", str(ix), str(src)) == 1
    assert f"{src / 'f.jsonl'}: changed while being read" in capsys.readouterr().err
    kept = stored(ix)
    assert len(kept) == 30 and all("version one" in f["body"] for f in kept.values())
    faults.reset()
    assert cli("update", "--index", str(ix), str(src)) == 0  # the next run takes the settled file
    assert sorted(stored(ix)) == [f"r{i}" for i in range(8)]


def test_d5_updates_racing_a_real_writer_never_publish_missing_articles(tmp_path: Path, monkeypatch):
    """The issue's trial, with a real thread rewriting the file in place (truncate, then write in pieces)."""
    import threading

    # The default is 0.5 s (the rest of the suite turns it off). The writer here is a thread of this process and
    # shares its GIL with the update, so on a loaded machine it can stall mid-file for longer than a real writer
    # would; a wider window keeps the test about the rule, not about the machine's load.
    monkeypatch.setenv("NEWSEARCH_SETTLE_SECONDS", "1.5")
    src, ix = tmp_path / "src", tmp_path / "ix"
    versions = ["".join(json.dumps(rec(f"r{i}", f"story {i} version {v} " + "words " * 40)) + "\n"
                        for i in range(300)).encode() for v in range(2)]
    (src).mkdir()
    (src / "f.jsonl").write_bytes(versions[0])
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            data = versions[n % 2]
            with open(src / "f.jsonl", "r+b") as handle:
                handle.truncate(0)
                for start in range(0, len(data), 16384):
                    handle.write(data[start:start + 16384])
                    handle.flush()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        for _ in range(8):
            assert cli("update", "--quiet", "--index", str(ix), str(src)) in (0, 1)
            assert len(stored(ix)) == 300
    finally:
        stop.set()
        thread.join()
    assert cli("update", "--index", str(ix), str(src)) in (0, 1)
    assert len(stored(ix)) == 300


def test_d5_deleted_file_keeps_its_articles_unless_prune(tmp_path: Path, capsys):
    """A deleted file keeps its articles on update; ``update --prune`` removes them (DESIGN.md)."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    write_jsonl(src / "g.jsonl", [rec("g1", "stays")])
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    (src / "f.jsonl").unlink()
    assert cli("update", "--index", str(ix), str(src)) == 0
    assert set(stored(ix)) == {"s0", "s1", "s2", "g1"}
    assert cli("update", "--prune", "--index", str(ix), str(src)) == 0
    assert set(stored(ix)) == {"g1"}
    assert search_json(capsys, ix)["total"] == 1


# -- 6 ----------------------------------------------------------------------------------------------------------------
def test_d6_bad_records_cost_only_themselves(tmp_path: Path, capsys):
    """Defect 6: overflowing dates, deep JSON, NUL bytes: each bad line reported, every good line kept."""
    hostile = write_hostile_corpus(tmp_path / "src", specials=False, bomb=False)
    assert cli("rebuild", "--no-entities", "--index", str(tmp_path / "ix"), str(hostile.root)) == 1
    err = capsys.readouterr().err
    assert "reader failed" not in err
    for prefix in hostile.reported:
        assert prefix in err
    assert hostile.good_ids <= set(stored(tmp_path / "ix"))


# -- 7 ----------------------------------------------------------------------------------------------------------------
def test_d7_unreadable_subfolder_is_reported_exit_1(tmp_path: Path, monkeypatch, capsys):
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "good.jsonl", [rec("g1", "a good story")])
    write_jsonl(src / "locked" / "hidden.jsonl", [rec("h1", "cannot be listed")])
    locked = str(src / "locked")
    real_scandir = os.scandir

    def scandir(path="."):
        if not isinstance(path, int) and os.fspath(path) == locked:  # an int: shutil.rmtree's descriptor walk
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 1
    assert f"{locked}: " in capsys.readouterr().err
    assert set(stored(ix)) == {"g1"}


# -- 10 ---------------------------------------------------------------------------------------------------------------
def test_d10_a_flood_of_bad_lines_is_reported_in_bounded_form(tmp_path: Path, capsys):
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    (src / "flood.jsonl").write_bytes(b"{\n" * 100_000 + json.dumps(rec("ok", "the one good line")).encode() + b"\n")
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert f"{src / 'flood.jsonl'}:1: invalid JSON" in captured.err
    assert len(lines) < 200  # the first few lines, then counts per reason
    assert any("× invalid JSON" in line for line in lines)  # the rest, counted by reason
    assert ", 100000 rejected," in captured.out
    assert set(stored(ix)) == {"ok"}


def test_d10_gzip_bomb_is_refused_while_streaming(tmp_path: Path):
    """1.2 GB of spaces in 1.2 MB of gzip: refused long before it is all in memory (an address-space cap says so)."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "good.jsonl", [rec("g1", "a good story")])
    (src / "bomb.jsonl.gz").write_bytes(gzip_bomb(1200))
    cap = 1536 * 1024 * 1024

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    done = run("rebuild", "--no-entities", "--index", str(ix), str(src), preexec_fn=limit,
               env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert done.returncode == 1, done.stderr
    assert f"{src / 'bomb.jsonl.gz'}: " in done.stderr and "Traceback" not in done.stderr
    assert set(stored(ix)) == {"g1"}


# -- 12 ---------------------------------------------------------------------------------------------------------------
def test_d12_entity_cache_disk_full_exits_2_with_a_clear_message(tmp_path: Path, monkeypatch, capsys):
    import sqlite3

    class FullDisk(sqlite3.Connection):
        def executemany(self, sql, *args):
            if sql.lstrip().upper().startswith("INSERT"):
                raise sqlite3.OperationalError("database or disk is full")
            return super().executemany(sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, **{**k, "factory": FullDisk}))
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", [{"id": f"e{i}", "body": f"Angela Merkel met Emmanuel Macron in Paris {i}."}
                                  for i in range(3)])
    assert cli("rebuild", "--index", str(ix), str(src)) == 2
    err = capsys.readouterr().err
    assert "entity cache" in err and ("No space left" in err or "disk is full" in err)
    assert IndexHome(ix).live() is None


# -- 13 ---------------------------------------------------------------------------------------------------------------
def test_d13_same_folder_named_two_ways_is_one_set_of_files(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "src" / "f.jsonl", _three("one"))
    assert cli("rebuild", "--no-entities", "--index", "ix", "./src") == 0
    rewrite(tmp_path / "src" / "f.jsonl", [rec("s0", "story 0 version two"), rec("t9", "a new story")])
    assert cli("update", "--index", "ix", str(tmp_path / "src")) == 0
    kept = stored(tmp_path / "ix")
    assert set(kept) == {"s0", "t9"} and "version two" in kept["s0"]["body"]
    assert search_json(capsys, tmp_path / "ix", "story")["total"] == 2


@pytest.mark.parametrize("damage", ["truncated segment", "garbage toc"])
def test_d13_corrupt_generation_is_a_clear_error_exit_2(tmp_path: Path, damage: str):
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    live = IndexHome(ix).require_live()
    for path in live.glob("*.seg" if damage == "truncated segment" else "*.toc"):
        if damage == "truncated segment":
            os.truncate(path, path.stat().st_size // 3)
        else:
            path.write_bytes(b"garbage" * 10)
    done = run("search", "--index", str(ix), "story")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and live.name in done.stderr and "corrupt" in done.stderr


def test_d13_rollback_on_a_read_only_index_is_a_clear_error_exit_2(tmp_path: Path, monkeypatch, capsys):
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    rewrite(src / "f.jsonl", _three("two"))
    assert cli("update", "--index", str(ix), str(src)) == 0
    live = IndexHome(ix).require_live()
    read_only(monkeypatch, ix)
    capsys.readouterr()
    assert cli("rollback", "--index", str(ix)) == 2
    assert "Read-only file system" in capsys.readouterr().err
    monkeypatch.undo()
    assert IndexHome(ix).require_live() == live


# -- 14 and outcome 6 -------------------------------------------------------------------------------------------------
def test_d14_quiet_still_reports_rejected_records(tmp_path: Path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.jsonl").write_text(json.dumps(rec("a", "fine")) + "\n{\n")
    for command in ("rebuild", "update"):
        if command == "update":
            rewrite(src / "f.jsonl", [rec("a", "fine again")])
            with open(src / "f.jsonl", "a") as handle:
                handle.write("{\n")
        capsys.readouterr()
        assert cli(command, "--quiet", "--index", str(tmp_path / "ix"), str(src)) == 1
        assert f"{src / 'f.jsonl'}:2: invalid JSON" in capsys.readouterr().err


def _stderr_on_a_terminal(*args: str) -> str:
    """Run the command with stderr on a pseudo-terminal; what it wrote there."""
    import pty

    main_fd, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "search", *args], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=terminal)
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    finally:
        os.close(main_fd)
    return b"".join(chunks).decode(errors="replace")


def test_outcome6_quiet_means_no_bar_and_no_phase_lines_nothing_else(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.jsonl").write_text(json.dumps(rec("a", "fine")) + "\n{\n")
    loud = _stderr_on_a_terminal("rebuild", "--no-entities", "--index", str(tmp_path / "ix"), str(src))
    assert "indexing" in loud and f"{src / 'f.jsonl'}:2: invalid JSON" in loud
    quiet = _stderr_on_a_terminal("rebuild", "--quiet", "--no-entities", "--index", str(tmp_path / "ix"), str(src))
    assert f"{src / 'f.jsonl'}:2: invalid JSON" in quiet
    assert "indexing" not in quiet and "reading" not in quiet and "%" not in quiet


# -- hostile corpus, end to end ---------------------------------------------------------------------------------------
def test_hostile_corpus_rebuild_and_update_finish_and_keep_every_good_record(tmp_path: Path):
    hostile = write_hostile_corpus(tmp_path / "src")
    ix = tmp_path / "ix"
    for command in ("rebuild", "update"):
        done = run(command, "--no-entities", "--index", str(ix), str(hostile.root), timeout=120) \
            if command == "rebuild" else run(command, "--index", str(ix), str(hostile.root), timeout=120)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and "reader failed" not in done.stderr
        if command == "rebuild":
            for prefix in hostile.reported:
                assert prefix in done.stderr
    assert hostile.good_ids <= set(stored(ix))


def test_rebuild_cures_a_corrupt_live_generation_even_with_an_unreadable_file(tmp_path: Path, monkeypatch, capsys):
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    write_jsonl(src / "g.jsonl", [rec("g1", "stays")])
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    for path in IndexHome(ix).require_live().glob("*.toc"):
        path.write_bytes(b"garbage")
    FaultyFiles(monkeypatch).block(src / "f.jsonl")
    capsys.readouterr()
    assert cli("rebuild", "--force", "--no-entities", "--index", str(ix), str(src)) == 1
    assert "its indexed articles are lost" in capsys.readouterr().err
    assert set(stored(ix)) == {"g1"}


def test_update_over_a_corrupt_live_generation_names_it_exit_2(tmp_path: Path):
    src, ix = tmp_path / "src", tmp_path / "ix"
    write_jsonl(src / "f.jsonl", _three("one"))
    assert cli("rebuild", "--no-entities", "--index", str(ix), str(src)) == 0
    live = IndexHome(ix).require_live()
    for path in live.glob("*.toc"):
        path.write_bytes(b"garbage")
    rewrite(src / "f.jsonl", _three("two"))
    done = run("update", "--index", str(ix), str(src))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and f"generation {live.name} is corrupt" in done.stderr
    assert IndexHome(ix).require_live() == live
