"""Research views on the web: entity pages, the attention-over-time chart, saved searches.

Routes (DESIGN.md "Research views"): ``/entity/<facet>/<value>`` and its JSON twin,
``/timeline`` (server-side SVG) with ``/api/timeline`` and ``/timeline.csv``,
``/watch/<name>.atom``, and ``POST /watch`` ("Watch this search").

``POST /watch`` changes state, so it is guarded against cross-site requests the usual way for
a cookie-less app: the form carries a random token that must equal a ``SameSite=Strict``
cookie set with the page (a double-submit token a foreign site can neither read nor send),
and a browser's ``Origin``, when sent, must be this host.
"""

from __future__ import annotations

import csv
import hmac
import io
import secrets
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from search.facets import FILTER_FACETS
from search.facets import label as facet_label
from search.query import research
from search.query.errors import QueryError
from search.query.params import SearchParams
from search.watch import EngineMatcher, WatchError, Watches, saved_params

from . import chart, feeds, present
from .views import MAX_QUERY_STRING, engine, parse_params

bp = Blueprint("research", __name__)

CSRF_COOKIE = "newsearch_csrf"
MAX_VALUE_LENGTH = 300
TIMELINE_ONLY = ("interval", "measure")  # timeline parameters that are not search parameters


def csrf_token() -> str:
    """This browser's token (set as a cookie by ``remember_csrf`` when new)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) != 43:
        token = getattr(request, "_new_csrf", None) or secrets.token_urlsafe(32)
        request._new_csrf = token
    return token


@bp.after_app_request
def remember_csrf(response):
    token = getattr(request, "_new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure,
                            max_age=365 * 86400)
    return response


@bp.app_context_processor
def research_helpers() -> dict:
    return {"entity_url": entity_url, "csrf_token": csrf_token}


def entity_url(facet: str, value: str, args: list[tuple[str, str]] | None = None) -> str:
    """The entity page of a value; ``args``: the current search (its own value filter left out)."""
    kept = [(k, v) for k, v in (args or []) if k not in ("page", "per_page", "sort") and not
            (k == facet and v.casefold() == value.casefold())]
    query = "&".join(present.encoded_pair(k, v) for k, v in kept)
    base = url_for("research.entity_page", facet=facet, value=value)
    return f"{base}?{query}" if query else base


# -- entity pages ------------------------------------------------------------------------------------
def _entity(facet: str, value: str) -> tuple[dict, list[tuple[str, str]]]:
    if facet not in FILTER_FACETS:
        abort(404, description=f"No entity pages for '{facet}'.")
    if not value.strip() or len(value) > MAX_VALUE_LENGTH:
        abort(404, description="No such value.")
    params = parse_params()
    try:
        return research.entity(engine(), facet, value, params), params.to_query_args()
    except research.UnknownValue as exc:
        abort(404, description=f"{str(exc)[:1].upper()}{str(exc)[1:]}.")


@bp.get("/api/entity/<facet>/<path:value>")
def api_entity(facet: str, value: str):
    return jsonify(_entity(facet, value)[0])


@bp.get("/entity/<facet>/<path:value>")
def entity_page(facet: str, value: str):
    answer, args = _entity(facet, value)
    kept = [(k, v) for k, v in args if k not in ("page", "per_page", "sort")]
    narrowed = present.Links([*kept, (facet, answer["value"])])
    return render_template(
        "entity.html", answer=answer, args=kept, facet_label=facet_label(facet), facet_label_of=facet_label,
        search_href=narrowed.url(), histogram=present.build_histogram(answer["histogram"], narrowed),
        timeline_href=_timeline_of(kept, facet, answer["value"]),
    )


def _timeline_of(args: list[tuple[str, str]], facet: str, value: str) -> str:
    """A one-line timeline of the entity within the search (its filters after its ``q``: that line's own)."""
    line = [("q", dict(args).get("q", "")), *[(k, v) for k, v in args if k != "q"], (facet, value)]
    return url_for("research.timeline_page") + "?" + "&".join(present.encoded_pair(k, v) for k, v in line)


# -- timeline ----------------------------------------------------------------------------------------
def _timeline() -> dict:
    if len(request.query_string) > MAX_QUERY_STRING:
        raise QueryError(f"the request is too long (at most {MAX_QUERY_STRING} bytes of parameters)")
    query = request.query_string.decode("utf-8", "replace")  # in order: werkzeug's args group by key
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in TIMELINE_ONLY]
    series = research.series_params(pairs)
    return research.attention(engine(), series, research.check_interval(request.args.get("interval")),
                              research.check_measure(request.args.get("measure")))


@bp.get("/api/timeline")
def api_timeline():
    return jsonify(_timeline())


@bp.get("/timeline.csv")
def timeline_csv():
    answer = _timeline()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["query", "filters", "interval", "start", "count", "share"])
    for item in answer["series"]:
        filters = " ".join(f"{k}={v}" for k, values in item["filters"].items() for v in values)
        for bucket in item["buckets"]:
            writer.writerow([feeds.csv_cell(item["query"]), feeds.csv_cell(filters), answer["interval"],
                             bucket["start"], bucket["count"], bucket["share"]])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="newsearch-timeline.csv"'})


@bp.get("/timeline")
def timeline_page():
    answer = _timeline()
    query = request.query_string.decode("utf-8", "replace")
    rows = [{"q": s["query"], "filters": [(k, v) for k, values in s["filters"].items() for v in values
                                          if k not in ("from", "to")]} for s in answer["series"]]
    rows += [{"q": "", "filters": []} for _ in range(research.MAX_SERIES - len(rows))]
    return render_template(
        "timeline.html", answer=answer, chart=chart.line_chart(answer, answer["measure"]), rows=rows,
        intervals=research.INTERVALS, measures=research.MEASURES,
        shared={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
        chosen_interval=request.args.get("interval", ""),
        csv_href=url_for("research.timeline_csv") + ("?" + query if query else ""),
        json_href=url_for("research.api_timeline") + ("?" + query if query else ""),
    )


# -- saved searches -----------------------------------------------------------------------------------
def watches() -> Watches:
    from flask import current_app

    return Watches(current_app.config["INDEX_ROOT"])


@bp.get("/watch/<name>.atom")
def watch_atom(name: str):
    try:
        news = watches().news(name)
    except WatchError:
        abort(404, description="No saved search has that name.")
    body = feeds.atom_feed(
        {"results": news, "total": len(news)}, title=f"newsearch: new for '{name}'", self_url=request.url,
        feed_id=request.url, html_url=url_for("web.search_page", _external=True),
        article_url=lambda article_id: url_for("web.article_page", article_id=article_id, _external=True),
    )
    return Response(body, mimetype="application/atom+xml")


@bp.post("/watch")
def watch_create():
    _check_same_origin()
    name = (request.form.get("name") or "").strip()
    args = saved_params((k, v) for k, v in request.form.items(multi=True) if k not in ("name", "csrf"))
    try:
        grouped: dict[str, list[str]] = {}
        for key, value in args:
            grouped.setdefault(key, []).append(value)
        SearchParams.from_mapping(grouped)  # validates them as a search would
        found = watches().add(name, args, EngineMatcher(engine()))
    except (WatchError, QueryError) as exc:
        return Response(render_template("error.html", status=400, message=str(exc)), status=400)
    return render_template("watch_saved.html", name=name, baseline=found, args=args,
                           feed=url_for("research.watch_atom", name=name, _external=True))


def _check_same_origin() -> None:
    token = request.form.get("csrf", "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not token or not cookie or not hmac.compare_digest(token, cookie):
        abort(403, description="This form has expired. Go back, reload the page and try again.")
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(403, description="Saved searches can only be created from this site's own pages.")
