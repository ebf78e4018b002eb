"""Every value of a facet (``/facets/<facet>``, ``/api/facets/<facet>``) and the search help page.

Routes on the main blueprint, kept apart from views.py because they have their own job: the
sidebar shows a facet's top values, these pages every value over the same search (DESIGN.md
"Facet values"), like Blacklight's facet "more" page — filter box, paging, several values
ticked at once — as a plain GET form that works without JavaScript.
"""

from __future__ import annotations

import dataclasses
import math

from flask import abort, jsonify, render_template, request, url_for

from search.facets import BY_NAME, FACET_NAMES
from search.query import facetvalues
from search.query.errors import QueryError
from search.query.params import SearchParams

from . import present, recover
from .views import bp, engine, search_args

VALUE_ARGS = ("contains", "page", "per_page")  # the values page's own parameters; the rest is the search
HTML_PER_PAGE = 100


def _facet(name: str):
    if name not in FACET_NAMES:
        abort(404, description=f"No facet '{name[:40]}': facets are {', '.join(FACET_NAMES)}.")
    return BY_NAME[name]


def _paging(default_per_page: int) -> tuple[str, int, int]:
    """contains, page and per_page of the list of values; a bad number is a QueryError (400)."""
    contains = request.args.get("contains", "")[: facetvalues.MAX_CONTAINS_CHARS]
    numbers = []
    for key, default, high in (("page", 1, 100_000), ("per_page", default_per_page, facetvalues.MAX_PER_PAGE)):
        raw = request.args.get(key, "").strip()
        try:
            value = int(raw) if raw else default
        except ValueError:
            raise QueryError(f"{key} must be a whole number (got '{raw[:20]}')") from None
        if not 1 <= value <= high:
            raise QueryError(f"{key} must be between 1 and {high}")
        numbers.append(value)
    return contains, numbers[0], numbers[1]


@bp.get("/api/facets/<facet>")
def api_facet_values(facet: str):
    spec = _facet(facet)
    params = SearchParams.from_mapping(search_args(drop=VALUE_ARGS))
    contains, page, per_page = _paging(facetvalues.DEFAULT_PER_PAGE)
    return jsonify(engine().facet_values(params, spec.name, contains, page, per_page))


@bp.get("/facets/<facet>")
def facet_page(facet: str):
    spec = _facet(facet)
    mended = recover.recover(search_args(drop=VALUE_ARGS))
    params = mended.params
    try:
        contains, page, per_page = _paging(HTML_PER_PAGE)
    except QueryError:
        contains, page, per_page = request.args.get("contains", "")[:100], 1, HTML_PER_PAGE
    listing = engine().facet_values(params, spec.name, contains, page, per_page)
    links = present.Links(params.to_query_args())
    search = links.search_args()
    shown = {item["value"] for item in listing["values"]}
    last = max(1, math.ceil(listing["total_values"] / per_page))
    base = url_for("web.facet_page", facet=spec.name)
    keep = search + ([("contains", listing["contains"])] if listing["contains"] else [])

    def values_page(number: int) -> str:
        return _url(base, keep + ([("page", str(number))] if number > 1 else []))

    total = engine().search(dataclasses.replace(params, page=1, per_page=1))["total"]
    return render_template(
        "facet_values.html", facet=spec, listing=listing, params=params, links=links, total=total,
        apply_hidden=[(k, v) for k, v in search if not (k == spec.name and v in shown)],
        back_href=links.url(search) + f"#facet-{spec.name}",
        clear_filter_href=_url(base, search),
        value_pager={"prev": values_page(page - 1) if page > 1 else None,
                     "next": values_page(page + 1) if page < last else None, "last": last} if last > 1 else None,
    )


def _url(base: str, pairs: list[tuple[str, str]]) -> str:
    query = "&".join(present.encoded_pair(k, v) for k, v in pairs)
    return f"{base}?{query}" if query else base


@bp.get("/help")
def help_page():
    return render_template("help.html")
