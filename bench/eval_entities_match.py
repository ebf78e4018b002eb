"""How eval_entities.py decides that a predicted entity string matches a gold one.

Exact: equal after ``norm`` (case, dots, possessive, a leading "the" and
punctuation do not count).  Lenient, as the issue defines it, and no more:
also a person whose words close the other's ("Putin" ~ "Vladimir Putin"),
an acronym of the other name ("EU" ~ "European Union"), and two aliases of
one place in the gazetteer ("U.S." ~ "United States").  Organisations and
places get no partial-word credit ("Bank" is not "World Bank").
"""

from __future__ import annotations

import re

from search.ingest.entities.gazetteer import gazetteer

_FUNCTION_WORDS = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "&"})


def norm(text: str) -> str:
    s = text.casefold().replace(".", "").replace("’", "'")
    s = re.sub(r"'s\b", "", s)
    s = re.sub(r"^the\s+", "", s)
    s = re.sub(r"[^\w\s&-]", " ", s)
    return " ".join(s.replace("-", " ").split())


def _initials(text: str) -> str:
    words = [w for w in re.split(r"[\s-]+", text) if w and w.casefold() not in _FUNCTION_WORDS]
    return "".join(w[0] for w in words).casefold()


def is_acronym(short: str, long: str) -> bool:
    letters = short.replace(".", "")
    if not (2 <= len(letters) <= 6 and letters.isupper() and len(long.split()) >= 2):
        return False
    return _initials(long) == letters.casefold()


def lenient_match(pred: str, gold: str, kind: str) -> bool:
    a, b = norm(pred), norm(gold)
    if not a or not b:
        return False
    if a == b:
        return True
    if kind == "people":
        wa, wb = a.split(), b.split()
        short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
        if long[-len(short) :] == short:
            return True
    if is_acronym(pred, gold) or is_acronym(gold, pred):
        return True
    if kind == "places":
        g = gazetteer()
        pa, pb = g.lookup(pred), g.lookup(gold)
        return pa is not None and pa == pb
    return False
