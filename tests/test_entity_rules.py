"""Gazetteer, per-article entity rules and the archive alias map, on sentences written for the tests (no model)."""

from __future__ import annotations

from search.index import entity_merge
from search.index.entity_merge import alias_maps, apply, counts_of
from search.ingest.entities import rules
from search.ingest.entities.gazetteer import CITY, COUNTRY, gazetteer

# --------------------------------------------------------------------------- gazetteer


def test_country_aliases_fold_to_one_name():
    g = gazetteer()
    for alias in ("US", "U.S.", "USA", "America", "the United States", "United States of America"):
        assert g.canonical(alias) == "United States", alias
    for alias in ("UK", "U.K.", "Britain"):
        assert g.canonical(alias) == "United Kingdom", alias
    assert g.canonical("Russian Federation") == "Russia"  # ISO name from pycountry
    assert g.lookup("Germany").kind == COUNTRY


def test_all_caps_datelines_are_known_places():
    g = gazetteer()
    assert g.lookup("BUCHAREST").name == "Bucharest"
    assert g.lookup("DES MOINES").name == "Des Moines"
    assert g.lookup("Des Moines").kind == CITY


def test_small_towns_and_surnames_are_not_places():
    g = gazetteer()
    assert g.lookup("Scholz") is None
    assert g.lookup("Leyen") is None
    assert g.lookup("Clinton") is None  # towns under CITY_MIN_POPULATION are left out


def test_spot_finds_the_longest_name():
    words = ["Flights", "from", "DES", "MOINES", "to", "New", "York", "City", "resumed"]
    found = [(s, e, p.name) for s, e, p in gazetteer().spot(words)]
    assert (2, 4, "Des Moines") in found and (5, 8, "New York City") in found


# --------------------------------------------------------------------------- spans


def test_run_on_spans_are_cut():
    assert rules.split_span("GERMANY - Bunds", "ORG") == [("GERMANY", "GPE")]
    assert rules.split_span("Jim Adams WASHINGTON", "PERSON") == [("Jim Adams", "PERSON"), ("WASHINGTON", "GPE")]
    assert rules.split_span("Islamic Conference (OIC", "ORG") == [("Islamic Conference", "ORG")]
    assert rules.split_span("Interfax news agency", "ORG") == [("Interfax", "ORG")]
    assert rules.split_span("Pirelli SpA", "PERSON") == [("Pirelli SpA", "ORG")]
    assert rules.split_span("King Baudouin", "PERSON") == [("Baudouin", "PERSON")]


def test_headline_junk_unless_written_in_mixed_case():
    text = "REAGAN SIGNS GNMA BILL\n\nThe president signed it on Monday."
    assert rules.is_headline_junk("REAGAN SIGNS GNMA", "PERSON", text)
    text2 = "HOWARD BAKER TO SPEAK\n\nHoward Baker will speak on Friday."
    assert not rules.is_headline_junk("HOWARD BAKER", "PERSON", text2)
    assert not rules.is_headline_junk("Howard Baker", "PERSON", text2)


def test_credits_dropped_only_when_every_mention_is_a_credit():
    caption = "Leaders meet in Brussels ( AP )\n\nThe summit opened. Another photo ( AP / Reuters / Getty )"
    assert rules.is_credit_only("AP", caption)
    assert rules.is_credit_only("Reuters", caption)
    assert rules.is_credit_only("AFP", "A crowd gathers. AFP/Getty")
    quoted = caption + "\n\nThe minister resigned, Reuters said."
    assert not rules.is_credit_only("Reuters", quoted)


def test_particle_surnames_are_kept_whole():
    text = "Ursula von der Leyen spoke first. Later Von der Leyen said the plan held, Leyen added."
    spans = [("Ursula von der", "PERSON"), ("Von der Leyen", "ORG"), ("Leyen", "GPE")]
    assert rules.extend_particle_names(spans, text) == [("Ursula von der Leyen", "PERSON")] * 3
    text2 = "Miguel de la Madrid met Vincent van Gogh scholars."
    spans2 = [("Miguel de la", "PERSON"), ("Vincent van", "PERSON")]
    assert rules.extend_particle_names(spans2, text2) == [
        ("Miguel de la Madrid", "PERSON"), ("Vincent van Gogh", "PERSON")
    ]


def test_known_places_are_retyped_unless_part_of_a_name():
    spans = [("Kyiv", "PERSON"), ("US", "GPE"), ("Moscow", "ORG")]
    assert rules.retype_places(spans) == [("Kyiv", "GPE"), ("United States", "GPE"), ("Moscow", "GPE")]
    named = [("Denzel Washington", "PERSON"), ("Washington", "PERSON")]
    assert rules.retype_places(named) == named


def test_place_context_and_non_places():
    text = "Troops left the eastern town of Avdiivka on Saturday, Ukrainian officials said."
    assert rules.place_by_context("Avdiivka", "PERSON", text) == "GPE"
    assert rules.place_by_context("Ukrainian", "GPE", text) == ""
    assert rules.place_by_context("AI", "GPE", "Leading AI companies signed.") == ""
    assert rules.place_by_context("River Seine", "ORG", "Boats sailed the River Seine.") == "GPE"


def test_places_the_model_missed_are_spotted():
    text = "BUCHAREST 1996-08-22\n\nThe talks moved to Germany after a week, Paris Hilton said."
    spans = [("Paris Hilton", "PERSON")]
    found = {name for name, _ in rules.spot_places(text, spans)}
    assert found == {"Bucharest", "Germany"}  # "Paris" inside the model's span is not a place


def test_sentence_initial_common_words_are_not_people():
    text = "Voters went to the polls. Turnout was high. The count went on. Results came late."
    assert rules.drop_capitalised_words([("Turnout", "PERSON")], text) == []
    kept = "Olaf Scholz spoke. Scholz said it went well. The talks ended. Reporters left."
    spans = [("Olaf Scholz", "PERSON"), ("Scholz", "PERSON")]
    assert rules.drop_capitalised_words(spans, kept) == spans


def test_short_forms_fold_into_the_long_form():
    orgs, folds = rules.fold_short_forms(["European Central Bank", "ECB", "European Commission", "Commission", "EU"])
    assert orgs == ["European Central Bank", "European Commission", "EU"]
    assert folds == {"ECB": "European Central Bank", "Commission": "European Commission"}
    people, _ = rules.fold_short_forms(["Xi Jinping", "Xi", "Vladimir Putin"], first_word=True)
    assert people == ["Xi Jinping", "Vladimir Putin"]


def test_refine_on_a_seed_like_paragraph():
    text = ("Kyiv said Ursula von der Leyen would visit. Von der Leyen met Olaf Scholz in Berlin ( AP ).\n\n"
            "The US and America's allies agreed.")
    spans = [("Kyiv", "PERSON"), ("Ursula von der", "PERSON"), ("Von der Leyen", "ORG"), ("Olaf Scholz", "PERSON"),
             ("Berlin", "GPE"), ("AP", "ORG"), ("US", "GPE"), ("America", "GPE")]
    out = rules.refine(spans, text)
    assert ("Kyiv", "GPE") in out and ("AP", "ORG") not in out
    assert out.count(("Ursula von der Leyen", "PERSON")) == 2
    assert {s for s, lb in out if lb == "GPE"} == {"Kyiv", "Berlin", "United States"}


# --------------------------------------------------------------------------- archive merge


def _merged(articles, periods):
    maps = alias_maps(counts_of(articles, periods))
    return maps, [apply(maps, a) for a in articles]


def test_case_variants_take_the_mixed_case_spelling():
    arts = [{"people": ["REAGAN"]}, {"people": ["Reagan"]}, {"people": ["Reagan"]}, {"people": ["REAGAN"]},
            {"people": ["REAGAN"]}]
    _, out = _merged(arts, ["1987"] * 5)
    assert {v for a in out for v in a["people"]} == {"Reagan"}


def test_bare_surname_becomes_the_one_full_name_of_its_period():
    arts = [{"people": ["Ronald Reagan"]}, {"people": ["Reagan"]}, {"people": ["REAGAN"]}]
    maps, out = _merged(arts, ["1987", "1987", "1988"])
    assert [a["people"] for a in out] == [["Ronald Reagan"]] * 3
    assert maps["people"]["Reagan"] == ["people", "Ronald Reagan"]


def test_two_bushes_stay_apart():
    arts = [{"people": ["George Bush"]}, {"people": ["Barbara Bush"]}, {"people": ["Bush"]}]
    _, out = _merged(arts, ["1990"] * 3)
    assert out[2]["people"] == ["Bush"]
    far = [{"people": ["George Bush"]}, {"people": ["George W. Bush"]}, {"people": ["Bush"]}, {"people": ["Bush"]}]
    _, out = _merged(far, ["1990", "2004", "1990", "2004"])
    assert out[2]["people"] == ["Bush"] and out[3]["people"] == ["Bush"]  # one surname, two periods, two people


def test_organisation_the_archive_knows_as_a_person_moves_to_people():
    arts = [{"people": ["Paul Volcker"], "orgs": []}, {"people": ["Volcker"], "orgs": []},
            {"people": [], "orgs": ["Volcker"]}, {"people": [], "orgs": ["Olaf Scholz"]},
            {"people": ["Olaf Scholz"], "orgs": ["Ford"]}, {"people": [], "orgs": ["Ford"]}]
    _, out = _merged(arts, ["1987"] * 6)
    assert out[2] == {"people": ["Paul Volcker"], "orgs": []}
    assert out[3] == {"people": ["Olaf Scholz"], "orgs": []}
    assert out[5] == {"people": [], "orgs": ["Ford"]}


def test_short_forms_fold_archive_wide():
    arts = [{"orgs": ["European Central Bank"]}, {"orgs": ["ECB"]}, {"orgs": ["European Commission"]},
            {"orgs": ["Commission"]}, {"orgs": ["Fed", "New York Fed"]}]
    _, out = _merged(arts, [None] * 5)
    assert [a["orgs"] for a in out[:4]] == [["European Central Bank"]] * 2 + [["European Commission"]] * 2
    assert out[4]["orgs"] == ["Fed", "New York Fed"]


def test_alias_map_round_trips_through_the_generation(tmp_path):
    maps = {"people": {"Reagan": ["people", "Ronald Reagan"]}}
    entity_merge.save(maps, tmp_path)
    assert entity_merge.load(tmp_path) == maps
    assert entity_merge.load(tmp_path / "missing") == {}


def test_headline_speaker_is_a_person_guess():
    text = "LAWSON SAYS STERLING IS STABLE\n\nTREASURY'S BAKER SEES GROWTH, JAPAN SAYS"
    assert rules.headline_speakers(text) == [("LAWSON", "PERSON"), ("BAKER", "PERSON")]  # Japan is a place
    assert rules.headline_speakers("Lawson says sterling is stable.") == []  # mixed case: the model's job


def test_capitals_only_guesses_need_the_archive_to_know_the_name():
    arts = [{"people": ["Nigel Lawson"]}, {"people": ["LAWSON"]}, {"people": ["TREASURY"]}]
    _, out = _merged(arts, ["1987"] * 3)
    assert out[1]["people"] == ["Nigel Lawson"]
    assert out[2]["people"] == []


def test_lower_case_tags_are_kept():
    arts = [{"people": ["reagan"]}, {"people": ["james-baker"]}]  # Reuters-21578 gives its tags in lower case
    _, out = _merged(arts, ["1987"] * 2)
    assert out == arts
