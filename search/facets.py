"""The facet vocabulary: one declaration that every stage derives its facet lists from.

Adding a facet means adding one row here (and, for a new article field, the field on
``Article``): CLI flags and their help, request-parameter validation, web labels, chips,
the article page's groups and CSV columns all read this table.  Modelled on Datasette's
``Setting(name, default, help)`` and elasticsearch-dsl's facet classes: a facet says how it
is counted (its kind) and how it is shown (its label), and nothing else repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["entity", "keyword", "period"]


@dataclass(frozen=True)
class FacetSpec:
    """One facet: ``name`` is the article field, URL parameter and JSON key."""

    name: str
    label: str  # shown in the sidebar, chips and the article page
    kind: Kind  # entity: extracted from text when the format gives none; keyword: given only; period: from the date
    help: str  # one line for --help and the syntax page

    @property
    def filterable(self) -> bool:
        """A value filter (``people=…``); a period is filtered by the from/to dates instead."""
        return self.kind != "period"

    @property
    def extracted(self) -> bool:
        return self.kind == "entity"


FACETS: tuple[FacetSpec, ...] = (
    FacetSpec("people", "People", "entity", "a person named in the article"),
    FacetSpec("orgs", "Organisations", "entity", "an organisation named in the article"),
    FacetSpec("places", "Places", "entity", "a place named in the article"),
    FacetSpec("source", "Sources", "keyword", "the publisher or feed"),
    FacetSpec("topics", "Topics", "keyword", "a topic or category the source gives"),
    FacetSpec("year", "Year", "period", "the year of the article's day"),
)

BY_NAME = {f.name: f for f in FACETS}
FACET_NAMES = tuple(f.name for f in FACETS)  # every facet counted in an answer
FILTER_FACETS = tuple(f.name for f in FACETS if f.filterable)  # value filters: people, orgs, places, source, topics
ENTITY_FIELDS = tuple(f.name for f in FACETS if f.extracted)  # people, orgs, places


def label(name: str) -> str:
    return BY_NAME[name].label
