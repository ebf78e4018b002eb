"""Flask app factory for the newsearch web UI and JSON API.

One long-lived ``SearchEngine`` per app: it is thread-safe and reopens the
index by itself when a new generation goes live, so the server never needs
a restart after a rebuild.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from . import urls

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # queries live in URLs: never leak them to the sites we link to
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class HtmlSafeJSON(DefaultJSONProvider):
    """JSON with <, > and & as \\u escapes: still the same data, but never markup if a browser sniffs it."""

    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj, **kwargs) -> str:
        text = json.dumps(obj, ensure_ascii=False, default=self.default, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


COMPRESSED_TYPES = ["text/html", "text/css", "text/csv", "text/plain", "text/javascript", "application/javascript",
                    "application/json", "application/atom+xml", "application/opensearchdescription+xml",
                    "image/svg+xml"]


def compress(app: Flask) -> None:
    """gzip (or brotli when asked for) every text response above 500 bytes: flask-compress, so any WSGI server
    serves it compressed, with ``Vary: Accept-Encoding``. bench/bench_compress.py on seeds/: /search 36.9 kB →
    7.3 kB gzip, 7.1 kB br, for 1-4 ms; streamed bodies (CSV, static files) get br or deflate, never gzip
    (flask-compress cannot stream gzip)."""
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    Compress(app)


class NewsearchFlask(Flask):
    json_provider_class = HtmlSafeJSON


def create_app(index_root: str | os.PathLike | None = None, *, engine=None, time_budget_s: float = 2.0,
               **config) -> Flask:
    """Build the app for the index at ``index_root``; ``engine`` may be injected (tests).

    With no ``index_root`` the index is ``$NEWSEARCH_INDEX``, else ``./index`` (as for the
    ``newsearch`` command), so ``flask --app web run`` serves it for development; ``config``
    overrides any setting (``TESTING=True``), as the Flask tutorial's ``test_config`` does.
    ``BASE_URL`` (default ``$NEWSEARCH_BASE_URL``) is the public origin used in feeds (``web.urls``).
    """
    if index_root is None:
        from search.index.generations import default_root

        index_root = default_root()
    app = NewsearchFlask(__name__)
    app.config.update(
        DEBUG=False,
        TESTING=False,
        PROPAGATE_EXCEPTIONS=False,
        JSON_SORT_KEYS=False,
        SEND_FILE_MAX_AGE_DEFAULT=86400,
        MAX_CONTENT_LENGTH=16 * 1024,  # nothing here takes a body
        INDEX_ROOT=str(Path(index_root)),
        BASE_URL=os.environ.get(urls.BASE_URL_ENV) or None,
    )
    app.config.update(config)
    if app.config["BASE_URL"]:
        app.config["BASE_URL"] = urls.check_base_url(app.config["BASE_URL"])
    if engine is None:
        from search.query.engine import SearchEngine

        engine = SearchEngine(app.config["INDEX_ROOT"], time_budget_s=time_budget_s)
    app.extensions["newsearch"] = engine
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from . import explore, research, views  # noqa: F401 - explore adds the facet-values and help routes to views.bp

    app.register_blueprint(views.bp)
    app.register_blueprint(research.bp)  # entity pages, timeline, saved searches
    compress(app)
    views.register_error_handlers(app)

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
