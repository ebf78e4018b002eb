"""Worker processes die with the run that forked them, and never keep its lock.

The OOM killer sends SIGKILL to the main process only.  Forked workers (file
readers, index segment writers, spaCy's ``n_process`` pipes) used to live on,
blocked on a pipe nobody reads, and — because an ``flock`` belongs to the open
file description that ``fork`` shares — kept the index lock: every later cron
run exited 75.  ``protect_lock`` installs one at-fork hook for the whole
process (it covers every pool, whoever creates it); in each child it

* asks the kernel for SIGKILL when the parent dies (Linux ``PR_SET_PDEATHSIG``),
  and exits at once if the parent is already gone, and
* closes the lock's descriptor, so only the main process holds the lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal

_PR_SET_PDEATHSIG = 1
_parent_only_fds: set[int] = set()
_installed = False
_forking_pid = [0]  # the pid that forked, recorded before the fork (in the child getppid may already be 1)


def protect_lock(fd: int) -> None:
    """Keep ``fd`` (the lock) out of forked children and make every child die with this process."""
    global _installed
    _parent_only_fds.add(fd)
    _libc()  # resolved here: find_library runs a subprocess, not something to do in a fresh fork
    if not _installed:
        os.register_at_fork(before=_before_fork, after_in_child=_in_child)
        _installed = True


def release_lock(fd: int) -> None:
    _parent_only_fds.discard(fd)


def _before_fork() -> None:
    _forking_pid[0] = os.getpid()


def _in_child() -> None:
    die_with_parent()
    if os.getppid() != _forking_pid[0]:  # the parent died before the request took effect
        os._exit(1)
    for fd in _parent_only_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    _parent_only_fds.clear()


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent exits; False where unsupported."""
    libc = _libc()
    if libc is None:
        return False
    return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


_LIBC: list = []


def _libc():
    if not _LIBC:
        name = ctypes.util.find_library("c") if os.uname().sysname == "Linux" else None
        _LIBC.append(ctypes.CDLL(name, use_errno=True) if name else None)
    return _LIBC[0]
