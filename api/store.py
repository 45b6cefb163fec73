"""The store behind the Flask app: opened once per process, on first use.

Shared by the ways in that answer inside that app (the HTTP API, :mod:`api.http`, and the pages,
:mod:`api.web`), neither of which owns it: each asks for the store here, never through the other.
"""

from __future__ import annotations

import threading

from flask import current_app

from infrastructure.bootstrap import Store, open_store
from infrastructure.settings import Settings

EXTENSION = "sealtrail"

_opening = threading.Lock()
"""Held while a store is opened: a threaded worker's first requests arrive together, and each
would otherwise open a store of its own (its own pools, caches and write groups), all but the
last left open and unused."""


def get_store() -> Store:
    """The process's store, opened from the app's settings on first use."""
    store = current_app.extensions.get(EXTENSION)
    if store is None:
        with _opening:
            store = current_app.extensions.get(EXTENSION)
            if store is None:  # no other thread opened it while this one waited
                settings = current_app.config.get("SEALTRAIL_SETTINGS") or Settings.from_environ()
                store = open_store(settings)
                current_app.extensions[EXTENSION] = store
    assert isinstance(store, Store)
    return store
