"""Readable labels for coded vocabularies (search/ingest/codes.py), on small files and on Reuters' own."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REUTERS_DIR

from search.ingest import codes

DESCRIPTIONS = """
  Notes (2001) on some invented codes, in the layout of Reuters' description file.

**Invented Indicator Codes (12)

Widget Output Index (WOI)
Lamp/Oil Futures (LAMP-OIL)

@begin[format]
Consejo de Productores Ficticios
[Council of Fictional Producers]
(COPROFIC)@*
Northern Trade Circle (NTC)@*
@end[format]
Ruritania
@begin[itemize]
   President Anna Kessler  (KESSLER)

   Deputy Minister and Minister of Agriculture and Food
        Piotr Lenz  (LENZ)
@end[itemize]
Carla Moss, chairman of Moss Shipping Ltd  (MOSS)
"""


def test_descriptions_one_and_several_lines():
    found = codes.read_descriptions(DESCRIPTIONS)
    assert found["woi"] == "Widget Output Index"
    assert found["lamp-oil"] == "Lamp/Oil Futures"
    assert found["coprofic"] == "Consejo de Productores Ficticios"
    assert found["ntc"] == "Northern Trade Circle"
    assert found["kessler"] == "President Anna Kessler"  # the heading "Ruritania" is not joined to it
    assert "12" not in found and "2001" not in found


def test_person_name_from_the_office_description():
    assert codes.person_name("kessler", "President Anna Kessler") == "Anna Kessler"
    assert codes.person_name("lenz", "Deputy Minister and Minister of Agriculture and Food Piotr Lenz") \
        == "Piotr Lenz"
    assert codes.person_name("moss", "Carla Moss, chairman of Moss Shipping Ltd") == "Carla Moss"
    assert codes.person_name("o-hara", "Fisheries Minister Sean O'Hara") == "Sean O'Hara"
    assert codes.person_name("li-wen", "Elder Statesman (a member of the Assembly) Li Wen") \
        == "Li Wen"
    assert codes.person_name("nobody", "President Anna Kessler") is None


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
    (tmp_path / "all-topics-strings.lc.txt").write_text("woi\nlamp-oil\nveg-oil\n")
    (tmp_path / "all-people-strings.lc.txt").write_text("kessler\njames-baker\n")
    (tmp_path / "all-places-strings.lc.txt").write_text("west-germany \nusa\n")  # trailing blanks as shipped
    (tmp_path / "reut2-000.sgm").write_text("")
    labels = codes.labels_beside([tmp_path / "reut2-000.sgm"])
    assert labels == {
        "topics": {"woi": "Widget Output Index", "lamp-oil": "Lamp/Oil Futures", "veg-oil": "Veg Oil"},
        "people": {"kessler": "Anna Kessler", "james-baker": "James Baker"},
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
