"""The query tree: what the parser builds and the evaluator runs.

Apart from the parser as in Whoosh (``query/`` vs ``qparser/``) and lunr.py (``query.py`` vs
``query_parser.py``): the evaluator, the highlighter and related articles build or walk trees
without knowing the query syntax. Nodes are frozen, so a tree can be shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    field: str
    text: str  # one analysed term: a stem in title/body, a lowercased word in entity fields


@dataclass(frozen=True)
class Phrase:
    field: str
    words: tuple[tuple[int, str], ...]  # (relative position, term)


@dataclass(frozen=True)
class Prefix:
    field: str
    text: str


@dataclass(frozen=True)
class Wildcard:
    field: str
    pattern: str  # lowercase, with * and ?


@dataclass(frozen=True)
class DateRange:
    start: int | None  # epoch seconds, inclusive
    end: int | None  # epoch seconds, inclusive


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Everything:
    """The empty query: every article."""


@dataclass(frozen=True)
class Nothing:
    """A query whose every word is unsearchable (stop words, single letters, symbols): no article.

    Never the whole archive: "AT&T" or "the who" matching everything would read as a match."""


Node = Term | Phrase | Prefix | Wildcard | DateRange | And | Or | Not | Everything | Nothing


@dataclass
class Parsed:
    tree: Node
    words: list[str] = field(default_factory=list)  # the plain words typed, for spelling suggestions
    ignored: list[str] = field(default_factory=list)  # words and phrases the index cannot match, as typed


def positive_terms(tree: Node) -> set[tuple[str, str]]:
    """(field, term) pairs a result matched on — what snippets highlight (not the NOT parts)."""
    out: set[tuple[str, str]] = set()

    def walk(node: Node) -> None:
        match node:
            case Term(field=fieldname, text=text):
                out.add((fieldname, text))
            case Phrase(field=fieldname, words=words):
                out.update((fieldname, term) for _, term in words)
            case And(items=items) | Or(items=items):
                for item in items:
                    walk(item)

    walk(tree)
    return out
