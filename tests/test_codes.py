"""Readable labels for coded vocabularies (search/ingest/codes.py), on small files and on Reuters' own."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REUTERS_DIR

from search.ingest import codes

DESCRIPTIONS = """
  Some notes (1990) on the categories.

**Economic Indicator Codes (16)

Consumer Price Index (CPI)
Money/Foreign Exchange (MONEY-FX)

@begin[format]
Grupo de Paises Exportadores
[Group of Exporting Countries]
(GEPLACEA)@*
European Community (EC)@*
@end[format]
Argentina
@begin[itemize]
   President Raul Alfonsin  (ALFONSIN)

   Deputy Minister and Minister of Agriculture and Food
        Miroslav Toman  (TOMAN)
@end[itemize]
Alan Bond, chairman of Bond Corp Ltd  (BOND)
"""


def test_descriptions_one_and_several_lines():
    found = codes.read_descriptions(DESCRIPTIONS)
    assert found["cpi"] == "Consumer Price Index"
    assert found["money-fx"] == "Money/Foreign Exchange"
    assert found["geplacea"] == "Grupo de Paises Exportadores"
    assert found["ec"] == "European Community"
    assert found["alfonsin"] == "President Raul Alfonsin"  # the heading "Argentina" is not joined to it
    assert "16" not in found and "1990" not in found


def test_person_name_from_the_office_description():
    assert codes.person_name("alfonsin", "President Raul Alfonsin") == "Raul Alfonsin"
    assert codes.person_name("toman", "Deputy Minister and Minister of Agriculture and Food Miroslav Toman") \
        == "Miroslav Toman"
    assert codes.person_name("bond", "Alan Bond, chairman of Bond Corp Ltd") == "Alan Bond"
    assert codes.person_name("o-kennedy", "Agriculture Minister Michael O'Kennedy") == "Michael O'Kennedy"
    assert codes.person_name("deng-xiaoping", "Elder Statesman (a member of the Politburo) Deng Xiaoping") \
        == "Deng Xiaoping"
    assert codes.person_name("nobody", "President Raul Alfonsin") is None


def test_readable_code():
    assert codes.readable("places", "west-germany") == "West Germany"
    assert codes.readable("people", "james-baker") == "James Baker"
    assert codes.readable("places", "usa") == "USA"
    assert codes.readable("topics", "castor-oil") == "Castor Oil"


def test_folder_labels_every_listed_code(tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    tmp_path = tmp_path / "reuters"
    tmp_path.mkdir()
    (tmp_path / "cat-descriptions_1.txt").write_text(DESCRIPTIONS, encoding="latin-1")
    (tmp_path / "all-topics-strings.lc.txt").write_text("cpi\nmoney-fx\nveg-oil\n")
    (tmp_path / "all-people-strings.lc.txt").write_text("alfonsin\njames-baker\n")
    (tmp_path / "all-places-strings.lc.txt").write_text("west-germany \nusa\n")  # trailing blanks as shipped
    (tmp_path / "reut2-000.sgm").write_text("")
    labels = codes.labels_beside([tmp_path / "reut2-000.sgm"])
    assert labels == {
        "topics": {"cpi": "Consumer Price Index", "money-fx": "Money/Foreign Exchange", "veg-oil": "Veg Oil"},
        "people": {"alfonsin": "Raul Alfonsin", "james-baker": "James Baker"},
        "places": {"west-germany": "West Germany", "usa": "USA"},
    }
    assert codes.labels_beside([tmp_path]) == labels  # a folder source finds them too
    assert codes.labels_beside([other / "elsewhere.jsonl", other]) == {}


def test_no_code_lists_no_labels(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    assert codes.labels_beside([tmp_path, tmp_path / "a.jsonl"]) == {}


@pytest.mark.skipif(not (REUTERS_DIR / "cat-descriptions_120396.txt").exists(), reason="../shared Reuters absent")
def test_reuters_own_files():
    labels = codes.labels_beside([REUTERS_DIR])
    assert {k: len(v) for k, v in labels.items()} == {
        "exchanges": 39, "orgs": 56, "people": 267, "places": 175, "topics": 135}
    assert labels["topics"]["acq"] == "Mergers/Acquisitions"
    assert labels["topics"]["money-fx"] == "Money/Foreign Exchange"
    assert labels["places"]["new-zealand"] == "New Zealand"
    assert labels["people"]["james-baker"] == "James Baker"
    assert labels["people"]["hawke"] == "Robert (Bob) Hawke"
    assert labels["orgs"]["opec"] == "Organisation of Petroleum Exporting Countries"
    assert all(label and label.strip() == label and "@" not in label for facet in labels.values()
               for label in facet.values())
