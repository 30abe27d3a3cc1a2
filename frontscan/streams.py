"""stderr that can never stop a scan: a reader that went away or stopped reading is ignored.

Under cron stderr is often a pipe (`2> >(tee log)`, a log shipper). When its reader dies,
every write raises BrokenPipeError, and one raised inside a signal handler or a pipeline
task left scans that neither progressed nor obeyed Ctrl-C and SIGTERM. When the reader
is alive but stops reading, the 64 KB pipe buffer fills and every write blocks the
event loop. So stderr, when it is a pipe, is made non-blocking, and writes that cannot
go through are dropped: from the first broken write on, stderr is /dev/null. Diagnostics
are lost, never the scan. stdout is left alone: it carries data (`export`, `--json`),
whose reader must get all of it or see the command fail (cli.py handles BrokenPipeError).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from typing import Any, TextIO


class TolerantStream:
    """A text stream proxy whose write and flush never raise and never block."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.dropped = 0

    def write(self, text: str) -> int:
        try:
            self._inner.write(text)
            self._inner.flush()
        except BlockingIOError:  # the reader is not reading: the rest of this line is lost
            self.dropped += 1
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.EBADF, errno.EIO, errno.ENOSPC, None):
                raise
            self.dropped += 1
            self._to_devnull()
        except ValueError:  # the file object was closed under us
            self.dropped += 1
        return len(text)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except (OSError, ValueError):
            self.dropped += 1

    def _to_devnull(self) -> None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._inner.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def guard_stderr() -> None:
    """Install the tolerant proxy over sys.stderr (a non-blocking one on pipes)."""
    stream = sys.stderr
    if stream is None or isinstance(stream, TolerantStream):
        return
    try:
        fd = stream.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.set_blocking(fd, False)
    except (OSError, ValueError, AttributeError):  # no real descriptor (pytest capture)
        pass
    sys.stderr = TolerantStream(stream)
