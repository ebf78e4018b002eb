"""Canonical entity names: a pure function over spaCy-style ``(text, label)`` pairs.

``canonicalise`` cleans each span (possessive ``'s``, a leading "the",
surrounding quotes and punctuation, junk), and within one article resolves a
bare surname or a misspelt full name to the full name it stands for ("Putin"
-> "Vladimir Putin", "Emanuel Macron" -> "Emmanuel Macron").  A span equal to
a known person's name or surname counts as that person even when the model
tagged it ORG or WORK_OF_ART.  Other strings are deduplicated
case-insensitively and keep the spelling most often written ("Nato" stays
"Nato").  No model, no I/O.

``canonicalise_text`` is what extraction uses: the same, with the article's
text at hand for the rules in ``rules`` (gazetteer places, credits, particle
surnames, run-on spans) before, and short forms folded into long ones after.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from search.ingest.entities.rules import fold_short_forms, refine

PERSON, ORG, PLACE = "people", "orgs", "places"
LABEL_GROUP = {"PERSON": PERSON, "ORG": ORG, "GPE": PLACE, "LOC": PLACE}
# Labels never useful to us, not even as mis-tagged surnames: not stored in the cache.
NUMERIC_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})

MAX_ENT_CHARS = 60
MAX_ENT_WORDS = 6
_EDGE_CHARS = " \t\"'`“”‘’«»()[]{}<>,;:!?*|/\\-–—•·"
_POSSESSIVE = re.compile(r"\s*['’`][sS]$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_KEEP_THE = frozenset({"the hague", "the gambia", "the bahamas"})
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "president", "senator", "sen", "rep"})
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_NAME_PARTICLES = frozenset(
    {"de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "bin", "al", "el", "la", "le", "ter"}
)
_JUNK = re.compile(r"https?:|www\.|@|\d{3,}")

EMPTY_KEYS = (PERSON, ORG, PLACE)


# --------------------------------------------------------------------------- cleaning


def clean_entity(text: str) -> str:
    """Return the display form of a span, or "" if it is junk.

    Newlines mean the model ran across a paragraph or boilerplate boundary,
    so such spans are dropped rather than repaired.
    """
    if not text or "\n" in text or "\r" in text:
        return ""
    s = " ".join(text.split())
    for _ in range(2):  # "“Putin’s”" needs quotes, then possessive, then quotes again
        s = _POSSESSIVE.sub("", s.strip(_EDGE_CHARS)).strip(_EDGE_CHARS)
    if s.casefold() not in _KEEP_THE:
        s = _LEADING_THE.sub("", s)
    return s if _plausible(s) else ""


def _plausible(s: str) -> bool:
    """Reject digits-only, single letters, URLs and run-on spans."""
    letters = sum(ch.isalpha() for ch in s)
    if letters < 2 or len(s) > MAX_ENT_CHARS or len(s.split()) > MAX_ENT_WORDS:
        return False
    return not _JUNK.search(s)


def clean_person(text: str) -> str:
    """Clean a PERSON span: also drop a leading title and lower-case junk ("said Trump")."""
    s = clean_entity(text)
    words = s.split()
    while len(words) > 1 and words[0].rstrip(".").casefold() in _TITLES:
        words = words[1:]
    if not words or not all(_name_word(w) for w in words):
        return ""
    return " ".join(words)


def _name_word(word: str) -> bool:
    """Not lower-case (caseless scripts pass), or a particle ("van", "al-Assad")."""
    head = re.split(r"[-'’]", word, maxsplit=1)[0].casefold()
    return not word[0].islower() or head in _NAME_PARTICLES


# --------------------------------------------------------------------------- people


@dataclass
class _Variant:
    """One spelling of a multi-word person name, with how often and where it first appeared."""

    text: str
    count: int
    first: int

    @property
    def given(self) -> str:
        return self.text.split()[0].rstrip(".").casefold()

    def rank(self) -> tuple:
        # most frequent, then longest (fuller / better spelt), then earliest
        return (-self.count, -len(self.text), self.first)


def _split_suffix(name: str) -> tuple[list[str], str]:
    """Case-folded name words without trailing suffixes, and those suffixes ("jr")."""
    words = [w.rstrip(".,").casefold() for w in name.split()]
    suffix = []
    while len(words) > 1 and words[-1] in _NAME_SUFFIXES:
        suffix.insert(0, words.pop())
    return words, " ".join(suffix)


def surname_of(name: str) -> str:
    """Case-folded surname: last word that is not a suffix like "Jr"."""
    return _split_suffix(name)[0][-1]


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _similar_given(a: str, b: str) -> bool:
    """Same person's first name: equal, an initial of it, or a small misspelling."""
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    allowed = 1 if min(len(a), len(b)) <= 5 else 2
    return edit_distance(a, b, allowed) <= allowed


def _same_person(a: _Variant, b: _Variant) -> bool:
    """Same surname and suffix (Donald Trump is not Donald Trump Jr), similar first name."""
    (wa, sa), (wb, sb) = _split_suffix(a.text), _split_suffix(b.text)
    return wa[-1] == wb[-1] and sa == sb and _similar_given(a.given, b.given)


def _cluster_full_names(variants: list[_Variant]) -> dict[str, _Variant]:
    """Map each full-name spelling (case-folded) to its cluster's representative.

    Spellings with the same surname and similar first names are one person;
    the representative is the most frequent (ties: longest) spelling and
    carries the cluster's total count.
    """
    reps: list[_Variant] = []
    members: dict[str, _Variant] = {}
    for v in sorted(variants, key=_Variant.rank):
        rep = next((r for r in reps if _same_person(r, v)), None)
        if rep is None:
            rep = _Variant(v.text, 0, v.first)
            reps.append(rep)
        rep.count += v.count
        rep.first = min(rep.first, v.first)
        members[v.text.casefold()] = rep
    return members


def _surname_index(members: dict[str, _Variant]) -> dict[str, _Variant]:
    """Surname -> the person a bare surname most likely means (most mentioned, then longest)."""
    best: dict[str, _Variant] = {}
    for rep in members.values():
        key = surname_of(rep.text)
        if key not in best or rep.rank() < best[key].rank():
            best[key] = rep
    return best


def _lookup_surname(word: str, surnames: dict[str, _Variant]) -> _Variant | None:
    """Exact surname match, else a one-letter variant of a long surname ("Zelenskyy")."""
    key = word.casefold()
    if key in surnames:
        return surnames[key]
    if len(key) >= 6:
        close = [rep for s, rep in surnames.items() if len(s) >= 6 and edit_distance(key, s, 1) <= 1]
        if len(close) == 1:
            return close[0]
    return None


# --------------------------------------------------------------------------- canonicalise


@dataclass
class _Mention:
    text: str  # cleaned display form
    group: str | None  # PERSON / ORG / PLACE, or None for other labels
    pos: int


def _mentions(ents: Iterable[tuple[str, str]]) -> list[_Mention]:
    out = []
    for pos, (text, label) in enumerate(ents):
        if label in NUMERIC_LABELS:
            continue
        group = LABEL_GROUP.get(label)
        cleaned = clean_person(text) if group == PERSON else clean_entity(text)
        if cleaned:
            out.append(_Mention(cleaned, group, pos))
    return out


def _full_name_variants(mentions: list[_Mention]) -> list[_Variant]:
    found: dict[str, _Variant] = {}
    for m in mentions:
        if m.group == PERSON and len(m.text.split()) >= 2:
            v = found.setdefault(m.text, _Variant(m.text, 0, m.pos))
            v.count += 1
    return list(found.values())


def _as_person(m: _Mention, members: dict[str, _Variant], surnames: dict[str, _Variant]) -> str | None:
    """The canonical person a mention stands for, if any.

    A place-tagged bare word stays a place ("Washington" next to "Denzel
    Washington"); an ORG/WORK_OF_ART-tagged surname becomes the person.
    """
    key = m.text.casefold()
    if key in members:
        return members[key].text
    if m.group == PLACE or len(m.text.split()) != 1:
        return None
    rep = _lookup_surname(m.text, surnames)
    return rep.text if rep else None


def canonicalise(ents: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Turn one article's (text, label) spans into canonical people/orgs/places.

    Pure: no model, no I/O.  Each list is ordered by mentions (most first),
    then first appearance, and has no case-insensitive duplicates.
    """
    mentions = _mentions(ents)
    members = _cluster_full_names(_full_name_variants(mentions))
    surnames = _surname_index(members)
    tally: dict[str, Counter] = {}  # casefold key -> Counter of (group, display)
    first: dict[str, int] = {}
    for m in mentions:
        person = _as_person(m, members, surnames)
        group, display = (PERSON, person) if person else (m.group, m.text)
        if group is None:
            continue
        key = display.casefold()
        tally.setdefault(key, Counter())[(group, display)] += 1
        first.setdefault(key, m.pos)
    return _assemble(tally, first)


def canonicalise_text(ents: Iterable[tuple[str, str]], text: str) -> dict[str, list[str]]:
    """``canonicalise`` with the text-aware rules: spans refined first, short forms folded last."""
    found = canonicalise(refine(list(ents), text))
    found[ORG], _ = fold_short_forms(found[ORG])
    found[PERSON], _ = fold_short_forms(found[PERSON], first_word=True)
    return found


def _assemble(tally: dict[str, Counter], first: dict[str, int]) -> dict[str, list[str]]:
    """Vote each string into one group and one spelling, then order the lists."""
    scored: dict[str, list[tuple[int, int, str]]] = {g: [] for g in EMPTY_KEYS}
    for key, counts in tally.items():
        by_group = Counter()
        for (group, _), n in counts.items():
            by_group[group] += n
        group = max(by_group, key=lambda g: (by_group[g], g == PERSON))
        spellings = [(n, display) for (g, display), n in counts.items() if g == group]
        display = max(spellings, key=lambda s: s[0])[1]  # first-inserted wins ties
        scored[group].append((-by_group[group], first[key], display))
    return {g: [d for _, _, d in sorted(items)] for g, items in scored.items()}
