"""How a serving process's garbage collector is set up, once its app is built.

A full (generation 2) collection walks every object alive, and a worker keeps many: the app,
the study's declarations, the folded subjects, audit rows and rendered pages the reads keep
(:mod:`infrastructure.application.read_cache`). With CPython's default thresholds (700, 10, 10)
a page that allocates a lot (``/sign`` of 2,000 records) set one off about one request in four,
each 117-127 ms, which made its p95 several times its median (docs/benchmarks-pages.md).

Two settings, the practice Instagram described for its Django workers (and the reason
:func:`gc.freeze` exists): the objects alive once the app is built are frozen, moved to a
permanent generation no collection walks (they live as long as the process); and the youngest
generation is collected after 50,000 allocations rather than 700, so the collections that
promote objects, and the full collections that follow them, run far less often. Reference
counting frees almost everything a request allocates on its own; the collector is only for
cycles, which these settings still collect, later.

One place for both ways a worker is run: ``gunicorn.conf.py`` calls :func:`settle` in each
worker after it loads ``wsgi:app``, and ``benchmarks/pages.py`` after it builds its app.

A console command that reads a whole log into memory (``sealtrail packet build``, ``packet
verify``, ``packet receive``) takes the second setting alone (:func:`collect_young_less_often`):
its heap is the log's events and the files derived from them, alive until it exits and free of
cycles, and with CPython's thresholds the collector walked it again and again, a ninth of a
packet's build and verification (benchmarks/packet.py; docs/benchmarks-packet.md). Nothing
is frozen there: what it holds is let go as the command goes on.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 50_000
"""Allocations (less deallocations) before the youngest generation is collected (CPython: 700)."""


def settle() -> None:
    """Freeze what is alive now (the built app) and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    collect_young_less_often()


def collect_young_less_often() -> None:
    """Collect the youngest generation after :data:`YOUNG_GENERATION_THRESHOLD` allocations."""
    _young, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
