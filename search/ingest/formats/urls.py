"""URL normalisation shared by the feed and HTML readers.

The same story reaches the archive as a feed item and as a saved page; both
readers must name it by the same URL so the indexer sees one article.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Click-tracking parameters that never change which story a URL points to.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "twclid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ocid",
        "cmpid", "smid", "sr_share", "at_medium", "at_campaign", "at_custom1", "at_custom2",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "ns_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _is_tracking(pair: str) -> bool:
    name = unquote_plus(pair.split("=", 1)[0]).lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    """Drop tracking parameters but keep the others exactly as spelled."""
    return "&".join(pair for pair in query.split("&") if pair and not _is_tracking(pair))


def _netloc(scheme: str, host: str, port: int | None) -> str:
    """Lowercased host without userinfo, trailing dot or the scheme's default port."""
    host = host.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def canonical_url(url: str) -> str:
    """Normalise a URL so one story has one spelling across feeds and pages.

    Lowercases scheme and host, drops userinfo, default ports, the fragment and
    click-tracking query parameters (utm_*, fbclid, ...).  Anything that is not
    an absolute http(s) URL is returned stripped but otherwise untouched.
    """
    url = (url or "").strip()
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    netloc = _netloc(scheme, parts.hostname, port)
    return urlunsplit((scheme, netloc, parts.path or "/", _clean_query(parts.query), ""))


def absolute_url(href: str, base: str) -> str:
    """Resolve a possibly relative link against a base URL, if there is one."""
    href = (href or "").strip()
    if not href or _SCHEME_RE.match(href) or href.startswith("//"):
        return href
    try:
        return urljoin(base, href) if base else ""
    except ValueError:  # e.g. a malformed IPv6 host in the base
        return ""


def hostname(url: str) -> str:
    """The host of a URL without a leading ``www.``, for use as a fallback source name."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
