"""Walk source folders without ever blocking: regular files only, every skipped entry named.

A FIFO, a device or a symlink to ``/dev/zero`` in a source folder used to be
opened and read — forever, while the run held the index lock.  Each entry is
``stat``-ed first and only regular files are yielded; anything else, a folder
that cannot be listed, or a broken link is a problem (``path: reason``,
exit 1).  Paths are made absolute with symlinks resolved, so one folder named
two ways (``./src`` and ``/abs/src``) is one set of files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from search.model import Rejected


@dataclass
class Walk:
    files: list[Path] = field(default_factory=list)  # regular files, stable order, each once
    problems: list[Rejected] = field(default_factory=list)  # entries skipped, with the reason


def is_documentation(name: str) -> bool:
    """README/LICENSE/Markdown files describe a corpus; they are not articles."""
    upper = name.upper()
    return upper.startswith(("README", "LICENSE", "COPYING")) or upper.endswith(".MD")


def canonical_source(source: str | os.PathLike) -> Path:
    """The one name of a source path: absolute, symlinks resolved."""
    return Path(source).resolve()


def kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "folder")):
        if test(mode):
            return name
    return "special file"


def not_regular(path: Path | str, mode: int) -> Rejected:
    return Rejected(str(path), 0, f"not a regular file ({kind_of(mode)}); skipped")


def walk_sources(sources: Iterable[str | os.PathLike]) -> Walk:
    """Every article file under the sources, recursively; hidden and documentation files inside folders skipped.

    A file named explicitly is always read (if it is a regular file).
    """
    walk, seen = Walk(), set()
    for source in sources:
        root = canonical_source(source)
        try:
            mode = root.stat().st_mode
        except OSError as exc:
            walk.problems.append(Rejected(str(root), 0, exc.strerror or str(exc)))
            continue
        if stat.S_ISDIR(mode):
            _walk_folder(root, walk, seen)
        elif stat.S_ISREG(mode):
            _add(root, walk, seen)
        else:
            walk.problems.append(not_regular(root, mode))
    return walk


def _add(path: Path, walk: Walk, seen: set[Path]) -> None:
    if path not in seen:
        seen.add(path)
        walk.files.append(path)


def _walk_folder(folder: Path, walk: Walk, seen: set[Path]) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        walk.problems.append(Rejected(str(folder), 0, f"cannot list folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                _walk_folder(path, walk, seen)
                continue
            if entry.is_symlink() and entry.is_dir():
                continue  # as os.walk: linked folders are not followed (no loops)
            mode = entry.stat().st_mode
        except OSError as exc:
            walk.problems.append(Rejected(str(path), 0, exc.strerror or str(exc)))
            continue
        if is_documentation(entry.name):
            continue
        if stat.S_ISREG(mode):
            _add(path, walk, seen)
        else:
            walk.problems.append(not_regular(path, mode))
