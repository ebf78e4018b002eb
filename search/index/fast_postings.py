"""The text fields' postings of a build worker's segment, written from numpy arrays in Whoosh's own format.

The postings sidecar's ``Collector`` already holds every posting of the
segment's text and name fields, sorted (term, doc). Rather than also pushing
each posting through Whoosh's pool, each term's blocks are cut from those
arrays and handed whole to Whoosh's block writer (``whoosh_blocks``): the
segment stays a Whoosh segment, byte for byte the postings Whoosh writes
(``tests/test_fast_postings.py``), and Whoosh opens and searches it as usual.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.index import whoosh_blocks
from search.index.postings_sidecar import Collector


def install(writer, collector: Collector) -> None:
    """Have ``writer`` write the collector's fields from its arrays when the segment is finished."""

    def check(written: int) -> None:
        if collector.first != 0 or collector.docnum != written:
            raise RuntimeError(f"postings recorded for {collector.docnum - collector.first} documents, "
                               f"the segment has {written}")

    fields = {name: (lambda blocklimit, name=name: _terms(collector, name, writer.schema[name].format, blocklimit))
              for name in collector.fields()}
    whoosh_blocks.write_fields_in_blocks(writer, fields, check)
    collector.values_wanted = False  # the pool drops these fields' postings: Whoosh need not encode their values


def _terms(collector: Collector, name: str, fmt, blocklimit: int) -> Iterator[tuple[bytes, list]]:
    arrays = collector.arrays(name)
    term_ptr = arrays["term_ptr"].tolist()
    docs = arrays["docs"].astype(np.uint32)
    pos_ptr = arrays["pos_ptr"]
    counts = np.diff(pos_ptr)
    weights = counts * collector.boost(name)  # float64: what Whoosh's writer compares for the block maximum
    weights32 = weights.astype(np.float32)
    lengths = _quantised_lengths(docs, counts, collector.docnum)[docs]
    flat, ptr = arrays["positions"].tolist(), pos_ptr.tolist()
    encode = fmt.encode
    for term, low, high in zip(arrays["terms"].tolist(), term_ptr, term_ptr[1:], strict=False):
        blocks = []
        for start in range(low, high, blocklimit):
            end = min(high, start + blocklimit)
            ids, block_weights = array("I"), array("f")
            ids.frombytes(docs[start:end].tobytes())
            block_weights.frombytes(weights32[start:end].tobytes())
            values = [encode(flat[ptr[p]:ptr[p + 1]]) for p in range(start, end)]
            block_lengths = lengths[start:end]
            blocks.append((ids, block_weights, values, int(block_lengths.min()), int(block_lengths.max()),
                           float(weights[start:end].max())))
        yield term, blocks


def _quantised_lengths(docs: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """Each document's field length as Whoosh stores and reads it back (one byte, ``doc_field_length``)."""
    totals = np.bincount(docs, weights=counts, minlength=size).astype(np.int64)
    values, inverse = np.unique(totals, return_inverse=True)
    return np.array([byte_to_length(length_to_byte(int(v))) if v else 0 for v in values.tolist()],
                    dtype=np.int64)[inverse]
