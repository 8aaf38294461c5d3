"""Process-wide tuning that a library must not do on its own: the command line opts in.

Kept apart so that importing or constructing anything in losstopo never changes the process (memory
allocator, environment, threads) behind a user's back.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

_MALLOC_TUNED = False


def tune_malloc() -> bool:
    """Keep freed activation memory in the process (glibc only): no page faults on every forward.

    Same effect as MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=16G MALLOC_TOP_PAD_=512M; resident memory
    then never shrinks. Returns False where glibc's mallopt is not available.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
        ok = (libc.mallopt(m_mmap_max, 0) == 1 and libc.mallopt(m_trim_threshold, 2**31 - 1) == 1
              and libc.mallopt(m_top_pad, 512 * 2**20) == 1)
    except (OSError, AttributeError):
        return False
    _MALLOC_TUNED = ok
    return ok



def use_compile_cache(folder: Path) -> None:
    """Point torch.compile's on-disk cache at `folder` unless the user chose one (TORCHINDUCTOR_CACHE_DIR)."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(folder))
