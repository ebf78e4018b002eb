"""The query language of the search box, parsed into a small tree the engine evaluates with numpy.

    words (all must match) · "phrases" · OR · AND · NOT / -word · ( groups )
    field:value (title, body, people, orgs, places, source, topics, authors; a few aliases)
    prefix word* · wildcard w?rd · date:2025-09 · date:[1987-03-01 TO 1987-03-15] · date:>=1987-03

A hand-written parser rather than Whoosh's: every malformed input becomes a
``QueryError`` whose message says what is wrong, and every expansion is
bounded here (term count, prefix length) before any index work starts.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from search.index.schema import QUERY_FIELDS, TEXT_FIELDS, entity_analyzer, news_analyzer
from search.query import wildcard
from search.query.dates import parse_date_value
from search.query.errors import QueryError
from search.query.tree import And, Everything, Node, Not, Nothing, Or, Parsed, Phrase, Prefix, Term, Wildcard

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 40
MIN_PREFIX = 2
MAX_DEPTH = 20  # nested groups and NOTs; 400 nested '(' used to raise RecursionError (a 500 on every route)
FIELD_ALIASES = {
    **{name: name for name in (*QUERY_FIELDS, "date")},
    "headline": "title", "text": "body", "person": "people", "org": "orgs", "organisation": "orgs",
    "organization": "orgs", "organisations": "orgs", "organizations": "orgs", "place": "places",
    "topic": "topics", "author": "authors",
}
FIELD_NAMES = ", ".join((*QUERY_FIELDS, "date"))



# -- lexer ----------------------------------------------------------------------------------
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<open>\()|(?P<close>\))|
        (?P<phrase>"[^"]*"?)|
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)
_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.DOTALL)


@dataclass
class _Tok:
    kind: str  # open, close, phrase, word, and, or, not, field, dash
    text: str = ""
    field: str | None = None


def tokenize(q: str) -> list[_Tok]:
    """Split the query into tokens; ``-x`` and ``field:x`` are folded into the token they prefix."""
    q = _merge_date_ranges(q)
    out: list[_Tok] = []
    pos = 0
    while pos < len(q):
        match = _TOKEN_RE.match(q, pos)
        if not match or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "phrase":
            if len(text) < 2 or not text.endswith('"'):
                raise QueryError('missing closing quote (") in the query')
            out.append(_Tok("phrase", text[1:-1]))
        elif kind == "word":
            out.extend(_word_tokens(text))
        else:
            out.append(_Tok(kind))
    return _attach_prefixes(out)


_DATE_BRACKET_RE = re.compile(r"\b([Dd]ate):\[([^\]]*)\]")


def _merge_date_ranges(q: str) -> str:
    """``date:[a TO b]`` may contain spaces: glue it into one word before splitting."""
    return _DATE_BRACKET_RE.sub(lambda m: f"{m.group(1)}:[{m.group(2).strip().replace(' ', chr(0))}]", q)


def _word_tokens(text: str) -> list[_Tok]:
    if text in ("AND", "&&"):
        return [_Tok("and")]
    if text in ("OR", "||"):
        return [_Tok("or")]
    if text == "NOT":
        return [_Tok("not")]
    if text.startswith(("-", "+")) and len(text) > 1:  # -x negates, +x is x; a run of signs in one pass
        signs = min(len(text) - len(text.lstrip("+-")), len(text) - 1)
        return [*(_Tok("not") for sign in text[:signs] if sign == "-"), *_word_tokens(text[signs:])]
    if text in ("-", "+"):  # a lone dash is punctuation ("Paris - Berlin"); a leading one prefixes a group
        return [_Tok("dash")] if text == "-" else []
    match = _FIELD_RE.match(text)
    if match and match.group(1).lower() in FIELD_ALIASES:
        name = FIELD_ALIASES[match.group(1).lower()]
        return [_Tok("field", field=name), *([_Tok("word", match.group(2).replace(chr(0), " "))]
                                             if match.group(2) else [])]
    if match and match.group(2) and not match.group(2).startswith("/"):
        raise QueryError(f"unknown field '{match.group(1)}:' — fields are {FIELD_NAMES}")
    return [_Tok("word", text)]


def _attach_prefixes(tokens: list[_Tok]) -> list[_Tok]:
    """A dash right before ( or a phrase negates it; a field name applies to the next word, phrase or group."""
    out = []
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.kind == "dash":
            if nxt is not None and nxt.kind in ("open", "phrase"):
                out.append(_Tok("not"))
            continue
        if tok.kind == "field" and (nxt is None or nxt.kind not in ("word", "phrase", "open")):
            raise QueryError(f"'{tok.field}:' needs a value right after the colon, e.g. {tok.field}:value")
        out.append(tok)
    return out


# -- parser ---------------------------------------------------------------------------------
class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary+; unary := NOT unary | primary."""

    def __init__(self, tokens: list[_Tok]):
        self.tokens = tokens
        self.pos = 0
        self.words: list[str] = []
        self.ignored: list[str] = []  # typed words and phrases that analyse to nothing
        self.clauses = 0
        self.depth = 0

    @contextlib.contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper into ( ) or NOT; the parser and every tree walk recurse per level."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"query nested too deeply: at most {MAX_DEPTH} levels of ( ) and NOT")
        try:
            yield
        finally:
            self.depth -= 1

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node | None:
        if not self.tokens:
            return Everything()
        tree = self.or_expr(None)
        tok = self.peek()
        if tok is not None:
            raise QueryError("unexpected ')' — it has no matching '('" if tok.kind == "close"
                             else f"could not read the query near '{tok.text or tok.kind}'")
        return tree

    def or_expr(self, fieldname: str | None) -> Node | None:
        items = [self.and_expr(fieldname)]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("close", "or", "and"):
                raise QueryError("OR needs a word or phrase on each side")
            items.append(self.and_expr(fieldname))
        return _combine(Or, items)

    def and_expr(self, fieldname: str | None) -> Node | None:
        items: list[Node | None] = []
        while (tok := self.peek()) is not None and tok.kind not in ("close", "or"):
            if tok.kind == "and":
                self.take()
                nxt = self.peek()
                if not items or nxt is None or nxt.kind in ("close", "or", "and"):
                    raise QueryError("AND needs a word or phrase on each side")
                continue
            items.append(self.unary(fieldname))
        if not items:
            tok = self.peek()
            raise QueryError("OR needs a word or phrase on each side" if tok is not None and tok.kind == "or"
                             else "empty group: put words between the parentheses")
        return _combine(And, items)

    def unary(self, fieldname: str | None) -> Node | None:
        tok = self.take()
        if tok.kind == "not":
            nxt = self.peek()
            if nxt is None or nxt.kind in ("close", "or", "and"):
                raise QueryError("NOT (or -) needs a word or phrase after it")
            with self.nested():
                inner = self.unary(fieldname)
            return Not(inner) if inner is not None else None
        if tok.kind == "field":
            return self.primary(self.take(), tok.field)
        return self.primary(tok, fieldname)

    def primary(self, tok: _Tok, fieldname: str | None) -> Node | None:
        if tok.kind == "open":
            if self.peek() is None:
                raise QueryError("missing ')' to close a '('")
            with self.nested():
                inner = self.or_expr(fieldname)
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError("missing ')' to close a '('")
            self.take()
            return inner
        if tok.kind == "close":
            raise QueryError("unexpected ')' — it has no matching '('")
        if tok.kind in ("and", "or"):
            raise QueryError(f"{tok.kind.upper()} needs a word or phrase on each side")
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QueryError(f"query too long: at most {MAX_CLAUSES} words, phrases and filters")
        if fieldname == "date":
            return parse_date_value(tok.text)
        if tok.kind == "phrase":
            return self.phrase(tok.text, fieldname)
        return self.word(tok.text, fieldname)

    def phrase(self, text: str, fieldname: str | None) -> Node | None:
        fields = (fieldname,) if fieldname else TEXT_FIELDS
        nodes = [n for n in (_analysed(text, f) for f in fields) if n is not None]
        if fieldname is None and nodes:
            self.words.extend(_plain_words(text))
        if not nodes:
            self.ignored.append(f'"{text}"')
        return _combine(Or, nodes) if nodes else None

    def word(self, text: str, fieldname: str | None) -> Node | None:
        if "*" in text or "?" in text:
            return self.wildcard(text, fieldname)
        fields = (fieldname,) if fieldname else TEXT_FIELDS
        nodes = [n for n in (_analysed(text, f) for f in fields) if n is not None]
        if fieldname is None and nodes:
            self.words.extend(_plain_words(text))
        if not nodes:
            self.ignored.append(text)
        return _combine(Or, nodes) if nodes else None

    def wildcard(self, text: str, fieldname: str | None) -> Node | None:
        pattern = wildcard.normalise(text.lower().strip(".,;:!"))
        literal = wildcard.literal_prefix(pattern)
        if len(literal) < MIN_PREFIX:
            raise QueryError(f"'{text}': put at least {MIN_PREFIX} letters before * or ?")
        fields = (fieldname,) if fieldname else TEXT_FIELDS
        if re.fullmatch(r"[^*?]+\*", pattern):
            return _combine(Or, [Prefix(f, literal) for f in fields])
        return _combine(Or, [Wildcard(f, pattern) for f in fields])


def _combine(kind: type[And | Or], items: Sequence[Node | None]) -> Node | None:
    """Drop empty parts (stop words); a group of one is that one."""
    present = [i for i in items if i is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    flat: list[Node] = []
    for item in present:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


_ANALYZERS = {"text": news_analyzer(), "entity": entity_analyzer()}


def _analysed(text: str, fieldname: str) -> Term | Phrase | None:
    """The field's own analysis of a word or phrase: one term, a phrase of terms, or nothing (stop words)."""
    analyzer = _ANALYZERS["text" if fieldname in TEXT_FIELDS else "entity"]
    tokens = [(t.pos, t.text) for t in analyzer(text, positions=True)]
    if not tokens:
        return None
    if len(tokens) == 1:
        return Term(fieldname, tokens[0][1])
    first = tokens[0][0]
    return Phrase(fieldname, tuple((pos - first, term) for pos, term in tokens))


_PLAIN_WORD_RE = re.compile(r"[^\W\d_]+")


def _plain_words(text: str) -> list[str]:
    return _PLAIN_WORD_RE.findall(text)


# -- entry point ----------------------------------------------------------------------------
def parse(q: str) -> Parsed:
    """Parse a query string; raises QueryError with a readable message."""
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: at most {MAX_QUERY_CHARS} characters")
    parser = _Parser(tokenize(q))
    tree = parser.parse()
    if tree is None:  # every word a stop word, a single letter or a symbol: say so, match nothing
        tree = Nothing()
    return Parsed(tree, parser.words, parser.ignored)


def replace_words(q: str, fixes: dict[str, str]) -> str:
    """The query with misspelled words swapped for their corrections (everything else as typed)."""
    return _PLAIN_WORD_RE.sub(lambda m: fixes.get(m.group().lower(), m.group()), q)

