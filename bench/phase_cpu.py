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

# phase -> (module, attribute); the build looks each up on its module at call time (or imported it by name)
PHASES = {
    "read": ("search.build", "_read"),
    "prepare": ("search.build", "prepare"),
    "dedupe": ("search.build", "dedupe"),
    "entities": ("search.build", "add_entities"),
    "write": ("search.index.writer", "write_all"),
    "state": ("search.state", "write_state"),
    "clusters": ("search.index.clusters", "publish"),
    "sign": ("search.index.clusters", "sign"),  # a streaming rebuild signs batch by batch, before publish
}
_running: list[str] = []  # the phases being timed, outermost first


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
