"""CPU seconds per rebuild phase: wraps the stage functions the build calls, in the benchmark's own process.

Each phase's figure is parent CPU + reaped children's CPU (the read pool's processes) between
entry and exit of its function, summed over calls; a phase function called inside another
(``sign`` inside ``publish``) counts for the outer one only. A function a tree does not have
(the pipeline changes) is skipped, so one bench can measure an older tree beside the current
one. A phase function that returns a generator is consumed whole inside its timer: fine for
CPU figures, not for memory ones.
"""

from __future__ import annotations

import functools
import importlib
import resource

# phase -> where its function lives, newest pipeline first: (module, attribute or Class.method). The
# first one a tree has is timed, so one bench measures an older tree beside the current one. In the
# streaming build (ingest/batches.py) "write" also holds what runs as the writers pull batches:
# loading prepared batches, entities and signing (nested phases count for the outer one).
PHASES = {
    "read": [("search.ingest.batches", "ArticleStream.read"), ("search.build", "_read")],
    "prepare": [("search.ingest.batches", "ArticleStream.prepare"), ("search.build", "prepare")],
    "dedupe": [("search.build", "dedupe")],
    "entities": [("search.build", "add_entities")],
    "write": [("search.index.writer", "write_batches"), ("search.index.writer", "write_all")],
    "state": [("search.state", "write_state")],
    "clusters": [("search.index.clusters", "publish")],
    "sign": [("search.index.clusters", "sign")],  # signed batch by batch inside "write" in a streaming build
}
_running: list[str] = []  # the phases being timed, outermost first


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def install() -> dict[str, dict[str, float]]:
    """Wrap every phase function found; returns the table the wrappers fill: phase -> {parent, children}."""
    spent: dict[str, dict[str, float]] = {}
    for phase, places in PHASES.items():
        for module_name, attribute in places:
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            function = getattr(owner, name, None) if owner is not None else None
            if function is None:
                continue
            setattr(owner, name, _timed(function, spent.setdefault(phase, {"parent": 0.0, "children": 0.0})))
            break
    return spent


def _timed(function, into: dict[str, float]):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _running:  # inside another phase: its CPU is that phase's
            return function(*args, **kwargs)
        own, children = _cpu()
        _running.append(function.__name__)
        try:
            result = function(*args, **kwargs)
            if hasattr(result, "__next__"):  # a generator: its work happens while it is consumed
                result = list(result)
            return result
        finally:
            _running.pop()
            own_after, children_after = _cpu()
            into["parent"] += own_after - own
            into["children"] += children_after - children

    return wrapper
