"""Bounded rejection reporting: the first records in full, then counts per reason, in constant memory.

A 20 KB ``.gz`` of ten million ``{`` lines once cost 3 GB and 10.5 M stderr
lines: every ``Rejected`` was kept in lists (in the reading worker, in the
run report) and every one printed.  A ``RejectionTally`` keeps the first
KEEP_PER_FILE rejections of a file and counts the rest by reason; a
``RejectionLog`` prints the first PRINT_LINES of a run as ``path:line: reason``
and ends with one line per reason that had more.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from search.model import Rejected

KEEP_PER_FILE = 100  # rejections a worker sends back in full for one file
PRINT_LINES = 100  # rejections a run prints in full
MAX_REASONS = 50  # distinct reason kinds counted; the rest are "other"
_DETAIL_RE = re.compile(r"\s*[:(].*$", re.S)


def reason_kind(reason: str) -> str:
    """A reason without its details: 'invalid JSON: Expecting value at column 1' -> 'invalid JSON'."""
    return _DETAIL_RE.sub("", reason) or reason


class RejectionTally:
    """One file's rejections: the first few in full, the rest counted by kind."""

    def __init__(self, keep: int = KEEP_PER_FILE):
        self.keep = keep
        self.listed: list[Rejected] = []
        self.more: Counter[str] = Counter()

    def add(self, rejected: Rejected) -> None:
        if len(self.listed) < self.keep:
            self.listed.append(rejected)
        else:
            _count(self.more, reason_kind(rejected.reason), 1)

    def __len__(self) -> int:
        return len(self.listed) + sum(self.more.values())


class RejectionLog:
    """A run's rejections: printed as they come up to a limit, counted always, summarised at the end."""

    def __init__(self, emit: Callable[[str], None], print_lines: int = PRINT_LINES):
        self.emit = emit
        self.print_lines = print_lines
        self.total = 0
        self.listed: list[Rejected] = []  # the printed ones, kept for callers that inspect them
        self.unprinted: Counter[str] = Counter()

    def add(self, rejected: Rejected) -> None:
        self.total += 1
        if self.total <= self.print_lines:
            self.listed.append(rejected)
            self.emit(str(rejected))
        else:
            _count(self.unprinted, reason_kind(rejected.reason), 1)

    append = add  # a RejectionLog stands in for a list of rejections (prepare appends to it)

    def add_counts(self, kinds: Counter) -> None:
        """Rejections counted elsewhere (a worker's tally) without their details."""
        for kind, count in kinds.items():
            self.total += count
            _count(self.unprinted, kind, count)

    def add_tally(self, tally: RejectionTally) -> None:
        self.extend(tally.listed)
        self.add_counts(tally.more)

    def extend(self, items: Iterable[Rejected]) -> None:
        for rejected in items:
            self.add(rejected)

    def finish(self) -> None:
        """After the run: how many more of each kind were not printed."""
        if self.unprinted:
            self.emit(f"… and {sum(self.unprinted.values())} more rejected records not listed:")
            for kind, count in self.unprinted.most_common():
                self.emit(f"  {count} × {kind}")
            self.unprinted.clear()

    def __len__(self) -> int:
        return self.total

    def __iter__(self):
        return iter(self.listed)


def _count(counter: Counter, kind: str, n: int) -> None:
    if kind not in counter and len(counter) >= MAX_REASONS:
        kind = "other reasons"
    counter[kind] += n
