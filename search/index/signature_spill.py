"""A run's story-cluster signatures kept on disk batch by batch, and read back sorted by article id.

A rebuild signs every batch on its way to the segment writers. Kept as a list of arrays
in the parent and joined at publish (``clusters.Signed.join``), they were ~450 bytes per
article held through the whole write, then twice over while sorting by id (the joined copy
and the sorted one): ×10 Reuters, 216k articles, 193 MB of the clustering's 202 MB peak
(``bench/bench_publish_memory.py``). Here the signature rows go to two flat files in the
run's scratch folder as they come; only the ids stay in memory (~60 bytes per article).
``sorted`` fills preallocated sorted arrays from the files ``CHUNK_ROWS`` rows at a time,
each chunk through a fresh read-only map dropped after it, so at most one chunk's pages of
the files are mapped at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHUNK_ROWS = 16_384  # rows gathered per map of the files: ≤ 64 MB of file pages, one page per row at worst
NAMES = ("sigs", "figs")


class SignatureSpill:
    """Article ids in memory, their shingle and figure signatures (uint32 rows) appended to files."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ids: list[np.ndarray] = []
        self.widths: dict[str, int] = {}
        self.rows = 0
        self._files = {name: open(self.folder / f"{name}.u32", "wb") for name in NAMES}  # noqa: SIM115

    def __len__(self) -> int:
        return self.rows

    def add(self, signed) -> None:
        """Append one batch's ``clusters.Signed``."""
        for name in NAMES:
            rows = np.ascontiguousarray(getattr(signed, name), dtype=np.uint32)
            if self.widths.setdefault(name, rows.shape[1]) != rows.shape[1]:
                raise ValueError(f"{name}: {rows.shape[1]} slots per row, the spill has {self.widths[name]}")
            self._files[name].write(rows.tobytes())
            self._files[name].flush()  # nothing buffered for a forked segment writer to inherit
        self.ids.append(np.asarray(signed.ids, dtype=str))
        self.rows += len(signed.ids)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()

    def take_ids(self) -> np.ndarray:
        """Every row's article id, in the order the rows were added; the spill lets go of its own (only
        ``read`` by row number works after this)."""
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=str)
        self.ids = []
        return ids

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sigs, figs) of the given rows (numbers in adding order), ``CHUNK_ROWS`` rows per map of the files."""
        self.close()
        out = []
        for name in NAMES:
            width = self.widths.get(name, 0)
            found = np.empty((len(rows), width), dtype=np.uint32)
            for lo in range(0, len(rows) if width else 0, CHUNK_ROWS):
                source = np.memmap(self.folder / f"{name}.u32", dtype=np.uint32, mode="r", shape=(self.rows, width))
                found[lo:lo + CHUNK_ROWS] = source[rows[lo:lo + CHUNK_ROWS]]
                del source  # unmapped: the file's pages leave this process
            out.append(found)
        return out[0], out[1]

    def sorted(self, widths: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, sigs, figs) ordered by id (stable), as ``clusters.state_of`` orders a joined ``Signed``.

        ``widths``: slots per row of each signature, for an empty spill.
        """
        self.close()
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=str)
        self.ids = []
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        out = []
        for name in NAMES:
            width = self.widths.get(name, widths[name])
            rows = np.empty((len(ids), width), dtype=np.uint32)
            for lo in range(0, len(ids), CHUNK_ROWS):
                source = np.memmap(self.folder / f"{name}.u32", dtype=np.uint32, mode="r", shape=(len(ids), width))
                rows[lo:lo + CHUNK_ROWS] = source[order[lo:lo + CHUNK_ROWS]]
                del source  # unmapped: the file's pages leave this process
            out.append(rows)
        return ids, out[0], out[1]
