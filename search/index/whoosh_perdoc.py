"""Whoosh internals for adding a document without ``SegmentWriter.add_document`` (the build's lean path).

Written against Whoosh 2.7.4, like ``whoosh_internals`` and ``whoosh_blocks``; each function says
what it assumes. ``tests/test_doc_writer.py`` checks that a segment filled this way holds the same
stored fields, field lengths, totals and postings as one filled by ``add_document``.

Why: ``add_document`` dispatches every field through ``field.index`` (a generator per field, a
tuple per posting into the external-sort pool) and computes the terms of ID and DATETIME fields
through Whoosh's analyzers; measured on half of Reuters ×1 that was ~12 of a worker's 20 profiled
CPU-s. ``doc_writer`` does the per-document work itself and only hands Whoosh what it stores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from whoosh import fields
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.formats import Existence
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

TermsOf = Callable[[object], list[bytes]]


def term_function(field) -> TermsOf | None:
    """The terms ``field.index(value)`` yields, as a plain function, for the fields whose postings carry no
    values (ID, DATETIME): each term once, frequency 1, weight the field's boost. None for other fields.

    Assumes: ``ID`` with an ``IDTokenizer`` analyzer and ``Existence`` format indexes the whole value as
    its UTF-8 bytes; ``DATETIME`` (a ``NUMERIC``) indexes ``to_bytes(value, shift)`` for every shift in
    ``range(0, bits, shift_step)``, i.e. the shift-0 term's sortable number shifted and packed after one
    byte of shift (``sortable_to_bytes``).
    """
    if type(field) is fields.ID and type(field.analyzer) is IDTokenizer and type(field.format) is Existence:
        return lambda value: [value.encode("utf-8")]
    if type(field) is fields.DATETIME and field.shift_step:
        shifts = range(field.shift_step, field.bits, field.shift_step)
        prefixed = [(bytes((shift,)), shift) for shift in shifts]  # ``sortable_to_bytes``: pack_byte(shift) + ...
        unpack, pack = field._struct.unpack, field._struct.pack

        def datetime_terms(value) -> list[bytes]:
            first = field.to_bytes(value, 0)
            sortable = unpack(first[1:])[0]
            return [first, *[prefix + pack(sortable >> shift) for prefix, shift in prefixed]]
        return datetime_terms
    return None


def term_weight(field) -> float:
    """The weight of each posting of a ``term_function`` field (``Existence.word_values``: the field boost)."""
    return float(field.format.field_boost)


def add_stored(writer: SegmentWriter, docnum: int, stored: dict) -> None:
    """Add one document with these stored values (and no lengths: ``write_lengths`` writes the segment's).

    Assumes: ``add_document`` checks the writer is open, calls ``perdocwriter.start_doc(docnum)``, then
    ``add_field(name, field, value, length)`` per field, which puts a stored value in the dict
    ``_storedfields`` (so the caller must give the values in sorted field-name order, as ``add_document``
    does: the pickled dict's bytes), then ``finish_doc`` (which pickles the dict into the stored column),
    sets ``_added`` and counts ``docnum``.
    """
    writer._check_state()
    perdoc = writer.perdocwriter
    perdoc.start_doc(docnum)
    perdoc._storedfields.update(stored)
    perdoc.finish_doc()
    writer._added = True
    writer.docnum += 1


def quantised(lengths: np.ndarray) -> np.ndarray:
    """Each length as Whoosh stores it (one byte, ``length_to_byte``; 0 stays 0)."""
    values, inverse = np.unique(lengths, return_inverse=True)
    return np.array([length_to_byte(int(v)) if v else 0 for v in values.tolist()], np.int64)[inverse]


def as_read(lengths: np.ndarray) -> np.ndarray:
    """Each length as ``doc_field_length`` reads it back (``byte_to_length`` of its byte; 0 stays 0)."""
    values, inverse = np.unique(lengths, return_inverse=True)
    return np.array([byte_to_length(length_to_byte(int(v))) if v else 0 for v in values.tolist()], np.int64)[inverse]


def write_lengths(writer: SegmentWriter, lengths: dict[str, np.ndarray]) -> None:
    """Write every document's field lengths after the last document, as ``add_document`` would have one by one.

    Assumes: ``add_field`` with a non-zero length adds ``length_to_byte(length)`` to the column
    ``_<name>_len`` (``LENGTHS_COLUMN``, created on its first value, hence the creation order below)
    and adds the length to ``_fieldlengths[name]``; the ``NumericColumn`` writer's ``add(docnum, value)``
    takes ascending doc numbers and fills gaps with the default 0.
    """
    perdoc = writer.perdocwriter
    first = {name: int(np.flatnonzero(found)[0]) for name, found in lengths.items() if found.any()}
    for name in sorted(first, key=lambda n: (first[n], n)):
        column = _lenfield(name)
        perdoc._create_column(column, LENGTHS_COLUMN)
        add = perdoc._get_column(column).add
        found = lengths[name]
        docs = np.flatnonzero(found)
        for docnum, byte in zip(docs.tolist(), quantised(found[docs]).tolist(), strict=True):
            add(docnum, byte)
        perdoc._fieldlengths[name] += int(found.sum())
