"""``newsearch serve``: the web UI and JSON API under waitress, a production WSGI server.

With no live index yet, the project's sample corpus (seeds/) is indexed
first, so a fresh checkout shows something at once. A rebuild while the
server runs needs no restart: the engine follows the ``current`` link.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from .generations import IndexHome

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
    from .build import BuildOptions, rebuild

    print(f"No index at {home.root}: building it from {seeds} first …", file=sys.stderr, flush=True)
    options = options or BuildOptions(on_reject=lambda rejected: None)
    report = rebuild(home, [str(seeds)], options)
    print(report.summary(), file=sys.stderr, flush=True)
    return home.live() is not None


def display_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(home: IndexHome, host: str, port: int, threads: int, *, seeds: Path | None = None) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM); port 0 picks a free port and prints it."""
    import waitress

    from web import create_app

    if not ensure_index(home, seeds):
        print(f"newsearch: no index at {home.root} and no seeds/ folder to build one from", file=sys.stderr)
        return EXIT_FATAL
    app = create_app(home.root)
    warm_up(app)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="newsearch")
    except OSError as exc:
        print(f"newsearch: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return EXIT_FATAL
    signal.signal(signal.SIGTERM, _exit_on_signal)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" on every busy moment
    print(f"Serving on {display_url(host, getattr(server, 'effective_port', port))}", flush=True)
    server.run()  # returns after KeyboardInterrupt / SystemExit, once the worker threads are stopped
    return EXIT_OK


def warm_up(app) -> None:
    """Open the live generation and its caches before the first visitor pays for it."""
    from .query import SearchParams

    engine = app.extensions["newsearch"]
    try:
        engine.search(SearchParams.from_mapping({"q": "news"}))
    except Exception as exc:  # a failed warm-up must not stop the server; requests will report it
        print(f"newsearch: warm-up search failed: {exc}", file=sys.stderr)


def _exit_on_signal(signum, frame):
    raise SystemExit(0)
