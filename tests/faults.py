"""In-process fault injection for source files and index directories; works as root (where chmod 000 does not).

``FaultyFiles`` makes chosen source files unreadable (every open for reading
fails with EACCES, as chmod 000 does for an ordinary user) or rewrites a file
in place right after the first chunk of it has been read (what an editor or a
sync job does while ``update`` runs).  ``read_only`` makes every write under
a directory fail with EROFS (a read-only mount).  Forked worker processes
inherit the patches.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _real(path) -> str:
    try:
        return os.path.realpath(os.fspath(path))
    except TypeError:  # an int fd
        return ""


class _ReadHook:
    """A file object whose first read() triggers a callback (the rewrite), then reads on."""

    def __init__(self, handle, after_first_read):
        self._handle = handle
        self._after = after_first_read

    def read(self, *args):
        data = self._handle.read(*args)
        if self._after is not None:
            after, self._after = self._after, None
            after()
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()

    def __iter__(self):
        return iter(self._handle)

    def __getattr__(self, name):
        return getattr(self._handle, name)


class FaultyFiles:
    def __init__(self, monkeypatch):
        self.blocked: set[str] = set()  # real paths that cannot be opened for reading
        self.rewrites: dict[str, bytes] = {}  # real path -> bytes it holds after its first chunk is read
        self._fds: dict[int, str] = {}
        self._real_os_open, self._real_os_read = os.open, os.read
        self._real_open = builtins.open
        monkeypatch.setattr(os, "open", self._os_open)
        monkeypatch.setattr(os, "read", self._os_read)
        monkeypatch.setattr(builtins, "open", self._open)
        monkeypatch.setattr(io, "open", self._open)

    # -- controls ----------------------------------------------------------------------
    def block(self, path: Path) -> None:
        self.blocked.add(_real(path))

    def unblock(self, path: Path) -> None:
        self.blocked.discard(_real(path))

    def rewrite_during_read(self, path: Path, new: bytes) -> None:
        self.rewrites[_real(path)] = new

    def peek(self, path: Path) -> bytes:
        """The file's bytes, read past the faults (for the test's own bookkeeping)."""
        with self._real_open(path, "rb") as handle:
            return handle.read()

    def reset(self) -> None:
        self.blocked.clear()
        self.rewrites.clear()
        self._fds.clear()

    # -- patched calls -----------------------------------------------------------------
    def _check(self, real: str) -> None:
        if real in self.blocked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), real)

    def _rewrite(self, real: str) -> None:
        new = self.rewrites.get(real)
        if new is None:
            return
        with self._real_open(real, "r+b") as handle:
            if handle.read() == new:
                return
            handle.seek(0)
            handle.truncate()
            handle.write(new)
        stat = os.stat(real)
        os.utime(real, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    def _os_open(self, path, flags, *args, **kwargs):
        real = _real(path)
        if not flags & _WRITE_FLAGS:
            self._check(real)
        fd = self._real_os_open(path, flags, *args, **kwargs)
        if real in self.rewrites:
            self._fds[fd] = real
        return fd

    def _os_read(self, fd, n):
        data = self._real_os_read(fd, n)
        real = self._fds.pop(fd, None)
        if real is not None:
            self._rewrite(real)
        return data

    def _open(self, file, mode="r", *args, **kwargs):
        real = _real(file)
        reading = not any(c in mode for c in "wax+")
        if reading:
            self._check(real)
        handle = self._real_open(file, mode, *args, **kwargs)
        if reading and real in self.rewrites:
            return _ReadHook(handle, lambda: self._rewrite(real))
        return handle


def read_only(monkeypatch, root: Path) -> None:
    """Every write, create, rename, link or removal under ``root`` fails with EROFS."""
    top = _real(root)
    real_os_open, real_open = os.open, builtins.open

    def inside(path) -> bool:
        real = _real(path)
        return real == top or real.startswith(top + os.sep)

    def refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    def guarded(name):
        real_call = getattr(os, name)

        def call(*args, **kwargs):
            if any(isinstance(a, str | os.PathLike) and inside(a) for a in args[:2]):
                refuse(args[0])
            return real_call(*args, **kwargs)
        return call

    def os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS and inside(path):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and inside(file):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    for name in ("symlink", "rename", "replace", "link", "unlink", "mkdir", "rmdir", "utime", "chmod"):
        monkeypatch.setattr(os, name, guarded(name))
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
