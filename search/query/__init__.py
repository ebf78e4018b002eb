"""The query stage: search parameters in, the DESIGN.md JSON answer out.

The names callers outside the stage use are re-exported here, lazily (PEP 562), so that importing
a light module such as ``search.query.params`` (the CLI's ``--help``) does not load the engine,
numpy and Whoosh. Each name is owned by one module.
"""

from importlib import import_module

_OWNERS = {
    "SearchEngine": "search.query.engine",
    "QueryError": "search.query.errors",
    "MAX_PAGE": "search.query.params",
    "SearchParams": "search.query.params",
}

__all__ = sorted(_OWNERS)


def __getattr__(name: str):
    if name in _OWNERS:
        return getattr(import_module(_OWNERS[name]), name)
    raise AttributeError(f"module 'search.query' has no attribute {name!r}")
