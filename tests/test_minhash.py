"""The numpy signer equals a plain-Python reference of the same hashes (re's words, one text at a time)."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from search.index import clusters, minhash

M = 2**64


def splitmix(x: int) -> int:
    x ^= x >> 30
    x = x * 0xBF58476D1CE4E5B9 % M
    x ^= x >> 27
    x = x * 0x94D049BB133111EB % M
    return x ^ (x >> 31)


def word_hash(word: str) -> int:
    poly = sum(ord(c) * pow(minhash._BASE, i, M) for i, c in enumerate(word)) % M
    return splitmix((poly + len(word)) % M)


def shingle_hashes(words: list[str], size: int) -> list[int]:
    hashes = [word_hash(w) for w in words]
    grams = [hashes[i:i + size] for i in range(len(hashes) - size + 1)] if len(hashes) >= size else [hashes]
    out = []
    for gram in grams if hashes else []:
        acc = gram[0]
        for h in gram[1:]:
            acc = (acc * minhash._MIX + h) % M
        out.append(splitmix(acc ^ size))
    return out


def minima(hashes: list[int], mults: np.ndarray) -> list[int]:
    return [min((int(m) * h % M) >> 32 for h in hashes) if hashes else int(minhash.EMPTY) for m in mults]


def reference(texts, size: int, perms: int, figure_perms: int, seed: int):
    sigs, figs = [], []
    for title, body in texts:
        words = re.findall(r"\w+", f"{title[:minhash.MAX_TEXT_CHARS]}\n{body[:minhash.MAX_TEXT_CHARS]}".lower())
        numbers = [w for w in words if any(c.isdigit() for c in w)]
        sigs.append(minima(shingle_hashes(words, size), minhash.multipliers(perms, seed)))
        figs.append(minima([word_hash(w) for w in numbers], minhash.multipliers(figure_perms, seed + 1)))
    return np.array(sigs, dtype=np.uint32).reshape(len(texts), perms), \
        np.array(figs, dtype=np.uint32).reshape(len(texts), figure_perms)


def texts() -> list[tuple[str, str]]:
    rng = random.Random(5)
    vocab = ["oil", "prices", "rose", "1.5", "pct", "q3", "x_y", "café", "naïve", "İstanbul", "ΣΑΣ", "²3",
             "𝔘𝔫𝔦", "日本", "—", "’s", "12,000", "dlrs", "a", "-", "\ud800"]
    made = [(" ".join(rng.choices(vocab, k=rng.randint(0, 6))), " ".join(rng.choices(vocab, k=rng.randint(0, 40))))
            for _ in range(60)]
    return made + [("", ""), ("One", ""), ("", "two"), ("...", "!!"), ("Oil", "oil"), ("x" * 30, "y " * 12_000),
                   ("t " * 15_000, "body")]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_signatures_equal_the_reference(size):
    given = texts()
    assert any(not t.isascii() for pair in given for t in pair)
    expected = reference(given, size, 16, 8, 3)
    found = minhash.signatures(given, size, 16, 8, 3)
    assert np.array_equal(found[0], expected[0]) and np.array_equal(found[1], expected[1])


def test_chunking_does_not_change_signatures(monkeypatch):
    given = texts() * 3
    whole = minhash.signatures(given, 2, 16, 8, 1)
    monkeypatch.setattr(minhash, "CHUNK_CHARS", 50)  # many chunks, one text may exceed one
    parts = minhash.signatures(given, 2, 16, 8, 1)
    assert np.array_equal(whole[0], parts[0]) and np.array_equal(whole[1], parts[1])


def test_batches_joined_equal_one_signing():
    class Doc:
        def __init__(self, n: int, pair: tuple[str, str]):
            self.id, (self.title, self.body) = f"d{n:03d}", pair

    docs = [Doc(n, pair) for n, pair in enumerate(texts())]
    whole = clusters.sign(docs)
    joined = clusters.Signed.join([clusters.sign(docs[:7]), clusters.sign(docs[7:40]), clusters.sign(docs[40:])])
    assert joined.ids.tolist() == whole.ids.tolist()
    assert np.array_equal(joined.sigs, whole.sigs) and np.array_equal(joined.figs, whole.figs)
    assert len(clusters.Signed.join([]).ids) == 0
