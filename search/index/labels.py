"""A generation's ``labels.json``: readable labels of coded facet values, saved at publish time.

The build reads them from beside the sources (``search.ingest.codes``) and saves them in
the generation, so the query side never reads the corpus folder: a label is shown wherever
the value is (sidebar, chips, article page, CSV, JSON ``label``) and the value stays the key.
An update keeps the live generation's labels and adds the new ones.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILENAME = "labels.json"


class Labels:
    """{facet: {value: label}}; a value without a label reads as itself."""

    def __init__(self, table: dict[str, dict[str, str]] | None = None):
        self.table = {facet: dict(values) for facet, values in (table or {}).items() if values}
        self._folded = {facet: {v.casefold(): label for v, label in values.items()}
                        for facet, values in self.table.items()}

    def __bool__(self) -> bool:
        return bool(self.table)

    def label(self, facet: str, value: str) -> str:
        values = self.table.get(facet)
        if not values:
            return value
        found = values.get(value)
        return found if found is not None else self._folded[facet].get(value.casefold(), value)

    def merged(self, newer: dict[str, dict[str, str]]) -> Labels:
        table = {facet: dict(values) for facet, values in self.table.items()}
        for facet, values in newer.items():
            table.setdefault(facet, {}).update(values)
        return Labels(table)


def save(directory: str | os.PathLike, labels: Labels | dict) -> None:
    """Write atomically; no labels, no file."""
    labels = labels if isinstance(labels, Labels) else Labels(labels)
    target = Path(directory) / FILENAME
    if not labels:
        target.unlink(missing_ok=True)
        return
    tmp = target.with_name(f".{FILENAME}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(labels.table, ensure_ascii=False, sort_keys=True, indent=0), encoding="utf-8")
    os.replace(tmp, target)


def load(directory: str | os.PathLike) -> Labels:
    """The saved labels, or none (an older generation, or sources without code lists)."""
    try:
        table = json.loads((Path(directory) / FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Labels()
    if not isinstance(table, dict):
        return Labels()
    return Labels({str(facet): {str(k): str(v) for k, v in values.items()}
                   for facet, values in table.items() if isinstance(values, dict)})
