"""Absolute URLs (Atom feed, OpenSearch description) from configuration, never from the Host header.

``url_for(_external=True)`` and ``request.url`` echo whatever ``Host`` a client sends, so one
request with ``Host: evil.example`` got a feed and a search-engine description pointing at
another site (cache poisoning, phishing via a shared link). The public origin is the
``BASE_URL`` setting (``$NEWSEARCH_BASE_URL``, ``newsearch serve --base-url``); without it,
the address the server is bound to, which gunicorn and werkzeug take from the listening
socket (a Unix socket behind a proxy needs ``BASE_URL``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for

BASE_URL_ENV = "NEWSEARCH_BASE_URL"


def check_base_url(value: str) -> str:
    """A base URL as configured, validated: http(s), a host, no query; trailing slash dropped."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"base URL must look like https://news.example.org[/prefix] (got {value!r})")
    return value.strip().rstrip("/")


def base_url() -> str:
    """The public origin (and path prefix) of this app, without a trailing slash."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured
    environ = request.environ
    host, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", "80"))
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}{'' if port in ('80', '') else ':' + port}{request.script_root}"


def absolute(path: str) -> str:
    """An app path (as ``url_for`` gives it, with any script root) as an absolute URL."""
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root):]
    return base_url() + path


def external_url_for(endpoint: str, **values) -> str:
    return absolute(url_for(endpoint, **values))


def this_request() -> str:
    """The current request's own absolute URL (path and query), Host header ignored."""
    query = request.query_string.decode("latin-1")
    return base_url() + request.path + (f"?{query}" if query else "")
