"""A gunicorn worker that reads each request head in its event loop before a thread takes it (slowloris).

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first byte arrives,
and the thread then blocks reading the rest of the head with no deadline. 16 clients trickling
one header line a second held every thread of ``newsearch serve`` (2 workers × 4 threads):
``/healthz`` timed out for as long as they kept trickling. This worker (``gthread`` plus ~60 lines)
keeps a connection in its selector, reading whatever bytes are there without blocking, until the
blank line that ends the head; only then does a thread get it, with the whole head already
buffered, so threads only ever run requests. A head must be complete within ``HEAD_TIMEOUT_S``
and ``MAX_HEAD_BYTES`` or the connection is closed, which bounds what a slow client costs to a
socket and a buffer, the way nginx's ``client_header_timeout`` does.

It subclasses gunicorn's ``ThreadWorker`` and uses its connection object (``TConn``): tested with
gunicorn 27 (tests/test_slow_clients.py) against real trickling sockets.
"""

from __future__ import annotations

import contextlib
import selectors
import time
from functools import partial

from gunicorn.workers.gthread import ThreadWorker

HEAD_TIMEOUT_S = 10.0  # a whole request head (request line and headers) must arrive within this
MAX_HEAD_BYTES = 64 * 1024  # larger heads are refused (gunicorn's own limits are ~8 KB per line)
_READ = 16 * 1024
_END_OF_HEAD = (b"\r\n\r\n", b"\n\n")


class HeadFirstWorker(ThreadWorker):
    """``gthread`` whose threads are given only connections with a complete request head."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heads: dict = {}  # TConn → (bytes so far, deadline)

    def enqueue_req(self, conn):
        """The one way into the thread pool: with a complete head buffered, else wait for one."""
        if getattr(conn, "head_ready", False):
            conn.head_ready = False
            super().enqueue_req(conn)
            return
        buffered = b""
        if conn.parser is not None:  # a kept-alive connection may hold bytes read ahead
            buffered = conn.parser.unreader.buf.getvalue()
            conn.parser.unreader.buf = type(conn.parser.unreader.buf)()
        self.heads[conn] = (bytearray(buffered), time.monotonic() + HEAD_TIMEOUT_S)
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_readable, conn))
        if buffered:
            self._check_head(conn)

    def _on_head_readable(self, conn, _sock) -> None:
        try:
            data = conn.sock.recv(_READ)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        self.heads[conn][0].extend(data)
        self._check_head(conn)

    def _check_head(self, conn) -> None:
        """Hand the connection to a thread once its head is whole; refuse an oversized one."""
        buffer, _ = self.heads[conn]
        if not any(end in buffer for end in _END_OF_HEAD):
            if len(buffer) > MAX_HEAD_BYTES:
                self._drop(conn)
            return
        del self.heads[conn]
        self.poller.unregister(conn.sock)
        if conn.parser is None:
            conn.init()  # builds the HTTP/1 parser (no TLS here: newsearch serve speaks plain HTTP)
        conn.parser.unreader.unread(bytes(buffer))
        conn.data_ready = True
        conn.head_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn) -> None:
        del self.heads[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """gunicorn's sweep of idle connections (each loop, at least once a second), plus slow heads."""
        super().murder_pending()
        now = time.monotonic()
        for conn, (_, deadline) in list(self.heads.items()):
            if deadline <= now or not self.alive:
                self._drop(conn)
