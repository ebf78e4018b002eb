"""Readable labels for coded vocabularies, read from the files a corpus ships beside its articles.

Reuters-21578 writes its categories as codes (``money-fx``, ``west-germany``, ``james-baker``)
and ships what they mean: ``all-<facet>-strings.lc.txt`` lists each facet's codes and
``cat-descriptions_*.txt`` describes most of them, one "Description (CODE)" a line, people by
their office ("President Anna Kessler  (KESSLER)").  The files are read at build time from beside the
source files (never copied into the project); a code the descriptions leave out still gets
a readable form of itself (``west-germany`` → "West Germany").  The value stays the filter
key; the label is only shown.

Measured on the shipped files: 672 codes, 419 described (all 267 people, 56 orgs and 39
exchanges, 57 of 135 topics; no places), the rest read from the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

STRINGS_RE = re.compile(r"^all-([a-z]+)-strings\.lc\.txt$")
DESCRIPTIONS_GLOB = "cat-descriptions*.txt"
_ENTRY_RE = re.compile(r"^(?P<text>.*?)\s*\((?P<code>[A-Z][A-Z0-9-]*)\)\s*$", re.DOTALL)
_BRACKETED_RE = re.compile(r"\s*\[[^\]]*\]")
_NAME_PART_RE = re.compile(r"[^a-z]")
# Words that open a role or honorific, never a given name: the walk back from a surname stops there.
_ROLE_WORDS = frozenset(re.findall(r"\S+", """
    president minister governor chancellor premier treasurer secretary chairman chairwoman leader statesman
    speaker head state bank treasury mrs mr dr general ayatollah hojatoleslam king queen prince sheikh emir
    representative commissioner director director-general agency planning party former deputy chief of and
    the for prime reserve federal central trade council commission forestry privatisation policy affairs food
    telegraph negotiations office board staff company oil lord
"""))
_ACRONYM_CODES = frozenset({"uk", "usa", "uae", "ussr"})  # place codes that read as letters, not words
MAX_GIVEN_NAMES = 3
MAX_FILE_BYTES = 1 << 20  # a descriptions or code list file is a few kB; anything huge is not one


def labels_beside(sources: Iterable[str | Path]) -> dict[str, dict[str, str]]:
    """{facet: {code: label}} for every code list found beside (or under) the given sources."""
    labels: dict[str, dict[str, str]] = {}
    for folder in _folders(sources):
        for facet, codes in read_folder(folder).items():
            labels.setdefault(facet, {}).update(codes)
    return labels


def _folders(sources: Iterable[str | Path]) -> list[Path]:
    """The folders holding code lists: a file source's own folder, a folder source and its subfolders."""
    found: dict[Path, None] = {}
    for source in sources:
        path = Path(source)
        if path.is_dir():
            for listing in sorted(path.rglob("all-*-strings.lc.txt")):
                found.setdefault(listing.parent, None)
        elif path.parent.is_dir() and any(path.parent.glob("all-*-strings.lc.txt")):
            found.setdefault(path.parent, None)
    return list(found)


def read_folder(folder: Path) -> dict[str, dict[str, str]]:
    """One corpus folder's labels: each listed code, described where the descriptions say, else read."""
    described: dict[str, str] = {}
    for path in sorted(folder.glob(DESCRIPTIONS_GLOB)):
        described.update(read_descriptions(_read_text(path)))
    out: dict[str, dict[str, str]] = {}
    for path in sorted(folder.iterdir()):
        match = STRINGS_RE.match(path.name)
        if not match:
            continue
        facet = match.group(1)
        codes = [line.strip() for line in _read_text(path).splitlines() if line.strip()]
        out[facet] = {code: label_of(facet, code, described.get(code)) for code in codes}
    return out


def _read_text(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES).decode("latin-1")


def read_descriptions(text: str) -> dict[str, str]:
    """{code: description} from entries written "Description (CODE)", possibly over several lines.

    An entry is gathered line by line until a line ends with "(CODE)"; a blank line or a
    ``@`` formatting command ends whatever was gathered (so a country heading never joins
    the first person under it).
    """
    out: dict[str, str] = {}
    gathered: list[str] = []
    for raw in text.splitlines():
        line = raw.replace("@*", "").strip()
        if not line or line.startswith("@") or line.startswith("*"):
            gathered = []
            continue
        gathered.append(line)
        match = _ENTRY_RE.match(" ".join(gathered))
        if match:
            description = " ".join(_BRACKETED_RE.sub("", match.group("text")).split()).strip(" ,")
            if description:
                out[match.group("code").lower()] = description
            gathered = []
    return out


def label_of(facet: str, code: str, description: str | None) -> str:
    """The label shown for one code."""
    if description and facet == "people":
        return person_name(code, description) or readable(facet, code)
    return description or readable(facet, code)


def person_name(code: str, description: str) -> str | None:
    """The person's name inside a description of their office, found by its code.

    ``(KESSLER, "President Anna Kessler")`` → "Anna Kessler": the words spelling the code
    are the surname; capitalised words right before it are given names until a role word.
    """
    words = description.replace(",", " , ").split()
    bare = [_NAME_PART_RE.sub("", word.lower()) for word in words]
    key = _NAME_PART_RE.sub("", code.lower())
    for start in range(len(words)):  # the first mention: "Alan Bond, chairman of Bond Corp"
        spelled = ""
        for end in range(start, len(words)):
            spelled += bare[end]
            if spelled == key and bare[start]:
                return " ".join(words[_given_names_start(words, start):end + 1])
            if not bare[end] or not key.startswith(spelled):
                break
    return None


def _given_names_start(words: list[str], surname: int) -> int:
    start = surname
    while start > 0 and surname - start < MAX_GIVEN_NAMES:
        word = words[start - 1]
        bare = word.strip("(").rstrip(".")
        parts = bare.lower().split("-")
        if not bare or not bare[0].isupper() or bare.endswith(")") and not word.startswith("(") \
                or any(part in _ROLE_WORDS for part in parts):
            break
        start -= 1
    return start


def readable(facet: str, code: str) -> str:
    """A code read as words: ``west-germany`` → "West Germany", ``usa`` → "USA"."""
    if code in _ACRONYM_CODES:
        return code.upper()
    words = [w for w in re.split(r"[-_\s]+", code) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or code
