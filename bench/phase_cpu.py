"""CPU seconds per rebuild phase: wraps the stage functions the build calls, in the benchmark's own process.

Each phase's figure is parent CPU + reaped children's CPU (the read pool's processes) between
entry and exit of its function, summed over calls. A function a tree does not have (the
pipeline changes) is skipped, so one bench can measure an older tree beside the current one.
"""

from __future__ import annotations

import functools
import importlib
import resource

# phase -> (module, attribute); the build looks each up on its module at call time (or imported it by name)
PHASES = {
    "read": ("search.build", "_read"),
    "prepare": ("search.build", "prepare"),
    "dedupe": ("search.build", "dedupe"),
    "entities": ("search.build", "add_entities"),
    "write": ("search.index.writer", "write_all"),
    "state": ("search.state", "write_state"),
    "clusters": ("search.index.clusters", "publish"),
}


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def install() -> dict[str, dict[str, float]]:
    """Wrap every phase function found; returns the table the wrappers fill: phase -> {parent, children}."""
    spent: dict[str, dict[str, float]] = {}
    for phase, (module_name, attribute) in PHASES.items():
        module = importlib.import_module(module_name)
        function = getattr(module, attribute, None)
        if function is None:
            continue
        setattr(module, attribute, _timed(function, spent.setdefault(phase, {"parent": 0.0, "children": 0.0})))
    return spent


def _timed(function, into: dict[str, float]):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        own, children = _cpu()
        try:
            result = function(*args, **kwargs)
            if hasattr(result, "__next__"):  # a generator: its work happens while it is consumed
                result = list(result)
            return result
        finally:
            own_after, children_after = _cpu()
            into["parent"] += own_after - own
            into["children"] += children_after - children

    return wrapper
