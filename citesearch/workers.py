"""What every worker process citesearch starts does first."""

from __future__ import annotations

import os


def die_with(parent: int) -> None:
    """Have the kernel kill this worker when ``parent`` dies, however it dies (``kill
    -9`` included), rather than leave it running (Linux's PR_SET_PDEATHSIG; elsewhere the
    pools' own shutdown is all there is)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
