"""Noise-resistant relative timing: interleaved rounds, thread CPU time, best round per candidate.

Used by benchmarks/run.py and tests/test_perf_guard.py. On a shared machine, one long wall-clock run
per candidate lets a burst of load from elsewhere land on one candidate and skew every ratio. Here
every candidate runs once per round, in a rotating order, each round about `budget` seconds of its
own work; time is the thread's CPU time (time spent descheduled does not count); and each
candidate keeps its best round (noise only ever adds time). The garbage collector is off while timing,
as in `timeit`.

`hold_freed_memory()` stops glibc's malloc from handing freed memory back to the kernel. Without it, a
candidate that returns a list of large strings (a batch render of 300 prompts of 8 KB each) frees it
at the next call, glibc trims the heap, and the next call faults every page back in: on the 2 KB
data set that costs several times the rendering itself, a property of the harness loop, not of the
engine.
"""

from __future__ import annotations

import ctypes
import gc
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

__all__ = ["best_seconds", "hold_freed_memory"]

K = TypeVar("K", bound=Hashable)

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>


def hold_freed_memory() -> bool:
    """Raise glibc's M_TRIM_THRESHOLD to 1 GiB for this process; False where there is no glibc mallopt."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_TRIM_THRESHOLD, 1 << 30) == 1


def _calibrate(fn: Callable[[], object], budget: float) -> int:
    """How many calls of `fn` take about `budget` seconds of CPU (at least 1); warms `fn` up too."""
    calls, start = 0, time.thread_time()
    while time.thread_time() - start < budget:
        fn()
        calls += 1
    return max(calls, 1)


def best_seconds(candidates: Mapping[K, Callable[[], object]], rounds: int, budget: float = 0.02) -> dict[K, float]:
    """Best CPU seconds per call of each zero-argument candidate over `rounds` interleaved rounds."""
    names = list(candidates)
    best = dict.fromkeys(names, float("inf"))
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        calls = {name: _calibrate(candidates[name], budget) for name in names}
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                fn, n = candidates[name], calls[name]
                start = time.thread_time()
                for _ in range(n):
                    fn()
                best[name] = min(best[name], (time.thread_time() - start) / n)
    finally:
        if enabled:
            gc.enable()
    return best
