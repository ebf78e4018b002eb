"""The query stage: search parameters in, the DESIGN.md JSON answer out.

The names callers outside the stage use are re-exported here; each is owned by one module.
"""

from search.query.engine import SearchEngine
from search.query.errors import QueryError
from search.query.params import MAX_PAGE, SearchParams

__all__ = ["MAX_PAGE", "QueryError", "SearchEngine", "SearchParams"]
