"""Co-occurrence lift, timeline series and saved searches, on small hand-checked inputs."""

from __future__ import annotations

import numpy as np
import pytest

from search.index.columns import NO_DATE, facet_from_pairs
from search.query import cooccur
from search.query.timeline import timeline
from search.watch import WatchError, Watches, line


# -- co-occurrence --------------------------------------------------------------------------------
def _facet(pairs: list[tuple[int, str]], size: int):
    """A facet column from (doc, value) pairs, as the columns module assembles one."""
    vocab = sorted({v for _, v in pairs})
    ordered = sorted(pairs)
    docs = np.array([d for d, _ in ordered], dtype=np.int32)
    vals = np.array([vocab.index(v) for _, v in ordered], dtype=np.int32)
    return facet_from_pairs(np.array(vocab, dtype=str), docs, vals, size)


def test_lift_ranks_specific_partners_above_ubiquitous_ones():
    # 20 docs: "usa" in every doc; "iran" in docs 0-5; "iraq" in 0-3 and 10; "kuwait" in 0-2; "oman" only in doc 4
    places = [(d, "usa") for d in range(20)]
    places += [(d, "iran") for d in range(6)] + [(d, "iraq") for d in (0, 1, 2, 3, 10)]
    places += [(d, "kuwait") for d in (0, 1, 2)] + [(4, "oman")]
    facet = _facet(places, 20)
    entity = np.zeros(20, bool)
    entity[:6] = True
    counted = cooccur.counts(facet, entity)
    background = cooccur.archive_counts(facet)
    iran = facet.ids_for(["iran"])
    ranked = cooccur.cooccurring(facet, counted, 6, background, 20, exclude=iran)
    assert [r["value"] for r in ranked] == ["kuwait", "iraq", "usa"]  # oman: 1 co-occurrence < MIN_COUNT
    by_value = {r["value"]: r for r in ranked}
    assert by_value["kuwait"]["count"] == 3 and by_value["kuwait"]["score"] == pytest.approx((3 / 6) / (3 / 20), 0.01)
    assert by_value["iraq"]["count"] == 4 and by_value["iraq"]["score"] == pytest.approx((4 / 6) / (5 / 20), 0.01)
    assert by_value["usa"]["score"] == 1.0
    assert counted[facet.ids_for(["usa"])[0]] == 6  # raw counts equal what a facet count gives


def test_min_count_relaxes_for_an_entity_with_few_articles():
    facet = _facet([(0, "a"), (0, "b"), (1, "b")], 2)
    entity = np.array([True, False])
    ranked = cooccur.cooccurring(facet, cooccur.counts(facet, entity), 1, cooccur.archive_counts(facet), 2,
                                 exclude=facet.ids_for(["a"]))
    assert [(r["value"], r["count"]) for r in ranked] == [("b", 1)]


# -- timeline ---------------------------------------------------------------------------------------
def _day(text: str) -> int:
    return int(np.datetime64(text, "s").astype(np.int64))


def test_timeline_shares_divide_by_all_articles_of_the_period():
    everything = np.array([_day(d) for d in ["2024-01-03", "2024-01-20", "2024-02-02", "2024-02-10", "2024-02-11",
                                               "2024-02-12", "2024-04-01"]] + [NO_DATE])
    first = everything[[0, 2, 3]]
    second = everything[[1, 6, 7]]  # one undated: counted nowhere
    out = timeline(everything, [first, second], "month")
    assert out["interval"] == "month"
    a, b = (s["buckets"] for s in out["series"])
    assert [x["start"] for x in a] == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    assert [x["count"] for x in a] == [1, 2, 0, 0] and [x["count"] for x in b] == [1, 0, 0, 1]
    assert [x["share"] for x in a] == [0.5, 0.5, 0.0, 0.0]
    assert [x["share"] for x in b] == [0.5, 0.0, 0.0, 1.0]


def test_timeline_interval_follows_the_histogram_rule_and_handles_no_hits():
    everything = np.array([_day("2024-01-01"), _day("2024-01-05")])
    assert timeline(everything, [everything])["interval"] == "day"
    empty = timeline(everything, [everything[:0], everything[:0]])
    assert [s["buckets"] for s in empty["series"]] == [[], []]
    with pytest.raises(ValueError):
        timeline(everything, [everything], "fortnight")


# -- saved searches -----------------------------------------------------------------------------------
class FakeArchive:
    """Matches a saved search against a changing list of articles (the query engine's job in real use)."""

    def __init__(self):
        self.articles: list[dict] = []
        self.described: list[str] = []

    def ids(self, params):
        word = dict(params).get("q", "")
        return [a["id"] for a in self.articles if word in a["title"]]

    def describe(self, ids):
        self.described += ids
        return [a for a in self.articles if a["id"] in ids]


def art(n: int, title: str) -> dict:
    return {"id": f"a{n}", "title": title, "date": f"2024-01-{n:02d}T00:00:00Z", "url": f"http://x/{n}", "source": "S"}


def test_new_means_never_matched_before(tmp_path):
    archive = FakeArchive()
    archive.articles = [art(1, "oil rises"), art(2, "gold falls")]
    watches = Watches(tmp_path)
    assert watches.add("oil", [("q", "oil")], archive) == 1  # baseline, not news
    assert watches.run() == []
    archive.articles += [art(3, "oil falls"), art(4, "wheat")]
    assert watches.record(archive) == {"oil": 1}
    assert watches.record(archive) == {"oil": 0}  # a rebuild of the same folder: nothing new
    assert archive.described == ["a1", "a3"]  # only new matches are read from the index
    assert [(n, a["id"]) for n, a in watches.run()] == [("oil", "a3")]
    assert watches.run() == []  # announced once
    archive.articles = archive.articles[:2]  # a rollback (nothing recorded), then the article comes back
    archive.articles.append(art(3, "oil falls"))
    assert watches.record(archive) == {"oil": 0}
    assert [(a["id"], a["title"]) for a in watches.news("oil")] == [("a3", "oil falls")]


def test_names_listing_and_removal(tmp_path):
    archive = FakeArchive()
    watches = Watches(tmp_path)
    assert watches.list() == [] and not (tmp_path / "watches.sqlite").exists()  # reading creates nothing
    watches.add("b-watch", [("q", "x"), ("places", "kuwait")], archive)
    watches.add("a.watch", [], archive)
    assert [w.name for w in watches.list()] == ["a.watch", "b-watch"]
    assert watches.get("b-watch").describe() == "b-watch\tq=x places=kuwait"
    with pytest.raises(WatchError, match="exists"):
        watches.add("a.watch", [], archive)
    for bad in ("", "../x", "a b", "x" * 65):
        with pytest.raises(WatchError):
            watches.add(bad, [], archive)
    watches.remove("a.watch")
    with pytest.raises(WatchError, match="no saved search"):
        watches.remove("a.watch")
    with pytest.raises(WatchError):
        watches.news("a.watch")


def test_run_line_is_one_line_per_article():
    assert line("oil", art(3, "oil falls")) == "oil\t2024-01-03\toil falls\ta3\thttp://x/3"
    assert line("oil", {"id": "z", "title": "", "date": None}) == "oil\tundated\t(untitled)\tz"
