"""Evaluate entity extraction quality: CoNLL-2003 dev F1, seeds/ wrong values, Reuters people fragmentation.

    python bench/eval_entities.py [--shared DIR] [--cache PATH] [--reuters-sample N] [--only conll,seeds,reuters]

* CoNLL-2003 development set (``../shared/corpora/conll2003/eng.testa.gz``), per
  document: the set of extracted people / orgs / places against the gold PER /
  ORG / LOC strings; precision, recall and F1 per type and micro-averaged,
  exact and lenient, for sports and non-sports documents, the raw model (its
  spans, whitespace-trimmed) against newsearch (the project's extractor).
* seeds/: extracted values (fields the source did not give) that are wrong by
  the hand-labelled expectation in ``eval_entities_seeds.py``, counted per article.
* Reuters-21578, title + body with the given tags removed: distinct people
  values per gold PEOPLE tag, and recall of the tags, headline-only vs body.

Model output is cached per text in SQLite (the project's entity cache), so a
second run only re-runs the rules.  Nothing from ../shared is copied here.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_entities_match import lenient_match, norm  # noqa: E402
from eval_entities_seeds import AMBIGUOUS, EXPECTED, ISSUE_EXAMPLES  # noqa: E402

from search.ingest.boilerplate import RepeatedParagraphs  # noqa: E402
from search.ingest.dedupe import dedupe  # noqa: E402
from search.ingest.entities import EntityExtractor, extract  # noqa: E402
from search.ingest.entities.annotate import entity_text  # noqa: E402
from search.ingest.entities.cache import SpanCache  # noqa: E402
from search.ingest.entities.canonical import LABEL_GROUP, ORG, PERSON, PLACE  # noqa: E402
from search.ingest.prepare import prepare  # noqa: E402
from search.ingest.read import iter_source_files, read_files  # noqa: E402

SHARED = ROOT.parent / "shared"  # --shared overrides (e.g. from a git worktree)
SEEDS = ROOT / "seeds"
DEFAULT_CACHE = Path.home() / ".cache" / "newsearch" / "eval_entities.sqlite"
GOLD_GROUP = {"PER": PERSON, "ORG": ORG, "LOC": PLACE}
TYPES = (PERSON, ORG, PLACE)
SPORTS = frozenset({
    "soccer", "football", "cricket", "tennis", "golf", "cycling", "athletics", "baseball", "basketball", "rugby",
    "motorsport", "motor", "racing", "boxing", "swimming", "hockey", "skiing", "sailing", "rowing", "yachting",
    "horse", "badminton", "squash", "volleyball", "handball", "olympics", "nfl", "nba", "nhl",
})  # fmt: skip
_NUMBERISH = re.compile(r"^[\d.,:/-]+$")


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# --------------------------------------------------------------------------- systems


class Systems:
    """Raw model spans and newsearch's canonical lists for many texts, both cached."""

    def __init__(self, cache: Path):
        cache.parent.mkdir(parents=True, exist_ok=True)
        self.extractor = EntityExtractor(cache, processes=2)
        self.raw_cache = SpanCache(cache)
        self.raw_tag = f"eval-raw/{extract.model_tag()}"

    def raw(self, texts: list[str]) -> list[dict[str, set[str]]]:
        """The model's own spans on the plain text, grouped by label, whitespace-trimmed."""
        hashes = [_hash(t) for t in texts]
        found = self.raw_cache.get_many(self.raw_tag, list(dict.fromkeys(hashes)))
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in found}
        if todo:
            nlp = extract._load_model(extract.MODEL_NAME)
            docs = nlp.pipe([extract.clip(t) for t in todo.values()], n_process=2, batch_size=32)
            fresh = {h: [(e.text, e.label_) for e in d.ents] for h, d in zip(todo, docs, strict=True)}
            self.raw_cache.put_many(self.raw_tag, fresh)
            found.update(fresh)
        out = []
        for h in hashes:
            groups: dict[str, set[str]] = {t: set() for t in TYPES}
            for text, label in found[h]:
                group = LABEL_GROUP.get(label)
                if group and text.strip():
                    groups[group].add(" ".join(text.split()))
            out.append(groups)
        return out

    def newsearch(self, texts: list[str]) -> list[dict[str, list[str]]]:
        return list(self.extractor.extract_many((_hash(t), t) for t in texts))


def archive_merge(values: list[dict[str, list[str]]], periods: list[str | None]) -> list[dict[str, list[str]]]:
    """Apply the archive-level merge the publish step computes, when the project has one."""
    try:
        from search.index.entity_merge import alias_maps, apply, counts_of
    except ImportError:
        return values
    maps = alias_maps(counts_of(values, periods))
    return [apply(maps, v) for v in values]


# --------------------------------------------------------------------------- scoring


class Score:
    """Micro counts per type: predicted-correct, predicted, gold-found, gold."""

    def __init__(self):
        self.c = {t: [0, 0, 0, 0] for t in TYPES}

    def add(self, kind: str, pred: set[str], gold: set[str], lenient: bool) -> None:
        if lenient:
            ok_p = sum(any(lenient_match(p, g, kind) for g in gold) for p in pred)
            ok_g = sum(any(lenient_match(p, g, kind) for p in pred) for g in gold)
        else:
            pn, gn = {norm(p) for p in pred}, {norm(g) for g in gold}
            pred, gold = pn, gn
            ok_p = ok_g = len(pn & gn)
        row = self.c[kind]
        row[0] += ok_p
        row[1] += len(pred)
        row[2] += ok_g
        row[3] += len(gold)

    @staticmethod
    def prf(row: list[int]) -> tuple[float, float, float]:
        p = row[0] / row[1] if row[1] else 0.0
        r = row[2] / row[3] if row[3] else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def cells(self) -> list[str]:
        micro = [sum(self.c[t][i] for t in TYPES) for i in range(4)]
        per_type = [f"{100 * self.prf(self.c[t])[2]:.1f}" for t in TYPES]
        return per_type + [f"{100 * x:.1f}" for x in self.prf(micro)]


# --------------------------------------------------------------------------- CoNLL


def conll_documents(path: Path) -> list[dict]:
    """Documents split at -DOCSTART-: text (headline, blank line, sentences), gold sets, sports flag."""
    docs, sentences, tokens = [], [], []

    def close_sentence():
        if tokens:
            sentences.append(list(tokens))
            tokens.clear()

    def close_doc():
        close_sentence()
        if sentences:
            docs.append(_conll_doc(list(sentences)))
            sentences.clear()

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                close_sentence()
            elif parts[0] == "-DOCSTART-":
                close_doc()
            else:
                tokens.append((parts[0], parts[-1]))
    close_doc()
    return docs


def _conll_doc(sentences: list[list[tuple[str, str]]]) -> dict:
    gold: dict[str, set[str]] = {t: set() for t in TYPES}
    for sent in sentences:
        current, kind = [], None
        for token, tag in [*sent, ("", "O")]:
            prefix, _, label = tag.partition("-")
            if current and (tag == "O" or prefix == "B" or label != kind):
                if kind in GOLD_GROUP:
                    gold[GOLD_GROUP[kind]].add(" ".join(current))
                current, kind = [], None
            if tag != "O":
                current.append(token)
                kind = label
    lines = [_detok([t for t, _ in s]) for s in sentences]
    text = lines[0] + "\n\n" + " ".join(lines[1:])
    return {"text": text, "gold": gold, "sports": is_sports(sentences)}


def _detok(tokens: list[str]) -> str:
    s = " ".join(tokens)
    s = re.sub(r" ([.,;:!?%)\]]|'s|n't|'re|'ve|'ll|'d)(?=\s|$)", r"\1", s)
    return re.sub(r"([(\[$]) ", r"\1", s)


def is_sports(sentences: list[list[tuple[str, str]]]) -> bool:
    """A sports section ("SOCCER - ...") or a results table: most lines mostly numbers.

    General rules on the document's shape, never on its id: Reuters sports
    headlines start with the sport and a dash, and result listings are lines
    whose tokens are largely scores, times and standings.
    """
    head = [t.lower() for t, _ in sentences[0][:4]]
    if "-" in head and any(w in SPORTS for w in head[: head.index("-")]):
        return True
    body = sentences[1:] or sentences
    numeric = sum(sum(bool(_NUMBERISH.match(t)) for t, _ in s) >= max(2, len(s) // 3) for s in body)
    return numeric >= 0.4 * len(body)


def eval_conll(systems: Systems, shared: Path) -> list[tuple[str, str, str, list[str]]]:
    docs = conll_documents(shared / "corpora" / "conll2003" / "eng.testa.gz")
    texts = [d["text"] for d in docs]
    raw = systems.raw(texts)
    ours = [{k: set(v) for k, v in found.items()} for found in systems.newsearch(texts)]
    rows = []
    for subset, flag in (("non-sports", False), ("sports", True)):
        picked = [i for i, d in enumerate(docs) if d["sports"] == flag]
        for name, output in (("raw model", raw), ("newsearch", ours)):
            for mode in ("exact", "lenient"):
                score = Score()
                for i in picked:
                    for kind in TYPES:
                        score.add(kind, output[i][kind], docs[i]["gold"][kind], mode == "lenient")
                rows.append((f"{subset} ({len(picked)} docs)", name, mode, score.cells()))
    return rows


# --------------------------------------------------------------------------- seeds


def seed_articles() -> list:
    """seeds/ read, cleaned and deduplicated the way a build does (no index written)."""
    records = list(read_files(list(iter_source_files([SEEDS]))))
    raw = [item for r in records for item in r.items if not hasattr(item, "reason")]
    articles, _ = dedupe(prepare(raw, RepeatedParagraphs(), []))
    return articles


def eval_seeds(systems: Systems) -> tuple[int, Counter, list[str]]:
    articles = seed_articles()
    todo = [a for a in articles if not {PERSON, ORG, PLACE} <= a.given]
    extracted = iter(systems.newsearch([entity_text(a) for a in todo]))
    values = [  # what publish sees: given fields as written, the others extracted
        next(extracted) if not {PERSON, ORG, PLACE} <= a.given else {} for a in articles
    ]
    values = [
        {k: getattr(a, k) if k in a.given else v[k] for k in TYPES} for a, v in zip(articles, values, strict=True)
    ]
    merged = archive_merge(values, [a.date.strftime("%Y") if a.date else None for a in articles])
    found = [m for a, m in zip(articles, merged, strict=True) if not {PERSON, ORG, PLACE} <= a.given]
    wrong: Counter = Counter()
    for article, values in zip(todo, found, strict=True):
        for kind in TYPES:
            if kind in article.given:
                continue
            for value in values[kind]:
                if value not in EXPECTED[kind] and value not in AMBIGUOUS:
                    wrong[(kind, value)] += 1
    seen_examples = [f"{v} ({k})" for k, v in ISSUE_EXAMPLES if (k, v) in wrong]
    return len(todo), wrong, seen_examples


# --------------------------------------------------------------------------- Reuters


def reuters_sample(shared: Path, n: int) -> list:
    """Every Reuters article with a PEOPLE tag, in file order, the first n of them (fixed sample)."""
    from search.ingest.formats.reuters import read_reuters

    out = []
    for path in sorted((shared / "corpora" / "reuters21578").glob("reut2-*.sgm.gz")):
        with gzip.open(path) as fh:
            data = fh.read()
        for item in read_reuters(str(path), data):
            if getattr(item, "people", None):
                out.append(item)
                if len(out) >= n:
                    return out
    return out


def _tag_surname(tag: str) -> str:
    words = [w for w in tag.split("-") if w not in {"jr", "sr", "ii", "iii"}]
    return words[-1]


def _mentions_tag(value: str, surname: str) -> bool:
    """The value names the tagged person: its last word is the tag's surname.

    Junk runs that merely contain the name ("REAGAN SIGNS GNMA") do not count.
    """
    words = [w.strip(".,'’").casefold() for w in re.split(r"[\s-]+", value)]
    words = [w for w in words if w and w not in {"jr", "sr", "ii", "iii"}]
    return bool(words) and words[-1] == surname


def eval_reuters(systems: Systems, shared: Path, n: int) -> dict:
    articles = reuters_sample(shared, n)
    texts = ["\n\n".join(p for p in (a.title, a.body) if p) for a in articles]
    found = systems.newsearch(texts)
    found = archive_merge(found, [a.date.strftime("%Y") if a.date else None for a in articles])
    values_per_tag: dict[str, set[str]] = defaultdict(set)
    hits = {"headline-only": [0, 0], "with body": [0, 0]}
    for article, values in zip(articles, found, strict=True):
        part = "with body" if article.body.strip() else "headline-only"
        for tag in article.people:
            surname = _tag_surname(tag)
            matched = [v for v in values[PERSON] if _mentions_tag(v, surname)]
            values_per_tag[tag].update(matched)
            hits[part][0] += bool(matched)
            hits[part][1] += 1
    tagged = [len(v) for v in values_per_tag.values() if v]
    reagan = sorted(v for t, vs in values_per_tag.items() if t in ("reagan", "volcker", "james-baker") for v in vs)
    return {
        "articles": len(articles),
        "tags": len(tagged),
        "distinct": sum(tagged) / max(len(tagged), 1),
        "recall": {k: (h / t if t else 0.0, t) for k, (h, t) in hits.items()},
        "reagan": reagan,
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="SQLite model-output cache")
    ap.add_argument("--reuters-sample", type=int, default=1200, help="first N PEOPLE-tagged Reuters articles")
    ap.add_argument("--only", default="conll,seeds,reuters")
    ap.add_argument("--shared", type=Path, default=SHARED, help="the shared folder with corpora/")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    started = time.perf_counter()
    systems = Systems(args.cache)
    if "conll" in parts:
        print("\nCoNLL-2003 dev, per document, F1 per type and micro P/R/F1 (%)\n")
        print("| documents | system | match | people F1 | orgs F1 | places F1 | micro P | micro R | micro F1 |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for subset, name, mode, cells in eval_conll(systems, args.shared):
            print(f"| {subset} | {name} | {mode} | {' | '.join(cells)} |")
    if "seeds" in parts:
        n, wrong, examples = eval_seeds(systems)
        print(f"\nseeds/: {n} articles with extracted fields; wrong values: {len(wrong)} distinct, "
              f"{sum(wrong.values())} occurrences; issue examples still present: {', '.join(examples) or 'none'}")
        for (kind, value), count in wrong.most_common():
            print(f"  {kind:7} {value!r} x{count}")
    if "reuters" in parts:
        r = eval_reuters(systems, args.shared, args.reuters_sample)
        print(f"\nReuters-21578 ({r['articles']} PEOPLE-tagged articles, title + body, tags removed)")
        print(f"distinct people values per tagged person: {r['distinct']:.2f} over {r['tags']} tags")
        for part, (recall, total) in r["recall"].items():
            print(f"recall of gold PEOPLE tags, {part}: {100 * recall:.1f} % of {total}")
        print(f"values for the 'reagan', 'volcker', 'james-baker' tags: {r['reagan']}")
    print(f"\nstats: {systems.extractor.stats}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
