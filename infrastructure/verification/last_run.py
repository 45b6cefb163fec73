"""What the last ``sealtrail verify`` found, kept in the home for the pages to show.

Verification reads the store and changes nothing in it; its outcome (when, how many events,
the findings) is written in the server's own home (the one holding its private key, which the
pages are served from), in ``$SEALTRAIL_HOME/last-verification.json``. An auditor's home, which
holds the public key alone, is left exactly as it was (docs/deployment.md, section 7), and a
home that cannot be written keeps no record: the verification's own output and exit status are
what count, the record only tells the pages when it last happened. It is a statement of this
server's, not evidence: the evidence is the log, which anyone can verify again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infrastructure.identity.server_key import server_key_exists
from infrastructure.settings import Settings
from infrastructure.verification.verifier import VerificationReport
from infrastructure.whole_files import replace_whole

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
    """Keep ``report``'s outcome as the last verification in the server's home; False in a home
    that is not the server's (no private key) or cannot be written (a previous record stays)."""
    if not server_key_exists(settings):
        return False
    document = {
        "verified_at": (at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "events": report.events,
        "finding_count": len(report.findings),
        "findings": [finding.as_dict() for finding in report.findings[:FINDINGS_KEPT]],
    }
    path = settings.home / LAST_RUN_FILE
    try:
        # Whole or not at all: a reader never sees half a record.
        replace_whole(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError:
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
