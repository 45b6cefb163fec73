"""A run of every check, in order, and its signed record.

The record is one JSON document: when and where the checks ran (the host, the Python, sealtrail's
version, the database, the home), each check's line, the versions of the distributions sealtrail
needs, and whether the installation passed. It is signed as a write receipt is
(:func:`signatures.receipts.seal_receipt`): ``server_key_id`` and ``server_signature``, the
server's Ed25519 signature over the RFC 8785 form of every other field, checked with the store's
``keys/server-ed25519.pub.pem`` (docs/validation/installation-qualification.md). Where the
server's key cannot be read (the check of the key files says why) the record is written
unsigned and says so in ``unsigned_because``.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from infrastructure.errors import ConfigurationError, StoreNotInitialised
from infrastructure.identity.server_key import load_server_key
from infrastructure.installation import database, files, host, lock
from infrastructure.installation.bounds import Bounds
from infrastructure.installation.results import CheckResult, Status
from infrastructure.settings import PRIVATE_FOLDER, Settings
from infrastructure.whole_files import replace_whole
from signatures.receipts import seal_receipt

RECORDS_FOLDER = "check-install"
"""Where, under ``SEALTRAIL_HOME``, each run's record is kept unless ``--out`` names a file."""
RECORD_KIND = "sealtrail installation qualification"


def run_checks(settings: Settings, bounds: Bounds) -> list[CheckResult]:
    """Every check, in the order of the lines."""
    try:
        the_lock: lock.Lock | None = lock.read_lock()
        lock_error = None
    except OSError as error:
        the_lock, lock_error = None, f"{lock.LOCK_FILE}: {error.strerror or error}"
    results = [lock.check_python(the_lock), lock.check_dependencies(the_lock, lock_error)]
    with database.database_engine(settings) as (answered, engine):
        results.append(answered)
        if engine is None:
            results.append(
                CheckResult(database.TRIGGERS, Status.SKIP, "not checked: no database answered")
            )
        else:
            results.append(database.check_triggers(settings, engine))
    results += [
        files.check_key_files(settings),
        host.check_time_zones(),
        host.check_clock(bounds),
        host.check_free_disk(settings, bounds),
    ]
    return results


def record(settings: Settings, results: list[CheckResult], at: datetime) -> dict[str, Any]:
    """The run's record, signed with the server's key when it can be read."""
    fields: dict[str, Any] = {
        "kind": RECORD_KIND,
        "checked_at": at.astimezone(UTC).isoformat(),
        "host": platform.node(),
        "python": platform.python_version(),
        "sealtrail": metadata.version(lock.DISTRIBUTION),
        "database": settings.database_url.render_as_string(hide_password=True),
        "home": str(settings.home.resolve()),
        "passed": not any(result.failed for result in results),
        "checks": [result.as_dict() for result in results],
        "distributions": lock.installed_versions(),
    }
    return sealed(settings, fields)


def sealed(settings: Settings, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` signed with the server's key as a receipt is; where the key cannot be read,
    unsigned, saying why in ``unsigned_because`` (the qualifications' records)."""
    try:
        key = load_server_key(settings)
    except (StoreNotInitialised, ConfigurationError) as error:
        return {**fields, "unsigned_because": str(error)}
    return seal_receipt(key.private_key, fields, server_key_id=key.key_id)


def default_record_path(settings: Settings, at: datetime) -> Path:
    """``$SEALTRAIL_HOME/check-install/<UTC time>.json``."""
    return settings.home / RECORDS_FOLDER / f"{at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.json"


def write_record(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` whole or not at all (its folder made, private, if its
    parent is there).

    Raises:
        OSError: it cannot be written.
    """
    # Its own folder only: a home that is not there is not made here (nor is --out's folder's).
    path.parent.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
    replace_whole(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
