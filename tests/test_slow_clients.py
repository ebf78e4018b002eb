"""Issue 10 defect 11: slow clients trickling request heads must not starve ``newsearch serve``.

Real sockets on 127.0.0.1 against a real ``newsearch serve`` (one worker, two threads, so that
before the fix two slow clients were enough to block it); bounded: every socket has a timeout.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest
from conftest import write_jsonl

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome

SLOW_CLIENTS = 16


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("slow")
    home = IndexHome(root / "index")
    source = write_jsonl(root / "a.jsonl", [{"id": f"a{i}", "title": f"Harbour {i}", "body": "Harbour news."}
                                            for i in range(3)])
    rebuild(home, [str(source)], BuildOptions(extract_entities=False, on_reject=lambda r: None))
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(home.root), "--host", "127.0.0.1", "--port", "0",
         "--workers", "1", "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", process.stdout.readline())
        assert match
        yield int(match.group(1))
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def slow_sockets(port: int, count: int) -> list[socket.socket]:
    """Connections that sent a request line and one header, and then nothing more (yet)."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
        socks.append(sock)
    return socks


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return json.load(response)


def test_trickling_clients_leave_healthz_and_search_answering(server):
    socks = slow_sockets(server, SLOW_CLIENTS)
    stop = threading.Event()

    def trickle():  # one header line per socket every 0.3 s, for as long as the checks run
        while not stop.wait(0.3):
            for sock in socks:
                sock.sendall(b"X-Slow: 1\r\n")

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        for _ in range(5):
            assert healthz(server)["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{server}/api/search?q=harbour", timeout=10) as response:
            assert json.load(response)["total"] == 3
    finally:
        stop.set()
        trickler.join(timeout=5)
    for sock in socks:  # a slow client that finally finishes its head is served like any other
        sock.sendall(b"Connection: close\r\n\r\n")
        with sock:
            assert sock.makefile("rb").readline().startswith(b"HTTP/1.1 200")


def test_pipelined_and_kept_alive_requests_still_work(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n"
                     b"Connection: close\r\n\r\n")
        replies = sock.makefile("rb").read()
    assert replies.count(b"HTTP/1.1 200 OK") == 2


def test_a_head_sent_in_two_halves_is_read_whole(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /api/search?q=harb")
        sock.sendall(b"our HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        reply = sock.makefile("rb").read()
    assert reply.startswith(b"HTTP/1.1 200") and b'"total":3' in reply

