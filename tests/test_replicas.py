"""Two replicas of one index behind Debian's nginx answer identically while a new generation is pushed.

Everything runs on loopback: two ``newsearch serve`` (one worker each) on free
ports, nginx round-robin in front, ``python -m search.replicate`` pushing with
rsync. Every process the test starts, it stops.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, write_jsonl

from search import replicate
from search.build import BuildOptions, rebuild, update
from search.index.generations import IndexHome

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian nginx not installed (.ci/browser-deps.sh)"),
    pytest.mark.skipif(not shutil.which("rsync"), reason="Debian rsync not installed (.ci/browser-deps.sh)"),
]
QUERIES = ["", "harbour", "wheat OR grain", "people:berg"]


def articles(version: int) -> list[dict]:
    rows = [{"id": f"a{n}", "title": f"Harbour report {n}", "body": f"Grain and wheat shipments, item {n}.",
             "date": f"2024-0{1 + n % 9}-01", "source": "Wire", "people": ["Anna Berg"] if n % 2 else [],
             "orgs": [], "places": ["Kiel"], "topics": []} for n in range(12)]
    if version > 1:
        rows += [{"id": f"b{n}", "title": f"Harbour grain news {n}", "body": "Wheat arrived at the harbour.",
                  "date": "2024-10-01", "source": "Daily", "people": [], "orgs": [], "places": [], "topics": []}
                 for n in range(5)]
    return rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_replica(root: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(root), "--host", "127.0.0.1", "--port", "0",
         "--workers", "1", "--threads", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    line = process.stdout.readline()
    match = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", line)
    assert match, f"no URL from newsearch serve: {line!r}"
    return process, int(match.group(1))


def start_nginx(workdir: Path, ports: list[int]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    servers = "".join(f"server 127.0.0.1:{p} max_fails=0;\n" for p in ports)
    user = "user root;\n" if os.geteuid() == 0 else ""  # root's workers would otherwise drop to nobody
    (workdir / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {workdir}/body;\n proxy_temp_path {workdir}/proxy;\n"
        f" fastcgi_temp_path {workdir}/fcgi;\n uwsgi_temp_path {workdir}/uwsgi;\n scgi_temp_path {workdir}/scgi;\n"
        f" upstream replicas {{\n{servers} }}\n"
        f" server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://replicas; }} }}\n}}\n")
    process = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e",
                                str(workdir / "error.log")], stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.1)
    raise AssertionError("nginx did not start listening")


def fetch(port: int, query: str) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{port}/api/search?q={urllib.parse.quote(query)}&per_page=50"
    with urllib.request.urlopen(url, timeout=20) as response:
        answer = json.load(response)
    answer.pop("took_ms", None)
    return response.status, answer


def wait_for_generation(port: int, number: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            if json.load(response).get("generation") == number:
                return
        time.sleep(0.1)
    raise AssertionError(f"replica on port {port} never served generation {number}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_two_replicas_behind_nginx_answer_identically_while_a_generation_is_pushed(tmp_path):
    source, options = IndexHome(tmp_path / "primary"), BuildOptions(extract_entities=False)
    folder = tmp_path / "src"
    write_jsonl(folder / "wire.jsonl", articles(1))
    rebuild(source, [str(folder)], options)
    replicas = [tmp_path / "replica1", tmp_path / "replica2"]
    for replica in replicas:
        assert replicate.main([str(source.root), str(replica)]) == 0
    started: list[subprocess.Popen] = []
    try:
        ports = []
        for replica in replicas:
            process, port = start_replica(replica)
            started.append(process)
            ports.append(port)
        (tmp_path / "nginx").mkdir()
        balancer, front = start_nginx(tmp_path / "nginx", ports)
        started.append(balancer)
        before = {q: fetch(ports[0], q)[1] for q in QUERIES}
        assert before == {q: fetch(ports[1], q)[1] for q in QUERIES}

        write_jsonl(folder / "daily.jsonl", articles(2)[12:])
        update(source, [str(folder)], options)
        seen, failures, pushing = [], [], threading.Event()
        pushing.set()

        def hammer():
            while pushing.is_set():
                for query in QUERIES:
                    try:
                        seen.append((query, *fetch(front, query)))
                    except Exception as exc:  # noqa: BLE001 - any failure during the push is the finding
                        failures.append(repr(exc))

        client = threading.Thread(target=hammer)
        client.start()
        try:
            for replica, port in zip(replicas, ports, strict=True):
                assert replicate.main([str(source.root), str(replica)]) == 0
                wait_for_generation(port, 2)
        finally:
            pushing.clear()
            client.join(timeout=60)
        after = {q: fetch(ports[0], q)[1] for q in QUERIES}
        assert after == {q: fetch(ports[1], q)[1] for q in QUERIES}
        assert after != before and after[""]["total"] == 17
        assert not failures
        assert seen and all(status == 200 and answer in (before[q], after[q]) for q, status, answer in seen)
        assert all(fetch(front, q)[1] == after[q] for q in QUERIES for _ in range(2))  # both replicas, via nginx
    finally:
        for process in reversed(started):
            stop(process)

    second = replicas[1] / "generations"
    shared = [p for p in (second / "g000001").iterdir() if p.name.endswith(".seg")]
    assert any((second / "g000002" / p.name).exists() and (second / "g000002" / p.name).stat().st_ino ==
               p.stat().st_ino for p in shared), "unchanged segments are hard links on the replica, not copies"
    assert not list(second.glob(f"{replicate.INCOMING}*"))


def test_a_push_to_a_replica_already_serving_it_changes_nothing(tmp_path):
    source = IndexHome(tmp_path / "primary")
    write_jsonl(tmp_path / "src" / "a.jsonl", articles(1))
    rebuild(source, [str(tmp_path / "src")], BuildOptions(extract_entities=False))
    replica = tmp_path / "replica"
    assert replicate.push(source, str(replica)) == 1
    before = os.readlink(replica / "current")
    assert replicate.push(source, str(replica)) == 1
    assert os.readlink(replica / "current") == before
    assert replicate.split_target("search@10.0.0.7:/srv/index") == ("search@10.0.0.7", "/srv/index")
    assert replicate.split_target("/srv/index") == (None, "/srv/index")
