"""Entity extraction: canonicalisation rules (pure), the cache, the fallback, and a real article."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from search.ingest.entities import EntityExtractor, canonicalise, clean_entity, extract

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_2a19419ffac14254.txt"
if not SEED.exists():
    SEED = Path("/work/shared/seeds/000_2a19419ffac14254.txt")


# ---------------------------------------------------------------- canonicalise (no model)


def test_bare_surname_resolves_to_full_name():
    out = canonicalise([("Vladimir Putin", "PERSON"), ("Putin", "PERSON"), ("Putin’s", "PERSON")])
    assert out["people"] == ["Vladimir Putin"]


def test_surname_before_full_name_still_resolves():
    out = canonicalise([("Macron", "PERSON"), ("Emmanuel Macron", "PERSON")])
    assert out["people"] == ["Emmanuel Macron"]


def test_possessive_quotes_the_and_whitespace_are_cleaned():
    out = canonicalise(
        [("Elon Musk's", "PERSON"), ("“the  White House”", "ORG"), ("the United States", "GPE"), ("Russia’s", "GPE")]
    )
    assert out == {"people": ["Elon Musk"], "orgs": ["White House"], "places": ["United States", "Russia"]}


def test_junk_spans_are_dropped():
    junk = [("2025", "ORG"), ("A", "PERSON"), ("x" * 80, "ORG"), ("Foo\nBar", "PERSON"), ("said", "PERSON")]
    assert canonicalise(junk) == {"people": [], "orgs": [], "places": []}
    assert clean_entity("The Hague") == "The Hague"


def test_misspelt_full_names_merge_to_most_frequent_then_longest():
    tie = canonicalise([("Emanuel Macron", "PERSON"), ("Emmanuel Macron", "PERSON"), ("Macron", "PERSON")])
    assert tie["people"] == ["Emmanuel Macron"]
    majority = [("Emanuel Macron", "PERSON")] * 2 + [("Emmanuel Macron", "PERSON")]
    assert canonicalise(majority)["people"] == ["Emanuel Macron"]


def test_different_people_sharing_a_surname_stay_apart():
    ents = [("Joe Biden", "PERSON"), ("Joe Biden", "PERSON"), ("Hunter Biden", "PERSON"), ("Biden", "PERSON")]
    assert canonicalise(ents)["people"] == ["Joe Biden", "Hunter Biden"]


def test_suffix_and_particles():
    ents = [("Donald Trump", "PERSON"), ("Donald Trump Jr", "PERSON"), ("Bashar al-Assad", "PERSON")]
    assert canonicalise(ents)["people"] == ["Donald Trump", "Donald Trump Jr", "Bashar al-Assad"]


def test_org_tagged_surname_counts_as_the_person():
    ents = [("Donald Trump", "PERSON"), ("Trump", "ORG"), ("Trump", "WORK_OF_ART"), ("pro-Trump PAC", "ORG")]
    out = canonicalise(ents)
    assert out["people"] == ["Donald Trump"]
    assert out["orgs"] == ["pro-Trump PAC"]


def test_place_tagged_surname_stays_a_place():
    out = canonicalise([("Denzel Washington", "PERSON"), ("Washington", "GPE")])
    assert out == {"people": ["Denzel Washington"], "orgs": [], "places": ["Washington"]}


def test_case_insensitive_dedupe_keeps_written_form_and_orders_by_mentions():
    ents = [("Ukraine", "GPE"), ("Nato", "ORG"), ("NATO", "ORG"), ("Nato", "ORG"), ("Ukraine", "GPE")]
    ents += [("Ukraine", "GPE"), ("Kremlin", "ORG")]
    out = canonicalise(ents)
    assert out["orgs"] == ["Nato", "Kremlin"]
    assert out["places"] == ["Ukraine"]


def test_titles_and_unresolved_single_names():
    out = canonicalise([("Mr Netanyahu", "PERSON"), ("Netanyahu", "PERSON"), ("French", "NORP")])
    assert out["people"] == ["Netanyahu"]


# ---------------------------------------------------------------- extractor: cache and fallback


def _fake_runner(calls: list[int]):
    def run(self, texts):
        calls.append(len(texts))
        return [[("Vladimir Putin", "PERSON"), ("Putin", "ORG"), ("Kyiv", "GPE")] for _ in texts]

    return run


@pytest.mark.model  # the cache is keyed by the installed model's version
def test_second_run_is_served_from_cache(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(EntityExtractor, "_run_model", _fake_runner(calls))
    items = [(f"h{i}", f"text {i}") for i in range(5)] + [("h0", "text 0")]
    cache = tmp_path / "entity-cache.sqlite"

    with EntityExtractor(cache) as first:
        got = list(first.extract_many(iter(items)))
    assert calls == [5]  # duplicate hash extracted once
    assert first.stats == {"cache_hits": 0, "extracted": 5, "fallback": 0}
    assert got[0] == {"people": ["Vladimir Putin"], "orgs": [], "places": ["Kyiv"]} == got[-1]

    with EntityExtractor(cache) as second:
        again = list(second.extract_many(items))
    assert calls == [5]
    assert second.stats["cache_hits"] == 6 and again == got


def test_cache_is_keyed_by_model_tag(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(EntityExtractor, "_run_model", _fake_runner(calls))
    cache = tmp_path / "c.sqlite"
    with EntityExtractor(cache) as ex:
        list(ex.extract_many([("h", "t")]))
    monkeypatch.setattr(extract, "CACHE_FORMAT", "other")
    with EntityExtractor(cache) as ex:
        list(ex.extract_many([("h", "t")]))
    assert calls == [1, 1]


def test_results_stream_in_order_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(extract, "CHUNK", 3)

    def run(self, texts):
        return [[(t, "PERSON")] for t in texts]

    monkeypatch.setattr(EntityExtractor, "_run_model", run)
    names = [f"Person Number{chr(65 + i)}" for i in range(8)]
    with EntityExtractor(tmp_path / "c.sqlite") as ex:
        out = [d["people"] for d in ex.extract_many((str(i), n) for i, n in enumerate(names))]
    assert out == [[n] for n in names]


@pytest.mark.model  # the cache is keyed by the installed model's version
def test_unusable_cache_file_is_left_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(EntityExtractor, "_run_model", _fake_runner([]))
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"not a database" * 100)
    with EntityExtractor(bad) as ex:
        assert next(ex.extract_many([("h", "t")]))["people"] == ["Vladimir Putin"]
    assert "not caching" in capsys.readouterr().err
    assert bad.read_bytes().startswith(b"not a database")


def test_fallback_when_model_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(extract, "MODEL_NAME", "no_such_model_for_newsearch")
    monkeypatch.setattr(extract, "_MODELS", {})
    monkeypatch.setattr(extract, "_WARNED", set())
    ex = EntityExtractor(tmp_path / "c.sqlite")
    out = list(ex.extract_many([("a", "Vladimir Putin met Donald Trump."), ("b", "Nato")]))
    out += list(ex.extract_many([("c", "More text")]))
    ex.close()
    assert out == [{"people": [], "orgs": [], "places": []}] * 3
    assert ex.stats["fallback"] == 3
    assert capsys.readouterr().err.count("warning") == 1


@pytest.mark.model  # the cache is keyed by the installed model's version
def test_cache_rows_written_in_committed_transactions(tmp_path, monkeypatch):
    monkeypatch.setattr(EntityExtractor, "_run_model", _fake_runner([]))
    cache = tmp_path / "c.sqlite"
    ex = EntityExtractor(cache)
    gen = ex.extract_many((str(i), "t") for i in range(3))
    next(gen)  # chunk done, not closed: another connection must already see it
    rows = sqlite3.connect(cache).execute("SELECT count(*) FROM entity_cache").fetchone()[0]
    assert rows == 3
    ex.close()


# ---------------------------------------------------------------- real model on the seed article


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.skipif(not SEED.exists(), reason="shared seed article not present")
def test_seed_article_people_orgs_places(tmp_path):
    text = SEED.read_text(encoding="utf-8").replace(" date 2025-09-05", "", 1)
    with EntityExtractor(tmp_path / "c.sqlite", processes=1) as ex:
        found = next(ex.extract_many([("seed", text)]))
    people = set(found["people"])
    assert {"Vladimir Putin", "Donald Trump", "Emmanuel Macron", "Volodymyr Zelensky"} <= people
    assert not {"Putin", "Trump", "Macron", "Emanuel Macron"} & people
    assert "Ukraine" in found["places"]
    assert "Nato" in found["orgs"] and "Trump" not in found["orgs"]
    assert "Kyiv" not in people and "Kyiv" in found["places"]  # a known place the model called a person
    assert "AP" not in found["orgs"]  # only ever a photo credit there
    assert "US" not in found["places"] and "United States" in found["places"]
