"""The query tree: what the parser builds and the evaluator runs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    field: str
    text: str


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
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Everything:
    """The empty query: every article."""


@dataclass
class Parsed:
    tree: object
    words: list[str] = field(default_factory=list)  # the plain words typed, for spelling suggestions


def positive_terms(tree) -> set[tuple[str, str]]:
    """(field, term) pairs a result matched on — what snippets highlight (not the NOT parts)."""
    out: set[tuple[str, str]] = set()

    def walk(node):
        if isinstance(node, Term):
            out.add((node.field, node.text))
        elif isinstance(node, Phrase):
            out.update((node.field, t) for _, t in node.words)
        elif isinstance(node, And | Or):
            for item in node.items:
                walk(item)

    walk(tree)
    return out
