"""What a server's worker does once it has built its app, before its first request.

A new worker's first page of a 2,000-event timeline took 650-1,100 ms through gunicorn, a
quarter of it Jinja compiling the templates the page uses on first use (docs/benchmarks-pages.md).
Compiling every template here moves that cost to the worker's start, where no one waits for it,
and the compiled code is kept for the next worker (:mod:`api.template_cache`), which loads it
instead; the garbage collector is then settled (:mod:`infrastructure.garbage_collector`), so
that what was compiled is frozen with the rest of the app. gunicorn.conf.py and ``sealtrail
serve`` call it from gunicorn's ``post_worker_init``; the tests' apps, built by the thousand, do
not.
"""

from __future__ import annotations

from flask import Flask

from api.template_cache import keep_compiled_templates
from infrastructure.garbage_collector import settle


def ready_worker(app: Flask) -> None:
    """Compile each of ``app``'s HTML templates into its environment's cache (or load what an
    earlier worker compiled), then settle."""
    environment = app.jinja_env
    keep_compiled_templates(environment)
    for name in environment.list_templates(filter_func=lambda name: name.endswith(".html")):
        environment.get_template(name)
    settle()
