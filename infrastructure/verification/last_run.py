"""What the last ``sealtrail verify`` found, kept in the home for the pages to show.

Verification reads the store and changes nothing in it; its outcome (when, how many events,
the findings) is written beside the keys, in ``$SEALTRAIL_HOME/last-verification.json``, by
whoever ran it with that home. A home that cannot be written (an auditor's read-only copy) keeps
no record: the verification's own output and exit status are what count, and the record only
tells the pages when it last happened. It is a statement of this server's, not evidence: the
evidence is the log, which anyone can verify again.
"""

from __future__ import annotations

import json
import os
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infrastructure.settings import Settings
from infrastructure.verification.verifier import VerificationReport

LAST_RUN_FILE = "last-verification.json"
FINDINGS_KEPT = 20
"""The findings the record lists (its count names them all; ``sealtrail verify`` lists each)."""


@dataclass(frozen=True)
class LastVerification:
    """When the store was last verified with this home, and what was found."""

    verified_at: datetime
    events: int
    finding_count: int
    findings: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return self.finding_count == 0


def record_verification(
    settings: Settings, report: VerificationReport, at: datetime | None = None
) -> bool:
    """Keep ``report``'s outcome as the last verification; False if the home cannot be written
    (then the previous record, if any, stays)."""
    document = {
        "verified_at": (at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "events": report.events,
        "finding_count": len(report.findings),
        "findings": [finding.as_dict() for finding in report.findings[:FINDINGS_KEPT]],
    }
    path = settings.home / LAST_RUN_FILE
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        draft.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        draft.replace(path)  # whole or not at all: a reader never sees half a record
    except OSError:
        with suppress(OSError):  # no draft was made, or it cannot be removed either
            draft.unlink()
        return False
    return True


def last_verification(settings: Settings) -> LastVerification | None:
    """The last verification recorded with this home, or None (never, or unreadable)."""
    try:
        document = json.loads((settings.home / LAST_RUN_FILE).read_text(encoding="utf-8"))
        return LastVerification(
            verified_at=datetime.fromisoformat(document["verified_at"]),
            events=int(document["events"]),
            finding_count=int(document["finding_count"]),
            findings=list(document["findings"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
