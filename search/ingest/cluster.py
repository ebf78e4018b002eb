"""Reading and entity extraction as Dask distributed tasks (``--scheduler ADDRESS``).

The expensive per-file and per-article work — reading and parsing files,
running the spaCy model — is independent per item, so it scales out on a Dask
cluster (``dask scheduler`` on one machine, ``dask worker ADDRESS`` on each of
the others, every machine with newsearch installed and the sources at the same
path). Everything that needs the whole run stays on the coordinator, the
process that ran ``newsearch rebuild|update``: the index lock, the boilerplate
pass and normalisation (they count paragraphs across all articles), the entity
cache (looked up before and written after each batch of model runs, so a
worker never touches SQLite), writing the segments and the publish step. A
lost scheduler fails the run before anything is published, so the exit codes,
kill -9 safety and generations are the single-machine ones.

``--scheduler local`` starts a ``LocalCluster`` on this machine for the run
(one worker process per core, one thread each: the readers and the model are
CPU-bound Python).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

LOCAL = "local"
CONNECT_TIMEOUT_S = 30  # a scheduler that does not answer within this is a fatal error (exit 2)


class TaskPool(Protocol):
    """What the ingest stages need from a cluster: an ordered, lazy map."""

    def map(self, fn: Callable, items: Iterable) -> Iterator: ...


class ClusterError(Exception):
    """The scheduler cannot be reached or dask.distributed is not installed."""


class DaskPool:
    """A ``TaskPool`` over a ``distributed.Client``: tasks submitted at once, results fetched in input order."""

    def __init__(self, client):
        self.client = client

    def map(self, fn: Callable, items: Iterable) -> Iterator:
        futures = self.client.map(fn, list(items), pure=False)
        try:
            for future in futures:
                yield future.result()
                future.release()  # the worker may drop it now: memory stays bounded by what is in flight
        finally:
            for future in futures:
                future.cancel()


@contextlib.contextmanager
def connect(address: str | None, workers: int | None = None) -> Iterator[DaskPool | None]:
    """A pool on the scheduler at ``address`` (``local``: a LocalCluster started for the run); None: no cluster."""
    if not address:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError("--scheduler needs dask.distributed: pip install 'newsearch[cluster]'") from exc
    with contextlib.ExitStack() as stack:
        if address == LOCAL:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                silence_logs=40))
            address = cluster.scheduler_address
        try:
            client = stack.enter_context(Client(address, timeout=CONNECT_TIMEOUT_S))
        except OSError as exc:  # includes the connection timeout
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        yield DaskPool(client)
