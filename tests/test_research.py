"""Story clusters, entity pages, timelines and saved searches end to end: CLI, engine and web API."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import reuters_files, write_jsonl

from search.cli import main
from search.index import cluster_segments, clusters
from search.index.generations import IndexHome
from web import create_app

WORDS = [f"word{i}" for i in range(2000)]


def body(seed: int, words: int = 150) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def edit(text: str, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) if rng.random() < 0.03 else w for w in text.split(" "))


def wire_corpus(folder: Path) -> Path:
    """One story in three copies (exact, edited, retitled), two other stories, entities to count."""
    story = body(1)
    write_jsonl(folder / "wire.jsonl", [
        {"id": "a1", "title": "Port strike ends", "body": story, "date": "2024-03-01", "source": "Wire",
         "places": ["Kiel", "Hamburg"], "people": ["Anna Berg"]},
        {"id": "a2", "title": "Port strike ends", "body": story, "date": "2024-03-02", "source": "Gazette",
         "places": ["Kiel", "Hamburg"], "people": ["Anna Berg"]},
        {"id": "a3", "title": "Port strike ends", "body": edit(story, 2), "date": "2024-03-02", "source": "Post",
         "places": ["Kiel"], "people": ["Anna Berg"]},
        {"id": "a4", "title": "Dockers back at work in Kiel", "body": edit(story, 3), "date": "2024-04-02",
         "source": "Post", "places": ["Kiel"]},
        {"id": "b1", "title": "Grain prices fall", "body": body(4), "date": "2024-04-05", "source": "Wire",
         "places": ["Hamburg"]},
        {"id": "c1", "title": "Council approves bridge", "body": body(5), "date": "2024-05-05", "source": "Wire",
         "places": ["Kiel", "Lübeck"]},
    ])
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    corpus = wire_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    assert main(["rebuild", "--index", str(index), "--quiet", "--no-entities", str(corpus)]) == 0
    return index


def api(index: Path, path: str) -> dict:
    client = create_app(index).test_client()
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- clusters --------------------------------------------------------------------------------------
def test_results_show_one_article_per_cluster_and_count_articles(home: Path):
    collapsed = api(home, "/api/search?sort=oldest")
    assert collapsed["total"] == 6  # totals count articles
    ids = [r["id"] for r in collapsed["results"]]
    assert ids == ["a1", "b1", "c1"]
    first = collapsed["results"][0]
    assert first["similar"] == 3 and first["cluster"]
    assert {r["similar"] for r in collapsed["results"][1:]} == {0}
    assert sum(f["count"] for f in collapsed["facets"]["source"]) == 6  # facets count articles too
    every = api(home, "/api/search?sort=oldest&collapse=0")
    assert [r["id"] for r in every["results"]] == ["a1", "a2", "a3", "a4", "b1", "c1"]
    assert len({r["cluster"] for r in every["results"][:4]}) == 1
    cluster = api(home, f"/api/search?cluster={first['cluster']}&sort=oldest")
    assert cluster["total"] == 4 and [r["id"] for r in cluster["results"]] == ["a1", "a2", "a3", "a4"]
    narrowed = api(home, "/api/search?sort=oldest&source=Post")
    assert [(r["id"], r["similar"]) for r in narrowed["results"]] == [("a3", 1)]  # similar: within the hits


def test_update_keeps_clusters_right(home: Path, tmp_path: Path):
    write_jsonl(tmp_path / "corpus" / "more.jsonl", [
        {"id": "a5", "title": "Strike over at the port", "body": edit(body(1), 6), "date": "2024-06-01"},
        {"id": "d1", "title": "New story", "body": body(7), "date": "2024-06-02"},
    ])
    write_jsonl(tmp_path / "corpus" / "wire.jsonl", [  # a4 rewritten into a different story; b1 gone
        {"id": "a1", "title": "Port strike ends", "body": body(1), "date": "2024-03-01", "source": "Wire"},
        {"id": "a4", "title": "Something else", "body": body(8), "date": "2024-04-02", "source": "Post"},
    ])
    assert main(["update", "--index", str(home), "--quiet", str(tmp_path / "corpus")]) == 0
    answer = api(home, "/api/search?sort=oldest&collapse=0")
    by_id = {r["id"]: r for r in answer["results"]}
    assert set(by_id) == {"a1", "a4", "a5", "d1"}
    assert by_id["a1"]["cluster"] == by_id["a5"]["cluster"] != by_id["a4"]["cluster"]
    assert by_id["a1"]["similar"] == 1 and by_id["d1"]["similar"] == 0


def test_update_over_clusters_signed_another_way_signs_every_article_again(home: Path, tmp_path: Path):
    """A live generation whose segment files came from another signing scheme (datasketch's, before numpy):
    the update cannot mix the two, so it re-signs every stored article and the clusters stay right."""
    live = IndexHome(home).require_live()
    metas = sorted(live.glob(f"{cluster_segments.PREFIX}*.npz"))
    assert metas
    for meta in metas:
        with np.load(meta) as data:
            saved = dict(data)
        assert str(saved["settings"]).endswith("/" + clusters.SCHEME)
        saved["settings"] = np.array("2/64/0.4/0.5/1")  # the tag datasketch-signed generations carry
        chain = np.arange(int(saved["size"]) - 1, dtype=np.int32)
        zero = np.zeros(len(chain), dtype=np.int32)  # one cluster of everything, if these files were reused
        saved.update(segments=np.array([meta.name[len(cluster_segments.PREFIX):-4]]), a_seg=zero, a_doc=chain,
                     b_seg=zero, b_doc=chain + 1)
        np.savez(meta, **saved)
    write_jsonl(tmp_path / "corpus" / "more.jsonl", [
        {"id": "d1", "title": "New story", "body": body(7), "date": "2024-06-02"}])
    assert main(["update", "--index", str(home), "--quiet", str(tmp_path / "corpus")]) == 0
    by_id = {r["id"]: r for r in api(home, "/api/search?sort=oldest&collapse=0")["results"]}
    assert len({by_id[i]["cluster"] for i in ("a1", "a2", "a3", "a4")}) == 1
    assert len({by_id[i]["cluster"] for i in ("a1", "b1", "c1", "d1")}) == 4


def test_bad_cluster_and_collapse_values_are_400(home: Path):
    client = create_app(home).test_client()
    assert client.get("/api/search?collapse=maybe").status_code == 400
    assert client.get("/api/search?cluster=" + "x" * 100).status_code == 400
    assert client.get("/api/search?cluster=0000000000000000").get_json()["total"] == 0


# -- entity pages and timelines -----------------------------------------------------------------------
def test_entity_counts_equal_facet_counts(home: Path):
    entity = api(home, "/api/entity/places/Kiel?from=2024-03-01&to=2024-04-30")
    search = api(home, "/api/search?places=Kiel&from=2024-03-01&to=2024-04-30")
    assert entity["total"] == search["total"] == 4
    facet_counts = {f["value"]: f["count"] for f in search["facets"]["people"]}
    assert {c["value"]: c["count"] for c in entity["cooccurring"]["people"]} == facet_counts == {"Anna Berg": 3}
    hamburg = next(c for c in entity["cooccurring"]["places"] if c["value"] == "Hamburg")
    assert hamburg["count"] == 2 and hamburg["score"] == pytest.approx((2 / 4) / (3 / 5), abs=0.01)
    hamburg = api(home, "/api/entity/places/Hamburg")
    kiel = next(c for c in hamburg["cooccurring"]["places"] if c["value"] == "Kiel")
    assert kiel["count"] == 2 and kiel["score"] == pytest.approx((2 / 3) / (5 / 6), abs=0.01)
    assert {s["value"]: s["count"] for s in entity["sources"]} == {"Post": 2, "Wire": 1, "Gazette": 1}
    assert entity["histogram"]["buckets"] and entity["latest"][0]["id"] == "a4"
    client = create_app(home).test_client()
    assert client.get("/api/entity/places/Atlantis").status_code == 404
    assert client.get("/api/entity/year/2024").status_code == 404


def test_timeline_series_follow_their_own_filters(home: Path):
    answer = api(home, "/api/timeline?interval=month&q=&places=Kiel&q=&places=Hamburg&q=grain")
    kiel, hamburg, grain = answer["series"]
    assert [b["start"] for b in kiel["buckets"]] == ["2024-03-01", "2024-04-01", "2024-05-01"]
    assert [b["count"] for b in kiel["buckets"]] == [3, 1, 1]
    assert [b["count"] for b in hamburg["buckets"]] == [2, 1, 0]
    assert [b["share"] for b in hamburg["buckets"]] == [round(2 / 3, 6), 0.5, 0.0]
    assert grain["total"] == api(home, "/api/search?q=grain")["total"] == 1
    csv_text = create_app(home).test_client().get("/timeline.csv?interval=month&q=&places=Kiel").get_data(True)
    assert csv_text.splitlines()[1] == ",places=Kiel,month,2024-03-01,3,1.0"


# -- saved searches -------------------------------------------------------------------------------------
def test_watch_announces_only_never_seen_matches(home: Path, tmp_path: Path, capsys):
    corpus = tmp_path / "corpus"
    assert main(["watch", "add", "--index", str(home), "kiel", "--places", "Kiel"]) == 0
    assert main(["watch", "add", "--index", str(home), "kiel", "--places", "Kiel"]) == 2  # exists
    assert main(["watch", "list", "--index", str(home)]) == 0
    assert "kiel\tplaces=Kiel" in capsys.readouterr().out
    write_jsonl(corpus / "new.jsonl", [{"id": "k9", "title": "Kiel harbour news", "body": body(9),
                                        "date": "2024-07-01", "places": ["Kiel"]}])
    assert main(["update", "--index", str(home), "--quiet", str(corpus)]) == 0
    capsys.readouterr()
    assert main(["watch", "run", "--index", str(home)]) == 0
    assert capsys.readouterr().out == "kiel\t2024-07-01\tKiel harbour news\tk9\n"
    assert main(["rebuild", "--index", str(home), "--quiet", "--no-entities", str(corpus)]) == 0
    assert main(["rollback", "--index", str(home)]) == 0
    capsys.readouterr()
    assert main(["watch", "run", "--index", str(home)]) == 0
    assert capsys.readouterr().out == ""  # the nightly rebuild and the rollback announce nothing
    feed = create_app(home).test_client().get("/watch/kiel.atom")
    assert feed.status_code == 200 and b"Kiel harbour news" in feed.data and b"Port strike" not in feed.data
    assert main(["watch", "remove", "--index", str(home), "kiel"]) == 0
    assert create_app(home).test_client().get("/watch/kiel.atom").status_code == 404


def test_watch_this_search_form_needs_its_token(home: Path):
    client = create_app(home).test_client()
    page = client.get("/search?q=grain").get_data(True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert client.post("/watch", data={"name": "grain", "q": "grain", "csrf": "forged"}).status_code == 403
    other = create_app(home).test_client()  # another browser: no cookie
    assert other.post("/watch", data={"name": "grain", "q": "grain", "csrf": token}).status_code == 403
    cross = client.post("/watch", data={"name": "grain", "q": "grain", "csrf": token},
                        headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    saved = client.post("/watch", data={"name": "grain", "q": "grain", "csrf": token})
    assert saved.status_code == 200 and "/watch/grain.atom" in saved.get_data(True)
    assert client.post("/watch", data={"name": "../x", "q": "grain", "csrf": token}).status_code == 400


# -- Reuters, counted independently from the SGML ----------------------------------------------------------
def _sgml_places() -> list[set[str]]:
    docs = []
    for path in reuters_files():
        text = gzip.decompress(path.read_bytes()).decode("latin-1")
        for block in re.findall(r"<REUTERS.*?</REUTERS>", text, re.S):
            places = re.search(r"<PLACES>(.*?)</PLACES>", block, re.S)
            docs.append(set(re.findall(r"<D>(.*?)</D>", places.group(1))) if places else set())
    return docs


@pytest.mark.slow
def test_reuters_cooccurrence_counts_match_the_sgml(reuters_index: Path):
    docs = _sgml_places()
    both = sum(1 for d in docs if {"iran", "iraq"} <= d)
    iran = sum(1 for d in docs if "iran" in d)
    entity = api(reuters_index, "/api/entity/places/iran")
    assert entity["total"] == iran
    iraq = next(c for c in entity["cooccurring"]["places"] if c["value"] == "iraq")
    assert iraq["count"] == both
    all_iraq = sum(1 for d in docs if "iraq" in d)
    assert iraq["score"] == pytest.approx((both / iran) / (all_iraq / len(docs)), abs=0.01)
    assert entity["cooccurring"]["places"][0]["value"] != "usa"  # the ubiquitous value does not lead
    usa_tl = api(reuters_index, "/api/timeline?q=&places=iran&interval=year")["series"][0]
    assert sum(b["count"] for b in usa_tl["buckets"]) == iran
