"""Keep the C heap from holding on to freed frames: a player decodes a full-HD picture
(6 MB) every few seconds for months, on devices that count their megabytes.

glibc serves large allocations with mmap and returns them on free, but raises that
threshold to the size of each large block freed, after which frame-sized buffers come from
the heap and stay there; and every thread that allocates gets an arena of its own. Fixing
the threshold and capping the arenas is what `MALLOC_MMAP_THRESHOLD_`/`MALLOC_ARENA_MAX`
would do, set from inside because a player is not always started by its systemd unit.
"""

from __future__ import annotations

import os

M_MMAP_THRESHOLD = -3  # mallopt(3) parameters, from glibc's <malloc.h>
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024
ARENAS = 2


def tune_malloc() -> bool:
    """Apply the settings above when the C library is glibc; True if it took them."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
    except (ValueError, OSError):  # not glibc (musl, macOS): leave its allocator alone
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        return bool(
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
            and libc.mallopt(M_ARENA_MAX, ARENAS)
        )
    except (OSError, AttributeError):
        return False
