"""Text-aware rules around the model's spans: what the per-article canonicaliser cannot see alone.

``refine(spans, text)`` runs before the canonicaliser and ``fold_short_forms``
after it.  Each rule is general (no names, no documents), one small function,
and measured with bench/eval_entities.py:

* split run-on spans: a spaced dash ("GERMANY - Bunds"), an unclosed
  bracket ("Islamic Conference (OIC"), a byline running into a dateline
  ("Jim Adams WASHINGTON");
* headline-case junk: a multi-word ALL-CAPS person or organisation
  ("REAGAN SIGNS GNMA") is dropped unless the article also writes it in
  mixed case;
* credits: an organisation whose every mention is a photo or agency credit
  ("( AP )", "AFP/Getty") is dropped; "Reuters said" keeps it;
* particle surnames: "Ursula von der" + "Leyen" become "Ursula von der Leyen";
* places from the gazetteer: aliases folded ("US" -> "United States"), a
  person or organisation that is a known place retyped ("Kyiv"), and places
  the model missed added (ALL-CAPS datelines and headlines, well-known
  places in running text).
"""

from __future__ import annotations

import re

from search.ingest.entities.gazetteer import Place, gazetteer

Span = tuple[str, str]  # (text, spaCy label)
PLACE_LABEL = "GPE"
PLACE_LABELS = frozenset({"GPE", "LOC"})
PARTICLES = frozenset({"von", "van", "der", "den", "de", "la", "le", "du", "da", "di", "del", "della", "dos", "ter"})
CREDIT_WORDS = frozenset({"getty", "images", "pa", "epa", "afp", "ap", "reuters", "rex", "shutterstock", "photo",
                          "file", "handout", "pool", "via", "wire", "media", "bloomberg", "alamy"})  # fmt: skip
PLACE_NOUNS = ("town", "city", "village", "region", "province", "port", "district", "suburb", "state", "island")
FEATURE_WORDS = frozenset({"river", "lake", "mount", "sea", "ocean", "gulf", "bay", "strait", "valley", "desert"})
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ian|ians|ese|ish|ean|eans)$")
_PLACE_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ian|ians|ese|ish|ean|eans|i|is)$")  # "Kuwaiti", not a first name
COMPANY_WORDS = frozenset({"inc", "corp", "co", "ltd", "spa", "ag", "plc", "sa", "nv", "gmbh", "llc", "bhd", "ab",
                           "asa", "oyj", "holdings", "group", "airlines", "bank", "newsroom", "desk"})  # fmt: skip
CALENDAR_WORDS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september",
                            "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
                            "sep", "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday",
                            "friday", "saturday", "sunday"})  # fmt: skip
ROLE_WORDS = frozenset({"king", "queen", "prince", "princess", "pope", "chancellor", "minister", "premier",
                        "general", "gen", "governor", "judge", "mayor", "archbishop", "bishop", "sheikh"})  # fmt: skip
_PLACE_CONTEXT = re.compile(r"\b(?:" + "|".join(PLACE_NOUNS) + r") of\s+$", re.IGNORECASE)
MIN_SENTENCES = 3
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
SPEECH_VERBS = ("SAYS", "SAID", "SEES", "URGES", "EXPECTS", "WARNS", "CALLS", "TELLS", "FORECASTS", "SETS", "OPPOSES",
                "DENIES", "PREDICTS", "REJECTS", "ASKS", "WANTS", "BACKS", "PLANS", "AGREES", "DECLINES",
                "WELCOMES", "SIGNS", "RENEWS", "NOMINATES", "VETOES", "SEEKS", "FAVOURS", "FAVORS", "MEETS", "MET")
_SPEAKER = re.compile(r"(?:^|\s)([A-Z][A-Z-]{3,}) (?:" + "|".join(SPEECH_VERBS) + r")\b")
_TOKEN = re.compile(r"[A-Za-z][\w'’.-]*[\w]|[A-Za-z]")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_SPACED_DASH = re.compile(r"\s+[-–—]+\s+")
_CAPS_WORD = re.compile(r"^[A-Z'’.-]*[A-Z]{2,}[A-Z'’.-]*$")
_CAPITALISED = re.compile(r"^[A-Z][\w'’.-]*$")
_WORDS = re.compile(r"[\w'’.-]+")


def _is_caps(words: list[str]) -> bool:
    return bool(words) and all(_CAPS_WORD.match(w) or not any(c.isalpha() for c in w) for w in words)


# --------------------------------------------------------------------------- spans


def split_span(text: str, label: str) -> list[Span]:
    """One span cut where it ran on: spaced dash, unclosed bracket, byline into an ALL-CAPS dateline."""
    if _SPACED_DASH.search(text) or " / " in text:
        parts = _SPACED_DASH.split(text)
        return [(p, PLACE_LABEL) for p in parts if gazetteer().lookup(p.strip(" ,.;:"))]
    for opener, closer in (("(", ")"), ("[", "]")):
        if text.count(opener) != text.count(closer):
            text = text.split(opener)[0].split(closer)[0].strip()
    words = text.split()
    tail = len(words)
    while tail > 0 and _is_caps(words[tail - 1 : tail]) and len(words[tail - 1]) >= 3:
        tail -= 1
    if 0 < tail < len(words) and not _is_caps(words[:tail]):
        head, rest = " ".join(words[:tail]), " ".join(words[tail:])
        out = [_trim(head, label)]
        if gazetteer().lookup(rest) or label == "PERSON":  # a byline running into its dateline
            out.append((rest, PLACE_LABEL))
        return out
    return [_trim(text, label)] if text else []


def _trim(text: str, label: str) -> Span:
    """Lower-case words at either end are not part of a name ("Interfax news agency" -> "Interfax").

    A person whose name ends in a company word is a company ("Pirelli SpA");
    a role word in front of a name goes ("King Baudouin" -> "Baudouin"), and
    so does a leading month or weekday ("August Chicago PMI") and an
    organisation's possessive owner ("Farrakhan's Nation of Islam").
    """
    words = text.split()
    while len(words) > 1 and words[0].rstrip(".").casefold() in CALENDAR_WORDS:
        words.pop(0)
    if label == "ORG":
        owner = next((i for i, w in enumerate(words[:-2]) if w.endswith(("'s", "’s"))), None)
        if owner is not None:  # "Farrakhan's Nation of Islam": the owner is not part of the name
            words = words[owner + 1 :]
    if label != "PERSON":
        while words and words[-1][:1].islower():
            words.pop()
        while words and words[0][:1].islower():
            words.pop(0)
        return (" ".join(words), label)
    if len(words) > 1 and words[-1].rstrip(".").casefold() in COMPANY_WORDS:
        return (text, "ORG")
    while len(words) > 1 and (words[0].casefold() in ROLE_WORDS or _DEMONYM.match(words[0])):
        words.pop(0)
    return (" ".join(words), label)


def is_headline_junk(text: str, label: str, body: str) -> bool:
    """A multi-word ALL-CAPS person/organisation that the article never writes in mixed case."""
    words = text.split()
    if label not in {"PERSON", "ORG"} or len(words) < 2 or not _is_caps(words):
        return False
    if gazetteer().lookup(text):
        return False
    mixed = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b", re.IGNORECASE)
    return not any(m.group() != m.group().upper() for m in mixed.finditer(body))


def is_credit_only(name: str, text: str) -> bool:
    """Every mention of the name in the text is a photo or agency credit ("( AP )", "AFP/Getty")."""
    if "(" not in text and "/" not in text and "Getty" not in text:
        return False
    pattern = re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])")
    found = list(pattern.finditer(text))
    return bool(found) and all(_in_credit(text, m.start(), m.end()) for m in found)


def _in_credit(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 40) : start], text[end : end + 40]
    if before.endswith("/") or after.startswith("/"):
        return True
    opened, closed = before.rfind("("), after.find(")")
    if opened >= 0 and closed >= 0 and ")" not in before[opened:] and "(" not in after[:closed]:
        inner = before[opened + 1 :] + text[start:end] + after[:closed]
        words = _WORDS.findall(inner)
        return len(words) <= 6 and all(w.casefold() in CREDIT_WORDS or w.isupper() or w == text[start:end]
                                       for w in words)
    return bool(re.match(r"\s*/?\s*Getty", after))


def extend_particle_names(spans: list[Span], text: str) -> list[Span]:
    """Complete names the model cut after a particle, and send the cut-off tail to that person.

    "Ursula von der" (PERSON) followed in the text by "Leyen" becomes "Ursula
    von der Leyen"; later spans "Leyen" or "Von der Leyen", whatever their
    label, then count as that person.
    """
    full: dict[str, str] = {}  # casefolded tail ("von der leyen", "leyen") -> full name
    out = []
    for span, label in spans:
        words = span.split()
        if label == "PERSON" and len(words) >= 2 and words[-1].casefold() in PARTICLES:
            m = re.search(re.escape(span) + r"\s+([A-Z][\w'’-]+)", text)
            if m:
                span = f"{span} {m.group(1)}"
                words = span.split()
        if label == "PERSON" and len(words) >= 3:
            i = next((i for i, w in enumerate(words[1:], 1) if w.casefold() in PARTICLES), None)
            if i is not None:
                full[" ".join(words[i:]).casefold()] = span
                full[words[-1].casefold()] = span
        out.append((span, label))
    return [(full.get(s.casefold(), s), "PERSON" if s.casefold() in full else lb) for s, lb in out]


def drop_capitalised_words(spans: list[Span], text: str) -> list[Span]:
    """Drop a lone capitalised word taken for a person only because it opens sentences ("Turnout was ...").

    Applies in articles with a body (several sentences) to a one-word PERSON
    that no full name in the article contains and that the text writes only
    at the start of a sentence or line; a real surname is nearly always
    introduced by a full name or used mid-sentence somewhere.
    """
    if len(_SENTENCE_END.findall(text)) < MIN_SENTENCES:
        return spans
    name_words = {w.casefold() for s, lb in spans if lb == "PERSON" and len(s.split()) > 1 for w in s.split()}
    dropped: dict[str, bool] = {}
    for span, label in spans:
        if label == "PERSON" and " " not in span and span.casefold() not in name_words and span not in dropped:
            found = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(span) + r"(?!\w)", text)]
            dropped[span] = bool(found) and all(_sentence_start(text, i) for i in found)
    return [(span, label) for span, label in spans if not (label == "PERSON" and dropped.get(span))]


def _sentence_start(text: str, i: int) -> bool:
    before = text[max(0, i - 3) : i].rstrip(" \t\"'“‘")
    return i == 0 or not before or before[-1] in ".!?\n"


def headline_speakers(text: str) -> list[Span]:
    """The speaker of an ALL-CAPS headline ("LAWSON SAYS ...", "TREASURY'S BAKER SEES ...") as a PERSON guess.

    The small model finds nothing in most such lines.  The guess is a lone
    capitalised word, so it is only a candidate: the archive-level merge keeps
    it when the archive knows that name in mixed case as a person ("Lawson"
    -> "Nigel Lawson") and drops it otherwise ("TREASURY").
    """
    found = []
    for line in text.splitlines():
        if sum(c.isalpha() for c in line) >= 4 and line == line.upper():
            for m in _SPEAKER.finditer(line):
                word = m.group(1)
                if not gazetteer().lookup(word):
                    found.append((word, "PERSON"))
    return found


# --------------------------------------------------------------------------- places


def place_by_context(span: str, label: str, text: str) -> str:
    """The label a span's own words or its context give: "River Seine", "the town of Avdiivka" are places.

    An unknown ALL-CAPS "place" of up to three letters ("AI") or a
    nationality word ("Ukrainian") is not a place: returns "" to drop it.
    """
    words = _LEADING_THE.sub("", span).split()
    if label in PLACE_LABELS:
        if gazetteer().lookup(span):
            return label
        if len(span) <= 3 and span.isupper() or len(words) == 1 and _PLACE_DEMONYM.match(span):
            return ""
        return label
    if label not in {"PERSON", "ORG"}:
        return label
    if {words[0].casefold(), words[-1].casefold()} & FEATURE_WORDS and len(words) > 1:
        return PLACE_LABEL
    if f"of {span}" not in text:  # every mention must follow "<town> of"
        return label
    found = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(span) + r"(?!\w)", text)]
    if found and all(_PLACE_CONTEXT.search(text[max(0, i - 30) : i]) for i in found):
        return PLACE_LABEL
    return label


def retype_places(spans: list[Span]) -> list[Span]:
    """Known places: aliases folded, and a person or organisation that is a known place retyped.

    A word that is part of a person's name elsewhere in the article stays
    with the person ("Washington" beside "Denzel Washington").
    """
    g = gazetteer()
    name_words = {w.casefold() for s, lb in spans if lb == "PERSON" and len(s.split()) > 1 for w in s.split()}
    out = []
    for span, label in spans:
        place = g.lookup(span)
        if place is not None and _retypable(span, label, place, name_words):
            out.append((place.name, PLACE_LABEL))
        else:
            out.append((span, label))
    return out


def _retypable(span: str, label: str, place: Place, name_words: set[str]) -> bool:
    if label in PLACE_LABELS:
        return True
    if label not in {"PERSON", "ORG"}:
        return False
    return not (len(span.split()) == 1 and span.casefold() in name_words)


def spot_places(text: str, spans: list[Span]) -> list[Span]:
    """Places the model left untagged: ALL-CAPS runs (datelines, headlines) and well-known places.

    Words inside a model span are skipped ("New York Times" is not New York),
    and a capitalised place word next to another capitalised word is part of
    a longer name ("Paris Hilton"), unless the run is in capitals.
    """
    covered = _covered(text, [s for s, _ in spans])
    g = gazetteer()
    found = []
    base = 0
    for line in text.splitlines(keepends=True):
        tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(line)]
        words = [w for _, w in tokens]
        offset, base = base, base + len(line)
        for start, end, place in g.spot(words):
            chunk = words[start:end]
            first, last = tokens[start], tokens[end - 1]
            if any(covered[offset + first[0] : offset + last[0] + len(last[1])]):
                continue
            if _is_caps(chunk) and len(" ".join(chunk)) >= 4 or _standalone(words, start, end) and place.well_known:
                found.append((place.name, PLACE_LABEL))
    return found


def _standalone(words: list[str], start: int, end: int) -> bool:
    """Capitalised words, not at the line start, with no capitalised neighbour."""
    if start == 0 or not all(_CAPITALISED.match(w) for w in words[start:end]):
        return False
    prev_ok = not _CAPITALISED.match(words[start - 1]) and not words[start - 1].endswith(".")
    next_ok = end >= len(words) or not _CAPITALISED.match(words[end])
    return prev_ok and next_ok


def _covered(text: str, names: list[str]) -> bytearray:
    covered = bytearray(len(text) + 1)
    for name in set(names):
        if len(name) < 2:
            continue
        for m in re.finditer(re.escape(name), text):
            covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    return covered


# --------------------------------------------------------------------------- pipeline


def refine(spans: list[Span], text: str) -> list[Span]:
    """The model's spans with the rules above applied, ready for the canonicaliser."""
    out: list[Span] = []
    done: dict[Span, list[Span]] = {}  # an article repeats its spans: each distinct one is worked out once
    for span in spans:
        if span not in done:
            done[span] = _refine_one(*span, text)
        out.extend(done[span])
    out = extend_particle_names(out, text)
    out = retype_places(out)  # before the next rule: "Kyiv said ..." opens a sentence but is a place
    out = drop_capitalised_words(out, text)
    return out + spot_places(text, out) + headline_speakers(text)


def _refine_one(span: str, label: str, text: str) -> list[Span]:
    out = []
    for part, lb in split_span(" ".join(span.split()), label):
        if not part or is_headline_junk(part, lb, text):
            continue
        if lb == "ORG" and is_credit_only(part, text):
            continue
        lb = place_by_context(part, lb, text)
        if lb:
            out.append((part, lb))
    return out


def _initials(name: str) -> str:
    skip = {"of", "the", "and", "for", "de", "&"}
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w and w.casefold() not in skip).upper()


def short_form_target(short: str, longs: list[str]) -> str | None:
    """The long name a short form stands for in this article, if exactly one fits.

    An acronym of the initials ("ECB" -> "European Central Bank"), or a single
    word that ends exactly one longer name ("Commission" -> "European
    Commission").
    """
    letters = short.replace(".", "")
    fits = []
    for long in longs:
        words = long.split()
        if len(words) < 2 or long == short:
            continue
        acronym = letters.isupper() and 2 <= len(letters) <= 6 and _initials(long) == letters
        head_word = len(short.split()) == 1 and words[-1].casefold() == short.casefold() and short[0].isupper()
        if acronym or head_word:
            fits.append(long)
    return fits[0] if len(set(fits)) == 1 else None


def fold_short_forms(values: list[str], first_word: bool = False) -> tuple[list[str], dict[str, str]]:
    """Drop short forms whose long form is in the same list; also return the folds made.

    With ``first_word`` (people), a single word that opens exactly one longer
    name folds too ("Xi" -> "Xi Jinping").
    """
    folds = {}
    for short in values:
        target = short_form_target(short, values)
        if target is None and first_word and len(short.split()) == 1:
            opens = [v for v in values if len(v.split()) > 1 and v.split()[0].casefold() == short.casefold()]
            target = opens[0] if len(opens) == 1 else None
        if target is not None:
            folds[short] = target
    return [v for v in values if v not in folds], folds
