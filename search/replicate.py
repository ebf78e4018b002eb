"""Serve one index from several machines: push the live generation to replicas with rsync, swap it atomically.

    python -m search.replicate SOURCE_INDEX [user@host:]REPLICA_INDEX ...

A generation directory never changes once published (``update`` writes a new
one beside it, hard-linking the unchanged segment files), so a replica can be
kept in step by copying generations, never by patching files in place. For
each replica:

1. ``rsync -a`` the live generation into ``generations/.incoming-gNNNNNN`` on the
   replica, with ``--link-dest`` pointing at the replica's own live generation:
   segment files it already has become hard links, so an update moves only its
   new segment and state files (a ×10 Reuters update: a few MB of 1.2 GB);
2. on the replica, ``python -m search.replicate --receive REPLICA_INDEX NUMBER``
   renames the finished copy to ``gNNNNNN`` and swaps ``current`` with one atomic
   rename (``IndexHome.publish``), under the replica's lock; its
   ``newsearch serve`` follows the link without a restart, as after a rebuild.

A push that dies half-way leaves only an ``.incoming-`` directory, which the
next push reuses (rsync sends what is missing); the replica serves its old
generation meanwhile. Replicas behind one load balancer answer from either
generation during a push, each answer whole. The remote step runs over ssh
with the replica's own Python (``--python``), so replicas need newsearch
installed (they serve it anyway) and rsync.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from search.index.generations import IndexHome, NoIndex, generation_name

INCOMING = ".incoming-"


def split_target(target: str) -> tuple[str | None, str]:
    """``user@host:/path`` → (``user@host``, ``/path``); a plain path → (None, path)."""
    host, sep, path = target.partition(":")
    if sep and "/" not in host and host:
        return host, path
    return None, target


def push(source: IndexHome, target: str, *, python: str = sys.executable) -> int:
    """Copy the source's live generation to one replica and make it live there; returns its number."""
    live = source.require_live()
    number = source.number_of(live)
    host, root = split_target(target)
    if host is None:
        serving = live_number(root)
    else:
        text = _ssh(host, [python, "-m", "search.replicate", "--live-number", root]).strip()
        serving = int(text) if text.isdigit() else None
    if serving == number:
        return number  # already live there
    incoming = f"{root}/generations/{INCOMING}{generation_name(number)}"
    command = ["rsync", "-a", "--delete", "--mkpath"]
    if serving is not None:
        command.append(f"--link-dest=../{generation_name(serving)}")  # relative to the destination
    command += [f"{live}/", f"{host}:{incoming}/" if host else f"{incoming}/"]
    subprocess.run(command, check=True)
    if host is None:
        receive(root, number)
    else:
        _ssh(host, [python, "-m", "search.replicate", "--receive", root, str(number)])
    return number


def receive(root: str | os.PathLike, number: int) -> Path:
    """On the replica: make the copied generation live (rename, then one atomic swap of ``current``)."""
    home = IndexHome(root)
    work = home.generations / f"{INCOMING}{generation_name(number)}"
    with home.lock():
        final = home.generations / generation_name(number)
        if final.is_dir():  # pushed before (e.g. a rollback on the source): make it live again
            return home.make_live(number)
        if not work.is_dir():
            raise NoIndex(f"nothing received for generation {number} at {work}")
        return home.publish(number, work)


def live_number(root: str | os.PathLike) -> int | None:
    live = IndexHome(root).live()
    return IndexHome.number_of(live) if live else None


def _ssh(host: str, command: list[str]) -> str:
    return subprocess.run(["ssh", host, shlex.join(command)], check=True, capture_output=True, text=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.replicate", description=__doc__.splitlines()[0])
    parser.add_argument("--receive", nargs=2, metavar=("REPLICA_INDEX", "NUMBER"), help=argparse.SUPPRESS)
    parser.add_argument("--live-number", metavar="REPLICA_INDEX", help=argparse.SUPPRESS)
    parser.add_argument("--python", default="python3", help="the replicas' Python with newsearch installed")
    parser.add_argument("source", nargs="?", help="the index home that rebuild/update write (its live generation)")
    parser.add_argument("replicas", nargs="*", metavar="REPLICA", help="[user@host:]index home of a replica")
    args = parser.parse_args(argv)
    try:
        if args.receive:
            receive(args.receive[0], int(args.receive[1]))
        elif args.live_number:
            print(live_number(args.live_number) or "")
        else:
            if not args.source or not args.replicas:
                parser.error("give the source index and at least one replica")
            for replica in args.replicas:
                number = push(IndexHome(args.source), replica, python=args.python)
                print(f"{replica}: generation {number} live")
    except (NoIndex, OSError, subprocess.CalledProcessError) as exc:
        print(f"replicate: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
