"""Boilerplate detection: paragraphs that belong to the page, not to the story.

Two kinds of evidence, neither tied to one publisher's wording:

* the shape of a paragraph on its own: photo captions ("open image in
  gallery …", a trailing agency credit such as "( AP )"), and promotional
  appeals (several calls to donate/subscribe/read more addressed to "you");
* repetition: a paragraph that recurs verbatim in several articles of the same
  source is furniture (appeals, sign-offs, newsletter plugs).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_CAPTION_START_RE = re.compile(
    r"^(open image in gallery|image:|photo:|photograph:|pictured:|picture:|caption:|file photo)",
    re.IGNORECASE,
)
# "( AP )", "(AFP/Getty)", "(Reuters)", "( White House )" closing a short paragraph.
_CREDIT_END_RE = re.compile(r"\(\s*[A-Z][\w&./' -]{0,40}\s*\)\s*$")
_PROMO_CUES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bdonat(e|es|ion|ions)\b",
        r"\bsubscri(be|ber|ption)s?\b",
        r"\byour support\b",
        r"\bsupport (us|now)\b",
        r"\bread more\b",
        r"\bsign up\b",
        r"\bnewsletters?\b",
        r"\bpaywalls?\b",
        r"\bbecome a (member|supporter)\b",
        r"\bfree (trial|access)\b",
        r"\badvertisement\b",
        r"\bcookies?\b",
    )
]
_READER_ADDRESS_RE = re.compile(r"\b(you|your|we|our|us)\b", re.IGNORECASE)
_WORD_RE = re.compile(r"\w+")

CAPTION_MAX_CHARS = 400
REPEAT_MIN_DOCS = 3
REPEAT_MIN_CHARS = 40


def is_caption(paragraph: str) -> bool:
    """A photo caption: a caption lead-in, or a short paragraph ending in a credit."""
    if _CAPTION_START_RE.match(paragraph):
        return True
    return len(paragraph) <= CAPTION_MAX_CHARS and bool(_CREDIT_END_RE.search(paragraph))


def is_promo(paragraph: str) -> bool:
    """An appeal to the reader: several distinct calls to action, addressed to "you"/"we"."""
    cues = sum(1 for cue in _PROMO_CUES if cue.search(paragraph))
    if cues < 2:
        return False
    words = len(_WORD_RE.findall(paragraph)) or 1
    return len(_READER_ADDRESS_RE.findall(paragraph)) / words >= 0.03


def fingerprint(paragraph: str) -> str:
    canon = " ".join(_WORD_RE.findall(paragraph.lower()))
    return hashlib.blake2b(canon.encode("utf-8"), digest_size=8).hexdigest()


class RepeatedParagraphs:
    """Counts, per source group, how many articles contain each paragraph."""

    def __init__(self, min_docs: int = REPEAT_MIN_DOCS):
        self.min_docs = min_docs
        self.counts: dict[str, Counter] = defaultdict(Counter)

    def add(self, group: str, article_paragraphs: Iterable[str]) -> None:
        prints = {fingerprint(p) for p in article_paragraphs if len(p) >= REPEAT_MIN_CHARS}
        self.counts[group].update(prints)

    def is_repeated(self, group: str, paragraph: str) -> bool:
        if len(paragraph) < REPEAT_MIN_CHARS:
            return False
        return self.counts[group][fingerprint(paragraph)] >= self.min_docs


def strip_boilerplate(
    article_paragraphs: list[str], group: str = "", repeated: RepeatedParagraphs | None = None
) -> list[str]:
    """The paragraphs that are the story."""
    return [
        p
        for p in article_paragraphs
        if not (is_caption(p) or is_promo(p) or (repeated and repeated.is_repeated(group, p)))
    ]
