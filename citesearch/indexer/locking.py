"""One writer at a time: an advisory lock on the file ``lock`` in the index folder.

The lock is ``flock``'s, so the kernel lets go of it when its holder dies however it dies
(``kill -9`` included): a dead holder's lock is simply free. The file names the holder's
pid, for the message a waiting writer prints. A process may take the lock it already holds
(the command takes it, then the build it runs takes it again).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CitesearchError

LOCK = "lock"

_held: dict[str, tuple[int, int]] = {}  # real path of a lock file -> (fd, depth), in this process


class IndexLocked(CitesearchError):
    """Another process is writing to the index."""


def holder(folder: str | os.PathLike[str]) -> str:
    """What the lock file says about its holder ("pid N"), or "another process"."""
    try:
        pid = (Path(folder) / LOCK).read_text().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "another process"


@contextmanager
def writer_lock(
    folder: str | os.PathLike[str], wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the index folder's writer lock (made, with the folder, if missing). A second
    writer waits for it (``on_wait`` is told who holds it first), or, without ``wait``,
    fails with :class:`IndexLocked`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(folder / LOCK)
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[key] = (fd, _held[key][1] - 1)
        return
    fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = holder(folder)
            if not wait:
                raise IndexLocked(
                    f"index at {folder} is being written by {who}",
                    hint="Wait for it to finish, or run again without --no-wait to wait.",
                ) from None
            if on_wait is not None:
                on_wait(who)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = (fd, 1)
        try:
            yield
        finally:
            del _held[key]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the last descriptor lets go of the flock
