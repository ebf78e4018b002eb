"""Routes: the HTML search and article pages, the JSON API, feed, export, OpenSearch, health.

Request parameters are parsed only by ``SearchParams.from_mapping``; its
``QueryError`` message is safe to show, so bad input becomes a 400 with that
message (JSON under /api/), never a 500.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from search.facets import ENTITY_FIELDS, FACET_NAMES, FACETS
from search.index.generations import NoIndex
from search.index.integrity import CorruptGeneration
from search.query import MAX_PAGE, QueryError, SearchParams

from . import feeds, present, recover, urls

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)

EXPORT_CAP = 10_000  # most rows /search.csv returns; documented on the page and in X-Export-Cap
FEED_SIZE = 20  # entries in /search.atom unless per_page says otherwise
MAX_ID_LENGTH = 512
MAX_QUERY_STRING = 4096
UI_PARAMS = present.UI_ARGS  # display-only params that the engine never sees
MAX_DROP_SUGGESTIONS = 6


def engine():
    return current_app.extensions["newsearch"]


def parse_params() -> SearchParams:
    """The one place request args become search parameters (strict: a bad one is a 400)."""
    return SearchParams.from_mapping(search_args())


def search_args(drop: tuple[str, ...] = ()) -> MultiDict:
    """The request's search parameters, without display state (and without ``drop``)."""
    if len(request.query_string) > MAX_QUERY_STRING:
        raise QueryError(f"the request is too long (at most {MAX_QUERY_STRING} bytes of parameters)")
    return MultiDict([(k, v) for k, v in request.args.items(multi=True) if k not in UI_PARAMS and k not in drop])


def expanded_facets() -> list[str]:
    """Facet lists expanded with "more" (repeatable); an unknown name is ignored."""
    return list(dict.fromkeys(m for m in request.args.getlist("more") if m in FACET_NAMES))


# -- template helpers -------------------------------------------------------------------------
HEADER_FIELDS = ("source",)  # shown in the article's header, so not again among its groups
ARTICLE_GROUPS = tuple(spec for spec in FACETS if spec.filterable and spec.name not in HEADER_FIELDS)
TAGS_PER_HIT = 5


@bp.app_context_processor
def template_helpers() -> dict:
    return {"asset": asset, "entity_tags": entity_tags, "entity_groups": entity_groups,
            "article_paragraphs": article_paragraphs, "q_value": request.args.get("q", "")[:500],
            "readable": label_of}


def label_of(facet: str, value: str) -> str:
    """The readable name of a coded value (Reuters ``money-fx`` → "Money/Foreign Exchange"), else the value."""
    try:
        return engine().labels().label(facet, value)
    except NoIndex:
        return value


@bp.app_template_filter("nicedate")
def nicedate(value) -> str:
    return present.format_date(value)


@bp.app_template_filter("nicetime")
def nicetime(value) -> str:
    return present.format_time(value)


@bp.app_template_filter("thousands")
def thousands(value) -> str:
    return f"{int(value or 0):,}"


@bp.app_template_filter("host")
def host(url: str) -> str:
    return urlsplit(url).netloc


def asset(filename: str) -> str:
    """Static URL with a version stamp, so a day of browser caching never serves stale CSS."""
    return url_for("static", filename=filename, v=_asset_version(current_app.static_folder, filename))


@functools.lru_cache(maxsize=64)
def _asset_version(folder: str, filename: str) -> int:
    """The file's mtime, read once per process: assets change only with a deploy (and a restart)."""
    try:
        return int((Path(folder) / filename).stat().st_mtime)
    except OSError:
        return 0


def entity_tags(result: dict) -> list[tuple[str, str]]:
    """A few entities per hit, people first, as (field, value) pairs for filter links."""
    tags = [(field, value) for field in ENTITY_FIELDS for value in result.get(field) or []]
    return tags[:TAGS_PER_HIT]


def entity_groups(article: dict) -> list[tuple[str, str, list[str]]]:
    """(field, label, values) of each facet the article has values for, in the facet table's order."""
    return [(spec.name, spec.label, article[spec.name]) for spec in ARTICLE_GROUPS if article.get(spec.name)]


def article_paragraphs(article: dict) -> list[str]:
    paragraphs = article.get("paragraphs") or (article.get("body") or "").split("\n\n")
    return [p.strip() for p in paragraphs if p and p.strip()]


# -- HTML -------------------------------------------------------------------------------------
@bp.get("/")
@bp.get("/search")
def search_page():
    """Bad parameters are mended in place (web/recover.py): the page shows what was valid and says what was not."""
    more = expanded_facets()
    mended = recover.recover(search_args())
    params, problems = mended.params, mended.problems
    try:
        answer = engine().search(params)
    except QueryError as exc:  # the query text itself cannot be read (a lone quote, a stray ')'): no results
        problems.append(recover.Problem("q", f"{exc}."))
        answer = {**recover.empty_answer(params), "collapsed_total": 0}
    if params.page > 1 and answer["total"] and not answer["results"]:
        past = recover.page_past_end(params.page, answer["collapsed_total"], params.per_page)
        if past is not None:
            params = dataclasses.replace(params, page=past[0])
            problems.append(past[1])
            answer = engine().search(params)
    links = present.Links(params.to_query_args() + [("more", name) for name in more])
    context = {
        "params": params,
        "answer": answer,
        "links": links,
        "problems": [present.problem_view(p, links) for p in problems],
        "typed": mended.typed,  # the date fields show what was typed ("last week"), mended or not
        "facets": present.build_facets(answer, links, more, label_of),
        "chips": present.build_chips(links, label_of),
        "histogram": present.build_histograms(answer.get("histogram"), links),
        "pager": present.build_pager(answer["collapsed_total"], params.page, params.per_page, links, MAX_PAGE),
        "sorts": present.SORTS,
        "export_cap": EXPORT_CAP,
        "alternatives": drop_filter_alternatives(params, links) if not answer["total"] and not answer.get("partial")
        else [],
    }
    return render_template("search.html", **context)


def drop_filter_alternatives(params: SearchParams, links: present.Links) -> list[dict]:
    """For an empty result: how many hits each filter would give back if dropped.

    Each is a whole search again, so together they get one more search budget, not one each
    (with six filters a costly query could otherwise hold the page for seven budgets).
    """
    alternatives = []
    until = time.monotonic() + getattr(engine(), "time_budget_s", 2.0)
    for chip in present.build_chips(links)[:MAX_DROP_SUGGESTIONS]:
        if time.monotonic() > until:
            break
        relaxed = SearchParams.from_mapping(MultiDict(_args_of(chip.href)))
        relaxed = dataclasses.replace(relaxed, page=1, per_page=1)
        answer = engine().search(relaxed)
        if answer["total"] and not answer.get("partial"):
            alternatives.append({"chip": chip, "total": answer["total"]})
    return alternatives


def _args_of(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href).query, keep_blank_values=False)


@bp.get("/article/<path:article_id>")
def article_page(article_id: str):
    """Opened from a search (its parameters follow the id), the page links back to it and marks the query's words."""
    article = find_article(article_id)
    related = engine().related(article["id"], limit=5)
    back = [(k, v) for k, v in request.args.items(multi=True) if k != "q" or v.strip()]
    query = request.args.get("q", "").strip()
    marked = engine().highlighted(query, article_paragraphs(article)) if query else None
    return render_template("article.html", article=article, related=related, marked=marked,
                           back_href=present.Links(back).url() if back else None,
                           original=present.safe_external_url(article.get("url")))


def find_article(article_id: str) -> dict:
    if len(article_id) > MAX_ID_LENGTH:
        abort(404, description="No article has that id.")
    article = engine().article(article_id)
    if article is None:
        abort(404, description="No article has that id.")
    return article


# -- API --------------------------------------------------------------------------------------
@bp.get("/api/search")
def api_search():
    return jsonify(engine().search(parse_params()))


@bp.get("/api/article/<path:article_id>")
def api_article(article_id: str):
    article = find_article(article_id)
    related = engine().related(article["id"], limit=5)
    keep = ("id", "title", "date", "source", "url")
    return jsonify({**article, "related": [{k: r.get(k) for k in keep} for r in related]})


@bp.get("/healthz")
def healthz():
    health = engine().health()
    response = jsonify(health)
    response.status_code = 200 if health.get("status") == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/search.atom")
def search_atom():
    params = parse_params()
    if "per_page" not in request.args:
        params = dataclasses.replace(params, per_page=FEED_SIZE)
    answer = engine().search(dataclasses.replace(params, sort="newest"))
    links = present.Links(params.to_query_args())
    title = f"newsearch: {params.q}" if params.q else "newsearch: latest articles"
    body = feeds.atom_feed(
        answer, title=title, self_url=urls.this_request(), feed_id=urls.this_request(),
        html_url=urls.absolute(links.other("web.search_page", drop_paging=True)),
        article_url=lambda article_id: urls.external_url_for("web.article_page", article_id=article_id),
    )
    return Response(body, mimetype="application/atom+xml")


@bp.get("/search.csv")
def search_csv():
    """All hits of the query, up to EXPORT_CAP rows, streamed as they are read."""
    params = parse_params()
    rows = iter(engine().export(params, cap=EXPORT_CAP))
    first = next(rows, None)  # a lazy engine reports bad queries here, while a 400 is still possible

    def all_rows():
        if first is not None:
            yield first
        yield from rows

    headers = {
        "Content-Disposition": 'attachment; filename="newsearch-export.csv"',
        "X-Export-Cap": str(EXPORT_CAP),
    }
    chunks = stream_with_context(feeds.csv_chunks(all_rows(), engine().labels()))
    return Response(chunks, mimetype="text/csv", headers=headers)


@bp.get("/opensearch.xml")
def opensearch():
    body = feeds.opensearch_description(
        html_template=urls.external_url_for("web.search_page") + "?q={searchTerms}",
        atom_template=urls.external_url_for("web.search_atom") + "?q={searchTerms}",
        json_template=urls.external_url_for("web.api_search") + "?q={searchTerms}",
        self_url=urls.external_url_for("web.opensearch"),
        icon_url=urls.external_url_for("static", filename="favicon.svg"),
    )
    return Response(body, mimetype="application/opensearchdescription+xml")


# -- errors -----------------------------------------------------------------------------------
def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str):
    if wants_json():
        response = jsonify({"error": message, "status": status})
    elif request.path in ("/search.atom", "/search.csv", "/opensearch.xml", "/timeline.csv") or \
            request.path.startswith("/watch/"):
        response = Response(message + "\n", mimetype="text/plain")
    else:
        response = Response(render_template("error.html", status=status, message=message), mimetype="text/html")
    response.status_code = status
    return response


def register_error_handlers(app) -> None:
    @app.errorhandler(QueryError)
    def _bad_query(exc):
        return error_response(400, str(exc) or "Bad parameters.")

    @app.errorhandler(CorruptGeneration)
    def _broken(exc):
        log.error("%s", exc)
        return error_response(503, f"The live index ({exc.generation.name}) is damaged and cannot be searched; "
                                   "the operator has to roll back or rebuild it.")

    @app.errorhandler(NoIndex)
    def _no_index(exc):
        return error_response(503, "The index is not ready yet. Try again in a moment.")

    @app.errorhandler(HTTPException)
    def _http(exc):
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, "Something went wrong on our side.")
