"""Is a generation readable?  Tells a damaged generation (truncated segment, garbage table of contents) apart
from a bug, so the CLI can say which generation is broken and exit 2 instead of printing a traceback.

Opening a Whoosh reader loads the table of contents and every segment's
compound-file directory (kept at the end of the file, so any truncation
loses it): the damage seen in practice surfaces there as EOFError, struct or
pickle errors, or Whoosh's own IndexError.
"""

from __future__ import annotations

from pathlib import Path

from search.index.writer import open_index


class CorruptGeneration(Exception):
    """A generation's index files cannot be read."""

    def __init__(self, generation: Path, cause: BaseException):
        self.generation = generation
        super().__init__(f"generation {generation.name} is corrupt ({type(cause).__name__}: {cause}); "
                         f"'newsearch rollback' makes the previous one live, 'newsearch rebuild' writes a new one")


def check(generation: Path) -> None:
    """Raise CorruptGeneration if the generation's index cannot be opened and read."""
    try:
        with open_index(generation).reader() as reader:
            reader.doc_count_all()
            for name in reader.indexed_field_names():
                reader.field_length(name)
    except Exception as exc:  # any failure to open is damage: report which generation, never a traceback
        raise CorruptGeneration(generation, exc) from exc


def diagnose(generation: Path | None, error: BaseException) -> BaseException:
    """The error to report for a failure while reading ``generation``: CorruptGeneration if it is damaged."""
    if generation is None:
        return error
    try:
        check(generation)
    except CorruptGeneration as corrupt:
        return corrupt
    return error
