"""What a person can ask the store to do: the actions of the permission matrix.

Apart from :mod:`domain.permissions` so that a record kind can name the action submitting it
is (:attr:`domain.subject.record.Record.SUBMITTED_AS`) without importing the matrix.
"""

from __future__ import annotations

from enum import Enum


class Action(Enum):
    """What a person can ask the store to do."""

    RECORD_CLINICAL_DATA = "enter clinical data"
    SIGN_CLINICAL_RECORDS = "sign clinical records"
    READ_CLINICAL_DATA = "read clinical data"
    RAISE_QUERIES = "raise queries"
    VERIFY_SOURCE = "verify records against source"
    READ_LOG_EVIDENCE = "read checkpoints and proofs"
    VERIFY_AND_REPLAY = "verify and replay the log"
    BUILD_REPORTS_AND_PACKETS = "build reports and packets"
    BUILD_SITE_COPY = "build the site's own copy of its data"
    FREEZE_AND_LOCK = "freeze, lock and unlock subjects"
    READ_ACCOUNTS = "read accounts and the authentication log"
    ADMINISTER_ACCOUNTS = "administer users, sites and keys"
    DELEGATE_TASKS = "delegate the site's tasks"
    REVIEW_AUDIT_TRAIL = "review the audit trail"
    REVIEW_ACCESS = "review who has which access"
    COSIGN_CHECKPOINTS = "cosign the log's checkpoints as a witness"
