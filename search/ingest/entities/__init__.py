"""Named-entity extraction: people, organisations and places as canonical names.

Two halves, kept apart so the rules can be tested without a model:

* ``canonical`` -- ``canonicalise``, a pure function over spaCy-style
  ``(text, label)`` pairs: cleaning, surname and misspelling resolution.
* ``extract`` -- ``EntityExtractor``, which runs the spaCy model over many
  texts and keeps the model's raw spans in a SQLite cache (``cache``).

``annotate`` is the pipeline's entities stage: it fills the entity fields a
format did not give.
"""

from search.ingest.entities.canonical import canonicalise, clean_entity
from search.ingest.entities.extract import EntityExtractor

__all__ = ["EntityExtractor", "canonicalise", "clean_entity"]
