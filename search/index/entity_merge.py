"""One value per entity across the archive: the alias map computed at publish from stored values.

Per article, extraction cannot know that "REAGAN" in a headline-only item is
the "Ronald Reagan" of other articles, or that the "Volcker" the model tagged
as an organisation is the person.  The archive can.  ``alias_maps`` turns
per-facet counts of (value, period) -- articles carrying the value, by year --
into a map value -> (facet, canonical value):

1. case variants merge to the spelling most often written in mixed case
   ("REAGAN", "reagan" -> "Reagan");
2. a bare surname becomes the full name when, in every period (year, give or
   take one) it appears, the archive has exactly one person of that surname
   ("Reagan" -> "Ronald Reagan"; George and Barbara Bush keep "Bush" apart);
3. an organisation or place that the archive more often names as a person
   moves to people ("Volcker" tagged ORG -> "Paul Volcker"); a full name
   ("Olaf Scholz" tagged ORG) needs only half as many person mentions;
4. a person value only ever written in capitals that the archive never
   writes in mixed case is dropped (a headline guess, "TREASURY");
5. an acronym or a bare head word of exactly one longer value of the same
   facet folds into it ("ECB" -> "European Central Bank", "Commission" ->
   "European Commission").

Only counts are needed, never the articles: publish computes them from the
(doc, value) pairs the columns already collect, and saves them beside the map
(``aliases.json``) so an incremental update can add the new segment's counts
instead of re-reading every document.  The model is never re-run.

The map is applied where values are read: the facet columns are built on
canonical values (counts and filters: a filter on "Ronald Reagan" finds the
articles stored with "Reagan"), and ``apply_stored`` rewrites a stored
document's lists for results and article pages.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from search.facets import ENTITY_FIELDS

PEOPLE, ORGS = "people", "orgs"  # the facet names of search.facets
HEAD_WORD_MIN = 5
PERIOD_SLACK = 1  # years: a surname in 2025 may name the full name last written in 2024
FILENAME = "aliases.json"
Counts = dict[str, Counter]  # facet -> Counter[(value, period or None)] of articles
AliasMap = dict[str, dict[str, list[str]]]  # facet -> {value: [facet, canonical]}
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_SKIP_INITIAL = frozenset({"of", "the", "and", "for", "de", "&"})


def counts_of(articles: Iterable[dict[str, list[str]]], periods: Iterable[str | None]) -> Counts:
    """Counts from per-article value lists (each value once per article)."""
    counts: Counts = defaultdict(Counter)
    for values, period in zip(articles, periods, strict=True):
        for facet, items in values.items():
            for value in dict.fromkeys(items):
                counts[facet][(value, period)] += 1
    return counts


def _mixed(value: str) -> bool:
    return value != value.upper() and value != value.lower()


def _case_map(counter: Counter) -> dict[str, str]:
    totals: Counter = Counter()
    for (value, _), n in counter.items():
        totals[value] += n
    groups: dict[str, list[str]] = defaultdict(list)
    for value in totals:
        groups[value.casefold()].append(value)
    out = {}
    for spellings in groups.values():
        if len(spellings) > 1:
            best = max(spellings, key=lambda v: (_mixed(v), totals[v], v))
            out.update({v: best for v in spellings if v != best})
    return out


def surname(name: str) -> str:
    words = [w.strip(".,").casefold() for w in name.split()]
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return words[-1] if words else ""


def _periods(counter: Counter, case: dict[str, str]) -> dict[str, Counter]:
    """Canonical-case value -> Counter of periods (articles per period)."""
    out: dict[str, Counter] = defaultdict(Counter)
    for (value, period), n in counter.items():
        out[case.get(value, value)][period] += n
    return out


def _near(period: str | None, periods: Counter) -> bool:
    """A period within one year of any of the others (undated matches all)."""
    if period is None or period in periods:
        return True
    try:
        year = int(period)
    except ValueError:
        return False
    return any(p is not None and p.isdigit() and abs(int(p) - year) <= PERIOD_SLACK for p in periods)


def _full_name_for(word: str, periods: Counter, full_by_surname: dict[str, dict[str, Counter]]) -> str | None:
    """The one full name with this surname in every period the word appears in, else None."""
    holders = full_by_surname.get(word.casefold(), {})
    if not holders:
        return None
    chosen = set()
    for period in periods:
        here = {f for f, ps in holders.items() if _near(period, ps)}
        if len(here) != 1:
            return None
        chosen |= here
    return chosen.pop() if len(chosen) == 1 else None


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w and w.casefold() not in _SKIP_INITIAL).upper()


def _short_form_map(values: Iterable[str], head_words: bool) -> dict[str, str]:
    """Acronyms ("ECB") and, for organisations, bare head words ("Commission") of exactly one longer value.

    A head word must be a word of its own (at least HEAD_WORD_MIN letters, so
    not "Fed") closing a two-word name; places get none ("Europe" is not
    "Western Europe").
    """
    values = list(values)
    longs: dict[str, list[str]] = defaultdict(list)
    for v in values:
        words = v.split()
        if len(words) >= 2:
            longs[_initials(v)].append(v)
            longs[words[-1]].append(v if len(words) == 2 else "")
    out = {}
    for v in values:
        letters = v.replace(".", "")
        acronym = 2 <= len(letters) <= 6 and letters.isupper()
        head_word = head_words and " " not in v and len(v) >= HEAD_WORD_MIN and v[:1].isupper() and not v.isupper()
        fits = set(longs.get(letters if acronym else v, ()))
        if (acronym or head_word) and len(fits) == 1 and "" not in fits:
            out[v] = fits.pop()
    return out


def alias_maps(counts: Counts) -> AliasMap:
    """The archive's alias map; values not in it are canonical already."""
    people_case = _case_map(counts.get(PEOPLE, Counter()))
    people = _periods(counts.get(PEOPLE, Counter()), people_case)
    full_by_surname: dict[str, dict[str, Counter]] = defaultdict(dict)
    for value, periods in people.items():
        if len(value.split()) >= 2:
            full_by_surname[surname(value)][value] = periods
    person_of: dict[str, str] = {}  # canonical-case people value -> full name
    for value, periods in people.items():
        full = _full_name_for(value, periods, full_by_surname) if len(value.split()) == 1 else None
        person_of[value] = full or value
    person_total = Counter()
    for value, periods in people.items():
        person_total[person_of[value].casefold()] += sum(periods.values())
    mixed_people = {v.casefold() for v in people if _mixed(v)} | {surname(v) for v in people if _mixed(v)}
    maps: AliasMap = {}
    for facet, counter in counts.items():
        case = people_case if facet == PEOPLE else _case_map(counter)
        here = _periods(counter, case)
        acronyms = _short_form_map(here, head_words=facet == ORGS) if facet != PEOPLE else {}
        facet_map = {}
        for raw_value, _ in counter:
            value = case.get(raw_value, raw_value)
            target = (facet, acronyms.get(value, value))
            if facet == PEOPLE:
                target = (PEOPLE, person_of.get(value, value))
                if value.isupper() and value.casefold() not in mixed_people:
                    target = (PEOPLE, None)  # only ever an ALL-CAPS headline guess: not a name the archive knows
            else:
                person = _as_person(value, here[value], people, person_of, full_by_surname)
                # a full name the archive knows as a person needs half the votes; a bare word all of them
                weight = 2 if len(value.split()) >= 2 else 1
                if person and weight * person_total[person.casefold()] >= sum(here[value].values()):
                    target = (PEOPLE, person)
            if target != (facet, raw_value):
                facet_map[raw_value] = list(target)
        if facet_map:
            maps[facet] = facet_map
    return maps


def _as_person(value, periods, people, person_of, full_by_surname) -> str | None:
    """The person an organisation/place value names, if the archive knows one."""
    for known in (value, value.title()):
        if known in person_of and (len(known.split()) >= 2 or person_of[known] != known):
            return person_of[known]
    if len(value.split()) == 1 and value[:1].isupper():
        return _full_name_for(value, periods, full_by_surname)
    return None


def apply(maps: AliasMap, values: dict[str, list[str]]) -> dict[str, list[str]]:
    """One article's values under the alias map: renamed, moved between facets, without duplicates."""
    out: dict[str, list[str]] = {facet: [] for facet in values}
    for facet, items in values.items():
        facet_map = maps.get(facet, {})
        for value in items:
            target_facet, target = facet_map.get(value, (facet, value))
            bucket = out.setdefault(target_facet, [])
            if target is not None and target not in bucket:
                bucket.append(target)
    return out


def apply_stored(maps: AliasMap, stored: dict) -> dict:
    """A stored document with its entity lists under the alias map (a copy; unchanged when no map)."""
    data = stored.get("data")
    if not maps or not data:
        return stored
    mapped = apply(maps, {f: list(data.get(f) or []) for f in ENTITY_FIELDS})
    return {**stored, "data": {**data, **mapped}}


FilterLookup = dict[str, dict[str, str]]  # facet -> {casefolded value: canonical value in the same facet}


def filter_lookup(maps: AliasMap) -> FilterLookup:
    """The map as filters read it; built once per generation, not per query (the map can hold every value)."""
    return {facet: {k.casefold(): t for k, (f, t) in facet_map.items() if f == facet and t is not None}
            for facet, facet_map in maps.items()}


def canonical_filter(lookup: FilterLookup, facet: str, values: list[str]) -> list[str]:
    """Filter values under the map, case-insensitively, so an old link on "Reagan" still finds its articles."""
    same = lookup.get(facet, {})
    return list(dict.fromkeys(same.get(v.casefold(), v) for v in values))


# --------------------------------------------------------------------------- columns


def years_of(dates: np.ndarray, missing: int) -> list[str | None]:
    """Period (year) per document from epoch seconds; None where undated."""
    years = (dates.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970).tolist()
    return [None if d == missing else str(y) for d, y in zip(dates.tolist(), years, strict=True)]


def counts_from_pairs(values: dict[str, list[tuple[int, str]]], periods: list[str | None]) -> Counts:
    """Per-facet (value, period) article counts from the columns' (doc, value) pairs."""
    counts: Counts = {}
    for facet in ENTITY_FIELDS:
        counter: Counter = Counter()
        for doc, value in values.get(facet, ()):
            counter[(value, periods[doc])] += 1
        counts[facet] = counter
    return counts


def remap_pairs(values: dict[str, list[tuple[int, str]]], maps: AliasMap) -> dict[str, list[tuple[int, str]]]:
    """The (doc, value) pairs under the alias map: renamed, moved between facets, one pair per doc and value."""
    out: dict[str, list[tuple[int, str]]] = {facet: [] for facet in values}
    for facet, pairs in values.items():
        facet_map = maps.get(facet, {})
        for doc, value in pairs:
            target_facet, target = facet_map.get(value, (facet, value))
            if target is not None:
                out.setdefault(target_facet, []).append((doc, target))
    return {facet: sorted(set(pairs)) for facet, pairs in out.items()}


def save(maps: AliasMap, directory: Path, counts: Counts | None = None) -> None:
    """Write the map (and the counts it came from) into a generation directory, atomically."""
    rows = {f: [[v, p, n] for (v, p), n in sorted(c.items(), key=str)] for f, c in (counts or {}).items()}
    tmp = Path(directory) / f".{FILENAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"aliases": maps, "counts": rows}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, Path(directory) / FILENAME)


def load(directory: Path) -> AliasMap:
    """The generation's map; empty when it has none (an older generation)."""
    try:
        return json.loads((Path(directory) / FILENAME).read_text(encoding="utf-8")).get("aliases", {})
    except (OSError, ValueError, AttributeError):
        return {}


def load_counts(directory: Path) -> Counts:
    """The saved (value, period) counts, for an update that adds a segment's counts to them."""
    try:
        rows = json.loads((Path(directory) / FILENAME).read_text(encoding="utf-8")).get("counts", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {f: Counter({(v, p): n for v, p, n in items}) for f, items in rows.items()}
