"""Hand-labelled expectation for the entities extracted from seeds/ (read by eval_entities.py).

Labelled by reading the seed articles: EXPECTED holds, per facet, every value
that is a real entity of that type under its canonical name (full names,
long organisation names, gazetteer country names).  Any other extracted
value is *wrong*: a fragment ("Ursula von der"), a wrong type ("Kyiv" as a
person), a credit ("AP", "Reuters": seeds/ names them only in "( AP )"
captions), or a second name for an entity that has a canonical one ("US", "EU", "Xi", "Commission", "Biden").
AMBIGUOUS values are neither counted right nor wrong.
"""

EXPECTED = {
    "people": {
        "Antonio Guterres", "Antony Blinken", "Christian Lindner", "Christine Lagarde", "Claire Dubois",
        "Donald Trump", "Elon Musk", "Emmanuel Macron", "Friedrich Merz", "Fumio Kishida", "Jens Stoltenberg",
        "Joe Biden", "Jordan Bardella", "Kaja Kallas", "Kamala Harris", "Keir Starmer", "Marie-Jose Perec",
        "Mario Draghi", "Mark Rutte", "Markus Feld", "Olaf Scholz", "Rachel Reeves", "Recep Tayyip Erdogan",
        "Rishi Sunak", "Robert Fico", "Simon Stiell", "Teddy Riner", "Thomas Bach", "Ulf Kristersson",
        "Ursula von der Leyen", "Vladimir Putin", "Volodymyr Zelensky", "Wopke Hoekstra", "Xi Jinping",
        "Yulia Navalnaya", "Alexei Navalny", "Sultan Al Jaber",
    },
    "orgs": {
        "European People's Party", "Bank of England", "CDU", "CSU", "CDU/CSU", "Congress", "Senate",
        "Elysee Palace", "European Central Bank", "European Commission", "European Parliament",
        "European Union", "General Assembly", "Group of Seven", "International Criminal Court",
        "International Monetary Fund", "International Olympic Committee", "Kremlin", "Labour",
        "Munich Security Conference", "National Health Service", "National Rally", "Nato",
        "Office for Budget Responsibility", "UN Climate Change", "United Nations", "White House", "World Bank",
        "World Economic Forum", "World Meteorological Organization", "AfD",
    },
    "places": {
        "Afghanistan", "Alaska", "Anchorage", "Arctic", "Asia", "Athens", "Austria", "Berlin", "Brussels",
        "Canada", "China", "Davos", "Dubai", "Europe", "France", "Frankfurt", "Germany", "Hiroshima", "Hungary",
        "India", "Italy", "Japan", "Lisbon", "Lithuania", "London", "Mexico", "Middle East", "Moscow", "Munich",
        "New York", "North America", "North Atlantic", "Paris", "Poland", "Portugal", "Russia", "Saudi Arabia",
        "Sochi", "South Korea", "Spain", "Sweden", "The Hague", "Tuileries Garden", "Ukraine",
        "United Arab Emirates", "United States", "Vladivostok", "Warsaw", "Washington", "Kyiv", "Avdiivka",
        "Seine", "River Seine", "Slovakia", "Vilnius", "Latvia", "Estonia", "Finland", "United Kingdom",
        "Bletchley Park", "Hague",
    },
}  # fmt: skip

# Plausible either way: a surname the text gives without the title ("Sultan Al Jaber" -> "Al Jaber"),
# a pipeline named like a company, a share index.
AMBIGUOUS = {"Al Jaber", "Nord Stream", "Stoxx", "Stoxx 600", "Euro-Atlantic"}

# The issue's examples of wrong values (facet, value): none may remain.
ISSUE_EXAMPLES = [
    ("people", "Ursula von der"), ("places", "Leyen"), ("people", "Kyiv"), ("people", "Avdiivka"),
    ("orgs", "AP"), ("orgs", "Reuters"), ("orgs", "Olaf Scholz"), ("places", "Scholz"),
    ("places", "US"), ("places", "America"),
    ("orgs", "EU"), ("orgs", "ECB"), ("orgs", "Commission"), ("people", "Xi"), ("people", "Turnout"),
    ("people", "Explainer"),
]  # fmt: skip
