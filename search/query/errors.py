"""The one error the query side raises for bad input."""

from __future__ import annotations


class QueryError(ValueError):
    """A message that is safe and useful to show the person who typed the query."""
