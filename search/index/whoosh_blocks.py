"""Whoosh internals for writing a segment's postings block by block (the build's fast path).

Written against Whoosh 2.7.4, like ``whoosh_internals`` (which holds the reading side and the
rest of the writing side; this module exists because that one is at the size limit). Each
function says what it assumes; ``tests/test_fast_postings.py`` checks that a segment written
this way holds byte for byte the posting lists and term infos Whoosh's own writer produces.

Why: Whoosh's ``SegmentWriter`` pushes every posting through its external-sort pool (a tuple
per posting, pickled runs, a heap merge) and then one ``add_posting`` call, one per-document
length lookup and one ``finish_term`` per term; measured on Reuters ×1, that was most of a
build's CPU. The postings of the text fields are already in numpy arrays (the postings sidecar's
``Collector``), so their blocks can be handed to Whoosh's own block writer whole.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable, Iterable
from operator import itemgetter

from whoosh.writing import SegmentWriter

# (ids, weights, values, min length, max length, max weight) of one block; the lengths are Whoosh's
# quantised per-document field lengths (``doc_field_length``), None when no posting has one.
Block = tuple[array, array, list, int | None, int, float]


class _DroppingPool:
    """A writer's posting pool that drops the postings of some fields (they are written by ``flush``).

    Assumes: ``SegmentWriter.add_document`` sends every posting to ``self.pool.add`` as
    ``(fieldname, tbytes, docnum, weight, vbytes)``, and the writer uses ``iter_postings`` and
    ``cleanup`` of the pool later; everything else is passed through.
    """

    def __init__(self, pool, dropped: set[str]):
        self._pool = pool
        self._dropped = dropped

    def add(self, item) -> None:
        if item[0] not in self._dropped:
            self._pool.add(item)

    def __getattr__(self, name):
        return getattr(self._pool, name)


def write_fields_in_blocks(writer: SegmentWriter, fields: dict[str, Callable[[int], Iterable[tuple[bytes, list]]]],
                           check: Callable[[int], None]) -> None:
    """Make the writer take ``fields``' postings from callables instead of its pool.

    Each callable gets the codec's block size and yields ``(term bytes, [Block, ...])`` in term
    order; ``check`` gets the number of documents written before anything is (it raises if the
    callables do not cover exactly those). The pool's own fields and
    these are written in field-name order, the order Whoosh's pool gives (so the segment's field
    map and term order are what Whoosh itself would write).

    Assumes: ``_flush_segment`` is "close the per-doc writer, ``fieldwriter.add_postings(schema,
    per-doc reader, pool postings)``, close the field writer" (2.7.4); ``add_postings`` may be
    called once per field (it starts and finishes the fields it sees); ``W3FieldWriter``'s
    ``start_field``/``start_term``/``finish_term``/``finish_field`` and its ``_postwriter``
    (a ``W3PostingsWriter``) whose ``_write_block`` writes the buffered ``_ids``/``_weights``/
    ``_values`` with the block statistics ``_minlength``/``_maxlength``/``_maxweight``; the
    ``W3Codec`` keeps its block size as ``_blocklimit``; ``writer.docnum`` counts the documents added.
    """
    writer.pool = _DroppingPool(writer.pool, set(fields))

    def flush() -> None:
        check(writer.docnum)
        blocklimit = writer.codec._blocklimit
        writer.perdocwriter.close()
        lengths = _Lengths(writer.per_document_reader(), writer.schema) if writer.codec.length_stats else None
        fieldwriter = writer.fieldwriter
        pooled = itertools.groupby(writer.pool.iter_postings(), key=itemgetter(0))
        pending = next(pooled, None)
        for name in sorted(fields):
            while pending is not None and pending[0] < name:
                fieldwriter.add_postings(writer.schema, lengths, pending[1])
                pending = next(pooled, None)
            _write_field(fieldwriter, name, writer.schema[name], fields[name](blocklimit))
        while pending is not None:
            fieldwriter.add_postings(writer.schema, lengths, pending[1])
            pending = next(pooled, None)
        fieldwriter.close()
        if lengths:
            lengths.close()

    writer._flush_segment = flush


class _Lengths:
    """The per-document reader ``add_postings`` asks for each posting's field length, minus a file-system
    check per posting for fields that keep no lengths (measured: ~1 s per 100k ID postings).

    Assumes: ``W3PerDocReader.doc_field_length`` returns ``default`` when the field has no length
    column, and only scorable fields get one (``SegmentWriter.add_document`` passes a length only
    for them); it looks the column up on disk each time it is missing.
    """

    def __init__(self, reader, schema):
        self._reader = reader
        self._unscored = {name for name in schema.names() if not schema[name].scorable}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        if fieldname in self._unscored:
            return default
        return self._reader.doc_field_length(docnum, fieldname, default)

    def close(self) -> None:
        self._reader.close()


def _write_field(fieldwriter, name: str, fieldobj, terms: Iterable[tuple[bytes, list[Block]]]) -> None:
    started = False
    for btext, blocks in terms:
        if not started:
            fieldwriter.start_field(name, fieldobj)
            started = True
        fieldwriter.start_term(btext)
        postwriter = fieldwriter._postwriter
        for number, (ids, weights, values, minlength, maxlength, maxweight) in enumerate(blocks, start=1):
            postwriter._ids, postwriter._weights, postwriter._values = ids, weights, values
            postwriter._minlength, postwriter._maxlength, postwriter._maxweight = minlength, maxlength, maxweight
            if number < len(blocks):
                postwriter._write_block()
        fieldwriter.finish_term()  # writes the buffered last block, marked last
    if started:
        fieldwriter.finish_field()

