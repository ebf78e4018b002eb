"""Unit tests of the walk, the one-read snapshot, bounded rejection reporting and the worker lifeline."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ROOT
from faults import FaultyFiles
from hostile import gzip_bomb

from search.ingest import snapshot
from search.ingest.rejections import RejectionLog, RejectionTally, reason_kind
from search.ingest.walk import walk_sources
from search.model import Rejected


def test_walk_yields_regular_files_and_names_everything_else(tmp_path: Path, monkeypatch):
    (tmp_path / "a.jsonl").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("x")
    (tmp_path / "README.md").write_text("docs")
    (tmp_path / ".hidden").write_text("x")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": _refuse(p) if str(p).endswith("locked") else real_scandir(p))
    walk = walk_sources([tmp_path])
    assert walk.files == [tmp_path / "a.jsonl", tmp_path / "sub" / "b.txt"]
    problems = {Path(p.path).name: p.reason for p in walk.problems}
    assert problems["pipe"].startswith("not a regular file (FIFO)")
    assert problems["zero"].startswith("not a regular file (character device)")
    assert "No such file" in problems["dangling"]
    assert problems["locked"].startswith("cannot list folder")


def _refuse(path):
    raise PermissionError(13, "Permission denied", str(path))


def test_walk_names_one_folder_once_however_it_is_spelled(tmp_path: Path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jsonl").write_text("{}")
    (tmp_path / "alias").symlink_to(tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    walk = walk_sources(["./src", str(tmp_path / "src"), "alias", "src/a.jsonl"])
    assert walk.files == [tmp_path / "src" / "a.jsonl"] and not walk.problems


def test_snapshot_reads_once_and_never_blocks_on_a_fifo(tmp_path: Path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"body": "x"}\n')
    shot = snapshot.take(path)
    assert shot.data == b'{"body": "x"}\n' and shot.size == 14 and shot.mtime_ns == path.stat().st_mtime_ns
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(snapshot.FileError, match="not a regular file"):
        snapshot.take(tmp_path / "pipe")


def test_snapshot_of_a_file_rewritten_while_read_is_unstable(tmp_path: Path, monkeypatch):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"old\n" * 1000)
    FaultyFiles(monkeypatch).rewrite_during_read(path, b"new\n" * 10)
    with pytest.raises(snapshot.Unstable, match="changed while being read"):
        snapshot.take(path)
    assert snapshot.take(path).data == b"new\n" * 10


def test_gunzip_reads_every_member_and_keeps_a_truncated_head():
    text = b"line of news\n" * 50_000
    both = gzip.compress(text) + gzip.compress(b"second\n")
    assert snapshot.gunzip(both) == (text + b"second\n", None)
    packed = gzip.compress(text)
    data, warning = snapshot.gunzip(packed[: len(packed) // 2])
    assert text.startswith(data) and data and "truncated" in warning


def test_gunzip_refuses_a_bomb_early():
    with pytest.raises(snapshot.FileError, match="gzip bomb") as caught:
        snapshot.gunzip(gzip_bomb(1200))
    produced = int(str(caught.value).split("; ")[1].split(" bytes")[0].replace(",", ""))
    assert produced < 64 * 1024 * 1024  # refused after tens of MB, not 1 GB


def test_rejection_reporting_is_bounded_and_counts_every_record():
    printed: list[str] = []
    log = RejectionLog(printed.append, print_lines=5)
    tally = RejectionTally(keep=3)
    for n in range(1, 10_001):
        tally.add(Rejected("f.jsonl", n, f"invalid JSON: Expecting value at column {n}"))
    assert len(tally) == 10_000 and len(tally.listed) == 3
    log.add_tally(tally)
    log.add(Rejected("g.jsonl", 0, "empty file"))
    log.finish()
    assert printed[:3] == [f"f.jsonl:{n}: invalid JSON: Expecting value at column {n}" for n in (1, 2, 3)]
    assert len(log) == 10_001 and len(printed) == 6
    assert printed[-2:] == ["  9997 × invalid JSON", "  1 × empty file"]
    assert reason_kind("not valid UTF-8 (byte 0xff)") == "not valid UTF-8"


def test_forked_children_die_with_the_process_and_do_not_keep_its_lock(tmp_path: Path):
    """A parent holding an flock forks a child and is SIGKILLed: the child dies and the lock is free."""
    lock = tmp_path / "lock"
    program = textwrap.dedent(f"""
        import fcntl, os, time
        from search.lifeline import protect_lock
        handle = open({str(lock)!r}, "a+")
        fcntl.flock(handle, fcntl.LOCK_EX)
        protect_lock(handle.fileno())
        child = os.fork()
        if child == 0:
            time.sleep(60)
            os._exit(0)
        print(child, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", program], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)
    import fcntl

    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_an_exception_in_one_reuters_record_costs_only_that_record(monkeypatch):
    from search.ingest.formats import reuters

    def record(n: int) -> bytes:
        return (f'<REUTERS NEWID="{n}"><DATE>26-FEB-1987 15:01:01.79</DATE><TEXT><TITLE>T{n}</TITLE>'
                f"<BODY>Body {n}.</BODY></TEXT></REUTERS>\n").encode()

    real = reuters.parse_record

    def flaky(path, line, attrs, raw, closed=True):
        if b'"2"' in attrs:
            raise OverflowError("date value out of range")
        return real(path, line, attrs, raw, closed)

    monkeypatch.setattr(reuters, "parse_record", flaky)
    items = list(reuters.read_reuters("r.sgm", record(1) + record(2) + record(3)))
    assert [type(i).__name__ for i in items] == ["Article", "Rejected", "Article"]
    assert str(items[1]) == "r.sgm:2: bad record (OverflowError: date value out of range)"
