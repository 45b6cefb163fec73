"""Errors of configuration and storage that users see as one clear line."""

from __future__ import annotations


class ConfigurationError(Exception):
    """A setting is missing or malformed (exit 2 on the CLI)."""


class StoreUnavailable(Exception):
    """The database cannot be reached or opened (exit 2 on the CLI, 503 on the API)."""


class StoreNotInitialised(Exception):
    """The store has no server key yet: run ``sealtrail init`` (exit 2 on the CLI)."""
