"""MinHash signatures of many texts at once, in numpy: words, shingles and minima without a Python loop per word.

A chunk of texts is joined into one string, lower-cased, and read as an array of code points.
Words are the runs of ``\\w`` characters (the same classes as ``re``'s ``\\w``: ``str.isalnum()``
or ``_``); a word's hash is a polynomial hash of its code points (prefix sums mod 2**64) put
through the splitmix64 finaliser, a shingle's hash mixes its words' hashes the same way. The
k "permutations" of MinHash are multiply-shift hashes ``(a_k * h mod 2**64) >> 32`` with random
odd ``a_k``; the minimum per text and permutation is one ``np.minimum.reduceat``.

Reuters-21578 (21,578 articles): 4.9 CPU-s with datasketch (a sha1 per shingle and a MinHash per
article) and ~0.6 CPU-s here; ``bench/eval_clusters.py`` scores the two the same (see clusters.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np

EMPTY = np.iinfo(np.uint32).max  # every slot of an empty set's signature
MAX_TEXT_CHARS = 20_000  # of a title and of a body: wire copies differ early if at all; bounds a chunk too
CHUNK_CHARS = 100_000  # texts per numpy pass: the [shingles, perms] products stay a few MB (cache-sized)
_BASE = 0x100000001B3  # odd: invertible mod 2**64, so a word's hash does not depend on where it starts
_MIX = 0x9E3779B97F4A7C15  # combines the hashes of a shingle's words (order matters)
_U64 = np.uint64


def _splitmix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: every input bit moves every output bit (a plain polynomial hash is linear)."""
    x = x ^ (x >> _U64(30))
    x *= _U64(0xBF58476D1CE4E5B9)
    x ^= x >> _U64(27)
    x *= _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


@functools.cache
def _bmp_classes() -> tuple[np.ndarray, np.ndarray]:
    """Per code point below 0x10000: is it a word character (``\\w``), is it a digit (``str.isdigit``)."""
    chars = [chr(i) for i in range(0x10000)]
    word = np.array([c.isalnum() or c == "_" for c in chars], dtype=bool)
    digit = np.array([c.isdigit() for c in chars], dtype=bool)
    return word, digit


def _classes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    word_table, digit_table = _bmp_classes()
    clipped = np.minimum(codes, 0xFFFF) if codes.dtype != np.uint8 else codes
    word, digit = word_table[clipped], digit_table[clipped]
    astral = np.flatnonzero(codes > 0xFFFF) if codes.dtype != np.uint8 else ()
    if len(astral):
        for code in np.unique(codes[astral]).tolist():
            at = astral[codes[astral] == code]
            word[at], digit[at] = chr(code).isalnum(), chr(code).isdigit()
    return word, digit


@functools.cache
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """_BASE**i and its inverse mod 2**64 for i < size (cached per chunk size)."""
    inverse = pow(_BASE, -1, 2**64)
    powers = np.cumprod(np.r_[_U64(1), np.full(size - 1, _BASE, dtype=np.uint64)], dtype=np.uint64)
    inverses = np.cumprod(np.r_[_U64(1), np.full(size - 1, inverse, dtype=np.uint64)], dtype=np.uint64)
    return powers, inverses


def _words(parts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash, text number and has-a-digit of every word of the (lower-cased) texts, in text order."""
    joined = "\0".join(parts)
    offsets = np.cumsum([0] + [len(p) + 1 for p in parts[:-1]])
    if joined.isascii():
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    else:
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    word, digit = _classes(codes)
    edges = np.flatnonzero(np.diff(np.r_[False, word, False].view(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    powers, inverses = _powers(1 << max(len(codes), 1).bit_length())
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum(codes * powers[:len(codes)], out=prefix[1:])
    hashes = _splitmix((prefix[ends] - prefix[starts]) * inverses[starts] + (ends - starts).astype(np.uint64))
    text = np.searchsorted(offsets, starts, side="right") - 1
    numbered = np.zeros(len(starts), dtype=bool)
    numbered[np.searchsorted(starts, np.flatnonzero(digit), side="right") - 1] = True
    return hashes, text, numbered


def _shingles(words: np.ndarray, text: np.ndarray, size: int, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of word ``size``-grams within one text, with their text numbers (sorted by text).

    A text of fewer than ``size`` (but some) words is one shingle of all its words.
    """
    mix = np.uint64(_MIX)
    count = len(words) - size + 1
    whole = text[:max(count, 0)] == text[size - 1:]
    acc = words[:max(count, 0)].copy()
    for step in range(1, size):
        acc = acc * mix + words[step:step + max(count, 0)]
    hashes, owners = acc[whole], text[:max(count, 0)][whole]
    per_text = np.bincount(text, minlength=texts)
    short = np.flatnonzero((per_text > 0) & (per_text < size))
    if len(short):
        first = np.searchsorted(text, short)
        part = words[first].copy()
        for step in range(1, size):
            more = step < per_text[short]
            part = np.where(more, part * mix + words[np.minimum(first + step, len(words) - 1)], part)
        hashes, owners = np.r_[hashes, part], np.r_[owners, short]
        order = np.argsort(owners, kind="stable")
        hashes, owners = hashes[order], owners[order]
    return _splitmix(hashes ^ np.uint64(size)), owners


def _minima(hashes: np.ndarray, owners: np.ndarray, multipliers: np.ndarray, out: np.ndarray) -> None:
    """Per text (rows of ``out``, owners sorted): the smallest multiply-shift hash per permutation."""
    if not len(hashes):
        return
    firsts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    products = np.multiply.outer(multipliers, hashes)  # [perms, shingles], wraps mod 2**64: multiply-shift
    minima = np.minimum.reduceat(products, firsts, axis=1)  # along rows: 19× faster than down columns
    out[owners[firsts]] = (minima.T >> np.uint64(32)).astype(np.uint32)


@functools.cache
def multipliers(count: int, seed: int) -> np.ndarray:
    """The ``count`` random odd multipliers (one per permutation) of a seed."""
    return np.random.default_rng(seed).integers(1, 2**63, size=count, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def signatures(texts: Iterable[tuple[str, str]], shingle: int, perms: int, figure_perms: int,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of (title, body) pairs: of their word shingles [n, perms] and of their figures
    (the words with a digit: what tells one dividend notice from the next) [n, figure_perms].

    An empty set's row is all ``EMPTY``. Texts go through in chunks of ``CHUNK_CHARS``, so memory
    stays bounded whatever their number.
    """
    texts = list(texts)
    sigs = np.full((len(texts), perms), EMPTY, dtype=np.uint32)
    figs = np.full((len(texts), figure_perms), EMPTY, dtype=np.uint32)
    shingle_mults, figure_mults = multipliers(perms, seed), multipliers(figure_perms, seed + 1)
    lo = 0
    while lo < len(texts):
        parts, chars, hi = [], 0, lo
        while hi < len(texts) and (chars < CHUNK_CHARS or not parts):
            title, body = texts[hi]
            parts.append(f"{title[:MAX_TEXT_CHARS]}\n{body[:MAX_TEXT_CHARS]}".lower())
            chars += len(parts[-1])
            hi += 1
        words, text, numbered = _words(parts)
        _minima(*_shingles(words, text, shingle, len(parts)), shingle_mults, sigs[lo:hi])
        _minima(words[numbered], text[numbered], figure_mults, figs[lo:hi])
        lo = hi
    return sigs, figs
