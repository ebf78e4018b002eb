"""``newsearch serve``: the web UI and JSON API under gunicorn, a production WSGI server.

With no live index yet, the project's sample corpus (seeds/) is indexed
first, so a fresh checkout shows something at once. A rebuild while the
server runs needs no restart: the engine follows the ``current`` link.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication

from search.index.generations import IndexHome

EXIT_OK, EXIT_FATAL = 0, 2


def find_seeds() -> Path | None:
    """seeds/ beside the package (a checkout), else in the working directory."""
    for candidate in (Path(__file__).resolve().parent.parent / "seeds", Path.cwd() / "seeds"):
        if candidate.is_dir():
            return candidate
    return None


def ensure_index(home: IndexHome, seeds: Path | None = None, options=None) -> bool:
    """Build the index from seeds/ when nothing is live; False when there is nothing to build from."""
    if home.live() is not None:
        return True
    seeds = seeds or find_seeds()
    if seeds is None or not seeds.is_dir():
        return False
    from search.build import BuildOptions, rebuild

    print(f"No index at {home.root}: building it from {seeds} first …", file=sys.stderr, flush=True)
    options = options or BuildOptions(on_reject=lambda rejected: None)
    report = rebuild(home, [str(seeds)], options)
    print(report.summary(), file=sys.stderr, flush=True)
    return home.live() is not None


def display_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(home: IndexHome, host: str, port: int, threads: int, *, workers: int | None = None,
          seeds: Path | None = None, base_url: str | None = None) -> int:
    """Serve until SIGTERM/Ctrl-C under gunicorn: ``workers`` processes × ``threads`` threads.

    Searching is CPU-bound Python, so one process holds one core whatever its
    threads; a worker per core is what lets a 2-core machine answer twice the
    load. Each worker builds its own app (and engine) after the fork, so no
    open file or lock is shared between processes. Port 0 picks a free port. ``base_url`` is the
    public origin feeds link to (else ``$NEWSEARCH_BASE_URL``, else the bound address).
    """
    if base_url:
        from web.urls import check_base_url

        try:
            base_url = check_base_url(base_url)
        except ValueError as exc:
            print(f"newsearch: {exc}", file=sys.stderr)
            return EXIT_FATAL
    if not ensure_index(home, seeds):
        print(f"newsearch: no index at {home.root} and no seeds/ folder to build one from", file=sys.stderr)
        return EXIT_FATAL
    try:
        _check_bindable(host, port)
    except OSError as exc:
        print(f"newsearch: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return EXIT_FATAL
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or os.cpu_count() or 1,
        "worker_class": "search.headworker.HeadFirstWorker",  # gthread that survives slow clients (headworker.py)
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "loglevel": "warning",
        "when_ready": _announce,
        "post_worker_init": lambda worker: warm_up(worker.wsgi),
    }
    _GunicornApp(lambda: _create_app(home.root, base_url), options).run()  # exits the process when gunicorn stops
    return EXIT_OK


def _create_app(root: Path, base_url: str | None = None):
    from web import create_app

    return create_app(root, **({"BASE_URL": base_url} if base_url else {}))


def _check_bindable(host: str, port: int) -> None:
    """Fail fast with a clear message (gunicorn would retry for seconds, then exit 1)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _announce(arbiter) -> None:
    host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
    print(f"Serving on {display_url(host, port)}", flush=True)


class _GunicornApp(BaseApplication):
    """gunicorn driven from Python: our options, our app factory (loaded in each worker)."""

    def __init__(self, factory, options: dict):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.factory()


def warm_up(app) -> None:
    """Open the live generation and its caches before the first visitor pays for it."""
    from search.query import SearchParams

    engine = app.extensions["newsearch"]
    try:
        engine.search(SearchParams.from_mapping({"q": "news"}))
    except Exception as exc:  # a failed warm-up must not stop the server; requests will report it
        print(f"newsearch: warm-up search failed: {exc}", file=sys.stderr)
