"""Settings from the environment (the variables of docs/deployment.md), read once, validated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import Parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from infrastructure.errors import ConfigurationError
from infrastructure.store.postgres_pool import eventsourcing_settings

DEFAULT_DATABASE_URL = "sqlite:///var/sealtrail.sqlite3"
DEFAULT_HOME = "./var"
APPLICATION_NAME = "sealtrail"
POSTGRES_RECORDERS = "infrastructure.store.recorders.postgres"
"""The module of PostgreSQL's recorder and factory, named to eventsourcing as topics."""


@dataclass(frozen=True)
class Settings:
    """Where the store lives and where its keys and generated files go."""

    database_url: URL
    home: Path
    log_origin: str | None = None
    checkpoint_every: int = 1000
    checkpoint_seconds: int = 3600
    signing_window_seconds: int = 3600
    """How long before the server's time a write may have been signed (docs/signing.md)."""
    tsa_url: str | None = None
    """The RFC 3161 time-stamping authority that stamps each sealed checkpoint (docs/timestamps.md);
    None: checkpoints are not time-stamped."""
    tsa_certificates: Path | None = None
    """A PEM file of the certificates trusted to sign time-stamps (the TSA's root or chain)."""
    password_hashing: Parameters = field(default_factory=lambda: RFC_9106_LOW_MEMORY)
    """Argon2id's cost for new password hashes: RFC 9106's second recommended choice (64 MiB,
    3 passes, 4 lanes). No variable sets it, so no deployment can lower it; the test suite
    does, in code, to argon2-cffi's profile for tests (a hash records its own cost, so each
    one is checked at the cost it was made with)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``SEALTRAIL_DATABASE_URL`` and ``SEALTRAIL_HOME``.

        Raises:
            ConfigurationError: the URL is not a SQLite or PostgreSQL URL.
        """
        environ = os.environ if environ is None else environ
        raw_url = environ.get("SEALTRAIL_DATABASE_URL") or DEFAULT_DATABASE_URL
        try:
            url = make_url(raw_url)
        except ArgumentError:
            raise ConfigurationError(
                "SEALTRAIL_DATABASE_URL is not a database URL: %(raw_url)r", raw_url=raw_url
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                "SEALTRAIL_DATABASE_URL must be sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST:PORT/DB, not %(backend)r",
                backend=url.get_backend_name(),
            )
        if url.get_backend_name() == "sqlite" and not url.database:
            raise ConfigurationError("SEALTRAIL_DATABASE_URL names no SQLite file")
        # The event store (eventsourcing) and the rest (SQLAlchemy) each connect from this
        # URL's parts: a query or a SQLite "file:" URI one of them would honour and the other
        # not would have each write a database, or a session, of its own. PostgreSQL's
        # libpq session options (options=...) are given to both.
        if url.get_backend_name() == "sqlite" and (
            url.query or str(url.database).startswith("file:")
        ):
            raise ConfigurationError(
                "SEALTRAIL_DATABASE_URL: a SQLite URL is sqlite:///PATH, with no query (?...) "
                "and no file: URI, not %(raw_url)r",
                raw_url=raw_url,
            )
        if url.get_backend_name() == "postgresql" and set(url.query) - {"options"}:
            raise ConfigurationError(
                "SEALTRAIL_DATABASE_URL: a PostgreSQL URL takes no query but options=..., not "
                "%(names)s: set libpq's other settings in its environment (PGSSLMODE, ...)",
                names=", ".join(sorted(set(url.query) - {"options"})),
            )
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        home = Path(environ.get("SEALTRAIL_HOME") or DEFAULT_HOME)
        origin = environ.get("SEALTRAIL_LOG_ORIGIN") or None
        if origin is not None and (not origin.strip() or any(c in origin for c in " +\n")):
            raise ConfigurationError(
                "SEALTRAIL_LOG_ORIGIN is a schema-less URL without spaces or '+': %(origin)r",
                origin=origin,
            )
        tsa_url = environ.get("SEALTRAIL_TSA_URL") or None
        if tsa_url is not None and not tsa_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                "SEALTRAIL_TSA_URL is an http(s) URL, not %(tsa_url)r", tsa_url=tsa_url
            )
        tsa_certificates = environ.get("SEALTRAIL_TSA_CERTS") or None
        if tsa_url is not None and tsa_certificates is None:
            raise ConfigurationError(
                "SEALTRAIL_TSA_URL is set but SEALTRAIL_TSA_CERTS is not: name the PEM file of "
                "the certificates that time-stamping authority's tokens are checked against"
            )
        return cls(
            database_url=url,
            home=home,
            log_origin=origin,
            checkpoint_every=whole_number(environ, "SEALTRAIL_CHECKPOINT_EVERY", 1000),
            checkpoint_seconds=whole_number(environ, "SEALTRAIL_CHECKPOINT_SECONDS", 3600),
            signing_window_seconds=whole_number(environ, "SEALTRAIL_SIGNING_WINDOW_SECONDS", 3600),
            tsa_url=tsa_url,
            tsa_certificates=None if tsa_certificates is None else Path(tsa_certificates),
        )

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded store."""
        return self.database_url.get_backend_name() == "sqlite"

    @property
    def keys_dir(self) -> Path:
        """Where the server's private key and secrets are kept."""
        return self.home / "keys"

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment eventsourcing's infrastructure factory reads."""
        url = self.database_url
        if self.is_sqlite:
            assert url.database is not None
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "infrastructure.store.recorders:SealedSQLiteRecorder",
                "SQLITE_DBNAME": url.database,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return {
            # Imported by eventsourcing for a PostgreSQL store only: psycopg with it.
            "PERSISTENCE_MODULE": f"{POSTGRES_RECORDERS}:SealedPostgresFactory",
            "APPLICATION_RECORDER_TOPIC": f"{POSTGRES_RECORDERS}:SealedPostgresRecorder",
            "POSTGRES_DBNAME": url.database or "postgres",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
            # Read by SealedPostgresFactory: the URL's session options, as SQLAlchemy's pool
            # is given them (a read-only auditor's, say).
            "SEALTRAIL_POSTGRES_OPTIONS": str(url.query.get("options", "")),
            **eventsourcing_settings(),
        }

    def ensure_directories(self) -> None:
        """Create ./var (or SEALTRAIL_HOME) and its keys folder, 0700, and the SQLite file, 0600.

        They hold the keys, password hashes and sessions, so they are made private from the
        start rather than tightened afterwards (a file is readable by others between its
        creation and a chmod). SQLite creates the database's ``-wal`` and ``-shm`` files with
        the database file's own permissions, so they are 0600 too. Folders and files that
        already exist are left as their owner set them.
        """
        self.home.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        self.keys_dir.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        if self.is_sqlite and self.database_url.database not in (None, ":memory:"):
            database = Path(str(self.database_url.database))
            database.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            if not database.exists():
                # Created empty (an empty file is an empty SQLite database) before SQLite makes
                # it with the process's umask; an existing one (perhaps read-only) is not opened.
                try:
                    descriptor = os.open(
                        database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE
                    )
                except FileExistsError:
                    pass  # another process made it first, the same way
                else:
                    os.close(descriptor)


PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    """A setting that is a whole number of at least 1 (``default`` when unset or empty).

    Raises:
        ConfigurationError: anything else.
    """
    raw = environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(
            "%(name)s is a whole number of at least 1, not %(raw)r", name=name, raw=raw
        )
    return int(raw)
