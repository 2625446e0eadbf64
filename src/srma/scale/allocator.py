"""glibc's allocator kept from handing the engine's arrays back to the system between fits.

The batch engine allocates and frees arrays of shape (batch, k) thousands of times per block
(about 300 kB each for a block of 2,000 repetitions of k = 20). glibc serves an allocation
above its mmap threshold (128 kB at start; raised only after such a block has been freed, up
to 32 MB) with freshly mapped pages, which fault in on first touch and are unmapped again on
free. A fresh process, such as a worker, therefore paid for page faults on every array: the 50
blocks of ``benchmarks/bench_simulation.py`` took 4.7-5.2 s in a fresh process and 2.8-3.2 s
with the thresholds raised (measured on this 2-core machine; the numbers are bitwise the same).

:func:`keep_freed_memory` raises the mmap threshold to :data:`MMAP_THRESHOLD` and the trim
threshold to :data:`TRIM_THRESHOLD` with ``mallopt`` (glibc's documented interface, called
through :mod:`ctypes` because no maintained Python library wraps it). Freed arrays then stay
in the process for the next fit; a process holds at most the trim threshold of free memory
beyond its largest working set. Elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import platform

#: Allocations below this come from the heap and are reused, not freshly mapped.
MMAP_THRESHOLD = 64 * 2**20
#: Free memory at the top of the heap kept for reuse before it is handed back.
TRIM_THRESHOLD = 128 * 2**20
_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process; ``False`` where the C library
    is not glibc (nothing is changed there)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the process's own C library
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
